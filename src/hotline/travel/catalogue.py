"""The travel catalogue (O1): tour routes with their itinerary and prices, departures with seats,
insurance products, and the planners' desks (which orders each planner takes).

Seats never oversell: an order takes seats with one guarded statement —
`UPDATE travel_departures SET seats_taken = seats_taken + n WHERE id = … AND NOT closed AND
capacity - seats_taken >= n` — inside the order's transaction, exactly like hotel rooms
(hotels/service.py `take_rooms`). PostgreSQL re-checks the condition on the locked row when two
orders race, SQLite runs writers one at a time, and a CHECK constraint (`seats_taken <=
capacity`) is the last line.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.admin import directory
from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.core.errors import Conflict, InvalidInput, NotFound
from hotline.core.permissions import Permission, Role
from hotline.travel.models import Departure, InsuranceProduct, Order, PlannerDesk, Route
from hotline.travel.schemas import (
    DepartureBatchIn,
    DepartureChange,
    DepartureIn,
    DepartureOut,
    InsuranceIn,
    InsuranceOut,
    PlannerDeskIn,
    PlannerOut,
    RouteDetail,
    RouteIn,
    RouteOut,
    StaffOut,
)
from hotline.travel.state import OPEN

MAX_BATCH = 400
SHANGHAI = ZoneInfo("Asia/Shanghai")


def today(now: datetime | None = None) -> date:
    """The agency's calendar day (Asia/Shanghai)."""
    return (now or utcnow()).astimezone(SHANGHAI).date()


# ---------------------------------------------------------------- seats


async def take_seats(session: AsyncSession, departure_id: int, seats: int) -> bool:
    """Take `seats` on the departure, or nothing (False: the caller's transaction must roll back)."""
    result = await session.execute(
        update(Departure)
        .where(
            Departure.id == departure_id,
            Departure.closed.is_(False),
            Departure.capacity - Departure.seats_taken >= seats,
        )
        .values(seats_taken=Departure.seats_taken + seats)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def give_back_seats(session: AsyncSession, departure_id: int, seats: int) -> None:
    await session.execute(
        update(Departure)
        .where(Departure.id == departure_id)
        .values(seats_taken=Departure.seats_taken - seats)
    )


# ---------------------------------------------------------------- routes


def _departure_out(row: Departure, route: Route | None = None) -> DepartureOut:
    out = DepartureOut.model_validate(row).model_copy(update={"seats_left": row.capacity - row.seats_taken})
    if route is not None:
        out = out.model_copy(update={"route_code": route.code, "route_name": route.name, "kind": route.kind})
    return out


async def routes(ctx: Context, *, kind: str | None = None, include_inactive: bool = False) -> list[RouteOut]:
    ctx.require(Permission.ORDERS_READ)
    query = select(Route).order_by(Route.kind, Route.code)
    if kind:
        query = query.where(Route.kind == kind)
    if not include_inactive:
        query = query.where(Route.active.is_(True))
    async with ctx.read() as session:
        return [RouteOut.model_validate(r) for r in (await session.scalars(query)).all()]


async def route_detail(
    ctx: Context, route_id: int, *, first: date | None = None, days: int = 183
) -> RouteDetail:
    """A route with its departures from `first` (today) for `days`."""
    ctx.require(Permission.ORDERS_READ)
    first = first or today()
    async with ctx.read() as session:
        route = await session.get(Route, route_id)
        if route is None:
            raise NotFound(
                f"No route {route_id}", field="route_id", reason="no-route", params={"route_id": route_id}
            )
        rows = (
            await session.scalars(
                select(Departure)
                .where(
                    Departure.route_id == route_id,
                    Departure.departs_on >= first,
                    Departure.departs_on < first + timedelta(days=days),
                )
                .order_by(Departure.departs_on)
            )
        ).all()
        return RouteDetail.model_validate(
            {**RouteOut.model_validate(route).model_dump(), "departures": [_departure_out(d) for d in rows]}
        )


async def save_route(ctx: Context, data: RouteIn, route_id: int | None = None) -> RouteOut:
    ctx.require(Permission.CATALOGUE_WRITE)
    values = data.model_dump()
    async with ctx.write() as tx:
        taken = await tx.session.scalar(select(Route.id).where(Route.code == data.code))
        if taken is not None and taken != route_id:
            raise InvalidInput(
                f"Route code {data.code} is taken",
                field="body.code",
                reason="route-code-taken",
                params={"code": data.code},
            )
        if route_id is None:
            route = Route(**values)
            tx.session.add(route)
        else:
            found = await tx.session.get(Route, route_id)
            if found is None:
                raise NotFound(
                    f"No route {route_id}", field="route_id", reason="no-route", params={"route_id": route_id}
                )
            route = found
            if route.days != data.days and await tx.session.scalar(
                select(Departure.id).where(Departure.route_id == route_id, Departure.seats_taken > 0).limit(1)
            ):
                raise InvalidInput(
                    "Departures with seats sold keep their length",
                    field="body.days",
                    reason="departures-seats-sold-keep-their",
                )
            for key, value in values.items():
                setattr(route, key, value)
        await tx.session.flush()
        return RouteOut.model_validate(route)


async def add_departures(
    ctx: Context, route_id: int, data: DepartureIn | DepartureBatchIn
) -> list[DepartureOut]:
    """One departure, or one on each chosen weekday between two dates; days that already have a
    departure are left as they are."""
    ctx.require(Permission.CATALOGUE_WRITE)
    if isinstance(data, DepartureBatchIn):
        if data.last < data.first:
            raise InvalidInput(
                "The last day is before the first", field="body.last", reason="last-day-before-first"
            )
        span = (data.last - data.first).days + 1
        if span > 7 * MAX_BATCH:  # before listing the days: the dates may lie millennia apart
            raise InvalidInput(
                f"At most {MAX_BATCH} departures at once",
                field="body.last",
                reason="most-departures-once",
                params={"max_batch": MAX_BATCH},
            )
        days = [
            data.first + timedelta(days=n)
            for n in range(span)
            if (data.first + timedelta(days=n)).weekday() in data.weekdays
        ]
        if len(days) > MAX_BATCH:
            raise InvalidInput(
                f"At most {MAX_BATCH} departures at once",
                field="body.last",
                reason="most-departures-once",
                params={"max_batch": MAX_BATCH},
            )
        wanted = [DepartureIn(departs_on=d, capacity=data.capacity) for d in days]
    else:
        wanted = [data]
    async with ctx.write() as tx:
        route = await tx.session.get(Route, route_id)
        if route is None:
            raise NotFound(
                f"No route {route_id}", field="route_id", reason="no-route", params={"route_id": route_id}
            )
        have = set(
            (
                await tx.session.scalars(select(Departure.departs_on).where(Departure.route_id == route_id))
            ).all()
        )
        made = []
        for one in wanted:
            if one.departs_on in have:
                if isinstance(data, DepartureIn):
                    raise InvalidInput(
                        f"{route.code} already leaves on {one.departs_on}",
                        field="body.departs_on",
                        reason="already-leaves",
                        params={"code": route.code, "departs_on": one.departs_on},
                    )
                continue
            row = Departure(
                route_id=route.id,
                departs_on=one.departs_on,
                returns_on=one.departs_on + timedelta(days=route.days - 1),
                capacity=one.capacity,
                adult_price=one.adult_price if one.adult_price is not None else route.adult_price,
                child_price=one.child_price if one.child_price is not None else route.child_price,
                single_supplement=one.single_supplement
                if one.single_supplement is not None
                else route.single_supplement,
                closed=one.closed,
            )
            tx.session.add(row)
            made.append(row)
        await tx.session.flush()
        tx.audit("travel.departures_added", "travel_route", route.id, after={"count": len(made)})
        return [_departure_out(d, route) for d in made]


async def change_departure(ctx: Context, departure_id: int, data: DepartureChange) -> DepartureOut:
    """Capacity, prices or closed; capacity never below the seats already sold."""
    ctx.require(Permission.CATALOGUE_WRITE)
    async with ctx.write() as tx:
        row = await tx.session.get(Departure, departure_id, with_for_update=True)
        if row is None:
            raise NotFound(
                f"No departure {departure_id}",
                field="departure_id",
                reason="no-departure",
                params={"departure_id": departure_id},
            )
        before = {"capacity": row.capacity, "closed": row.closed, "adult_price": str(row.adult_price)}
        if data.capacity is not None:
            if data.capacity < row.seats_taken:
                raise Conflict(
                    f"{row.seats_taken} seats are sold: the capacity cannot go below that",
                    field="body.capacity",
                    rule="capacity-below-sold",
                    reason="seats-sold-capacity-cannot-go",
                    params={"seats_taken": row.seats_taken},
                )
            row.capacity = data.capacity
        for key in ("adult_price", "child_price", "single_supplement", "closed"):
            value = getattr(data, key)
            if value is not None:
                setattr(row, key, value)
        tx.audit(
            "travel.departure_changed",
            "travel_departure",
            row.id,
            before=before,
            after=data.model_dump(mode="json", exclude_none=True),
        )
        route = await tx.session.get(Route, row.route_id)
        await tx.session.flush()
        return _departure_out(row, route)


async def departures(
    ctx: Context,
    *,
    first: date,
    last: date,
    route_id: int | None = None,
    kind: str | None = None,
    with_seats: bool = False,
    limit: int = 300,
) -> list[DepartureOut]:
    """Departures between two days (open ones with seats left when `with_seats`)."""
    ctx.require(Permission.ORDERS_READ)
    query = (
        select(Departure, Route)
        .join(Route, Route.id == Departure.route_id)
        .where(Departure.departs_on >= first, Departure.departs_on <= last)
        .order_by(Departure.departs_on, Route.code)
        .limit(limit)
    )
    if route_id:
        query = query.where(Departure.route_id == route_id)
    if kind:
        query = query.where(Route.kind == kind)
    if with_seats:
        query = query.where(Departure.closed.is_(False), Departure.capacity > Departure.seats_taken)
    async with ctx.read() as session:
        return [_departure_out(d, r) for d, r in (await session.execute(query)).all()]


# ---------------------------------------------------------------- insurance


async def insurance(ctx: Context, *, include_inactive: bool = False) -> list[InsuranceOut]:
    ctx.require(Permission.ORDERS_READ)
    query = select(InsuranceProduct).order_by(InsuranceProduct.code)
    if not include_inactive:
        query = query.where(InsuranceProduct.active.is_(True))
    async with ctx.read() as session:
        return [InsuranceOut.model_validate(r) for r in (await session.scalars(query)).all()]


async def save_insurance(ctx: Context, data: InsuranceIn, product_id: int | None = None) -> InsuranceOut:
    ctx.require(Permission.CATALOGUE_WRITE)
    async with ctx.write() as tx:
        taken = await tx.session.scalar(select(InsuranceProduct.id).where(InsuranceProduct.code == data.code))
        if taken is not None and taken != product_id:
            raise InvalidInput(
                f"Insurance code {data.code} is taken",
                field="body.code",
                reason="insurance-code-taken",
                params={"code": data.code},
            )
        if product_id is None:
            row = InsuranceProduct(**data.model_dump())
            tx.session.add(row)
        else:
            found = await tx.session.get(InsuranceProduct, product_id)
            if found is None:
                raise NotFound(
                    f"No insurance product {product_id}",
                    field="product_id",
                    reason="no-insurance-product",
                    params={"product_id": product_id},
                )
            row = found
            for key, value in data.model_dump().items():
                setattr(row, key, value)
        await tx.session.flush()
        return InsuranceOut.model_validate(row)


def insurance_price(product: InsuranceProduct, persons: int, days: int) -> Decimal:
    return (product.price_per_day * persons * days).quantize(Decimal("0.01"))


# ---------------------------------------------------------------- staff


async def users_with_role(session: AsyncSession, role: Role) -> list[tuple[int, str]]:
    return await directory.with_role(session, role)


async def planners(ctx: Context, kind: str | None = None) -> list[PlannerOut]:
    """Planners with the kinds of orders they take, their phone and how many open orders they own
    (the team lead assigns by type and load)."""
    ctx.require(Permission.ORDERS_READ)
    async with ctx.read() as session:
        return await planner_desks(session, kind)


async def planner_desks(session: AsyncSession, kind: str | None = None) -> list[PlannerOut]:
    people = await users_with_role(session, Role.PLANNER)
    desks = {d.user_id: d for d in (await session.scalars(select(PlannerDesk))).all()}
    load = dict(
        (
            await session.execute(
                select(Order.owner_id, func.count(Order.id))
                .where(Order.state.in_([s.value for s in OPEN]))
                .group_by(Order.owner_id)
            )
        ).all()
    )
    out = []
    for user_id, name in people:
        desk = desks.get(user_id)
        kinds = list(desk.kinds) if desk else ["domestic", "international"]
        if kind and kind not in kinds:
            continue
        out.append(
            PlannerOut(
                user_id=user_id,
                name=name,
                kinds=kinds,
                phone=desk.phone if desk else "",
                open_orders=int(load.get(user_id, 0)),
            )
        )
    return out


async def save_planner_desk(ctx: Context, user_id: int, data: PlannerDeskIn) -> PlannerOut:
    ctx.require(Permission.CATALOGUE_WRITE)
    async with ctx.write() as tx:
        if user_id not in {u for u, _ in await users_with_role(tx.session, Role.PLANNER)}:
            raise NotFound(
                f"User {user_id} is not a planner",
                field="user_id",
                reason="user-not-planner",
                params={"user_id": user_id},
            )
        desk = await tx.session.get(PlannerDesk, user_id)
        if desk is None:
            desk = PlannerDesk(user_id=user_id, kinds=list(data.kinds), phone=data.phone)
            tx.session.add(desk)
        else:
            desk.kinds, desk.phone = list(data.kinds), data.phone
        tx.audit("travel.planner_desk", "user", user_id, after=data.model_dump())
    return next(p for p in await planners(ctx) if p.user_id == user_id)


async def front_desk_staff(ctx: Context) -> list[StaffOut]:
    ctx.require(Permission.ORDERS_READ)
    async with ctx.read() as session:
        return [StaffOut(user_id=u, name=n) for u, n in await users_with_role(session, Role.FRONT_DESK)]
