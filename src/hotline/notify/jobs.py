"""Scheduled notification work: rules on dates (every 5 minutes; each occasion once)."""

from __future__ import annotations

from typing import Any

import structlog

from hotline.core.context import Context
from hotline.core.jobs import job_handler
from hotline.notify import rules

log = structlog.get_logger(__name__)


@job_handler("notify.schedules")
async def schedules(ctx: Context, payload: dict[str, Any]) -> None:
    """Rules on dates whose time has come (17:00 the day before arrival, birthdays at 09:00…)."""
    queued = await rules.run_schedules(ctx)
    if queued:
        log.info("scheduled messages queued", messages=queued)
