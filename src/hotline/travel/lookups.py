"""What the IVR reads of a travel order (T3/D5): the member's latest order — which step it is at
and which department has it — only to a caller verified for the member (seed 004)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from hotline.core.context import Context
from hotline.crm import directory as customers
from hotline.crm import verification
from hotline.travel.catalogue import today
from hotline.travel.models import Departure, Order, Route
from hotline.travel.queries import KIND_LABEL, money, route_codes, route_names
from hotline.travel.state import DEPARTMENT, LABELS, State


def cn_date(day: Any) -> str:
    return f"{day:%Y年%m月%d日}" if day else ""


async def _latest_order(ctx: Context, customer_id: int) -> Order | None:
    async with ctx.read() as session:
        return await session.scalar(
            select(Order)
            .where(Order.customer_id == customer_id)
            .order_by(Order.created_at.desc(), Order.id.desc())
            .limit(1)
        )


async def _spoken(ctx: Context, order: Order) -> dict[str, Any]:
    """The order as the IVR says it; `about` names its route (the IVR report counts the enquiry
    for it), absent for an order without a tour."""
    async with ctx.read() as session:
        route = (await route_names(session, [order.id])).get(order.id, KIND_LABEL.get(order.kind, ""))
        code = (await route_codes(session, [order.id])).get(order.id)
    state = State(order.state)
    return {
        **({"about": f"route:{code}"} if code else {}),
        "kind": "travel",
        "number": order.number,
        "route": route,
        "departs_on": cn_date(order.departs_on),
        "status": LABELS[state],
        "department": DEPARTMENT[state],
        "state": order.state,
        "outstanding": str(money(order.receivable - order.received)),
        "created_at": order.created_at.isoformat(),
    }


async def latest_for_member(ctx: Context, member_number: str) -> dict[str, Any] | None:
    """The customer's latest travel order as the IVR speaks it (T3/D5): which step it is at and
    which department has it. None when the member has no order. Reads for whoever asks: callers
    on the phone go through `latest_for_ivr`, which verifies them first."""
    async with ctx.read() as session:
        customer = await customers.by_member_number(session, member_number)
    if customer is None:
        return None
    order = await _latest_order(ctx, customer.id)
    return None if order is None else await _spoken(ctx, order)


async def _verified_order(
    ctx: Context, variables: dict[str, Any]
) -> tuple[verification.MemberCheck, Order | None]:
    """Who the caller is (crm's rule) and the order the enquiry would read; its contact phone
    is one of the second factors."""
    member, caller, keyed = verification.caller_of(variables)
    known = await verification.check_member(ctx, member, caller_id=caller)
    if known.customer_id is None:
        return known, None
    order = await _latest_order(ctx, known.customer_id)
    if known.verified or not keyed:
        return known, order
    phones = [order.contact_phone] if order else []
    checked = await verification.check_member(
        ctx, member, caller_id=caller, keyed=keyed, booking_phones=phones
    )
    return checked, order


async def verify_for_ivr(ctx: Context, variables: dict[str, Any]) -> dict[str, str] | None:
    """The lookup `travel.verify_caller`: {"by": "number" | "second-factor"} when the caller is
    verified for the member number keyed (crm/verification.py), else None."""
    check, _ = await _verified_order(ctx, variables)
    return {"by": check.verified_by.value} if check.verified_by is not None else None


async def latest_for_ivr(ctx: Context, variables: dict[str, Any]) -> dict[str, Any] | None:
    """The lookup `travel.latest_order`: the member's latest order, read only to a caller verified
    for the member (seed 004), whatever the flow; None otherwise or without an order."""
    check, order = await _verified_order(ctx, variables)
    if not check.verified or order is None:
        return None
    return await _spoken(ctx, order)


async def route_for_ivr(ctx: Context, variables: dict[str, Any]) -> dict[str, Any] | None:
    """The lookup `travel.route`: the route whose code the flow set in `route_code`, as the IVR
    says it — name, days, the adult price from, the next departure with seats left; `about`
    names it, so the IVR report counts the enquiry per route. None: no such route on sale."""
    code = str(variables.get("route_code") or "")
    async with ctx.read() as session:
        route = await session.scalar(select(Route).where(Route.code == code, Route.active.is_(True)))
        if route is None:
            return None
        departs = await session.scalar(
            select(func.min(Departure.departs_on)).where(
                Departure.route_id == route.id,
                Departure.departs_on > today(),
                Departure.closed.is_(False),
                Departure.seats_taken < Departure.capacity,
            )
        )
    return {
        "about": f"route:{route.code}",
        "name": route.name,
        "days": str(route.days),
        "price": money(route.adult_price),
        "departs_on": cn_date(departs) if departs else "待定",
    }
