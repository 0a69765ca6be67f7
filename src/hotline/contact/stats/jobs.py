"""The rollup as a built-in job (every minute): where no voice node rolls every few seconds, the
figures still follow the log within a minute."""

from __future__ import annotations

from typing import Any

import structlog

from hotline.contact.stats import rollup
from hotline.core.context import Context
from hotline.core.jobs import job_handler

log = structlog.get_logger(__name__)


@job_handler("contact.stats_rollup")
async def stats_rollup(ctx: Context, payload: dict[str, Any]) -> None:
    taken = await rollup.roll(ctx)
    if taken:
        log.info("call figures rolled up", lines=taken)
