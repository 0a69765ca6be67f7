"""Tickets as the managers see them: a department's or work area's board by state, and the SLA
report per type, unit and severity with the open tickets most at risk."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.core.permissions import Permission
from hotline.tickets import sla, state
from hotline.tickets.commands import unit_of
from hotline.tickets.deadlines import DEFAULT_TARGETS, moves, targets_of
from hotline.tickets.models import CalendarDay, SlaPolicy, Ticket, TicketStep
from hotline.tickets.queries import names_of, out
from hotline.tickets.schemas import TicketOut

P = Permission


async def unit_board(ctx: Context, unit_id: int) -> tuple[list[tuple[str, list[TicketOut], int]], int]:
    """A department's or work area's tickets by state (the work-area view): the first cards of
    each column and how many it holds in all (counted, not the length of a capped list)."""
    ctx.require(P.TICKETS_READ)
    columns = ("dispatched", "in_process", "pending", "completed")
    async with ctx.read() as session:
        await unit_of(session, unit_id, "unit_id")
        mine = (Ticket.unit_id == unit_id, Ticket.status.in_(columns))
        totals = dict(
            (
                await session.execute(
                    select(Ticket.status, func.count()).where(*mine).group_by(Ticket.status)
                )
            ).all()
        )
        rows = list(
            (
                await session.scalars(
                    select(Ticket).where(*mine).order_by(Ticket.priority, Ticket.id).limit(400)
                )
            ).all()
        )
        names = await names_of(session, rows)
    return [
        (c, [out(t, names) for t in rows if t.status == c], int(totals.get(c, 0))) for c in columns
    ], unit_id


async def clocks_of(session: AsyncSession, tickets: list[Ticket], now: datetime) -> dict[int, sla.Clock]:
    """Each ticket's SLA clock at `now` under its policy (by severity and type, else the defaults),
    from its steps: the one reading both the SLA report and the tickets report classify
    (`sla.outcome`)."""
    ids = [t.id for t in tickets]
    steps: list[TicketStep] = []
    for i in range(0, len(ids), 500):
        steps += (
            await session.scalars(
                select(TicketStep).where(TicketStep.ticket_id.in_(ids[i : i + 500])).order_by(TicketStep.id)
            )
        ).all()
    days_rows = [(d, k) for d, k in await session.execute(select(CalendarDay.day, CalendarDay.kind))]
    policy_rows = list((await session.scalars(select(SlaPolicy))).all())
    calendars = {b: sla.Calendar.of(days_rows, around_the_clock=not b) for b in (True, False)}
    by_ticket: dict[int, list[TicketStep]] = {}
    for step in steps:
        by_ticket.setdefault(step.ticket_id, []).append(step)
    clocks: dict[int, sla.Clock] = {}
    for ticket in tickets:
        chosen = sorted(
            (p for p in policy_rows if p.severity == ticket.severity and p.type_id in (ticket.type_id, None)),
            key=lambda p: p.type_id is None,
        )
        targets, business = DEFAULT_TARGETS, True
        if chosen:
            p = chosen[0]
            targets, business = targets_of(p), p.business_hours
        entered = moves(by_ticket.get(ticket.id, [])) or [(ticket.created_at, ticket.status)]
        clocks[ticket.id] = sla.clock(calendars[business], targets, entered, now, ticket.first_response_at)
    return clocks


@dataclass
class _Tally:
    label: str
    outcomes: sla.Tally = field(default_factory=sla.Tally)
    open: int = 0
    response_breached: int = 0
    warning: int = 0
    resolve_minutes: float = 0.0
    resolved: int = 0


async def sla_report(ctx: Context, *, days: int = 30, now: datetime | None = None) -> dict[str, Any]:
    """Per type, unit and severity: tickets by outcome (sla.OUTCOMES: met, breached, open and
    overdue, open in time), the met rate from those same counts (sla.Tally), first responses
    breached, open tickets at warning and the mean working minutes to resolve; and the open tickets
    most at risk."""
    ctx.require(P.TICKETS_READ)
    now = now or utcnow()
    since = now - timedelta(days=days)
    async with ctx.read() as session:
        tickets = list(
            (
                await session.scalars(
                    select(Ticket).where(Ticket.created_at >= since, Ticket.status != "merged")
                )
            ).all()
        )
        clocks = await clocks_of(session, tickets, now)
        names = await names_of(session, tickets)
    tallies: dict[str, dict[str, _Tally]] = {"type": {}, "unit": {}, "severity": {}}
    risky: list[tuple[timedelta, Ticket]] = []
    for ticket in tickets:
        clock = clocks[ticket.id]
        kind = names.types.get(ticket.type_id)
        keys = {
            "type": (kind.code if kind else "?", kind.name if kind else "?"),
            "unit": (str(ticket.unit_id or 0), names.units.get(ticket.unit_id or 0, "未派单")),
            "severity": (ticket.severity, ticket.severity),
        }
        for dimension, (key, label) in keys.items():
            tally = tallies[dimension].setdefault(key, _Tally(label))
            tally.outcomes.add(sla.outcome(clock))
            tally.open += ticket.status in state.OPEN
            tally.response_breached += clock.response_breached
            tally.warning += clock.state == "warning"
            if clock.stopped:
                tally.resolved += 1
                tally.resolve_minutes += clock.resolve_used.total_seconds() / 60
        if ticket.status in state.OPEN and clock.state in ("warning", "breached"):
            risky.append((clock.resolve_left, ticket))
    risky.sort(key=lambda pair: pair[0])

    def rows(dimension: str) -> list[dict[str, Any]]:
        return [
            {
                "key": key,
                "label": t.label,
                "total": t.outcomes.total,
                "open": t.open,
                "breached": t.outcomes.counts["breached"] + t.outcomes.counts["open_overdue"],
                "response_breached": t.response_breached,
                "warning": t.warning,
                "met": t.outcomes.counts["met"],
                "outcomes": dict(t.outcomes.counts),
                "decided": t.outcomes.decided,
                "met_rate": None if t.outcomes.rate is None else round(t.outcomes.rate, 4),
                "avg_resolve_minutes": round(t.resolve_minutes / t.resolved, 1) if t.resolved else None,
            }
            for key, t in sorted(tallies[dimension].items(), key=lambda kv: -kv[1].outcomes.total)
        ]

    return {
        "days": days,
        "by_type": rows("type"),
        "by_unit": rows("unit"),
        "by_severity": rows("severity"),
        "at_risk": [out(t, names) for _, t in risky[:20]],
    }
