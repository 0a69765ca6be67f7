"""Rooms taken and given back, night by night, without ever overbooking (H5).

A booking takes its rooms night by night with one guarded statement each —
`UPDATE room_inventory SET sold = sold + n WHERE … AND total - sold - held - out_of_order >= n` —
inside the booking's transaction. If any night has no room left, the whole transaction rolls
back and the caller gets `rooms-sold-out` with the other branches in the city that have rooms.
PostgreSQL re-checks the condition on the locked row when two bookings race (READ COMMITTED),
SQLite runs writers one at a time; a CHECK constraint is the last line (`sold + held +
out_of_order <= total`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.errors import Conflict
from hotline.hotels.models import Inventory, Reservation
from hotline.hotels.pricing import nights_of


class RoomsSoldOut(Conflict):
    code = "rooms-sold-out"
    title = "No rooms of that type are left for those nights"


@dataclass
class Night:
    left: int
    price: Decimal
    closed: bool


async def left(session: AsyncSession, room_type_ids: list[int], nights: list[date]) -> dict[int, list[Night]]:
    """Per room type with inventory on every night: the rooms left, rack price and closure."""
    rows = await session.execute(
        select(
            Inventory.room_type_id,
            Inventory.day,
            Inventory.total - Inventory.sold - Inventory.held - Inventory.out_of_order,
            Inventory.price,
            Inventory.closed,
        ).where(Inventory.room_type_id.in_(room_type_ids), Inventory.day.in_(nights))
    )
    found: dict[int, dict[date, Night]] = {}
    for room_type_id, day, rooms_left, price, closed in rows:
        found.setdefault(room_type_id, {})[day] = Night(int(rooms_left), price, closed)
    return {
        rt: [by_day[d] for d in nights] for rt, by_day in found.items() if all(d in by_day for d in nights)
    }


async def take_rooms(
    session: AsyncSession, room_type_id: int, nights: list[date], rooms: int, *, as_held: bool = False
) -> bool:
    """Take `rooms` on every night — sold to a booking, or held for a group block — or nothing
    (False: the caller's transaction must roll back). The one guarded statement of H5."""
    column = Inventory.held if as_held else Inventory.sold
    for taken, night in enumerate(nights):
        result = await session.execute(
            update(Inventory)
            .where(
                Inventory.room_type_id == room_type_id,
                Inventory.day == night,
                Inventory.closed.is_(False),
                Inventory.total - Inventory.sold - Inventory.held - Inventory.out_of_order >= rooms,
            )
            .values({column: column + rooms})
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            if taken:  # the nights already taken go back, so a caller may carry on (a paper conflict)
                await give_back(session, room_type_id, nights[:taken], rooms, as_held=as_held)
            return False
    return True


async def give_back(
    session: AsyncSession, room_type_id: int, nights: list[date], rooms: int, *, as_held: bool = False
) -> None:
    """Put `rooms` back on sale on those nights."""
    column = Inventory.held if as_held else Inventory.sold
    await session.execute(
        update(Inventory)
        .where(Inventory.room_type_id == room_type_id, Inventory.day.in_(nights))
        .values({column: column - rooms})
    )


async def release(session: AsyncSession, reservation: Reservation, nights: list[date] | None = None) -> None:
    """The reservation's rooms back on sale (all its nights, or those given)."""
    await give_back(
        session,
        reservation.room_type_id,
        nights or nights_of(reservation.arrival, reservation.departure),
        reservation.rooms,
    )
