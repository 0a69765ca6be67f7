"""Scheduled custom reports mailed when due (every 5 minutes; mailing.py)."""

from __future__ import annotations

from typing import Any

import structlog

from hotline.core.context import Context
from hotline.core.jobs import job_handler
from hotline.reports.custom import mailing

log = structlog.get_logger(__name__)


@job_handler("reports.custom_due")
async def custom_due(ctx: Context, payload: dict[str, Any]) -> None:
    sent = await mailing.send_due(ctx)
    if sent:
        log.info("custom reports mailed", reports=sent)
