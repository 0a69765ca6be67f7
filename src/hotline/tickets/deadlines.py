"""A stored ticket's SLA clock (tickets/sla.py does the counting): its policy, the working
calendar and the states it went through; and the sweep that warns before a breach and escalates
on one, each once per ticket."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.admin import directory
from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.core.permissions import Permission
from hotline.notify import inbox
from hotline.tickets import escalation, sla, state
from hotline.tickets.models import CalendarDay, SlaPolicy, Ticket, TicketStep
from hotline.tickets.records import load, remark
from hotline.tickets.schemas import SlaOut
from hotline.tickets.staff import members

DEFAULT_TARGETS = sla.Targets(timedelta(hours=4), timedelta(hours=27))
"""When no policy matches: 4 working hours to respond, three working days to resolve."""


async def calendar(session: AsyncSession, *, around_the_clock: bool = False) -> sla.Calendar:
    rows = await session.execute(select(CalendarDay.day, CalendarDay.kind))
    return sla.Calendar.of(((day, kind) for day, kind in rows), around_the_clock=around_the_clock)


def targets_of(policy: SlaPolicy) -> sla.Targets:
    return sla.Targets(
        timedelta(minutes=policy.response_minutes),
        timedelta(minutes=policy.resolve_minutes),
        policy.warn_percent,
    )


async def policy_for(session: AsyncSession, type_id: int, severity: str) -> tuple[sla.Targets, bool]:
    """The targets of the most specific policy (the type's, else every type's) and whether they
    count in business hours."""
    matching = select(SlaPolicy).where(
        SlaPolicy.severity == severity, or_(SlaPolicy.type_id == type_id, SlaPolicy.type_id.is_(None))
    )
    best = sorted((await session.scalars(matching)).all(), key=lambda p: p.type_id is None)
    if not best:
        return DEFAULT_TARGETS, True
    return targets_of(best[0]), best[0].business_hours


async def steps_of(session: AsyncSession, ticket_id: int) -> list[TicketStep]:
    query = select(TicketStep).where(TicketStep.ticket_id == ticket_id).order_by(TicketStep.id)
    return list((await session.scalars(query)).all())


def moves(steps: Sequence[TicketStep]) -> list[tuple[datetime, str]]:
    """The states a ticket entered, in order (steps that change nothing are left out)."""
    entered: list[tuple[datetime, str]] = []
    for step in steps:
        if not entered or step.after != entered[-1][1]:
            entered.append((step.at, step.after))
    return entered


async def sla_clock(
    session: AsyncSession, ticket: Ticket, now: datetime, steps: Sequence[TicketStep] | None = None
) -> tuple[sla.Clock, bool]:
    targets, business = await policy_for(session, ticket.type_id, ticket.severity)
    cal = await calendar(session, around_the_clock=not business)
    entered = moves(steps if steps is not None else await steps_of(session, ticket.id))
    if not entered:
        entered = [(ticket.created_at, ticket.status)]
    return sla.clock(cal, targets, entered, now, ticket.first_response_at), business


def sla_out(clock: sla.Clock, business: bool) -> SlaOut:
    def minutes(value: timedelta) -> int:
        return int(value.total_seconds() // 60)

    return SlaOut(
        state=clock.state,
        response_target_minutes=minutes(clock.response_target),
        response_used_minutes=minutes(clock.response_used),
        response_met=clock.response_met,
        response_breached=clock.response_breached,
        resolve_target_minutes=minutes(clock.resolve_target),
        resolve_used_minutes=minutes(clock.resolve_used),
        paused=clock.paused,
        due_at=clock.due_at,
        business_hours=business,
    )


async def refresh_due(session: AsyncSession, ticket: Ticket, now: datetime) -> None:
    await session.flush()
    clock, _ = await sla_clock(session, ticket, now)
    ticket.due_at = clock.due_at if clock.running else None


async def sla_sweep(ctx: Context, *, now: datetime | None = None) -> dict[str, int]:
    """Warn before a breach (the assignee, else the unit's staff) and escalate on a breach, each
    once per ticket; response breaches tell the unit's lead. Keeps `due_at` current."""
    now = now or utcnow()
    done = {"warned": 0, "breached": 0, "response": 0}
    async with ctx.read() as session:
        open_ones = select(Ticket.id).where(Ticket.status.in_(state.OPEN)).order_by(Ticket.id)
        ids = list((await session.scalars(open_ones)).all())
    for ticket_id in ids:
        async with ctx.write() as tx:
            ticket = await load(tx.session, ticket_id, lock=True)
            if ticket.status not in state.OPEN:
                continue
            clock, _ = await sla_clock(tx.session, ticket, now)
            ticket.due_at = clock.due_at if clock.running else None
            link = f"/tickets/{ticket.id}"
            if clock.state == "breached" and ticket.sla_breached_at is None:
                ticket.sla_breached_at = now
                if ticket.sla_warned_at is None:
                    ticket.sla_warned_at = now
                await escalation.escalate(tx, ticket, "超过处理时限（SLA）自动升级", None, now)
                done["breached"] += 1
            elif clock.state in ("warning", "breached") and ticket.sla_warned_at is None:
                ticket.sla_warned_at = now
                if ticket.assignee_id:
                    people = [ticket.assignee_id]
                elif ticket.unit_id:
                    people = await members(tx.session, ticket.unit_id)
                else:
                    people = await directory.holders_of(tx.session, Permission.TICKETS_DISPATCH)
                left = int(clock.resolve_left.total_seconds() // 60)
                await inbox.tell(
                    tx,
                    people,
                    "sla",
                    f"即将超时：{ticket.number} {ticket.title}",
                    body=f"剩余 {left} 分钟（工作时间）",
                    link=link,
                )
                remark(tx, ticket, "sla_warning", None, "即将超过处理时限，已提醒", now)
                done["warned"] += 1
            if clock.response_breached and not clock.response_met and ticket.response_breached_at is None:
                ticket.response_breached_at = now
                leads = await escalation.targets(tx.session, ticket, 1)
                await inbox.tell(tx, leads, "sla", f"响应超时：{ticket.number} {ticket.title}", link=link)
                done["response"] += 1
    return done
