"""Scheduled work of the hotels domain."""

from __future__ import annotations

from typing import Any

import structlog

from hotline.core.context import Context
from hotline.core.jobs import job_handler
from hotline.hotels import groups, noshow

log = structlog.get_logger(__name__)


@job_handler("hotels.no_show_sweep")
async def no_show_sweep(ctx: Context, payload: dict[str, Any]) -> None:
    """Late guests become call tasks (every 15 minutes; set the cron to */30 for half-hourly)."""
    made = await noshow.sweep(ctx)
    if made:
        log.info("late guests to call", tasks=made)


@job_handler("hotels.release_groups")
async def release_groups(ctx: Context, payload: dict[str, Any]) -> None:
    """Group rooms without a name go back on sale after the release date."""
    released = await groups.release(ctx)
    if released:
        log.info("group rooms released", rooms=released)
