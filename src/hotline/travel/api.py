"""Routes for the travel catalogue, the order workflow, money, performance and documents."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from hotline.core.context import Context
from hotline.core.permissions import Permission
from hotline.core.web import COMPUTED, IdPath, requires
from hotline.travel import catalogue, documents, items, ledger, queries, reports, workflow
from hotline.travel.schemas import (
    AssignIn,
    CloseIn,
    CostIn,
    DepartureBatchIn,
    DepartureChange,
    DepartureIn,
    DepartureOut,
    FinanceQueue,
    FollowUpIn,
    HandOverIn,
    InsuranceIn,
    InsuranceOut,
    ItemIn,
    MoneyReport,
    NoteIn,
    OrderDetail,
    OrderIn,
    OrderOut,
    OrderPage,
    OrderUpdate,
    Performance,
    PlannerDeskIn,
    PlannerOut,
    ReceiptIn,
    RouteDetail,
    RouteIn,
    RouteOut,
    SignIn,
    StaffOut,
    VoidIn,
)

router = APIRouter(prefix="/api/travel", tags=["travel"])
READ = Annotated[Context, Depends(requires(Permission.ORDERS_READ))]
WRITE = Annotated[Context, Depends(requires(Permission.ORDERS_WRITE))]
ASSIGN = Annotated[Context, Depends(requires(Permission.ORDERS_ASSIGN))]
SIGN = Annotated[Context, Depends(requires(Permission.ORDERS_SIGN))]
REVIEW = Annotated[Context, Depends(requires(Permission.FINANCE_REVIEW))]
MONEY = Annotated[Context, Depends(requires(Permission.FINANCE_WRITE))]
CATALOGUE = Annotated[Context, Depends(requires(Permission.CATALOGUE_WRITE))]
REPORTS = Annotated[Context, Depends(requires(Permission.REPORTS_READ))]
KindQuery = Annotated[Literal["domestic", "international"] | None, Query()]
PDF: dict[int | str, dict[str, Any]] = {200: {"content": {"application/pdf": {}}}, **COMPUTED}


# ---------------------------------------------------------------- catalogue


@router.get("/routes")
async def list_routes(ctx: READ, kind: KindQuery = None, include_inactive: bool = False) -> list[RouteOut]:
    """Tour routes, domestic then international."""
    return await catalogue.routes(ctx, kind=kind, include_inactive=include_inactive)


@router.post("/routes", status_code=201)
async def create_route(body: RouteIn, ctx: CATALOGUE) -> RouteOut:
    """A new route with its itinerary (one entry per day) and prices."""
    return await catalogue.save_route(ctx, body)


@router.get("/routes/{route_id}")
async def route_detail(route_id: IdPath, ctx: READ, first: date | None = None) -> RouteDetail:
    """A route with its departures over the next six months (from `first`)."""
    return await catalogue.route_detail(ctx, route_id, first=first)


@router.put("/routes/{route_id}")
async def update_route(route_id: IdPath, body: RouteIn, ctx: CATALOGUE) -> RouteOut:
    return await catalogue.save_route(ctx, body, route_id)


@router.post("/routes/{route_id}/departures", status_code=201)
async def add_departure(route_id: IdPath, body: DepartureIn, ctx: CATALOGUE) -> list[DepartureOut]:
    """One departure (the route's prices unless given)."""
    return await catalogue.add_departures(ctx, route_id, body)


@router.post("/routes/{route_id}/departures/batch", status_code=201)
async def add_departures(route_id: IdPath, body: DepartureBatchIn, ctx: CATALOGUE) -> list[DepartureOut]:
    """Departures on chosen weekdays between two days; days that have one are skipped."""
    return await catalogue.add_departures(ctx, route_id, body)


@router.get("/departures")
async def list_departures(
    ctx: READ,
    first: date,
    last: date,
    route_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    kind: KindQuery = None,
    with_seats: bool = False,
) -> list[DepartureOut]:
    """Departures between two days with seats left; open ones with seats only when `with_seats`."""
    return await catalogue.departures(
        ctx, first=first, last=last, route_id=route_id, kind=kind, with_seats=with_seats
    )


@router.patch("/departures/{departure_id}")
async def change_departure(departure_id: IdPath, body: DepartureChange, ctx: CATALOGUE) -> DepartureOut:
    """Capacity, prices or closed; 409 when the capacity would go below the seats sold."""
    return await catalogue.change_departure(ctx, departure_id, body)


@router.get("/insurance")
async def list_insurance(ctx: READ, include_inactive: bool = False) -> list[InsuranceOut]:
    return await catalogue.insurance(ctx, include_inactive=include_inactive)


@router.post("/insurance", status_code=201)
async def create_insurance(body: InsuranceIn, ctx: CATALOGUE) -> InsuranceOut:
    return await catalogue.save_insurance(ctx, body)


@router.put("/insurance/{product_id}")
async def update_insurance(product_id: IdPath, body: InsuranceIn, ctx: CATALOGUE) -> InsuranceOut:
    return await catalogue.save_insurance(ctx, body, product_id)


@router.get("/planners")
async def list_planners(ctx: READ, kind: KindQuery = None) -> list[PlannerOut]:
    """Planners, the kinds of orders each takes, their phone and open orders (to assign by type and load)."""
    return await catalogue.planners(ctx, kind)


@router.put("/planners/{user_id}")
async def save_planner(user_id: IdPath, body: PlannerDeskIn, ctx: CATALOGUE) -> PlannerOut:
    return await catalogue.save_planner_desk(ctx, user_id, body)


@router.get("/front-desk")
async def list_front_desk(ctx: READ) -> list[StaffOut]:
    """Front-desk staff a planner hands a deal to for signing."""
    return await catalogue.front_desk_staff(ctx)


# ---------------------------------------------------------------- orders


@router.post("/orders", status_code=201)
async def create_order(body: OrderIn, ctx: WRITE) -> OrderDetail:
    """An enquiry from a call or a walk-in; team leads are told to assign it."""
    return await workflow.create(ctx, body)


@router.get("/orders")
async def list_orders(
    ctx: READ,
    scope: Literal["all", "mine", "team"] = "all",
    state: Annotated[str | None, Query(pattern="^[a-z_]{1,12}$")] = None,
    kind: KindQuery = None,
    q: Annotated[str | None, Query(max_length=40)] = None,
    customer_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> OrderPage:
    """The order board: mine, my team's or all, by state, with the count per state."""
    return await queries.board(
        ctx, scope=scope, state=state, kind=kind, q=q, customer_id=customer_id, limit=limit, offset=offset
    )


@router.get("/orders/assignment-queue")
async def assignment_queue(ctx: ASSIGN) -> list[OrderOut]:
    """Enquiries waiting for a planner, oldest first (the team lead's queue)."""
    return await queries.assignment_queue(ctx)


@router.get("/orders/finance-queue")
async def finance_queue(ctx: REVIEW) -> FinanceQueue:
    """Signed orders to review and reviewed orders with money still to collect."""
    return await queries.finance_queue(ctx)


@router.get("/orders/{order_id}")
async def get_order(order_id: IdPath, ctx: READ) -> OrderDetail:
    """The order with items, follow-ups, ledger, history, hand-overs and the steps you may take."""
    return await queries.detail(ctx, order_id)


@router.patch("/orders/{order_id}")
async def update_order(order_id: IdPath, body: OrderUpdate, ctx: WRITE) -> OrderDetail:
    """Contact, travellers, dates; until closed, each change kept in the history."""
    return await workflow.update(ctx, order_id, body)


@router.post("/orders/{order_id}/items", status_code=201)
async def add_item(order_id: IdPath, body: ItemIn, ctx: WRITE) -> OrderDetail:
    """A tour (takes seats; 409 `seats-sold-out`), ticket, insurance or other item; 409
    `items-locked` once the contract is signed."""
    return await items.add_item(ctx, order_id, body)


@router.delete("/orders/{order_id}/items/{item_id}")
async def remove_item(order_id: IdPath, item_id: IdPath, ctx: WRITE) -> OrderDetail:
    return await items.remove_item(ctx, order_id, item_id)


@router.post("/orders/{order_id}/assign-planner")
async def assign_planner(order_id: IdPath, body: AssignIn, ctx: ASSIGN) -> OrderDetail:
    """Team lead: give the enquiry to a planner who takes its type."""
    return await workflow.assign_planner(ctx, order_id, body)


@router.post("/orders/{order_id}/request-planner")
async def request_planner(order_id: IdPath, ctx: WRITE) -> OrderDetail:
    """Front desk: a walk-in customer waits to sign; the planners are asked to assign."""
    return await workflow.request_planner(ctx, order_id)


@router.post("/orders/{order_id}/follow-ups", status_code=201)
async def follow_up(order_id: IdPath, body: FollowUpIn, ctx: WRITE) -> OrderDetail:
    """Planner: a follow-up with its note and the next contact time."""
    return await workflow.follow_up(ctx, order_id, body)


@router.post("/orders/{order_id}/hand-to-front-desk")
async def hand_to_front_desk(order_id: IdPath, body: HandOverIn, ctx: ASSIGN) -> OrderDetail:
    """Planner: a deal goes to the front desk for signing."""
    return await workflow.hand_to_front_desk(ctx, order_id, body)


@router.post("/orders/{order_id}/sign")
async def sign(order_id: IdPath, body: SignIn, ctx: SIGN) -> OrderDetail:
    """Front desk: the contract is signed; the items are locked from now."""
    return await workflow.sign(ctx, order_id, body)


@router.post("/orders/{order_id}/review")
async def review(order_id: IdPath, body: NoteIn, ctx: REVIEW) -> OrderDetail:
    """Finance: the signed order is reviewed."""
    return await workflow.review(ctx, order_id, body.note)


@router.post("/orders/{order_id}/receipts", status_code=201)
async def record_receipt(order_id: IdPath, body: ReceiptIn, ctx: MONEY) -> OrderDetail:
    """Finance: money received or refunded (422 `overpayment` above the outstanding balance unless
    flagged); after close only an adjustment with its reason."""
    return await ledger.record_receipt(ctx, order_id, body)


@router.post("/orders/{order_id}/costs", status_code=201)
async def record_cost(order_id: IdPath, body: CostIn, ctx: MONEY) -> OrderDetail:
    """Planner or finance: a cost paid for the order; after close only an adjustment with its reason."""
    return await ledger.record_cost(ctx, order_id, body)


@router.post("/orders/{order_id}/close")
async def close(order_id: IdPath, body: CloseIn, ctx: WRITE) -> OrderDetail:
    """After the return visit, with its note as the summary; 409 while money is outstanding."""
    return await workflow.close(ctx, order_id, body)


@router.post("/orders/{order_id}/void")
async def void(order_id: IdPath, body: VoidIn, ctx: WRITE) -> OrderDetail:
    """Planner or team lead: a failed order, with the reason; 409 `refund-required` if money was received."""
    return await workflow.void(ctx, order_id, body)


@router.get("/orders/{order_id}/contract.pdf", response_class=Response, responses=PDF)
async def contract(order_id: IdPath, ctx: READ) -> Response:
    """The travel contract as PDF (Chinese font embedded)."""
    name, data = await documents.contract(ctx, order_id)
    return Response(
        data, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{name}"'}
    )


@router.get("/orders/{order_id}/itinerary.pdf", response_class=Response, responses=PDF)
async def itinerary(order_id: IdPath, ctx: READ) -> Response:
    """The itinerary for the customer as PDF."""
    name, data = await documents.itinerary(ctx, order_id)
    return Response(
        data, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{name}"'}
    )


# ---------------------------------------------------------------- reports


@router.get("/reports/money")
async def money(ctx: REPORTS, first: date, last: date) -> MoneyReport:
    """Receivable, received, outstanding, cost and profit of the orders signed, per month."""
    return await reports.money(ctx, first, last)


@router.get("/reports/performance")
async def performance(ctx: REPORTS, first: date, last: date) -> Performance:
    """Orders per creator, assigner and owner; conversion from enquiry to signed; hours per step."""
    return await reports.performance(ctx, first, last)
