"""Scheduled work of the recordings library: indexing (every minute) and retention (daily)."""

from __future__ import annotations

from typing import Any

import structlog

from hotline.core.context import Context
from hotline.core.jobs import job_handler
from hotline.quality.recordings import checking, indexer, retention
from hotline.quality.speech import jobs as speech_jobs

log = structlog.get_logger(__name__)


@job_handler("quality.index_recordings")
async def index_recordings(ctx: Context, payload: dict[str, Any]) -> None:
    made = await indexer.index_new(ctx)
    if made:
        log.info("recordings indexed", recordings=made)
    checked = await checking.check_new(ctx)
    if checked:
        log.info("recordings checked", recordings=checked)
    await speech_jobs.after_checks(ctx)


@job_handler("quality.retention")
async def retention_sweep(ctx: Context, payload: dict[str, Any]) -> None:
    deleted = await retention.sweep(ctx)
    if deleted:
        log.info("recordings past their retention deleted", recordings=deleted)
    await speech_jobs.after_retention(ctx)
