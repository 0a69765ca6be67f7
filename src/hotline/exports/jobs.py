"""Scheduled work of exports: files past their time removed, jobs of a stopped node failed."""

from __future__ import annotations

from typing import Any

import structlog

from hotline.core.context import Context
from hotline.core.jobs import job_handler
from hotline.exports import service

log = structlog.get_logger(__name__)
PURGE = "exports.purge"


@job_handler(PURGE)
async def purge(ctx: Context, payload: dict[str, Any]) -> None:
    gone = await service.purge_expired(ctx)
    log.info("expired exports removed", files=gone)
