"""Scheduled notification work: rules on dates (every 5 minutes; each occasion once); the
pictures and files of WeChat and WeCom messages are read by their own one-off jobs
(chat_media.py, `notify.chat_media`)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import structlog

from hotline.core import durable
from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.core.jobs import job_handler
from hotline.notify import chat_media, rules

log = structlog.get_logger(__name__)
__all__ = ["chat_media", "purge_events", "schedules"]


@job_handler("notify.schedules")
async def schedules(ctx: Context, payload: dict[str, Any]) -> None:
    """Rules on dates whose time has come (17:00 the day before arrival, birthdays at 09:00…)."""
    queued = await rules.run_schedules(ctx)
    if queued:
        log.info("scheduled messages queued", messages=queued)


@job_handler("notify.purge_events")
async def purge_events(ctx: Context, payload: dict[str, Any]) -> None:
    """Handled domain events older than 30 days are forgotten (the messages they made stay)."""
    async with ctx.write() as tx:
        purged = await durable.purge(tx.session, utcnow() - timedelta(days=30))
    if purged:
        log.info("old domain events purged", events=purged)
