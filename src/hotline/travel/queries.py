"""Reading travel orders: the order page, the board with its counts per state, the team lead's
assignment queue and finance's queue."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.admin import directory
from hotline.core import privacy
from hotline.core.context import Context
from hotline.core.permissions import Permission
from hotline.core.rows import get_or_404
from hotline.core.topics import register_subject
from hotline.travel import state
from hotline.travel.models import (
    Assignment,
    Departure,
    FollowUp,
    LedgerLine,
    Order,
    OrderChange,
    OrderItem,
    Route,
)
from hotline.travel.schemas import (
    AssignmentOut,
    ChangeOut,
    FinanceQueue,
    FollowUpOut,
    ItemOut,
    LedgerOut,
    OrderDetail,
    OrderOut,
    OrderPage,
    OrderStep,
)
from hotline.travel.state import CONTRACTABLE, EDITABLE_ITEMS, LABELS, State

REVEALABLE = privacy.revealable("travel_order", Order, Permission.ORDERS_READ)
"""An order's contact phone may be revealed (core/privacy.py)."""
CENT = Decimal("0.01")
KIND_LABEL = {"domestic": "国内游", "international": "出境游"}


def money(value: Decimal) -> Decimal:
    return Decimal(value).quantize(CENT)


async def load(session: AsyncSession, order_id: int, *, lock: bool = False) -> Order:
    return await get_or_404(session, Order, order_id, "order", for_update=lock)


async def names_by_code(ctx: Context, codes: set[str]) -> dict[str, str]:
    """Routes' names by their codes (the IVR report's enquiries per route); unknown codes absent."""
    if not codes:
        return {}
    async with ctx.read() as session:
        rows = await session.execute(select(Route.code, Route.name).where(Route.code.in_(codes)))
    return {str(code): str(name) for code, name in rows.all()}


async def route_names(session: AsyncSession, order_ids: list[int]) -> dict[int, str]:
    """The first tour on each order as its item reads ("九寨沟黄龙五日游 12月08日出发"): what an SMS,
    a message to the team or the IVR says, all in Chinese. Screens use `tours` and word it."""
    if not order_ids:
        return {}
    rows = await session.execute(
        select(OrderItem.order_id, OrderItem.title)
        .where(OrderItem.order_id.in_(order_ids), OrderItem.kind == "tour")
        .order_by(OrderItem.id)
    )
    found: dict[int, str] = {}
    for order_id, title in rows.all():
        found.setdefault(int(order_id), str(title))
    return found


async def route_codes(session: AsyncSession, order_ids: list[int]) -> dict[int, str]:
    """The route code of the first tour on each order."""
    if not order_ids:
        return {}
    rows = await session.execute(
        select(OrderItem.order_id, Route.code)
        .join(Departure, Departure.id == OrderItem.departure_id)
        .join(Route, Route.id == Departure.route_id)
        .where(OrderItem.order_id.in_(order_ids), OrderItem.kind == "tour")
        .order_by(OrderItem.id)
    )
    found: dict[int, str] = {}
    for order_id, code in rows.all():
        found.setdefault(int(order_id), str(code))
    return found


async def tours(session: AsyncSession, order_ids: list[int]) -> dict[int, tuple[str, date]]:
    """The first tour on each order, as its route's name and departure day: the parts the UI words
    in the reader's language ("九寨沟黄龙五日游 12月08日出发", "九寨沟黄龙五日游 · departs 8 Dec")."""
    if not order_ids:
        return {}
    rows = await session.execute(
        select(OrderItem.order_id, Route.name, Departure.departs_on)
        .join(Departure, Departure.id == OrderItem.departure_id)
        .join(Route, Route.id == Departure.route_id)
        .where(OrderItem.order_id.in_(order_ids), OrderItem.kind == "tour")
        .order_by(OrderItem.id)
    )
    found: dict[int, tuple[str, date]] = {}
    for order_id, name, departs_on in rows.all():
        found.setdefault(int(order_id), (str(name), departs_on))
    return found


def _out(order: Order, names: dict[int, str], tour: tuple[str, date] | None = None) -> OrderOut:
    return OrderOut.model_validate(order).model_copy(
        update={
            "state_label": LABELS[State(order.state)],
            "route": tour[0] if tour else "",
            "route_departs_on": tour[1] if tour else None,
            "creator_name": names.get(order.creator_id or 0, ""),
            "assigner_name": names.get(order.assigner_id or 0, ""),
            "owner_name": names.get(order.owner_id or 0, ""),
            "planner_name": names.get(order.planner_id or 0, ""),
            "outstanding": money(order.receivable - order.received),
            "profit": money(order.received - order.cost),
        }
    )


async def outs(session: AsyncSession, orders: list[Order]) -> list[OrderOut]:
    ids: set[int | None] = set()
    for o in orders:
        ids |= {o.creator_id, o.assigner_id, o.owner_id, o.planner_id}
    names = await directory.names(session, ids)
    found = await tours(session, [o.id for o in orders])
    return [_out(o, names, found.get(o.id)) for o in orders]


async def _rows(session: AsyncSession, model: Any, order_id: int) -> list[Any]:
    query = select(model).where(model.order_id == order_id).order_by(model.id)
    return list((await session.scalars(query)).all())


async def detail(ctx: Context, order_id: int) -> OrderDetail:
    """The order page: the order, its items, follow-ups, ledger, history, hand-overs, and the steps
    the signed-in user may take now."""
    ctx.require(Permission.ORDERS_READ)
    async with ctx.read() as session:
        order = await load(session, order_id)
        items: list[OrderItem] = await _rows(session, OrderItem, order_id)
        follow_ups: list[FollowUp] = await _rows(session, FollowUp, order_id)
        ledger: list[LedgerLine] = await _rows(session, LedgerLine, order_id)
        history: list[OrderChange] = await _rows(session, OrderChange, order_id)
        handovers: list[Assignment] = await _rows(session, Assignment, order_id)
        ids: set[int | None] = {order.creator_id, order.assigner_id, order.owner_id, order.planner_id}
        ids |= {f.by for f in follow_ups} | {line.by for line in ledger} | {h.by for h in history}
        ids |= {a.assigner_id for a in handovers} | {a.owner_id for a in handovers}
        names = await directory.names(session, ids)
        out = _out(order, names, (await tours(session, [order_id])).get(order_id))

    def by(row: Any) -> dict[str, str]:
        return {"by_name": names.get(row.by or 0, "")}

    return OrderDetail(
        order=out,
        items=[ItemOut.model_validate(i) for i in items],
        follow_ups=[FollowUpOut.model_validate(f).model_copy(update=by(f)) for f in follow_ups],
        ledger=[LedgerOut.model_validate(line).model_copy(update=by(line)) for line in ledger],
        history=[ChangeOut.model_validate(h).model_copy(update=by(h)) for h in history],
        assignments=[
            AssignmentOut.model_validate(a).model_copy(
                update={
                    "assigner_name": names.get(a.assigner_id or 0, ""),
                    "owner_name": names.get(a.owner_id or 0, ""),
                }
            )
            for a in handovers
        ],
        actions=state.actions(order.state, ctx.actor),
        contract_ready=State(order.state) in CONTRACTABLE,
        items_editable=State(order.state) in EDITABLE_ITEMS,
    )


async def board(
    ctx: Context,
    *,
    scope: str = "all",
    state: str | None = None,
    kind: str | None = None,
    q: str | None = None,
    customer_id: int | None = None,
    limit: int = 200,
    offset: int = 0,
) -> OrderPage:
    """Orders for the board: mine (created, owned or planned by me), my team's (my department's)
    or all; with the count per state for the columns."""
    ctx.require(Permission.ORDERS_READ)
    async with ctx.read() as session:
        where: list[ColumnElement[bool]] = []
        me = ctx.actor.user_id
        if scope == "mine":
            where.append(or_(Order.creator_id == me, Order.owner_id == me, Order.planner_id == me))
        elif scope == "team":
            team = await directory.colleagues(session, me)
            where.append(
                or_(Order.creator_id.in_(team), Order.owner_id.in_(team), Order.planner_id.in_(team))
            )
        if kind:
            where.append(Order.kind == kind)
        if customer_id:
            where.append(Order.customer_id == customer_id)
        if q:
            where.append(or_(Order.number == q, Order.contact_name.startswith(q), Order.contact_phone == q))
        per_state = select(Order.state, func.count(Order.id)).where(*where).group_by(Order.state)
        counts = dict((await session.execute(per_state)).all())
        if state:
            where.append(Order.state == state)
        query: Select[Any] = select(Order).where(*where).order_by(Order.updated_at.desc(), Order.id.desc())
        total = int(await session.scalar(select(func.count(Order.id)).where(*where)) or 0)
        rows = list((await session.scalars(query.limit(limit).offset(offset))).all())
        items = await outs(session, rows)
    return OrderPage(items=items, total=total, counts={str(k): int(v) for k, v in counts.items()})


async def assignment_queue(ctx: Context) -> list[OrderOut]:
    """Enquiries waiting for a team lead to assign a planner, oldest first."""
    ctx.require(Permission.ORDERS_ASSIGN)
    async with ctx.read() as session:
        waiting = (
            select(Order)
            .where(Order.state == State.ENQUIRY.value)
            .order_by(Order.created_at, Order.id)
            .limit(300)
        )
        return await outs(session, list((await session.scalars(waiting)).all()))


async def finance_queue(ctx: Context) -> FinanceQueue:
    """Signed orders awaiting finance's review, and reviewed orders with money still to collect."""
    ctx.require(Permission.FINANCE_REVIEW)
    collecting = [State.REVIEWED.value, State.RETURN_VISIT.value]
    async with ctx.read() as session:
        signed = (
            select(Order)
            .where(Order.state == State.SIGNED.value)
            .order_by(Order.signed_at, Order.id)
            .limit(300)
        )
        owing = (
            select(Order)
            .where(Order.state.in_(collecting), Order.receivable != Order.received)
            .order_by(Order.departs_on, Order.id)
            .limit(300)
        )
        sums = (
            await session.execute(
                select(
                    func.coalesce(func.sum(Order.receivable), 0), func.coalesce(func.sum(Order.received), 0)
                ).where(Order.state.in_([State.SIGNED.value, *collecting]))
            )
        ).one()
        return FinanceQueue(
            to_review=await outs(session, list((await session.scalars(signed)).all())),
            balances=await outs(session, list((await session.scalars(owing)).all())),
            receivable=money(sums[0]),
            received=money(sums[1]),
            outstanding=money(sums[0] - sums[1]),
        )


WAITING_ON: tuple[tuple[State, str, bool], ...] = (
    (State.ENQUIRY, "assign_planner", False),
    (State.FOLLOWING, "hand_to_front_desk", True),
    (State.SIGNING, "sign", True),
    (State.SIGNED, "review", False),
    (State.RETURN_VISIT, "close", False),
)
"""Each open state, the step that moves an order on from it, and whether only the order's owner
(the planner following it, the front desk it was handed to) takes that step."""


async def steps_awaiting(ctx: Context, *, shown: int = 5) -> list[OrderStep]:
    """The steps of the order lifecycle the reader's roles take, each with the orders waiting for
    it (their own, where the step is the owner's): the count exact, the oldest `shown` listed."""
    ctx.require(Permission.ORDERS_READ)
    who = state.who(ctx.actor)
    admin = "admin" in ctx.actor.roles
    found = []
    async with ctx.read() as session:
        for waiting, action, owners in WAITING_ON:
            transition = state.ORDER.transitions[action]
            if not transition.open_to(who):
                continue
            where: list[ColumnElement[bool]] = [Order.state == waiting.value]
            if owners and not admin:
                where.append(Order.owner_id == ctx.actor.user_id)
            count = int(await session.scalar(select(func.count(Order.id)).where(*where)) or 0)
            oldest = select(Order).where(*where).order_by(Order.updated_at, Order.id).limit(shown)
            found.append(
                OrderStep(
                    state=waiting.value,
                    state_label=LABELS[waiting],
                    action=action,
                    action_label=transition.label,
                    mine_only=owners and not admin,
                    count=count,
                    orders=await outs(session, list((await session.scalars(oldest)).all())),
                )
            )
    return found


register_subject("route", names_by_code)
