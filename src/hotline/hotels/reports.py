"""Booking statistics (H11): bookings per day, by source and by hotel, cancellations, revenue."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select

from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.core.permissions import Permission
from hotline.hotels.models import Hotel, Reservation
from hotline.hotels.pricing import money
from hotline.hotels.schemas import BookingStats, DayCount


async def statistics(ctx: Context, *, days: int = 30) -> BookingStats:
    """Bookings made per day over the last `days`, by source and by hotel, and how many were
    cancelled (H11)."""
    ctx.require(Permission.BOOKINGS_READ)
    since = utcnow() - timedelta(days=days)
    async with ctx.read() as session:
        rows = (
            await session.execute(
                select(
                    Reservation.created_at,
                    Reservation.status,
                    Reservation.source,
                    Hotel.name,
                    Reservation.total,
                )
                .join(Hotel, Hotel.id == Reservation.hotel_id)
                .where(Reservation.created_at >= since)
            )
        ).all()
    by_day: dict[str, list[int]] = {}
    by_source: dict[str, int] = {}
    by_hotel: dict[str, int] = {}
    revenue = Decimal(0)
    for created_at, status, source, hotel, total in rows:
        day = created_at.astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat()
        counts = by_day.setdefault(day, [0, 0])
        counts[0] += 1
        counts[1] += status == "cancelled"
        by_source[source] = by_source.get(source, 0) + 1
        by_hotel[hotel] = by_hotel.get(hotel, 0) + 1
        if status != "cancelled":
            revenue += total
    cancelled = sum(c[1] for c in by_day.values())
    return BookingStats(
        bookings=len(rows),
        cancelled=cancelled,
        cancellation_rate=round(cancelled / len(rows), 4) if rows else None,
        revenue=money(revenue),
        by_day=[DayCount(day=d, bookings=c[0], cancelled=c[1]) for d, c in sorted(by_day.items())],
        by_source=dict(sorted(by_source.items(), key=lambda kv: -kv[1])),
        by_hotel=dict(sorted(by_hotel.items(), key=lambda kv: -kv[1])[:10]),
    )
