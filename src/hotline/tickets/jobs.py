"""Scheduled work of the tickets domain: the SLA sweep (warn before a breach, escalate on one),
voicemail → tickets, and the optional IMAP inbox."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import select

from hotline.core.context import Context
from hotline.core.events import Event
from hotline.core.jobs import job_handler
from hotline.core.topics import register_source
from hotline.tickets import deadlines, intake, records
from hotline.tickets.events import TicketNotice
from hotline.tickets.models import Ticket, TicketType, Unit

log = structlog.get_logger(__name__)


@job_handler("tickets.sla_sweep")
async def sla_sweep(ctx: Context, payload: dict[str, Any]) -> None:
    done = await deadlines.sla_sweep(ctx)
    if any(done.values()):
        log.info("ticket SLAs swept", **done)


@job_handler("tickets.voicemail")
async def voicemail(ctx: Context, payload: dict[str, Any]) -> None:
    made = await intake.voicemail(ctx)
    if made:
        log.info("voicemail messages became tickets", tickets=made)


@job_handler("tickets.mailbox")
async def mailbox(ctx: Context, payload: dict[str, Any]) -> None:
    made = await intake.mailbox(ctx)
    if made:
        log.info("e-mails became tickets", tickets=made)


async def closed_complaints(ctx: Context, day: date) -> list[Event]:
    """Complaints closed on `day` (the site's day): the customers to call back about the outcome
    (seed 003: complaint outcomes told by phone) or to thank."""
    zone = ZoneInfo(ctx.settings.default_timezone)
    start = datetime.combine(day, time(0), zone)
    async with ctx.read() as session:
        rows = (
            await session.execute(
                select(Ticket, TicketType)
                .join(TicketType, TicketType.id == Ticket.type_id)
                .where(
                    TicketType.kind == "complaint",
                    Ticket.closed_at >= start,
                    Ticket.closed_at < start + timedelta(days=1),
                )
                .order_by(Ticket.id)
            )
        ).all()
        found: list[Event] = []
        for ticket, kind in rows:
            unit = await session.get(Unit, ticket.unit_id) if ticket.unit_id else None
            found.append(await records.notice(session, ticket, kind, "closed", unit.name if unit else ""))
    return found


register_source("tickets.complaint_closed", TicketNotice, "投诉结案日", closed_complaints)
