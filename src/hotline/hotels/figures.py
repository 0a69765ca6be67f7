"""Booking figures for the bookings report (docs/reports.md), per bucket of a period and per source:

- bookings: reservations made in the period (`created_at`; a paper booking counts when entered);
- cancelled: of those, the ones cancelled since;
- revenue: the total of those not cancelled (money, to the fen);
- from_calls: of those, the ones booked on a call (`call_id`), the numerator of calls → bookings.
With `agent_ids`, only reservations those users made (a team's bookings).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import ColumnElement, select

from hotline.core.clock import as_utc
from hotline.core.context import Context
from hotline.core.periods import Figures, Number, Period, Series
from hotline.core.permissions import Permission
from hotline.hotels.models import Hotel, Reservation

NAMES = ("bookings", "cancelled", "revenue", "from_calls")
RATES = {"cancellation_rate": ("cancelled", "bookings")}
CENT = Decimal("0.01")


async def booking_figures(ctx: Context, period: Period, *, agent_ids: set[int] | None = None) -> Figures:
    """The bookings report's figures, with rows per source."""
    ctx.require(Permission.REPORTS_READ)
    return tally(period, await made_in(ctx, period, agent_ids=agent_ids), "source")


async def made_in(
    ctx: Context, period: Period, *, agent_ids: set[int] | None = None
) -> list[tuple[Any, ...]]:
    """The reservations made in the period: (created_at, status, source, total, call_id, hotel name)."""
    ctx.require(Permission.BOOKINGS_READ)
    mine: list[ColumnElement[bool]] = [] if agent_ids is None else [Reservation.created_by.in_(agent_ids)]
    async with ctx.read() as session:
        return [
            tuple(row)
            for row in (
                await session.execute(
                    select(
                        Reservation.created_at,
                        Reservation.status,
                        Reservation.source,
                        Reservation.total,
                        Reservation.call_id,
                        Hotel.name,
                    )
                    .join(Hotel, Hotel.id == Reservation.hotel_id)
                    .where(
                        Reservation.created_at >= period.since, Reservation.created_at < period.until, *mine
                    )
                )
            ).all()
        ]


def tally(period: Period, made: list[tuple[Any, ...]], by: Literal["source", "hotel"]) -> Figures:
    """The figures of `made_in`'s reservations per bucket, with rows per source or per hotel (most
    bookings first)."""
    series = Series(period, NAMES, money=("revenue",))
    rows: dict[str, dict[str, Number]] = {}
    for created_at, status, source, total, call_id, hotel in made:
        at = as_utc(created_at)
        cancelled = status == "cancelled"
        amounts: dict[str, Number] = {
            "bookings": 1,
            "cancelled": int(cancelled),
            "revenue": Decimal(0) if cancelled else Decimal(total).quantize(CENT),
            "from_calls": int(call_id is not None),
        }
        row = rows.setdefault(source if by == "source" else hotel, series.zero())
        for name, amount in amounts.items():
            series.add(at, name, amount)
            row[name] = row[name] + amount  # type: ignore[operator]
    figures = Figures(series, rates=RATES)
    figures.rows = [
        figures.with_rates({"key": key, "label": key, **row})
        for key, row in sorted(rows.items(), key=lambda kv: -int(kv[1]["bookings"]))
    ]
    return figures
