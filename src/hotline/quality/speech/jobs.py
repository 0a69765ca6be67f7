"""Scheduled work of transcripts, called by the recordings' jobs (recordings/jobs.py): after the
minute's indexing and checks, transcribe what is new and match rules that changed; after the daily
retention sweep, drop the transcripts of the recordings it deleted."""

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


async def after_retention(ctx: Context) -> None:
    dropped = 0
    while made := await service.purge_deleted(ctx):
        dropped += made
    if dropped:
        log.info("transcripts of deleted recordings dropped", recordings=dropped)
