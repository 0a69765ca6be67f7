"""A hotel's day at the front desk (H10): who arrives, who is in house, who leaves."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from hotline.core.context import Context
from hotline.core.permissions import Permission
from hotline.core.rows import get_or_404
from hotline.hotels.models import Hotel, Reservation
from hotline.hotels.pricing import hotel_today
from hotline.hotels.queries import out
from hotline.hotels.schemas import FrontDesk, HotelArrivals


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


async def arrivals_today(ctx: Context) -> list[HotelArrivals]:
    """Per active hotel, the guests still to arrive and to leave today (each hotel's today): the
    counts the front desk's day starts from, by the same rules as `front_desk`."""
    ctx.require(Permission.FRONT_DESK)
    out = []
    async with ctx.read() as session:
        hotels = (await session.scalars(select(Hotel).where(Hotel.active.is_(True)).order_by(Hotel.id))).all()
        for hotel in hotels:
            day = hotel_today(hotel)
            arriving = select(func.count(Reservation.id)).where(
                Reservation.hotel_id == hotel.id,
                Reservation.status.in_(("tentative", "confirmed")),
                Reservation.arrival <= day,
                Reservation.departure > day,
            )
            leaving = select(func.count(Reservation.id)).where(
                Reservation.hotel_id == hotel.id,
                Reservation.status == "checked_in",
                Reservation.departure <= day,
            )
            out.append(
                HotelArrivals(
                    hotel_id=hotel.id,
                    hotel_name=hotel.name,
                    day=day,
                    arrivals=int(await session.scalar(arriving) or 0),
                    departures=int(await session.scalar(leaving) or 0),
                )
            )
    return out
