"""Hotel, room and rate administration (H1, H11): branches, room types, rate plans with their
policy, and the daily inventory — rooms, out of order, closed dates and rack prices — over a range
of dates.

Inventory changes never undo a sale: a new total or out-of-order count must still cover the rooms
sold and held on every night of the range, checked by the same guarded UPDATE style as booking
(`… WHERE sold + held + out_of_order <= total`), so a booking racing the change either lands
before it (and the change is refused for that night) or after it (and sees the new count)."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, update

from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.core.errors import Conflict, InvalidInput, NotFound
from hotline.core.permissions import Permission
from hotline.hotels.models import Hotel, Inventory, RatePlan, RoomType
from hotline.hotels.schemas import (
    HotelDetail,
    HotelIn,
    InventoryChange,
    InventoryDay,
    RatePlanIn,
    RatePlanOut,
    RoomTypeIn,
    RoomTypeOut,
)

MAX_RANGE = 366


async def detail(ctx: Context, hotel_id: int) -> HotelDetail:
    ctx.require(Permission.BOOKINGS_READ)
    async with ctx.read() as session:
        hotel = await session.get(Hotel, hotel_id)
        if hotel is None:
            raise NotFound(
                f"No hotel {hotel_id}", field="hotel_id", reason="no-hotel", params={"hotel_id": hotel_id}
            )
        types = (
            await session.scalars(select(RoomType).where(RoomType.hotel_id == hotel_id).order_by(RoomType.id))
        ).all()
        plans = (
            await session.scalars(select(RatePlan).where(RatePlan.hotel_id == hotel_id).order_by(RatePlan.id))
        ).all()
        fields = {
            k: getattr(hotel, k) for k in HotelDetail.model_fields if k not in ("room_types", "rate_plans")
        }
        return HotelDetail(
            **fields,
            room_types=[RoomTypeOut.model_validate(t) for t in types],
            rate_plans=[RatePlanOut.model_validate(p) for p in plans],
        )


async def _code_free(
    ctx: Context,
    model: type[Hotel] | type[RoomType] | type[RatePlan],
    code: str,
    hotel_id: int | None,
    own_id: int | None,
) -> None:
    async with ctx.read() as session:
        query = select(model.id).where(model.code == code)
        if hotel_id is not None and model is not Hotel:
            query = query.where(model.hotel_id == hotel_id)  # type: ignore[union-attr]
        found = await session.scalar(query)
    if found is not None and found != own_id:
        raise Conflict(
            f"The code {code} is taken", field="body.code", reason="code-taken", params={"code": code}
        )


async def save_hotel(ctx: Context, data: HotelIn, hotel_id: int | None = None) -> HotelDetail:
    """Create a branch, or change one (a closed branch takes no new bookings)."""
    ctx.require(Permission.HOTELS_WRITE)
    await _code_free(ctx, Hotel, data.code, None, hotel_id)
    async with ctx.write() as tx:
        if hotel_id is None:
            hotel = Hotel(**data.model_dump())
            tx.session.add(hotel)
        else:
            found = await tx.session.get(Hotel, hotel_id)
            if found is None:
                raise NotFound(
                    f"No hotel {hotel_id}", field="hotel_id", reason="no-hotel", params={"hotel_id": hotel_id}
                )
            hotel = found
            for key, value in data.model_dump().items():
                setattr(hotel, key, value)
        await tx.session.flush()
        saved = hotel.id
    return await detail(ctx, saved)


async def save_room_type(
    ctx: Context, hotel_id: int, data: RoomTypeIn, room_type_id: int | None = None
) -> HotelDetail:
    """A new room type opens `rooms` rooms at `price` a night for the next `days` days; a change
    renames it or changes its capacity (its inventory is changed on the inventory grid)."""
    ctx.require(Permission.HOTELS_WRITE)
    await _code_free(ctx, RoomType, data.code, hotel_id, room_type_id)
    async with ctx.write() as tx:
        hotel = await tx.session.get(Hotel, hotel_id)
        if hotel is None:
            raise NotFound(
                f"No hotel {hotel_id}", field="hotel_id", reason="no-hotel", params={"hotel_id": hotel_id}
            )
        fields = data.model_dump(include={"code", "name", "capacity", "bed"})
        if room_type_id is None:
            if data.rooms is None or data.price is None:
                field = "body.rooms" if data.rooms is None else "body.price"
                raise InvalidInput(
                    "A new room type needs its number of rooms and rack price",
                    field=field,
                    reason="new-room-type-needs-number",
                )
            room_type = RoomType(hotel_id=hotel_id, **fields)
            tx.session.add(room_type)
            await tx.session.flush()
            today = utcnow().astimezone(ZoneInfo(hotel.timezone)).date()
            await tx.session.execute(
                insert(Inventory),
                [
                    {
                        "room_type_id": room_type.id,
                        "day": today + timedelta(days=n),
                        "total": data.rooms,
                        "price": data.price,
                    }
                    for n in range(-1, data.days)
                ],
            )
        else:
            found = await tx.session.get(RoomType, room_type_id)
            if found is None or found.hotel_id != hotel_id:
                raise NotFound(
                    f"No room type {room_type_id} in hotel {hotel_id}",
                    field="room_type_id",
                    reason="no-room-type-hotel",
                    params={"room_type_id": room_type_id, "hotel_id": hotel_id},
                )
            for key, value in fields.items():
                setattr(found, key, value)
    return await detail(ctx, hotel_id)


async def save_rate_plan(
    ctx: Context, hotel_id: int, data: RatePlanIn, rate_plan_id: int | None = None
) -> HotelDetail:
    """A rate plan: price factor on the rack rate, member discounts, breakfast, guarantee and the
    change/cancel policy. A changed policy applies to bookings made from now on and to the
    cancellations of existing ones (the policy text they were sent stays as sent)."""
    ctx.require(Permission.HOTELS_WRITE)
    await _code_free(ctx, RatePlan, data.code, hotel_id, rate_plan_id)
    values = {**data.model_dump(exclude={"policy"}), "policy": [w.model_dump() for w in data.policy]}
    async with ctx.write() as tx:
        if await tx.session.get(Hotel, hotel_id) is None:
            raise NotFound(
                f"No hotel {hotel_id}", field="hotel_id", reason="no-hotel", params={"hotel_id": hotel_id}
            )
        if rate_plan_id is None:
            tx.session.add(RatePlan(hotel_id=hotel_id, **values))
        else:
            plan = await tx.session.get(RatePlan, rate_plan_id)
            if plan is None or plan.hotel_id != hotel_id:
                raise NotFound(
                    f"No rate plan {rate_plan_id} in hotel {hotel_id}",
                    field="rate_plan_id",
                    reason="no-rate-plan-hotel",
                    params={"rate_plan_id": rate_plan_id, "hotel_id": hotel_id},
                )
            for key, value in values.items():
                setattr(plan, key, value)
    return await detail(ctx, hotel_id)


def _check_range(first: date, last: date) -> None:
    if last < first:
        raise InvalidInput(
            "The last day comes before the first", field="last", reason="last-day-comes-before-first"
        )
    if (last - first).days >= MAX_RANGE:
        raise InvalidInput(
            f"At most {MAX_RANGE} days at a time",
            field="last",
            reason="most-days-time",
            params={"max_range": MAX_RANGE},
        )


async def inventory(ctx: Context, room_type_id: int, first: date, last: date) -> list[InventoryDay]:
    ctx.require(Permission.BOOKINGS_READ)
    _check_range(first, last)
    async with ctx.read() as session:
        if await session.get(RoomType, room_type_id) is None:
            raise NotFound(
                f"No room type {room_type_id}",
                field="room_type_id",
                reason="no-room-type",
                params={"room_type_id": room_type_id},
            )
        rows = (
            await session.scalars(
                select(Inventory)
                .where(Inventory.room_type_id == room_type_id, Inventory.day.between(first, last))
                .order_by(Inventory.day)
            )
        ).all()
    return [InventoryDay.model_validate(r) for r in rows]


async def change_inventory(ctx: Context, room_type_id: int, data: InventoryChange) -> list[InventoryDay]:
    """Set rooms, out of order, closed and/or the rack price on every chosen night of a range
    (optionally only some weekdays). Nights not on sale yet are opened when the rooms and the
    price are both given. Refused as a whole (`rooms-still-sold`, naming the nights) if a new
    count would leave fewer rooms than are sold and held."""
    ctx.require(Permission.HOTELS_WRITE)
    _check_range(data.first, data.last)
    days = [data.first + timedelta(days=n) for n in range((data.last - data.first).days + 1)]
    days = [d for d in days if not data.weekdays or d.weekday() in data.weekdays]
    if not days:
        raise InvalidInput(
            "No night of the range falls on those weekdays",
            field="body.weekdays",
            reason="no-night-range-falls-those",
        )
    values = data.model_dump(include={"total", "out_of_order", "closed", "price"}, exclude_none=True)
    if not values:
        raise InvalidInput(
            "Nothing to change: give rooms, out of order, closed or a price",
            field="body",
            reason="nothing-change-give-rooms-out",
        )
    async with ctx.write() as tx:
        if await tx.session.get(RoomType, room_type_id) is None:
            raise NotFound(
                f"No room type {room_type_id}",
                field="room_type_id",
                reason="no-room-type",
                params={"room_type_id": room_type_id},
            )
        existing = set(
            (
                await tx.session.scalars(
                    select(Inventory.day).where(
                        Inventory.room_type_id == room_type_id, Inventory.day.in_(days)
                    )
                )
            ).all()
        )
        total = Inventory.total if data.total is None else data.total
        broken = Inventory.out_of_order if data.out_of_order is None else data.out_of_order
        result = await tx.session.execute(
            update(Inventory)
            .where(
                Inventory.room_type_id == room_type_id,
                Inventory.day.in_(existing),
                Inventory.sold + Inventory.held + broken <= total,
            )
            .values(values)
        )
        if result.rowcount != len(existing):  # type: ignore[attr-defined]
            short = (
                await tx.session.scalars(
                    select(Inventory.day)
                    .where(
                        Inventory.room_type_id == room_type_id,
                        Inventory.day.in_(existing),
                        Inventory.sold + Inventory.held + broken > total,
                    )
                    .order_by(Inventory.day)
                )
            ).all()
            days_short = ", ".join(d.isoformat() for d in short[:10])
            raise RoomsStillSold(
                "Fewer rooms than are sold and held on " + days_short,
                field="body.total" if data.total is not None else "body.out_of_order",
                reason="fewer-rooms-than-sold",
                params={"days": days_short},
            )
        missing = [d for d in days if d not in existing]
        if missing:
            if data.total is None or data.price is None:
                raise InvalidInput(
                    f"{missing[0]} is not on sale yet: give both the rooms and the price to open it",
                    field="body.total" if data.total is None else "body.price",
                    reason="not-sale-yet-give-both",
                    params={"v0": missing[0]},
                )
            await tx.session.execute(
                insert(Inventory),
                [
                    {
                        "room_type_id": room_type_id,
                        "day": d,
                        "total": data.total,
                        "price": data.price,
                        "out_of_order": data.out_of_order or 0,
                        "closed": bool(data.closed),
                    }
                    for d in missing
                ],
            )
        tx.audit(
            "hotels.inventory",
            "room_type",
            room_type_id,
            after={
                **{k: str(v) for k, v in values.items()},
                "first": str(data.first),
                "last": str(data.last),
                "nights": len(days),
                "opened": len(missing),
            },
        )
    return await inventory(ctx, room_type_id, data.first, data.last)


class RoomsStillSold(Conflict):
    code = "rooms-still-sold"
