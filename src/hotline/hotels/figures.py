"""Booking figures for the bookings report (docs/reports.md), per bucket of a period and per source:

- bookings: reservations made in the period (`created_at`; a paper booking counts when entered);
- cancelled: of those, the ones cancelled since;
- revenue: the total of those not cancelled (money, to the fen);
- from_calls: of those, the ones booked on a call (`call_id`), the numerator of calls → bookings.
With `agent_ids`, only reservations those users made (a team's bookings).
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import ColumnElement, select

from hotline.core.clock import as_utc
from hotline.core.context import Context
from hotline.core.periods import Figures, Number, Period, Series
from hotline.core.permissions import Permission
from hotline.hotels.models import Reservation

NAMES = ("bookings", "cancelled", "revenue", "from_calls")
RATES = {"cancellation_rate": ("cancelled", "bookings")}
CENT = Decimal("0.01")


async def booking_figures(ctx: Context, period: Period, *, agent_ids: set[int] | None = None) -> Figures:
    ctx.require(Permission.REPORTS_READ)
    ctx.require(Permission.BOOKINGS_READ)
    mine: list[ColumnElement[bool]] = [] if agent_ids is None else [Reservation.created_by.in_(agent_ids)]
    async with ctx.read() as session:
        rows = (
            await session.execute(
                select(
                    Reservation.created_at,
                    Reservation.status,
                    Reservation.source,
                    Reservation.total,
                    Reservation.call_id,
                ).where(Reservation.created_at >= period.since, Reservation.created_at < period.until, *mine)
            )
        ).all()
    series = Series(period, NAMES, money=("revenue",))
    by_source: dict[str, dict[str, Number]] = {}
    for created_at, status, source, total, call_id in rows:
        at = as_utc(created_at)
        cancelled = status == "cancelled"
        amounts: dict[str, Number] = {
            "bookings": 1,
            "cancelled": int(cancelled),
            "revenue": Decimal(0) if cancelled else Decimal(total).quantize(CENT),
            "from_calls": int(call_id is not None),
        }
        row = by_source.setdefault(source, series.zero())
        for name, amount in amounts.items():
            series.add(at, name, amount)
            row[name] = row[name] + amount  # type: ignore[operator]
    figures = Figures(series, rates=RATES)
    figures.rows = [
        figures.with_rates({"key": source, "label": source, **row})
        for source, row in sorted(by_source.items(), key=lambda kv: -int(kv[1]["bookings"]))
    ]
    return figures
