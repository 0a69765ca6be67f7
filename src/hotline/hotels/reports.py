"""The booking desk's panel (H11): the last days' bookings by day, source and hotel, cancellations
and revenue — the bookings report's own figures (hotels/figures.py, docs/reports.md) over a
shorter window, for whoever may read bookings."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.core.periods import period_of
from hotline.hotels.figures import made_in, tally
from hotline.hotels.pricing import money
from hotline.hotels.schemas import BookingStats, DayCount


async def statistics(ctx: Context, *, days: int = 30) -> BookingStats:
    """Bookings made on each of the last `days` days (today included, in the site's time zone), by
    source and by hotel (the ten with most), and how many of them were cancelled since."""
    zone = ctx.settings.default_timezone
    today = utcnow().astimezone(ZoneInfo(zone)).date()
    period = period_of(today - timedelta(days=days - 1), today, "day", zone)
    made = await made_in(ctx, period)
    by_source, by_hotel = tally(period, made, "source"), tally(period, made, "hotel")
    totals = by_source.totals()
    return BookingStats(
        bookings=totals["bookings"],
        cancelled=totals["cancelled"],
        cancellation_rate=totals["cancellation_rate"],
        revenue=money(totals["revenue"]),
        by_day=[
            DayCount(
                day=start.date().isoformat(), bookings=int(day["bookings"]), cancelled=int(day["cancelled"])
            )
            for start, day in by_source.series.rows()  # every day, the empty ones too
        ],
        by_source={row["key"]: row["bookings"] for row in by_source.rows},
        by_hotel={row["key"]: row["bookings"] for row in by_hotel.rows[:10]},
    )
