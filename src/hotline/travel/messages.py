"""What people are told about an order: the customer's notice (the variables of the message
templates, O3) and the staff's in-app notices, and the history row every change writes."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.admin import directory
from hotline.core.clock import utcnow
from hotline.core.context import Tx
from hotline.core.lifecycle import Step
from hotline.core.permissions import Role
from hotline.crm import directory as customers
from hotline.notify import inbox
from hotline.travel.events import Occasion, OrderNotice, OrderStepped
from hotline.travel.lookups import cn_date
from hotline.travel.models import Order, OrderChange, PlannerDesk
from hotline.travel.queries import KIND_LABEL, route_names


async def notice(
    session: AsyncSession, order: Order, occasion: Occasion, amount: Decimal | None = None
) -> OrderNotice:
    """What the customer is to be told, as the variables of the message templates (O3)."""
    customer = await customers.card(session, order.customer_id)
    planner_name, planner_phone = "", ""
    if order.planner_id:
        planner = await directory.person(session, order.planner_id)
        planner_name = planner.name if planner else ""
        desk = await session.get(PlannerDesk, order.planner_id)
        planner_phone = desk.phone if desk else ""
    route = (await route_names(session, [order.id])).get(order.id, "")
    travellers = f"{order.adults}成人" + (f"{order.children}儿童" if order.children else "")
    return OrderNotice(
        occasion=occasion,
        ref=f"order:{order.number}",
        customer_id=order.customer_id,
        phone=order.contact_phone,
        email=customer.email if customer else "",
        number=order.number,
        contact_name=order.contact_name,
        title=customer.title if customer and customer.name == order.contact_name else "",
        kind=KIND_LABEL.get(order.kind, order.kind),
        route=route,
        departs_on=cn_date(order.departs_on),
        returns_on=cn_date(order.returns_on),
        travellers=travellers,
        planner=planner_name,
        planner_phone=planner_phone,
        receivable=f"{order.receivable:.2f}",
        received=f"{order.received:.2f}",
        outstanding=f"{order.receivable - order.received:.2f}",
        amount=f"{amount or 0:.2f}",
        contract_no=order.contract_no,
    )


async def tell_staff(tx: Tx, user_ids: list[int | None], order: Order, title: str, body: str = "") -> None:
    await inbox.tell(
        tx,
        [u for u in user_ids if u is not None],
        "order",
        f"{title} · 订单{order.number}",
        body=body or f"{order.contact_name} {KIND_LABEL.get(order.kind, '')} {order.wish}"[:300],
        link=f"/travel/orders/{order.id}",
    )


async def holders(session: AsyncSession, role: Role) -> list[int | None]:
    return [u for u, _ in await directory.with_role(session, role)]


def record(tx: Tx, order: Order, step: Step[str], note: str = "", at: datetime | None = None) -> None:
    """The order's state after the step, its history row, and the event after commit."""
    order.state = step.after
    change = OrderChange(order_id=order.id, at=at or utcnow())
    change.record(step, note[: OrderChange.__note_length__])
    tx.session.add(change)
    tx.publish(
        OrderStepped(
            order_id=order.id,
            number=order.number,
            action=step.action,
            state=order.state,
            owner_id=order.owner_id,
            before=step.before,
            note=change.note,
            call_id=order.call_id,
        )
    )
