"""Travel orders (O2–O3): the workflow of seed 001 — an agent takes the enquiry, the team lead
assigns a planner by type, the planner follows up and hands a deal to the front desk, the
contract is signed (items locked), finance reviews, a return visit falls due on the 3rd day after
the return and the order is closed with the return-visit note (or voided with its reason).

Every step is checked against the lifecycle (travel/state.py: who may, from where) and the
order's own rules first, then one transaction changes the order, writes its history and queues
what the next person and the customer are told. Check-then-do: a refused step changes nothing.
The customer's timeline and the call tasks follow after commit (travel/reactions.py).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import select

from hotline.core import privacy
from hotline.core.clock import utcnow
from hotline.core.context import Actor, Context
from hotline.core.db import next_number
from hotline.core.errors import Conflict, InvalidInput, InvalidTransition, NotFound
from hotline.core.lifecycle import Step
from hotline.core.permissions import Permission, Role
from hotline.crm import directory as customers
from hotline.notify import inbox
from hotline.travel import catalogue
from hotline.travel.catalogue import today
from hotline.travel.errors import BalanceOutstanding, NotYourOrder, OrderClosed, RefundRequired
from hotline.travel.messages import holders, notice, record, tell_staff
from hotline.travel.models import Assignment, FollowUp, Order, OrderItem
from hotline.travel.queries import detail, load
from hotline.travel.schemas import (
    AssignIn,
    CloseIn,
    FollowUpIn,
    HandOverIn,
    OrderDetail,
    OrderIn,
    OrderUpdate,
    SignIn,
    VoidIn,
)
from hotline.travel.state import ORDER, State, WrongRole, who

FIRST_NUMBER = 80_000_001
DEMO_FIRST_NUMBER = 79_000_001
"""The demo's made-up orders are numbered below the first real one."""
RETURN_VISIT_AFTER = 3
"""The return visit falls due on the 3rd day after the return date (seed 001)."""
OFFICE_ROLES = frozenset({Role.ADMIN.value, Role.SUPERVISOR.value, Role.TEAM_LEAD.value})
"""Roles that act on any order; a planner acts on the orders they own."""


def check_owner(ctx: Context, order: Order) -> None:
    """A planner works on the orders they are the planner of; team leads, supervisors and admins
    on any."""
    if ctx.actor.via == "system" or ctx.actor.roles & OFFICE_ROLES:
        return
    if Role.PLANNER.value in ctx.actor.roles and order.planner_id != ctx.actor.user_id:
        raise NotYourOrder(
            f"Order {order.number} is owned by someone else; ask the team lead to reassign it",
            rule="owner",
            reason="order-owned-someone-else-ask",
            params={"number": order.number},
        )


def work(ctx: Context, order: Order, action: str, recorded_as: str | None = None) -> Step[str]:
    """Work on the order that keeps its state (the lifecycle's table says who and when)."""
    step = ORDER.apply(order.state, action, who(ctx.actor))
    return replace(step, action=recorded_as) if recorded_as else step


async def create(ctx: Context, data: OrderIn) -> OrderDetail:
    """An enquiry taken from a call or a walk-in: the creator is the one who takes it; team leads
    are told there is an order to assign, the customer that it was received."""
    ctx.require(Permission.ORDERS_WRITE)
    if data.returns_on and data.departs_on and data.returns_on < data.departs_on:
        raise InvalidInput(
            "The return is before the departure", field="body.returns_on", reason="return-before-departure"
        )
    async with ctx.write() as tx:
        if data.customer_id is not None:
            customer = await customers.card(tx.session, data.customer_id)
            if customer is None or customer.anonymised:
                raise NotFound(
                    f"No customer {data.customer_id}",
                    field="body.customer_id",
                    reason="no-customer",
                    params={"customer_id": data.customer_id},
                )
        order = Order(
            number=str(await next_number(tx.session, Order.number, FIRST_NUMBER)),
            kind=data.kind,
            source=data.source,
            state=State.ENQUIRY.value,
            customer_id=data.customer_id,
            contact_name=data.contact_name,
            contact_phone=data.contact_phone,
            wish=data.wish,
            adults=data.adults,
            children=data.children,
            departs_on=data.departs_on,
            returns_on=data.returns_on,
            creator_id=ctx.actor.user_id,
            call_id=data.call_id,
        )
        tx.session.add(order)
        await tx.session.flush()
        record(tx, order, Step("create", "", order.state, ctx.actor.user_id), f"{data.source}: {data.wish}")
        if data.source == "walk_in" and Role.FRONT_DESK.value in ctx.actor.roles:
            await tell_staff(tx, await holders(tx.session, Role.PLANNER), order, "门市客人待分配计调")
        else:
            await tell_staff(tx, await holders(tx.session, Role.TEAM_LEAD), order, "新订单待分配")
        tx.publish(await notice(tx.session, order, "received"))
        order_id = order.id
    return await detail(ctx, order_id)


async def update(ctx: Context, order_id: int, data: OrderUpdate) -> OrderDetail:
    """Contact, travellers and dates may change until the order is closed; each change is kept."""
    ctx.require(Permission.ORDERS_WRITE)
    async with ctx.write() as tx:
        order = await load(tx.session, order_id, lock=True)
        if order.state == State.CLOSED.value:
            raise OrderClosed(
                f"Order {order.number} is closed",
                rule="closed",
                reason="order-closed",
                params={"number": order.number},
            )
        step = work(ctx, order, "update")
        changes = []
        for key, value in data.model_dump(exclude_none=True).items():
            if getattr(order, key) != value:
                # the history is read by everyone on the order: a phone in it is written masked
                kind = Order.__personal__.get(key)
                was, now = getattr(order, key), value
                if kind is not None:
                    was, now = privacy.masked(kind, was), privacy.masked(kind, now)
                changes.append(f"{key}: {was} → {now}")
                setattr(order, key, value)
        if order.returns_on and order.departs_on and order.returns_on < order.departs_on:
            raise InvalidInput(
                "The return is before the departure",
                field="body.returns_on",
                reason="return-before-departure",
            )
        if changes:
            record(tx, order, step, "; ".join(changes))
    return await detail(ctx, order_id)


async def assign_planner(ctx: Context, order_id: int, data: AssignIn) -> OrderDetail:
    """The team lead gives the enquiry to a planner who takes its type (domestic/international);
    a planner may take a walk-in the front desk asked about. Creator, assigner and owner are
    then the agent, the team lead and the planner."""
    ctx.require(Permission.ORDERS_ASSIGN)
    async with ctx.write() as tx:
        order = await load(tx.session, order_id, lock=True)
        step = ORDER.apply(order.state, "assign_planner", who(ctx.actor))
        is_planner_only = Role.PLANNER.value in ctx.actor.roles and not ctx.actor.roles & OFFICE_ROLES
        if is_planner_only and order.source != "walk_in":
            raise WrongRole(
                "Only a team lead assigns a phone enquiry; "
                "a planner takes walk-ins the front desk asks about",
                rule="role",
                reason="team-lead-assigns-phone-enquiry",
            )
        planners = {p.user_id: p for p in await catalogue.planner_desks(tx.session)}
        planner = planners.get(data.planner_id)
        if planner is None:
            raise InvalidInput(
                f"User {data.planner_id} is not a planner",
                field="body.planner_id",
                reason="planner-not-planner",
                params={"planner_id": data.planner_id},
            )
        if order.kind not in planner.kinds:
            raise InvalidInput(
                f"{planner.name} takes {'/'.join(planner.kinds)} orders, not {order.kind}",
                field="body.planner_id",
                reason="takes-orders-not",
                params={"name": planner.name, "value": "/".join(planner.kinds), "kind": order.kind},
            )
        order.assigner_id, order.owner_id, order.planner_id = (
            ctx.actor.user_id,
            planner.user_id,
            planner.user_id,
        )
        tx.session.add(
            Assignment(
                order_id=order.id, stage="planner", assigner_id=ctx.actor.user_id, owner_id=planner.user_id
            )
        )
        record(tx, order, step, f"→ {planner.name}")
        await tell_staff(tx, [planner.user_id], order, "新分配的订单，请跟单")
        tx.publish(await notice(tx.session, order, "assigned"))
    return await detail(ctx, order_id)


async def request_planner(ctx: Context, order_id: int) -> OrderDetail:
    """A walk-in customer is at the desk: the front desk asks the planners to assign the order."""
    ctx.require(Permission.ORDERS_WRITE)
    async with ctx.write() as tx:
        order = await load(tx.session, order_id, lock=True)
        step = work(ctx, order, "request_planner")
        if order.source != "walk_in":
            raise InvalidTransition(
                "Only a walk-in order is taken by a planner directly; the team lead assigns the others",
                rule="walk-in",
                reason="walk-order-taken-planner-directly",
            )
        desks = await catalogue.planner_desks(tx.session, order.kind)
        await tell_staff(tx, [p.user_id for p in desks], order, "门市客人等待签约，请分配")
        record(tx, order, step, "门市客人等待签约")
    return await detail(ctx, order_id)


async def follow_up(ctx: Context, order_id: int, data: FollowUpIn) -> OrderDetail:
    """The planner's follow-up (跟单): what was said and when to contact the customer again."""
    ctx.require(Permission.ORDERS_WRITE)
    if data.next_contact_at is not None and data.next_contact_at.tzinfo is None:
        raise InvalidInput(
            "Give the time with its zone", field="body.next_contact_at", reason="give-time-zone"
        )
    async with ctx.write() as tx:
        order = await load(tx.session, order_id, lock=True)
        step = work(ctx, order, "follow_up")
        check_owner(ctx, order)
        tx.session.add(
            FollowUp(
                order_id=order.id, by=ctx.actor.user_id, note=data.note, next_contact_at=data.next_contact_at
            )
        )
        order.next_contact_at = data.next_contact_at
        record(tx, order, step, data.note)
        said = f"{ctx.actor.display_name} 在订单 {order.number} 的跟单中提到您"
        await inbox.mention(
            tx,
            data.note,
            author=ctx.actor.user_id,
            title=said,
            link=f"/travel/orders/{order.id}",
            readers=Permission.ORDERS_READ,
        )
    return await detail(ctx, order_id)


async def hand_to_front_desk(ctx: Context, order_id: int, data: HandOverIn) -> OrderDetail:
    """A deal: the planner hands the order to the front desk for signing (the second assignment:
    creator, assigner = planner, owner = front desk)."""
    ctx.require(Permission.ORDERS_ASSIGN)
    async with ctx.write() as tx:
        order = await load(tx.session, order_id, lock=True)
        step = ORDER.apply(order.state, "hand_to_front_desk", who(ctx.actor))
        check_owner(ctx, order)
        desk = dict(await catalogue.users_with_role(tx.session, Role.FRONT_DESK))
        if data.front_desk_id not in desk:
            raise InvalidInput(
                f"User {data.front_desk_id} is not at the front desk",
                field="body.front_desk_id",
                reason="user-not-front-desk",
                params={"front_desk_id": data.front_desk_id},
            )
        if order.receivable <= 0:
            raise Conflict(
                "A deal has its products: add the tour or tickets before handing it over",
                rule="items-required",
                field="items",
                reason="deal-products-add-tour-tickets",
            )
        order.assigner_id, order.owner_id = ctx.actor.user_id, data.front_desk_id
        tx.session.add(
            Assignment(
                order_id=order.id,
                stage="front_desk",
                assigner_id=ctx.actor.user_id,
                owner_id=data.front_desk_id,
            )
        )
        record(tx, order, step, f"→ {desk[data.front_desk_id]} {data.note}")
        await tell_staff(tx, [data.front_desk_id], order, "客人待签约", data.note)
    return await detail(ctx, order_id)


async def sign(ctx: Context, order_id: int, data: SignIn) -> OrderDetail:
    """The contract is signed at the front desk: the items are locked from now; finance is told
    to review, the customer that the contract is signed."""
    ctx.require(Permission.ORDERS_SIGN)
    async with ctx.write() as tx:
        order = await load(tx.session, order_id, lock=True)
        step = ORDER.apply(order.state, "sign", who(ctx.actor))
        if order.receivable <= 0:
            raise Conflict(
                "There is nothing to sign: the order has no priced items",
                rule="items-required",
                reason="nothing-sign-order-no-priced",
            )
        order.contract_no = data.contract_no or f"HT{order.number}"
        order.signed_at = utcnow()
        record(tx, order, step, f"合同 {order.contract_no} ¥{order.receivable:.2f}")
        await tell_staff(
            tx,
            await holders(tx.session, Role.FINANCE),
            order,
            "已签约，待财务审核",
            f"合同 {order.contract_no}，应收 ¥{order.receivable:.2f}",
        )
        tx.publish(await notice(tx.session, order, "signed"))
    return await detail(ctx, order_id)


async def review(ctx: Context, order_id: int, note: str = "") -> OrderDetail:
    """Finance reviews the signed order; receipts and payments follow."""
    ctx.require(Permission.FINANCE_REVIEW)
    async with ctx.write() as tx:
        order = await load(tx.session, order_id, lock=True)
        step = ORDER.apply(order.state, "review", who(ctx.actor))
        order.reviewed_at = utcnow()
        record(tx, order, step, note)
        await tell_staff(tx, [order.planner_id, order.creator_id], order, "财务已审核", note)
    return await detail(ctx, order_id)


async def close(ctx: Context, order_id: int, data: CloseIn) -> OrderDetail:
    """Closed after the return visit, with its note as the summary, once every payment is in."""
    ctx.require(Permission.ORDERS_WRITE)
    async with ctx.write() as tx:
        order = await load(tx.session, order_id, lock=True)
        step = ORDER.apply(order.state, "close", who(ctx.actor))
        if step.before == State.REVIEWED.value and (order.returns_on is None or order.returns_on >= today()):
            raise InvalidTransition(
                f"The trip is not over (return {order.returns_on or 'not set'}): "
                "close it after the return visit",
                rule="trip-not-over",
                reason="trip-not-over-return-close",
                params={"value": order.returns_on or "not set"},
            )
        outstanding = order.receivable - order.received
        if outstanding > 0:
            raise BalanceOutstanding(
                f"¥{outstanding:.2f} is still outstanding",
                rule="paid-in-full",
                outstanding=str(outstanding),
                reason="still-outstanding",
                params={"outstanding": format(outstanding, ".2f")},
            )
        if outstanding < 0:
            raise BalanceOutstanding(
                f"¥{-outstanding:.2f} was overpaid: refund it first",
                rule="paid-in-full",
                outstanding=str(outstanding),
                reason="was-overpaid-refund-first",
                params={"value": format(-outstanding, ".2f")},
            )
        order.summary, order.closed_at = data.summary, utcnow()
        record(tx, order, step, data.summary)
        await tell_staff(tx, [order.planner_id, order.creator_id], order, "订单已回访关闭", data.summary)
        tx.publish(await notice(tx.session, order, "closed"))
    return await detail(ctx, order_id)


async def void(ctx: Context, order_id: int, data: VoidIn) -> OrderDetail:
    """A failed order is voided with its reason; its seats go back on sale. A paid order is
    voided only once finance has refunded what was received."""
    ctx.require(Permission.ORDERS_WRITE)
    async with ctx.write() as tx:
        order = await load(tx.session, order_id, lock=True)
        step = ORDER.apply(order.state, "void", who(ctx.actor))
        check_owner(ctx, order)
        if order.received != 0:
            raise RefundRequired(
                f"¥{order.received:.2f} was received on order {order.number}: finance records the refund "
                "first, then the order can be voided",
                rule="refund-first",
                received=str(order.received),
                reason="was-received-order-finance-records",
                params={"received": format(order.received, ".2f"), "number": order.number},
            )
        items = (await tx.session.scalars(select(OrderItem).where(OrderItem.order_id == order.id))).all()
        for item in items:
            if item.departure_id is not None:
                await catalogue.give_back_seats(tx.session, item.departure_id, item.adults + item.children)
        order.void_reason = data.reason
        record(tx, order, step, data.reason)
        await tell_staff(tx, [order.creator_id, order.assigner_id], order, "订单已作废", data.reason)
    return await detail(ctx, order_id)


async def return_visits(ctx: Context, *, now: datetime | None = None) -> int:
    """Reviewed orders whose travellers came back three days ago or more become return-visit
    tasks: the order moves to return_visit, a call task goes to the travel desk's callback list
    (travel/reactions.py) and the creator is told. Returns how many were made (each once)."""
    now = now or utcnow()
    due = today(now) - timedelta(days=RETURN_VISIT_AFTER)
    system = ctx.as_actor(Actor.system("travel"))
    async with ctx.read() as session:
        reviewed = (
            select(Order.id)
            .where(Order.state == State.REVIEWED.value, Order.returns_on <= due)
            .order_by(Order.id)
        )
        ids = list((await session.scalars(reviewed)).all())
    made = 0
    for order_id in ids:
        async with system.write() as tx:
            order = await load(tx.session, order_id, lock=True)
            if order.state != State.REVIEWED.value or order.returns_on is None:
                continue
            step = ORDER.apply(order.state, "return_visit_due", who(system.actor))
            order.return_due_on = order.returns_on + timedelta(days=RETURN_VISIT_AFTER)
            record(tx, order, step, f"返回日期 {order.returns_on}", at=now)
            await tell_staff(
                tx,
                [order.creator_id],
                order,
                "回访任务：客人已返回",
                f"{order.contact_name} {order.returns_on:%m月%d日}返回，请回访并关闭订单",
            )
        made += 1
    return made
