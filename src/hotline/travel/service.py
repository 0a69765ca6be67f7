"""Travel orders (O2–O3): the workflow of seed 001 — an agent takes the enquiry, the team lead
assigns a planner by type, the planner follows up and hands a deal to the front desk, the
contract is signed (items locked), finance reviews and records receipts, the planner records
costs, a return visit falls due on the 3rd day after the return and the order is closed with the
return-visit note.

Every step is `state.transition` (who may, from where) then one transaction that changes the
order, writes its history and queues what the next person and the customer are told; money is
kept as the sums of the items (receivable) and the ledger (received, cost) in that same
transaction. Check-then-do: a refused step changes nothing.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.admin.models import User
from hotline.contact import callbacks
from hotline.contact.calls import records as call_records
from hotline.core import privacy
from hotline.core.clock import utcnow
from hotline.core.context import Actor, Context, Tx
from hotline.core.db import next_number
from hotline.core.errors import Conflict, InvalidInput, InvalidTransition, NotFound
from hotline.core.permissions import Permission, Role
from hotline.crm import timeline, verification
from hotline.crm.models import Customer
from hotline.notify import inbox
from hotline.travel import catalogue
from hotline.travel.catalogue import today
from hotline.travel.errors import (
    BalanceOutstanding,
    ItemsLocked,
    NotYourOrder,
    OrderClosed,
    Overpayment,
    RefundRequired,
    SeatsSoldOut,
)
from hotline.travel.events import Occasion, OrderNotice, OrderStepped
from hotline.travel.models import (
    Assignment,
    Departure,
    FollowUp,
    InsuranceProduct,
    LedgerLine,
    Order,
    OrderChange,
    OrderItem,
    PlannerDesk,
    Route,
)
from hotline.travel.schemas import (
    AssignIn,
    AssignmentOut,
    ChangeOut,
    CloseIn,
    CostIn,
    FinanceQueue,
    FollowUpIn,
    FollowUpOut,
    HandOverIn,
    ItemIn,
    ItemOut,
    LedgerOut,
    OrderDetail,
    OrderIn,
    OrderOut,
    OrderPage,
    OrderUpdate,
    ReceiptIn,
    SignIn,
    VoidIn,
)
from hotline.travel.state import (
    DEPARTMENT,
    EDITABLE_ITEMS,
    LABELS,
    State,
    WrongRole,
    allowed_actions,
    check_activity,
    transition,
)

FIRST_NUMBER = 80_000_001
DEMO_FIRST_NUMBER = 79_000_001
"""The demo's made-up orders are numbered below the first real one."""
RETURN_VISIT_AFTER = 3
REVEALABLE = privacy.revealable("travel_order", Order, Permission.ORDERS_READ)
"""An order's contact phone may be revealed (core/privacy.py)."""
"""The return visit falls due on the 3rd day after the return date (seed 001)."""
CENT = Decimal("0.01")
KIND_LABEL = {"domestic": "国内游", "international": "出境游"}
CATEGORY_LABEL = {
    "deposit": "定金", "instalment": "分期", "balance": "尾款", "refund": "退款", "adjustment": "调整",
    "ground": "地接", "hotel": "酒店", "ticket": "票务", "insurance": "保险", "transport": "交通", "other": "其他",  # noqa: E501
}  # fmt: skip
METHOD_LABEL = {"cash": "现金", "card": "银行卡", "transfer": "转账", "online": "在线支付"}
OFFICE_ROLES = frozenset({Role.ADMIN.value, Role.SUPERVISOR.value, Role.TEAM_LEAD.value})
"""Roles that act on any order; a planner acts on the orders they own."""


def _money(value: Decimal) -> Decimal:
    return Decimal(value).quantize(CENT)


def _cn_date(day: date | None) -> str:
    return f"{day:%Y年%m月%d日}" if day else ""


# ---------------------------------------------------------------- reading


async def _load(session: AsyncSession, order_id: int, *, lock: bool = False) -> Order:
    order = await session.get(Order, order_id, with_for_update=lock)
    if order is None:
        raise NotFound(f"No order {order_id}", field="order_id")
    return order


async def _names(session: AsyncSession, ids: set[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = await session.execute(select(User.id, User.display_name).where(User.id.in_(wanted)))
    return {int(i): str(n) for i, n in rows.all()}


async def _route_names(session: AsyncSession, order_ids: list[int]) -> dict[int, str]:
    """The first tour on each order (what the board shows as its route)."""
    if not order_ids:
        return {}
    rows = await session.execute(
        select(OrderItem.order_id, OrderItem.title).where(OrderItem.order_id.in_(order_ids),
        OrderItem.kind == "tour")
        .order_by(OrderItem.id)
    )  # fmt: skip
    found: dict[int, str] = {}
    for order_id, title in rows.all():
        found.setdefault(int(order_id), str(title))
    return found


def _out(ctx: Context, order: Order, names: dict[int, str], route: str = "") -> OrderOut:
    out = OrderOut.model_validate(order)
    return out.model_copy(update={
        "state_label": LABELS[State(order.state)], "route": route,
        "creator_name": names.get(order.creator_id or 0, ""),
        "assigner_name": names.get(order.assigner_id or 0, ""),
        "owner_name": names.get(order.owner_id or 0, ""), "planner_name": names.get(order.planner_id or 0,
        ""),
        "outstanding": _money(order.receivable - order.received),
        "profit": _money(order.received - order.cost),
    })  # fmt: skip


async def _outs(ctx: Context, session: AsyncSession, orders: list[Order]) -> list[OrderOut]:
    ids: set[int | None] = set()
    for o in orders:
        ids |= {o.creator_id, o.assigner_id, o.owner_id, o.planner_id}
    names = await _names(session, ids)
    routes = await _route_names(session, [o.id for o in orders])
    return [_out(ctx, o, names, routes.get(o.id, "")) for o in orders]


async def detail(ctx: Context, order_id: int) -> OrderDetail:
    """The order page: the order, its items, follow-ups, ledger, history, hand-overs, and the steps
    the signed-in user may take now."""
    ctx.require(Permission.ORDERS_READ)
    async with ctx.read() as session:
        order = await _load(session, order_id)
        items = (await session.scalars(select(OrderItem).where(OrderItem.order_id == order_id)
                                       .order_by(OrderItem.id))).all()  # fmt: skip
        follow_ups = (await session.scalars(select(FollowUp).where(FollowUp.order_id == order_id)
                                            .order_by(FollowUp.id))).all()  # fmt: skip
        ledger = (await session.scalars(select(LedgerLine).where(LedgerLine.order_id == order_id)
                                        .order_by(LedgerLine.id))).all()  # fmt: skip
        history = (await session.scalars(select(OrderChange).where(OrderChange.order_id == order_id)
                                         .order_by(OrderChange.id))).all()  # fmt: skip
        handovers = (await session.scalars(select(Assignment).where(Assignment.order_id == order_id)
                                           .order_by(Assignment.id))).all()  # fmt: skip
        ids: set[int | None] = {order.creator_id, order.assigner_id, order.owner_id, order.planner_id}
        ids |= {f.by for f in follow_ups} | {line.by for line in ledger} | {h.by for h in history}
        ids |= {a.assigner_id for a in handovers} | {a.owner_id for a in handovers}
        names = await _names(session, ids)
        route = next((i.title for i in items if i.kind == "tour"), "")
        out = _out(ctx, order, names, route)
    roles = ctx.actor.roles if ctx.actor.via != "system" else frozenset({Role.ADMIN.value})
    return OrderDetail(
        order=out, items=[ItemOut.model_validate(i) for i in items],
        follow_ups=[FollowUpOut.model_validate(f).model_copy(update={"by_name": names.get(f.by or 0, "")})
                    for f in follow_ups],
        ledger=[LedgerOut.model_validate(line).model_copy(update={"by_name": names.get(line.by or 0, "")})
                for line in ledger],
        history=[ChangeOut.model_validate(h).model_copy(update={"by_name": names.get(h.by or 0, "")})
                 for h in history],
        assignments=[AssignmentOut.model_validate(a).model_copy(update={
            "assigner_name": names.get(a.assigner_id or 0, ""), "owner_name": names.get(a.owner_id or 0, "")})
            for a in handovers],
        actions=allowed_actions(order.state, roles), items_editable=State(order.state) in EDITABLE_ITEMS,
    )  # fmt: skip


async def _team(session: AsyncSession, user_id: int | None) -> list[int]:
    """The people of the user's department (a team lead's team)."""
    if user_id is None:
        return []
    department = await session.scalar(select(User.department_id).where(User.id == user_id))
    if department is None:
        return [user_id]
    return list((await session.scalars(select(User.id).where(User.department_id == department))).all())


async def board(
    ctx: Context, *, scope: str = "all", state: str | None = None, kind: str | None = None,
    q: str | None = None,
    customer_id: int | None = None, limit: int = 200, offset: int = 0,
) -> OrderPage:  # fmt: skip
    """Orders for the board: mine (created, owned or planned by me), my team's (my department's)
    or all; with the count per state for the columns."""
    ctx.require(Permission.ORDERS_READ)
    async with ctx.read() as session:
        where: list[ColumnElement[bool]] = []
        me = ctx.actor.user_id
        if scope == "mine":
            where.append(or_(Order.creator_id == me, Order.owner_id == me, Order.planner_id == me))
        elif scope == "team":
            team = await _team(session, me)
            where.append(
                or_(Order.creator_id.in_(team), Order.owner_id.in_(team), Order.planner_id.in_(team))
            )
        if kind:
            where.append(Order.kind == kind)
        if customer_id:
            where.append(Order.customer_id == customer_id)
        if q:
            where.append(or_(Order.number == q, Order.contact_name.startswith(q), Order.contact_phone == q))
        counts = dict((await session.execute(
            select(Order.state, func.count(Order.id)).where(*where).group_by(Order.state)
        )).all())  # fmt: skip
        if state:
            where.append(Order.state == state)
        query: Select[Any] = select(Order).where(*where).order_by(Order.updated_at.desc(), Order.id.desc())
        total = int(await session.scalar(select(func.count(Order.id)).where(*where)) or 0)
        rows = list((await session.scalars(query.limit(limit).offset(offset))).all())
        items = await _outs(ctx, session, rows)
    return OrderPage(items=items, total=total, counts={str(k): int(v) for k, v in counts.items()})


async def assignment_queue(ctx: Context) -> list[OrderOut]:
    """Enquiries waiting for a team lead to assign a planner, oldest first."""
    ctx.require(Permission.ORDERS_ASSIGN)
    async with ctx.read() as session:
        rows = list((await session.scalars(
            select(Order).where(Order.state == State.ENQUIRY.value).order_by(Order.created_at,
            Order.id).limit(300)
        )).all())  # fmt: skip
        return await _outs(ctx, session, rows)


async def finance_queue(ctx: Context) -> FinanceQueue:
    """Signed orders awaiting finance's review, and reviewed orders with money still to collect."""
    ctx.require(Permission.FINANCE_REVIEW)
    async with ctx.read() as session:
        to_review = list((await session.scalars(
            select(Order).where(Order.state == State.SIGNED.value).order_by(Order.signed_at,
            Order.id).limit(300)
        )).all())  # fmt: skip
        balances = list((await session.scalars(
            select(Order).where(Order.state.in_([State.REVIEWED.value, State.RETURN_VISIT.value]),
                                Order.receivable != Order.received)
            .order_by(Order.departs_on, Order.id).limit(300)
        )).all())  # fmt: skip
        sums = (await session.execute(
            select(func.coalesce(func.sum(Order.receivable), 0), func.coalesce(func.sum(Order.received), 0))
            .where(Order.state.in_([State.SIGNED.value, State.REVIEWED.value, State.RETURN_VISIT.value]))
        )).one()  # fmt: skip
        return FinanceQueue(
            to_review=await _outs(ctx, session, to_review), balances=await _outs(ctx, session, balances),
            receivable=_money(sums[0]), received=_money(sums[1]), outstanding=_money(sums[0] - sums[1]),
        )  # fmt: skip


async def _latest_order(ctx: Context, customer_id: int) -> Order | None:
    async with ctx.read() as session:
        return await session.scalar(
            select(Order).where(Order.customer_id == customer_id).order_by(Order.created_at.desc(),
            Order.id.desc())
            .limit(1)
        )  # fmt: skip


async def _spoken(ctx: Context, order: Order) -> dict[str, Any]:
    async with ctx.read() as session:
        route = (await _route_names(session, [order.id])).get(order.id, KIND_LABEL.get(order.kind, ""))
    state = State(order.state)
    return {
        "kind": "travel", "number": order.number, "route": route, "departs_on": _cn_date(order.departs_on),
        "status": LABELS[state], "department": DEPARTMENT[state], "state": order.state,
        "outstanding": str(_money(order.receivable - order.received)),
        "created_at": order.created_at.isoformat(),
    }  # fmt: skip


async def latest_for_member(ctx: Context, member_number: str) -> dict[str, Any] | None:
    """The customer's latest travel order as the IVR speaks it (T3/D5): which step it is at and
    which department has it. None when the member has no order. Reads for whoever asks: callers
    on the phone go through `latest_for_ivr`, which verifies them first."""
    async with ctx.read() as session:
        customer_id = await session.scalar(select(Customer.id).where(Customer.member_number == member_number))
    if customer_id is None:
        return None
    order = await _latest_order(ctx, customer_id)
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
    return await verification.check_member(
        ctx, member, caller_id=caller, keyed=keyed, booking_phones=phones
    ), order


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


# ---------------------------------------------------------------- telling people


async def notice(
    session: AsyncSession, order: Order, occasion: Occasion, amount: Decimal | None = None
) -> OrderNotice:
    """What the customer is to be told, as the variables of the message templates (O3)."""
    customer = await session.get(Customer, order.customer_id) if order.customer_id else None
    planner_name, planner_phone = "", ""
    if order.planner_id:
        planner_name = (
            await session.scalar(select(User.display_name).where(User.id == order.planner_id)) or ""
        )
        desk = await session.get(PlannerDesk, order.planner_id)
        planner_phone = desk.phone if desk else ""
    route = (await _route_names(session, [order.id])).get(order.id, "")
    travellers = f"{order.adults}成人" + (f"{order.children}儿童" if order.children else "")
    return OrderNotice(
        occasion=occasion, ref=f"order:{order.number}", customer_id=order.customer_id,
        phone=order.contact_phone,
        email=(customer.email or "") if customer else "", number=order.number,
        contact_name=order.contact_name,
        title=customer.title if customer and customer.name == order.contact_name else "",
        kind=KIND_LABEL.get(order.kind, order.kind), route=route, departs_on=_cn_date(order.departs_on),
        returns_on=_cn_date(order.returns_on), travellers=travellers, planner=planner_name,
        planner_phone=planner_phone, receivable=f"{order.receivable:.2f}", received=f"{order.received:.2f}",
        outstanding=f"{order.receivable - order.received:.2f}", amount=f"{amount or 0:.2f}",
        contract_no=order.contract_no,
    )  # fmt: skip


async def _tell_staff(tx: Tx, user_ids: list[int | None], order: Order, title: str, body: str = "") -> None:
    await inbox.tell(tx, [u for u in user_ids if u is not None], "order", f"{title} · 订单{order.number}",
                     body=body or f"{order.contact_name} {KIND_LABEL.get(order.kind, '')} {order.wish}"[:300],
                     link=f"/travel/orders/{order.id}")  # fmt: skip


async def _holders(session: AsyncSession, role: Role) -> list[int | None]:
    return [u for u, _ in await catalogue.users_with_role(session, role)]


def _record(tx: Tx, order: Order, by: int | None, action: str, before: str, note: str = "",
            at: datetime | None = None) -> None:  # fmt: skip
    tx.session.add(OrderChange(order_id=order.id, at=at or utcnow(), by=by, action=action, before=before,
                               after=order.state, note=note[:1000]))  # fmt: skip
    tx.publish(OrderStepped(order_id=order.id, number=order.number, action=action, state=order.state,
                            owner_id=order.owner_id))  # fmt: skip


def _check_owner(ctx: Context, order: Order) -> None:
    """A planner works on the orders they are the planner of; team leads, supervisors and admins
    on any."""
    if ctx.actor.via == "system" or ctx.actor.roles & OFFICE_ROLES:
        return
    if Role.PLANNER.value in ctx.actor.roles and order.planner_id != ctx.actor.user_id:
        raise NotYourOrder(f"Order {order.number} is owned by someone else; ask the team lead to reassign it",
                           rule="owner")  # fmt: skip


async def _on_timeline(ctx: Context, order: OrderOut, what: str) -> None:
    if order.customer_id is None:
        return
    await timeline.add(
        ctx.as_actor(Actor.system("travel")), order.customer_id, "order",
        f"旅游订单{what} · {order.route or KIND_LABEL.get(order.kind, '')}",
        ref=f"order:{order.number}:{what}",
        detail=f"订单号{order.number} · 应收¥{order.receivable} · {order.state_label}",
    )  # fmt: skip


async def _finish(ctx: Context, order_id: int, what: str | None = None) -> OrderDetail:
    found = await detail(ctx, order_id)
    if what:
        await _on_timeline(ctx, found.order, what)
    return found


# ---------------------------------------------------------------- the workflow


async def create(ctx: Context, data: OrderIn) -> OrderDetail:
    """An enquiry taken from a call or a walk-in: the creator is the one who takes it; team leads
    are told there is an order to assign, the customer that it was received."""
    ctx.require(Permission.ORDERS_WRITE)
    if data.returns_on and data.departs_on and data.returns_on < data.departs_on:
        raise InvalidInput("The return is before the departure", field="body.returns_on")
    async with ctx.write() as tx:
        if data.customer_id is not None:
            customer = await tx.session.get(Customer, data.customer_id)
            if customer is None or customer.anonymised:
                raise NotFound(f"No customer {data.customer_id}", field="body.customer_id")
        order = Order(
            number=str(await next_number(tx.session, Order.number, FIRST_NUMBER)), kind=data.kind,
            source=data.source, state=State.ENQUIRY.value, customer_id=data.customer_id,
            contact_name=data.contact_name, contact_phone=data.contact_phone, wish=data.wish,
            adults=data.adults,
            children=data.children, departs_on=data.departs_on, returns_on=data.returns_on,
            creator_id=ctx.actor.user_id, call_id=data.call_id,
        )  # fmt: skip
        tx.session.add(order)
        await tx.session.flush()
        _record(tx, order, ctx.actor.user_id, "create", "", f"{data.source}: {data.wish}")
        if data.source == "walk_in" and Role.FRONT_DESK.value in ctx.actor.roles:
            await _tell_staff(tx, await _holders(tx.session, Role.PLANNER), order, "门市客人待分配计调")
        else:
            await _tell_staff(tx, await _holders(tx.session, Role.TEAM_LEAD), order, "新订单待分配")
        tx.publish(await notice(tx.session, order, "received"))
        order_id = order.id
    if data.call_id:
        await call_records.note_on_call(ctx, data.call_id, "order", f"旅游订单 {order.number}")
    return await _finish(ctx, order_id, "创建")


async def update(ctx: Context, order_id: int, data: OrderUpdate) -> OrderDetail:
    """Contact, travellers and dates may change until the order is closed; each change is kept."""
    ctx.require(Permission.ORDERS_WRITE)
    async with ctx.write() as tx:
        order = await _load(tx.session, order_id, lock=True)
        if order.state == State.CLOSED.value:
            raise OrderClosed(f"Order {order.number} is closed", rule="closed")
        check_activity(order.state, "update", ctx.actor.roles, ctx.actor.via)
        changes = []
        for key, value in data.model_dump(exclude_none=True).items():
            if getattr(order, key) != value:
                # the history is read by everyone on the order: a phone in it is written masked
                kind = Order.__personal__.get(key)
                was, now = (
                    (getattr(order, key), value)
                    if kind is None
                    else (privacy.masked(kind, getattr(order, key)), privacy.masked(kind, value))
                )
                changes.append(f"{key}: {was} → {now}")
                setattr(order, key, value)
        if order.returns_on and order.departs_on and order.returns_on < order.departs_on:
            raise InvalidInput("The return is before the departure", field="body.returns_on")
        if changes:
            _record(tx, order, ctx.actor.user_id, "update", order.state, "; ".join(changes))
    return await _finish(ctx, order_id)


async def _sum(session: AsyncSession, order_id: int, account: str) -> Decimal:
    total = await session.scalar(
        select(func.coalesce(func.sum(LedgerLine.amount), 0))
        .where(LedgerLine.order_id == order_id, LedgerLine.account == account)
    )  # fmt: skip
    return _money(Decimal(total or 0))


async def _receivable(session: AsyncSession, order_id: int) -> Decimal:
    total = await session.scalar(select(func.coalesce(func.sum(OrderItem.amount), 0))
                                 .where(OrderItem.order_id == order_id))  # fmt: skip
    return _money(Decimal(total or 0))


def _check_items_open(ctx: Context, order: Order) -> None:
    if order.state in (State.SIGNED, State.REVIEWED, State.RETURN_VISIT, State.CLOSED):
        raise ItemsLocked(
            f"Order {order.number} was signed ({order.contract_no}): its items are locked",
            rule="items-locked",
        )
    check_activity(order.state, "edit_items", ctx.actor.roles, ctx.actor.via)


async def add_item(ctx: Context, order_id: int, data: ItemIn) -> OrderDetail:
    """A product on the order, priced from the catalogue; seats on a departure are taken now
    (never more than are left: `seats-sold-out`, nothing changed)."""
    ctx.require(Permission.ORDERS_WRITE)
    async with ctx.write() as tx:
        order = await _load(tx.session, order_id, lock=True)
        _check_items_open(ctx, order)
        item = await _price(tx.session, order, data)
        if item.departure_id is not None and not await catalogue.take_seats(
            tx.session, item.departure_id, item.adults + item.children
        ):
            raise SeatsSoldOut(f"Fewer than {item.adults + item.children} seats are left on {item.title}",
                               field="body.departure_id", rule="seats")  # fmt: skip
        tx.session.add(item)
        await tx.session.flush()
        order.receivable = await _receivable(tx.session, order.id)
        _record(tx, order, ctx.actor.user_id, "add_item", order.state, f"+ {item.title} ¥{item.amount:.2f}")
    return await _finish(ctx, order_id)


async def _price(session: AsyncSession, order: Order, data: ItemIn) -> OrderItem:
    if data.kind == "tour":
        departure = await session.get(Departure, data.departure_id) if data.departure_id else None
        if departure is None:
            raise InvalidInput("Choose a departure", field="body.departure_id")
        route = await session.get(Route, departure.route_id)
        if route is None or not route.active:
            raise InvalidInput("That route is no longer sold", field="body.departure_id")
        if data.adults + data.children < 1:
            raise InvalidInput("A tour takes at least one traveller", field="body.adults")
        if data.singles > data.adults:
            raise InvalidInput("Single rooms are for adults", field="body.singles")
        if departure.departs_on < today():
            raise InvalidInput("That departure has left", field="body.departure_id")
        amount = (departure.adult_price * data.adults + departure.child_price * data.children
                  + departure.single_supplement * data.singles)  # fmt: skip
        if order.departs_on is None or order.departs_on != departure.departs_on:
            order.departs_on, order.returns_on = departure.departs_on, departure.returns_on
        return OrderItem(
            order_id=order.id, kind="tour", title=f"{route.name} {departure.departs_on:%m月%d日}出发",
            departure_id=departure.id, adults=data.adults, children=data.children, singles=data.singles,
            details={"route": route.code, "departs_on": departure.departs_on.isoformat(),
                     "returns_on": departure.returns_on.isoformat()}, amount=_money(amount),
        )  # fmt: skip
    if data.kind == "insurance":
        product = await session.get(InsuranceProduct, data.insurance_id) if data.insurance_id else None
        if product is None or not product.active:
            raise InvalidInput("Choose an insurance product", field="body.insurance_id")
        if data.persons < 1:
            raise InvalidInput("Insure at least one person", field="body.persons")
        days = data.days or ((order.returns_on - order.departs_on).days + 1
                             if order.departs_on and order.returns_on else 0)  # fmt: skip
        if days < 1:
            raise InvalidInput("How many days does the cover run?", field="body.days")
        return OrderItem(
            order_id=order.id, kind="insurance", title=f"{product.name} {data.persons}人×{days}天",
            insurance_id=product.id, details={"persons": data.persons, "days": days},
            amount=catalogue.insurance_price(product, data.persons, days),
        )  # fmt: skip
    if data.amount is None:
        raise InvalidInput("The price quoted is needed", field="body.amount")
    if data.kind == "ticket":
        if data.mode is None:
            raise InvalidInput("Air or train?", field="body.mode")
        if not data.from_city or not data.to_city:
            raise InvalidInput("From where to where?", field="body.to_city")
        if data.travel_date is None:
            raise InvalidInput("The day of travel is needed", field="body.travel_date")
        if data.passengers < 1:
            raise InvalidInput("At least one passenger", field="body.passengers")
        mode = "机票" if data.mode == "air" else "火车票"
        return OrderItem(
            order_id=order.id, kind="ticket",
            title=f"{mode} {data.from_city}—{data.to_city} {data.travel_date:%m月%d日} {data.passengers}人",
            details={"mode": data.mode, "from": data.from_city, "to": data.to_city,
                     "date": data.travel_date.isoformat(), "passengers": data.passengers},
            amount=_money(data.amount),
        )  # fmt: skip
    if not data.title:
        raise InvalidInput("Say what it is", field="body.title")
    return OrderItem(
        order_id=order.id, kind="other", title=data.title, details={}, amount=_money(data.amount)
    )


async def remove_item(ctx: Context, order_id: int, item_id: int) -> OrderDetail:
    """Take a product off an unsigned order; its seats go back on sale."""
    ctx.require(Permission.ORDERS_WRITE)
    async with ctx.write() as tx:
        order = await _load(tx.session, order_id, lock=True)
        _check_items_open(ctx, order)
        item = await tx.session.get(OrderItem, item_id)
        if item is None or item.order_id != order.id:
            raise NotFound(f"No item {item_id} on order {order.number}", field="item_id")
        if item.departure_id is not None:
            await catalogue.give_back_seats(tx.session, item.departure_id, item.adults + item.children)
        await tx.session.delete(item)
        await tx.session.flush()
        order.receivable = await _receivable(tx.session, order.id)
        _record(
            tx, order, ctx.actor.user_id, "remove_item", order.state, f"− {item.title} ¥{item.amount:.2f}"
        )
    return await _finish(ctx, order_id)


async def assign_planner(ctx: Context, order_id: int, data: AssignIn) -> OrderDetail:
    """The team lead gives the enquiry to a planner who takes its type (domestic/international);
    a planner may take a walk-in the front desk asked about. Creator, assigner and owner are
    then the agent, the team lead and the planner."""
    ctx.require(Permission.ORDERS_ASSIGN)
    async with ctx.write() as tx:
        order = await _load(tx.session, order_id, lock=True)
        before = order.state
        order.state = transition(order.state, "assign_planner", ctx.actor.roles, ctx.actor.via).value
        is_planner_only = Role.PLANNER.value in ctx.actor.roles and not ctx.actor.roles & OFFICE_ROLES
        if is_planner_only and order.source != "walk_in":
            raise WrongRole("Only a team lead assigns a phone enquiry; "
                            "a planner takes walk-ins the front desk "
                            "asks about", rule="role")  # fmt: skip
        planners = {p.user_id: p for p in await catalogue.planner_desks(tx.session)}
        planner = planners.get(data.planner_id)
        if planner is None:
            raise InvalidInput(f"User {data.planner_id} is not a planner", field="body.planner_id")
        if order.kind not in planner.kinds:
            raise InvalidInput(f"{planner.name} takes {'/'.join(planner.kinds)} orders, not {order.kind}",
                               field="body.planner_id")  # fmt: skip
        order.assigner_id, order.owner_id, order.planner_id = (
            ctx.actor.user_id,
            planner.user_id,
            planner.user_id,
        )
        tx.session.add(Assignment(order_id=order.id, stage="planner", assigner_id=ctx.actor.user_id,
                                  owner_id=planner.user_id))  # fmt: skip
        _record(tx, order, ctx.actor.user_id, "assign_planner", before, f"→ {planner.name}")
        await _tell_staff(tx, [planner.user_id], order, "新分配的订单，请跟单")
        tx.publish(await notice(tx.session, order, "assigned"))
    return await _finish(ctx, order_id)


async def request_planner(ctx: Context, order_id: int) -> OrderDetail:
    """A walk-in customer is at the desk: the front desk asks the planners to assign the order."""
    ctx.require(Permission.ORDERS_WRITE)
    async with ctx.write() as tx:
        order = await _load(tx.session, order_id, lock=True)
        check_activity(order.state, "request_planner", ctx.actor.roles, ctx.actor.via)
        if order.source != "walk_in":
            raise InvalidTransition("Only a walk-in order is taken by a planner directly; the team lead "
                                    "assigns the others", rule="walk-in")  # fmt: skip
        desks = await catalogue.planner_desks(tx.session, order.kind)
        await _tell_staff(tx, [p.user_id for p in desks], order, "门市客人等待签约，请分配")
        _record(tx, order, ctx.actor.user_id, "request_planner", order.state, "门市客人等待签约")
    return await _finish(ctx, order_id)


async def follow_up(ctx: Context, order_id: int, data: FollowUpIn) -> OrderDetail:
    """The planner's follow-up (跟单): what was said and when to contact the customer again."""
    ctx.require(Permission.ORDERS_WRITE)
    if data.next_contact_at is not None and data.next_contact_at.tzinfo is None:
        raise InvalidInput("Give the time with its zone", field="body.next_contact_at")
    async with ctx.write() as tx:
        order = await _load(tx.session, order_id, lock=True)
        check_activity(order.state, "follow_up", ctx.actor.roles, ctx.actor.via)
        _check_owner(ctx, order)
        tx.session.add(FollowUp(order_id=order.id, by=ctx.actor.user_id, note=data.note,
                                next_contact_at=data.next_contact_at))  # fmt: skip
        order.next_contact_at = data.next_contact_at
        _record(tx, order, ctx.actor.user_id, "follow_up", order.state, data.note)
        said = f"{ctx.actor.display_name} 在订单 {order.number} 的跟单中提到您"
        await inbox.mention(tx, data.note, author=ctx.actor.user_id, title=said,
                            link=f"/travel/orders/{order.id}", readers=Permission.ORDERS_READ)  # fmt: skip
    return await _finish(ctx, order_id)


async def hand_to_front_desk(ctx: Context, order_id: int, data: HandOverIn) -> OrderDetail:
    """A deal: the planner hands the order to the front desk for signing (the second assignment:
    creator, assigner = planner, owner = front desk)."""
    ctx.require(Permission.ORDERS_ASSIGN)
    async with ctx.write() as tx:
        order = await _load(tx.session, order_id, lock=True)
        before = order.state
        order.state = transition(order.state, "hand_to_front_desk", ctx.actor.roles, ctx.actor.via).value
        _check_owner(ctx, order)
        desk = dict(await catalogue.users_with_role(tx.session, Role.FRONT_DESK))
        if data.front_desk_id not in desk:
            raise InvalidInput(
                f"User {data.front_desk_id} is not at the front desk", field="body.front_desk_id"
            )
        if order.receivable <= 0:
            raise Conflict("A deal has its products: add the tour or tickets before handing it over",
                           rule="items-required", field="items")  # fmt: skip
        order.assigner_id, order.owner_id = ctx.actor.user_id, data.front_desk_id
        tx.session.add(Assignment(order_id=order.id, stage="front_desk", assigner_id=ctx.actor.user_id,
                                  owner_id=data.front_desk_id))  # fmt: skip
        _record(
            tx,
            order,
            ctx.actor.user_id,
            "hand_to_front_desk",
            before,
            f"→ {desk[data.front_desk_id]} {data.note}",
        )
        await _tell_staff(tx, [data.front_desk_id], order, "客人待签约", data.note)
    return await _finish(ctx, order_id)


async def sign(ctx: Context, order_id: int, data: SignIn) -> OrderDetail:
    """The contract is signed at the front desk: the items are locked from now; finance is told
    to review, the customer that the contract is signed."""
    ctx.require(Permission.ORDERS_SIGN)
    async with ctx.write() as tx:
        order = await _load(tx.session, order_id, lock=True)
        before = order.state
        order.state = transition(order.state, "sign", ctx.actor.roles, ctx.actor.via).value
        if order.receivable <= 0:
            raise Conflict("There is nothing to sign: the order has no priced items", rule="items-required")
        order.contract_no = data.contract_no or f"HT{order.number}"
        order.signed_at = utcnow()
        _record(
            tx, order, ctx.actor.user_id, "sign", before, f"合同 {order.contract_no} ¥{order.receivable:.2f}"
        )
        await _tell_staff(tx, await _holders(tx.session, Role.FINANCE), order, "已签约，待财务审核",
                          f"合同 {order.contract_no}，应收 ¥{order.receivable:.2f}")  # fmt: skip
        tx.publish(await notice(tx.session, order, "signed"))
    return await _finish(ctx, order_id, "签约")


async def review(ctx: Context, order_id: int, note: str = "") -> OrderDetail:
    """Finance reviews the signed order; receipts and payments follow."""
    ctx.require(Permission.FINANCE_REVIEW)
    async with ctx.write() as tx:
        order = await _load(tx.session, order_id, lock=True)
        before = order.state
        order.state = transition(order.state, "review", ctx.actor.roles, ctx.actor.via).value
        order.reviewed_at = utcnow()
        _record(tx, order, ctx.actor.user_id, "review", before, note)
        await _tell_staff(tx, [order.planner_id, order.creator_id], order, "财务已审核", note)
    return await _finish(ctx, order_id)


async def _line_number(session: AsyncSession, order: Order, prefix: str) -> str:
    count = await session.scalar(select(func.count(LedgerLine.id)).where(LedgerLine.order_id == order.id))
    return f"{prefix}{order.number}-{int(count or 0) + 1}"


def _adjustment(order: Order, category: str, reason: str) -> bool:
    """After close only adjustments with a reason; an adjustment always has its reason."""
    if order.state == State.CLOSED.value and category != "adjustment":
        raise OrderClosed(f"Order {order.number} is closed: record an adjustment with its reason",
                          rule="closed", field="body.category")  # fmt: skip
    if category == "adjustment" and not reason:
        raise InvalidInput("An adjustment says why", field="body.reason")
    return category == "adjustment"


async def record_receipt(ctx: Context, order_id: int, data: ReceiptIn) -> OrderDetail:
    """Money received (deposit, instalments, balance) or refunded, each a ledger line with its
    number; received is the ledger's sum. More than is outstanding only with `overpayment`."""
    ctx.require(Permission.FINANCE_WRITE)
    async with ctx.write() as tx:
        order = await _load(tx.session, order_id, lock=True)
        adjusting = _adjustment(order, data.category, data.reason)
        check_activity(order.state, "adjust" if order.state == State.CLOSED.value else "receipt",
                       ctx.actor.roles, ctx.actor.via)  # fmt: skip
        received = await _sum(tx.session, order.id, "receipt")
        amount = _money(data.amount)
        if data.category == "refund":
            if amount > received:
                raise InvalidInput(f"Only ¥{received} was received: that is all there is to refund",
                                   field="body.amount")  # fmt: skip
            amount = -amount
        elif adjusting and data.negative:
            amount = -amount
        elif not data.overpayment and received + amount > order.receivable:
            raise Overpayment(
                f"¥{order.receivable - received:.2f} is outstanding; ¥{amount:.2f} is more. Set overpayment "
                "to take it anyway", field="body.amount", rule="overpayment",
                outstanding=str(order.receivable - received),
            )  # fmt: skip
        line = LedgerLine(
            order_id=order.id, account="receipt", category=data.category, amount=amount, method=data.method,
            reference=data.reference, note=data.reason, overpayment=data.overpayment and not adjusting,
            number=await _line_number(tx.session, order, "S"), by=ctx.actor.user_id,
        )  # fmt: skip
        tx.session.add(line)
        await tx.session.flush()
        order.received = await _sum(tx.session, order.id, "receipt")
        what = f"{CATEGORY_LABEL[data.category]} ¥{amount:.2f} {METHOD_LABEL[data.method]} {data.reason}"
        action = "adjust_receipt" if adjusting else "receipt"
        _record(tx, order, ctx.actor.user_id, action, order.state, what.strip())
        if amount > 0 and not adjusting:
            tx.publish(await notice(tx.session, order, "paid", amount))
    return await _finish(ctx, order_id)


async def record_cost(ctx: Context, order_id: int, data: CostIn) -> OrderDetail:
    """A cost paid for the order (ground handling, hotels, tickets…), each a ledger line."""
    ctx.require(Permission.FINANCE_WRITE)
    async with ctx.write() as tx:
        order = await _load(tx.session, order_id, lock=True)
        adjusting = _adjustment(order, data.category, data.reason)
        check_activity(order.state, "adjust" if order.state == State.CLOSED.value else "cost",
                       ctx.actor.roles, ctx.actor.via)  # fmt: skip
        amount = -_money(data.amount) if adjusting and data.negative else _money(data.amount)
        line = LedgerLine(
            order_id=order.id, account="cost", category=data.category, amount=amount, supplier=data.supplier,
            reference=data.reference, note=data.reason or data.note, number=await _line_number(tx.session,
            order, "C"),
            by=ctx.actor.user_id,
        )  # fmt: skip
        tx.session.add(line)
        await tx.session.flush()
        order.cost = await _sum(tx.session, order.id, "cost")
        what = f"{CATEGORY_LABEL[data.category]} {data.supplier} ¥{amount:.2f} {data.reason or data.note}"
        action = "adjust_cost" if adjusting else "cost"
        _record(tx, order, ctx.actor.user_id, action, order.state, what.strip())
    return await _finish(ctx, order_id)


async def close(ctx: Context, order_id: int, data: CloseIn) -> OrderDetail:
    """Closed after the return visit, with its note as the summary, once every payment is in."""
    ctx.require(Permission.ORDERS_WRITE)
    async with ctx.write() as tx:
        order = await _load(tx.session, order_id, lock=True)
        before = order.state
        order.state = transition(order.state, "close", ctx.actor.roles, ctx.actor.via).value
        if before == State.REVIEWED.value and (order.returns_on is None or order.returns_on >= today()):
            raise InvalidTransition(
                f"The trip is not over (return {order.returns_on or 'not set'}): "
                "close it after the return visit",
                rule="trip-not-over",
            )  # fmt: skip
        outstanding = order.receivable - order.received
        if outstanding > 0:
            raise BalanceOutstanding(f"¥{outstanding:.2f} is still outstanding", rule="paid-in-full",
                                     outstanding=str(outstanding))  # fmt: skip
        if outstanding < 0:
            raise BalanceOutstanding(f"¥{-outstanding:.2f} was overpaid: refund it first",
            rule="paid-in-full",
                                     outstanding=str(outstanding))  # fmt: skip
        order.summary, order.closed_at = data.summary, utcnow()
        _record(tx, order, ctx.actor.user_id, "close", before, data.summary)
        await _tell_staff(tx, [order.planner_id, order.creator_id], order, "订单已回访关闭", data.summary)
        tx.publish(await notice(tx.session, order, "closed"))
        number = order.number
    await callbacks.close_call_task(ctx, f"order:{number}", data.summary[:300])
    return await _finish(ctx, order_id, "回访关闭")


async def void(ctx: Context, order_id: int, data: VoidIn) -> OrderDetail:
    """A failed order is voided with its reason; its seats go back on sale. A paid order is
    voided only once finance has refunded what was received."""
    ctx.require(Permission.ORDERS_WRITE)
    async with ctx.write() as tx:
        order = await _load(tx.session, order_id, lock=True)
        before = order.state
        order.state = transition(order.state, "void", ctx.actor.roles, ctx.actor.via).value
        _check_owner(ctx, order)
        if order.received != 0:
            raise RefundRequired(
                f"¥{order.received:.2f} was received on order {order.number}: "
                "finance records the refund first, "
                "then the order can be voided", rule="refund-first", received=str(order.received),
            )  # fmt: skip
        items = (await tx.session.scalars(select(OrderItem).where(OrderItem.order_id == order.id))).all()
        for item in items:
            if item.departure_id is not None:
                await catalogue.give_back_seats(tx.session, item.departure_id, item.adults + item.children)
        order.void_reason = data.reason
        _record(tx, order, ctx.actor.user_id, "void", before, data.reason)
        await _tell_staff(tx, [order.creator_id, order.assigner_id], order, "订单已作废", data.reason)
        number = order.number
    await callbacks.close_call_task(ctx, f"order:{number}", f"作废：{data.reason}"[:300])
    return await _finish(ctx, order_id, "作废")


# ---------------------------------------------------------------- the return visit


async def return_visits(ctx: Context, *, now: datetime | None = None) -> int:
    """Reviewed orders whose travellers came back three days ago or more become return-visit
    tasks: the order moves to return_visit, a call task goes to the travel desk's callback list and
    the creator is told. Returns how many were made (each once)."""
    now = now or utcnow()
    due = today(now) - timedelta(days=RETURN_VISIT_AFTER)
    system = ctx.as_actor(Actor.system("travel"))
    async with ctx.read() as session:
        ids = list((await session.scalars(
            select(Order.id).where(Order.state == State.REVIEWED.value,
            Order.returns_on <= due).order_by(Order.id)
        )).all())  # fmt: skip
    made = 0
    for order_id in ids:
        async with system.write() as tx:
            order = await _load(tx.session, order_id, lock=True)
            if order.state != State.REVIEWED.value:
                continue
            before = order.state
            order.state = transition(order.state, "return_visit_due", frozenset(), "system").value
            assert order.returns_on is not None  # noqa: S101 - selected on it
            order.return_due_on = order.returns_on + timedelta(days=RETURN_VISIT_AFTER)
            _record(tx, order, None, "return_visit_due", before, f"返回日期 {order.returns_on}", at=now)
            await _tell_staff(tx, [order.creator_id], order, "回访任务：客人已返回",
                              f"{order.contact_name} {order.returns_on:%m月%d日}返回，请回访并关闭订单")  # fmt: skip # noqa: E501
            phone, number = order.contact_phone, order.number
        made += 1
        await callbacks.open_call_task(system, phone, f"order:{number}", "return_visit", queue="travel")
    return made
