"""Scheduled work of the customers domain."""

from __future__ import annotations

from typing import Any

import structlog

from hotline.core.context import Context
from hotline.core.jobs import job_handler
from hotline.crm import loyalty

log = structlog.get_logger(__name__)
EXPIRE_POINTS = "crm.expire_points"


@job_handler(EXPIRE_POINTS)
async def expire_points(ctx: Context, payload: dict[str, Any]) -> None:
    """Points earned more than two years ago and not redeemed expire (one ledger line each)."""
    members = await loyalty.expire(ctx)
    log.info("points expired", members=members)
