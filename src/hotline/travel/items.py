"""The products on an order (O2): tours on a departure (seats taken at once, never more than are
left), insurance, air and train tickets and anything else quoted; priced from the catalogue, and
only until the contract is signed. The order's receivable is the sum of its items."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.context import Context
from hotline.core.errors import InvalidInput, NotFound
from hotline.core.permissions import Permission
from hotline.travel import catalogue
from hotline.travel.catalogue import today
from hotline.travel.errors import ItemsLocked, SeatsSoldOut
from hotline.travel.messages import record
from hotline.travel.models import Departure, InsuranceProduct, Order, OrderItem, Route
from hotline.travel.queries import detail, load, money
from hotline.travel.schemas import ItemIn, OrderDetail
from hotline.travel.state import EDITABLE_ITEMS, State
from hotline.travel.workflow import work


async def receivable(session: AsyncSession, order_id: int) -> Decimal:
    total = await session.scalar(
        select(func.coalesce(func.sum(OrderItem.amount), 0)).where(OrderItem.order_id == order_id)
    )
    return money(Decimal(total or 0))


def _check_items_open(order: Order) -> None:
    if State(order.state) not in EDITABLE_ITEMS and order.state != State.VOID:
        raise ItemsLocked(
            f"Order {order.number} was signed ({order.contract_no}): its items are locked",
            rule="items-locked",
            reason="order-was-signed-items-locked",
            params={"number": order.number, "contract_no": order.contract_no},
        )


async def add_item(ctx: Context, order_id: int, data: ItemIn) -> OrderDetail:
    """A product on the order, priced from the catalogue; seats on a departure are taken now
    (never more than are left: `seats-sold-out`, nothing changed)."""
    ctx.require(Permission.ORDERS_WRITE)
    async with ctx.write() as tx:
        order = await load(tx.session, order_id, lock=True)
        _check_items_open(order)
        step = work(ctx, order, "edit_items", "add_item")
        item = await _price(tx.session, order, data)
        if item.departure_id is not None:
            seats = item.adults + item.children
            if not await catalogue.take_seats(tx.session, item.departure_id, seats):
                raise SeatsSoldOut(
                    f"Fewer than {seats} seats are left on {item.title}",
                    field="body.departure_id",
                    rule="seats",
                    reason="fewer-seats-left",
                    params={"seats": seats, "title": item.title},
                )
        tx.session.add(item)
        await tx.session.flush()
        order.receivable = await receivable(tx.session, order.id)
        record(tx, order, step, f"+ {item.title} ¥{item.amount:.2f}")
    return await detail(ctx, order_id)


async def remove_item(ctx: Context, order_id: int, item_id: int) -> OrderDetail:
    """Take a product off an unsigned order; its seats go back on sale."""
    ctx.require(Permission.ORDERS_WRITE)
    async with ctx.write() as tx:
        order = await load(tx.session, order_id, lock=True)
        _check_items_open(order)
        step = work(ctx, order, "edit_items", "remove_item")
        item = await tx.session.get(OrderItem, item_id)
        if item is None or item.order_id != order.id:
            raise NotFound(
                f"No item {item_id} on order {order.number}",
                field="item_id",
                reason="no-item-order",
                params={"item_id": item_id, "number": order.number},
            )
        if item.departure_id is not None:
            await catalogue.give_back_seats(tx.session, item.departure_id, item.adults + item.children)
        await tx.session.delete(item)
        await tx.session.flush()
        order.receivable = await receivable(tx.session, order.id)
        record(tx, order, step, f"− {item.title} ¥{item.amount:.2f}")
    return await detail(ctx, order_id)


async def _price(session: AsyncSession, order: Order, data: ItemIn) -> OrderItem:
    if data.kind == "tour":
        return await _tour(session, order, data)
    if data.kind == "insurance":
        return await _insurance(session, order, data)
    if data.amount is None:
        raise InvalidInput("The price quoted is needed", field="body.amount", reason="price-quoted-needed")
    if data.kind == "ticket":
        if data.mode is None:
            raise InvalidInput("Air or train?", field="body.mode", reason="air-train")
        if not data.from_city or not data.to_city:
            raise InvalidInput("From where to where?", field="body.to_city", reason="from-where-where")
        if data.travel_date is None:
            raise InvalidInput(
                "The day of travel is needed", field="body.travel_date", reason="day-travel-needed"
            )
        if data.passengers < 1:
            raise InvalidInput(
                "At least one passenger", field="body.passengers", reason="least-one-passenger"
            )
        mode = "机票" if data.mode == "air" else "火车票"
        return OrderItem(
            order_id=order.id,
            kind="ticket",
            title=f"{mode} {data.from_city}—{data.to_city} {data.travel_date:%m月%d日} {data.passengers}人",
            details={
                "mode": data.mode,
                "from": data.from_city,
                "to": data.to_city,
                "date": data.travel_date.isoformat(),
                "passengers": data.passengers,
            },
            amount=money(data.amount),
        )
    if not data.title:
        raise InvalidInput("Say what it is", field="body.title", reason="say-what-it-is")
    return OrderItem(order_id=order.id, kind="other", title=data.title, details={}, amount=money(data.amount))


async def _tour(session: AsyncSession, order: Order, data: ItemIn) -> OrderItem:
    departure = await session.get(Departure, data.departure_id) if data.departure_id else None
    if departure is None:
        raise InvalidInput("Choose a departure", field="body.departure_id", reason="choose-departure")
    route = await session.get(Route, departure.route_id)
    if route is None or not route.active:
        raise InvalidInput(
            "That route is no longer sold", field="body.departure_id", reason="route-no-longer-sold"
        )
    if data.adults + data.children < 1:
        raise InvalidInput(
            "A tour takes at least one traveller",
            field="body.adults",
            reason="tour-takes-least-one-traveller",
        )
    if data.singles > data.adults:
        raise InvalidInput("Single rooms are for adults", field="body.singles", reason="single-rooms-adults")
    if departure.departs_on < today():
        raise InvalidInput("That departure has left", field="body.departure_id", reason="departure-left")
    amount = (
        departure.adult_price * data.adults
        + departure.child_price * data.children
        + departure.single_supplement * data.singles
    )
    if order.departs_on is None or order.departs_on != departure.departs_on:
        order.departs_on, order.returns_on = departure.departs_on, departure.returns_on
    return OrderItem(
        order_id=order.id,
        kind="tour",
        title=f"{route.name} {departure.departs_on:%m月%d日}出发",
        departure_id=departure.id,
        adults=data.adults,
        children=data.children,
        singles=data.singles,
        details={
            "route": route.code,
            "departs_on": departure.departs_on.isoformat(),
            "returns_on": departure.returns_on.isoformat(),
        },
        amount=money(amount),
    )


async def _insurance(session: AsyncSession, order: Order, data: ItemIn) -> OrderItem:
    product = await session.get(InsuranceProduct, data.insurance_id) if data.insurance_id else None
    if product is None or not product.active:
        raise InvalidInput(
            "Choose an insurance product", field="body.insurance_id", reason="choose-insurance-product"
        )
    if data.persons < 1:
        raise InvalidInput(
            "Insure at least one person", field="body.persons", reason="insure-least-one-person"
        )
    days = data.days
    if not days and order.departs_on and order.returns_on:
        days = (order.returns_on - order.departs_on).days + 1
    if not days or days < 1:
        raise InvalidInput(
            "How many days does the cover run?", field="body.days", reason="how-many-days-does-cover"
        )
    return OrderItem(
        order_id=order.id,
        kind="insurance",
        title=f"{product.name} {data.persons}人×{days}天",
        insurance_id=product.id,
        details={"persons": data.persons, "days": days},
        amount=catalogue.insurance_price(product, data.persons, days),
    )
