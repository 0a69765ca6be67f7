"""Scheduled work of the reviews: sample the week just ended for every active plan (Monday
morning), and make final the scored evaluations whose agent let the deadline pass (hourly)."""

from __future__ import annotations

from typing import Any

import structlog

from hotline.core.context import Context
from hotline.core.jobs import job_handler
from hotline.quality.reviews import evaluations, plans

log = structlog.get_logger(__name__)


@job_handler("quality.sample_week")
async def sample_week(ctx: Context, payload: dict[str, Any]) -> None:
    for run in await plans.run_due(ctx):
        log.info("calls sampled for evaluation", plan=run.plan_id, week=str(run.week), assigned=run.assigned)


@job_handler("quality.close_overdue")
async def close_overdue(ctx: Context, payload: dict[str, Any]) -> None:
    closed = await evaluations.close_overdue(ctx)
    if closed:
        log.info("evaluations closed after the acknowledgement deadline", evaluations=closed)
