"""The domain reports (tickets, bookings, travel orders, messages, surveys), composed.

Each figure is computed by its own domain (`<domain>/figures.py`); here a report is the period
checked, the team filter resolved (admin/teams.py `scope`: a team lead starts on their own team),
the figures of the period and of its comparison period, and — for calls → bookings — the calls
answered asked of contact (never its tables).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from hotline.admin import teams
from hotline.contact.figures import answered_figures, survey_figures
from hotline.core.context import Context
from hotline.core.periods import Figures, Period, PeriodQuery, period_of
from hotline.core.permissions import Permission
from hotline.hotels.figures import booking_figures
from hotline.notify.figures import message_figures
from hotline.reports.schemas import ComparedOut, ReportOut, TeamRefOut
from hotline.tickets.figures import ticket_figures
from hotline.travel.figures import order_figures

P = Permission
Compute = Callable[[Context, Period, set[int] | None], Awaitable[Figures]]


async def _tickets(ctx: Context, period: Period, agents: set[int] | None) -> Figures:
    return await ticket_figures(ctx, period, agent_ids=agents)


async def _with_conversion(
    ctx: Context, figures: Figures, period: Period, agents: set[int] | None
) -> Figures:
    """calls → bookings: what was booked on a call ÷ calls answered (by the same agents)."""
    figures.merge(await answered_figures(ctx, period, agent_ids=agents))
    figures.rates["conversion"] = ("from_calls", "calls_answered")
    return figures


async def _bookings(ctx: Context, period: Period, agents: set[int] | None) -> Figures:
    return await _with_conversion(ctx, await booking_figures(ctx, period, agent_ids=agents), period, agents)


async def _orders(ctx: Context, period: Period, agents: set[int] | None) -> Figures:
    return await _with_conversion(ctx, await order_figures(ctx, period, agent_ids=agents), period, agents)


async def _messages(ctx: Context, period: Period, agents: set[int] | None) -> Figures:
    return await message_figures(ctx, period, agent_ids=agents)


async def _surveys(ctx: Context, period: Period, agents: set[int] | None) -> Figures:
    return await survey_figures(ctx, period, agent_ids=agents)


@dataclass(frozen=True)
class Subject:
    compute: Compute
    permission: Permission
    """Besides reports.read: who may see this subject's data at all (finance: bookings, orders)."""


SUBJECTS: dict[str, Subject] = {
    "tickets": Subject(_tickets, P.TICKETS_READ),
    "bookings": Subject(_bookings, P.BOOKINGS_READ),
    "orders": Subject(_orders, P.ORDERS_READ),
    "messages": Subject(_messages, P.MESSAGES_READ),
    "surveys": Subject(_surveys, P.AGENTS_READ),
}


async def report(ctx: Context, subject: str, query: PeriodQuery) -> ReportOut:
    chosen = SUBJECTS[subject]
    ctx.require(P.REPORTS_READ)
    ctx.require(chosen.permission)
    zone = ctx.settings.default_timezone
    period = period_of(query.start, query.end, query.granularity, zone)
    team, members = await teams.scope(ctx, query.team_id, field="query.team_id")
    figures = await chosen.compute(ctx, period, members)
    compared = period.compared(query.compare)
    compare = None
    if compared is not None:
        other = await chosen.compute(ctx, compared, members)
        compare = ComparedOut(start=compared.first, end=compared.last, totals=other.totals())
    return ReportOut(
        subject=subject,
        start=period.first,
        end=period.last,
        granularity=period.granularity,
        timezone=zone,
        team=None if team is None else TeamRefOut(id=team.id, name=team.name),
        series=figures.points(),
        totals=figures.totals(),
        compare=compare,
        rows=figures.rows,
    )
