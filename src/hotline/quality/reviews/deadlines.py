"""Days allowed for each step of an evaluation (one row of `qa_deadlines`): scoring, the agent's
answer, the second review; each step sets the evaluation's `due_at` from these."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.context import Context
from hotline.core.permissions import Permission
from hotline.quality.reviews.models import ReviewDeadlines
from hotline.quality.reviews.schemas import DeadlinesIn, DeadlinesOut


async def of(session: AsyncSession) -> ReviewDeadlines:
    row = await session.scalar(select(ReviewDeadlines).limit(1))
    return row if row is not None else ReviewDeadlines(score_days=3, acknowledge_days=3, review_days=5)


async def get(ctx: Context) -> DeadlinesOut:
    ctx.require(Permission.QA_READ)
    async with ctx.read() as session:
        return DeadlinesOut.model_validate(await of(session))


async def put(ctx: Context, data: DeadlinesIn) -> DeadlinesOut:
    ctx.require(Permission.QA_MANAGE)
    async with ctx.write() as tx:
        row = await tx.session.scalar(select(ReviewDeadlines).limit(1))
        if row is None:
            row = ReviewDeadlines()
            tx.session.add(row)
        row.score_days, row.acknowledge_days, row.review_days = (
            data.score_days, data.acknowledge_days, data.review_days,
        )  # fmt: skip
        await tx.session.flush()
        return DeadlinesOut.model_validate(row)


def due(status: str, days: ReviewDeadlines, now: datetime) -> datetime | None:
    step_days = {
        "assigned": days.score_days, "in_progress": days.score_days,
        "scored": days.acknowledge_days, "appealed": days.review_days,
    }.get(status)  # fmt: skip
    return None if step_days is None else now + timedelta(days=step_days)
