"""Scheduled work of the tickets domain: the SLA sweep (warn before a breach, escalate on one),
voicemail → tickets, and the optional IMAP inbox."""

from __future__ import annotations

from typing import Any

import structlog

from hotline.core.context import Context
from hotline.core.jobs import job_handler
from hotline.tickets import deadlines, intake

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
