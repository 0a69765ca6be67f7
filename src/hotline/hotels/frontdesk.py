"""A hotel's day at the front desk (H10): who arrives, who is in house, who leaves."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from hotline.core.context import Context
from hotline.core.permissions import Permission
from hotline.core.rows import get_or_404
from hotline.hotels.models import Hotel, Reservation
from hotline.hotels.pricing import hotel_today
from hotline.hotels.queries import out
from hotline.hotels.schemas import FrontDesk


async def front_desk(ctx: Context, hotel_id: int, day: date | None = None) -> FrontDesk:
    """Who arrives, who is in house and who leaves at a hotel on a day (today, the hotel's)."""
    ctx.require(Permission.FRONT_DESK)
    async with ctx.read() as session:
        hotel = await get_or_404(session, Hotel, hotel_id, "hotel")
        day = day or hotel_today(hotel)
        expected = (
            select(Reservation)
            .where(
                Reservation.hotel_id == hotel_id,
                Reservation.status.in_(("tentative", "confirmed")),
                Reservation.arrival <= day,
                Reservation.departure > day,
            )
            .order_by(Reservation.expected_arrival, Reservation.id)
        )
        staying = (
            select(Reservation)
            .where(Reservation.hotel_id == hotel_id, Reservation.status == "checked_in")
            .order_by(Reservation.departure, Reservation.id)
        )
        arrivals = (await session.scalars(expected)).all()
        checked_in = (await session.scalars(staying)).all()
    return FrontDesk(
        day=day,
        arrivals=[out(r, ctx.actor) for r in arrivals],
        in_house=[out(r, ctx.actor) for r in checked_in if r.departure > day],
        departures=[out(r, ctx.actor) for r in checked_in if r.departure <= day],
    )
