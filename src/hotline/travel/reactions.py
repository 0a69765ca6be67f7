"""What follows an order's step in other domains, after its commit (core/reactions.py).

- the customer's timeline (crm): created, signed, closed after the return visit, voided; once each;
- the call it was taken on (contact) notes the order;
- call tasks (contact): a return visit that falls due is one open task on the travel desk's
  callback list; closing or voiding the order closes it.

Each is idempotent: one timeline entry per reference, one open task per order.
"""

from __future__ import annotations

from sqlalchemy import select

from hotline.contact import callbacks
from hotline.contact.calls import records as call_records
from hotline.core.context import Actor, Context
from hotline.core.i18n import yuan
from hotline.core.reactions import reacts_to
from hotline.crm import timeline
from hotline.travel.events import OrderStepped
from hotline.travel.models import Order
from hotline.travel.queries import KIND_LABEL, route_names
from hotline.travel.state import LABELS, State

ON_TIMELINE = {"create": "创建", "sign": "签约", "close": "回访关闭", "void": "作废"}


@reacts_to(OrderStepped)
async def on_the_customers_timeline(ctx: Context, event: OrderStepped) -> None:
    what = ON_TIMELINE.get(event.action)
    if what is None:
        return
    async with ctx.read() as session:
        order = await session.get(Order, event.order_id)
        route = (await route_names(session, [event.order_id])).get(event.order_id, "") if order else ""
    if order is None or order.customer_id is None:
        return
    await timeline.add(
        ctx.as_actor(Actor.system("travel")),
        order.customer_id,
        "order",
        f"旅游订单{what} · {route or KIND_LABEL.get(order.kind, '')}",
        ref=f"order:{order.number}:{what}",
        detail=f"订单号{order.number} · 应收{yuan(order.receivable)} · {LABELS[State(order.state)]}",
    )


@reacts_to(OrderStepped)
async def the_call_it_was_taken_on(ctx: Context, event: OrderStepped) -> None:
    if event.action == "create" and event.call_id:
        await call_records.note_on_call(ctx, event.call_id, "order", f"旅游订单 {event.number}")


@reacts_to(OrderStepped)
async def return_visit_calls(ctx: Context, event: OrderStepped) -> None:
    ref = f"order:{event.number}"
    if event.action == "return_visit_due":
        async with ctx.read() as session:
            phone = await session.scalar(select(Order.contact_phone).where(Order.id == event.order_id))
        if phone:
            system = ctx.as_actor(Actor.system("travel"))
            await callbacks.open_call_task(system, phone, ref, "return_visit", queue="travel")
    elif event.action == "close":
        await callbacks.close_call_task(ctx, ref, event.note[:300])
    elif event.action == "void":
        await callbacks.close_call_task(ctx, ref, f"作废：{event.note}"[:300])
