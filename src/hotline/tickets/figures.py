"""Ticket figures for the tickets report (docs/reports.md): opened, resolved, within SLA, closed and
reopened per bucket of a period, and the same per ticket type.

- opened: tickets created in the period (merged ones aside);
- resolved: tickets whose work was completed in the period (`completed_at`);
- within_sla: of those resolved, the ones whose SLA outcome is `met` (tickets/sla.py `outcome`, the
  one classification the SLA report uses too);
- closed: tickets closed in the period (`closed_at`);
- reopened: reopen steps taken in the period.
With `agent_ids`, only tickets those users created (a team's tickets).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, or_, select

from hotline.core.clock import as_utc, utcnow
from hotline.core.context import Context
from hotline.core.periods import Figures, Period, Series
from hotline.core.permissions import Permission
from hotline.tickets import sla
from hotline.tickets.models import Ticket, TicketStep, TicketType
from hotline.tickets.reports import clocks_of

NAMES = ("opened", "resolved", "within_sla", "closed", "reopened")
RATES = {"sla_rate": ("within_sla", "resolved")}


async def ticket_figures(
    ctx: Context, period: Period, *, agent_ids: set[int] | None = None, now: datetime | None = None
) -> Figures:
    ctx.require(Permission.REPORTS_READ)
    since, until = period.since, period.until
    mine: list[ColumnElement[bool]] = [] if agent_ids is None else [Ticket.created_by.in_(agent_ids)]
    async with ctx.read() as session:
        tickets = list(
            (
                await session.scalars(
                    select(Ticket).where(
                        Ticket.status != "merged",
                        or_(
                            Ticket.created_at.between(since, until),
                            Ticket.completed_at.between(since, until),
                            Ticket.closed_at.between(since, until),
                        ),
                        *mine,
                    )
                )
            ).all()
        )
        resolved = [
            t for t in tickets if t.completed_at is not None and period.contains(as_utc(t.completed_at))
        ]
        clocks = await clocks_of(session, resolved, now or utcnow())
        reopens = list(
            (
                await session.execute(
                    select(TicketStep.at, Ticket.type_id)
                    .join(Ticket, Ticket.id == TicketStep.ticket_id)
                    .where(
                        TicketStep.action == "reopen", TicketStep.at >= since, TicketStep.at < until, *mine
                    )
                )
            ).all()
        )
        types = {
            i: (c, n)
            for i, c, n in await session.execute(select(TicketType.id, TicketType.code, TicketType.name))
        }
    series = Series(period, NAMES)
    by_type: dict[int, dict[str, int]] = {}

    def count(at: datetime, type_id: int, name: str) -> None:
        at = as_utc(at)
        if period.contains(at):
            series.add(at, name)
            row = by_type.setdefault(type_id, dict.fromkeys(NAMES, 0))
            row[name] += 1

    for ticket in tickets:
        count(ticket.created_at, ticket.type_id, "opened")
        if ticket.closed_at is not None:
            count(ticket.closed_at, ticket.type_id, "closed")
    for ticket in resolved:
        assert ticket.completed_at is not None  # noqa: S101 - chosen on it
        count(ticket.completed_at, ticket.type_id, "resolved")
        if sla.outcome(clocks[ticket.id]) == "met":
            count(ticket.completed_at, ticket.type_id, "within_sla")
    for at, type_id in reopens:
        count(at, type_id, "reopened")
    figures = Figures(series, rates=RATES)
    figures.rows = [
        figures.with_rates({"key": types.get(t, ("?", "?"))[0], "label": types.get(t, ("?", "?"))[1], **row})
        for t, row in sorted(by_type.items(), key=lambda kv: -kv[1]["opened"])
    ]
    return figures


async def messages_left(ctx: Context, period: Period) -> dict[datetime, int]:
    """The web chat's messages left (留言, tickets/intake.py `leave_message`: `source_ref` web:…)
    that became tickets in the period, per bucket: the chat report's `messages_left`."""
    ctx.require(Permission.REPORTS_READ)
    async with ctx.read() as session:
        made = (
            await session.scalars(
                select(Ticket.created_at).where(
                    Ticket.source == "web",
                    Ticket.source_ref.like("web:%"),
                    Ticket.created_at >= period.since,
                    Ticket.created_at < period.until,
                )
            )
        ).all()
    found: dict[datetime, int] = {}
    for at in made:
        start = period.bucket(as_utc(at))
        found[start] = found.get(start, 0) + 1
    return found
