"""Scheduled work of transcripts: after the minute's indexing and checks (recordings/jobs.py),
transcribe what is new, match rules that changed, drop what retention deleted."""

from __future__ import annotations

import structlog

from hotline.core.context import Context
from hotline.quality.speech import service

log = structlog.get_logger(__name__)


async def after_checks(ctx: Context) -> None:
    made = await service.transcribe_new(ctx)
    if made:
        log.info("recordings transcribed", recordings=made)
    matched = await service.match_pending(ctx)
    if matched:
        log.info("phrase rules matched", recordings=matched)
    await service.purge_deleted(ctx)
