"""The domain reports (tickets, bookings, travel orders, messages, surveys) and the call reports
(queues, agents, IVR: reports/calls.py), composed.

Each figure is computed by its own domain (`<domain>/figures.py`); here a report is the period
checked, the team filter resolved (admin/teams.py `scope`: a team lead starts on their own team),
the figures of the period and of its comparison period, and — for calls → bookings — the calls
answered asked of contact (never its tables).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from hotline.admin import teams
from hotline.contact.figures import answered_figures
from hotline.core.context import Context
from hotline.core.periods import Figures, Period, PeriodQuery, period_of
from hotline.core.permissions import Permission
from hotline.hotels.figures import booking_figures
from hotline.notify.figures import message_figures
from hotline.outbound import surveys
from hotline.reports import calls, chats
from hotline.reports.schemas import ComparedOut, ReportOut, TeamRefOut
from hotline.tickets.figures import ticket_figures
from hotline.travel.figures import order_figures

P = Permission


class Shown(Protocol):
    """What a report's figures give the page: a point per bucket, the totals, the rows."""

    rows: list[dict[str, Any]]

    def points(self) -> list[dict[str, Any]]: ...
    def totals(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Filters:
    """What the report is limited to: the agents (a team's members, or one agent), the queues."""

    agents: set[int] | None = None
    queues: set[str] | None = None
    channels: set[str] | None = None


Compute = Callable[[Context, Period, Filters], Awaitable[Shown]]


async def _tickets(ctx: Context, period: Period, f: Filters) -> Figures:
    return await ticket_figures(ctx, period, agent_ids=f.agents)


async def _with_conversion(
    ctx: Context, figures: Figures, period: Period, agents: set[int] | None
) -> Figures:
    """calls → bookings: what was booked on a call ÷ calls answered (by the same agents)."""
    figures.merge(await answered_figures(ctx, period, agent_ids=agents))
    figures.rates["conversion"] = ("from_calls", "calls_answered")
    return figures


async def _bookings(ctx: Context, period: Period, f: Filters) -> Figures:
    return await _with_conversion(
        ctx, await booking_figures(ctx, period, agent_ids=f.agents), period, f.agents
    )


async def _orders(ctx: Context, period: Period, f: Filters) -> Figures:
    return await _with_conversion(ctx, await order_figures(ctx, period, agent_ids=f.agents), period, f.agents)


async def _messages(ctx: Context, period: Period, f: Filters) -> Figures:
    return await message_figures(ctx, period, agent_ids=f.agents)


async def _surveys(ctx: Context, period: Period, f: Filters) -> Figures:
    return await surveys.survey_figures(ctx, period, agent_ids=f.agents)


async def _queues(ctx: Context, period: Period, f: Filters) -> Shown:
    return await calls.queues(ctx, period, f.queues)


async def _agents(ctx: Context, period: Period, f: Filters) -> Shown:
    return await calls.agents(ctx, period, f.agents)


async def _ivr(ctx: Context, period: Period, f: Filters) -> Shown:
    return await calls.ivr(ctx, period)


async def _chats(ctx: Context, period: Period, f: Filters) -> Shown:
    return await chats.chats(ctx, period, agent_ids=f.agents, queues=f.queues, channels=f.channels)


@dataclass(frozen=True)
class Subject:
    compute: Compute
    permission: Permission
    """Besides reports.read: who may see this subject's data at all (finance: bookings, orders)."""
    by_team: bool = True
    """Whether the team filter applies (a queue's or the IVR's figures are not an agent's)."""


SUBJECTS: dict[str, Subject] = {
    "tickets": Subject(_tickets, P.TICKETS_READ),
    "bookings": Subject(_bookings, P.BOOKINGS_READ),
    "orders": Subject(_orders, P.ORDERS_READ),
    "messages": Subject(_messages, P.MESSAGES_READ),
    "surveys": Subject(_surveys, P.AGENTS_READ),
    "queues": Subject(_queues, P.AGENTS_READ, by_team=False),
    "agents": Subject(_agents, P.AGENTS_READ),
    "ivr": Subject(_ivr, P.AGENTS_READ, by_team=False),
    "chats": Subject(_chats, P.AGENTS_READ, by_team=False),
}


async def report(
    ctx: Context,
    subject: str,
    query: PeriodQuery,
    *,
    agent_id: int | None = None,
    queues: set[str] | None = None,
    channels: set[str] | None = None,
) -> ReportOut:
    """A report of the period; `agent_id` (within the team, if one), `queues` and `channels` narrow
    it further for the reports that have them (agents, queues, chats)."""
    chosen = SUBJECTS[subject]
    ctx.require(P.REPORTS_READ)
    ctx.require(chosen.permission)
    zone = ctx.settings.default_timezone
    period = period_of(query.start, query.end, query.granularity, zone)
    team, members = None, None
    if chosen.by_team:
        team, members = await teams.scope(ctx, query.team_id, field="query.team_id")
    if agent_id is not None:
        members = {agent_id} if members is None else members & {agent_id}
    filters = Filters(agents=members, queues=queues or None, channels=channels or None)
    figures = await chosen.compute(ctx, period, filters)
    compared = period.compared(query.compare)
    compare = None
    if compared is not None:
        other = await chosen.compute(ctx, compared, filters)
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
