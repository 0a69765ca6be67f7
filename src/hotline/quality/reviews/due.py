"""The evaluations waiting on someone, for their home page: the ones a QA evaluator is to score,
the appeals they may review, and an agent's scored evaluations to acknowledge or appeal."""

from __future__ import annotations

from sqlalchemy import ColumnElement, func, select

from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.core.permissions import Permission
from hotline.quality.reviews.evaluations import context_of, rows_of
from hotline.quality.reviews.models import Evaluation
from hotline.quality.reviews.schemas import EvaluationsDue

P = Permission


async def to_score(ctx: Context, *, shown: int = 5) -> EvaluationsDue:
    """The evaluations assigned to the caller to score (assigned or in progress), by deadline."""
    ctx.require(P.QA_READ)
    mine = (Evaluation.evaluator_id == (ctx.actor.user_id or 0)) & Evaluation.status.in_(
        ("assigned", "in_progress")
    )
    return await _due(ctx, mine, shown)


async def appeals_to_review(ctx: Context) -> int | None:
    """How many appeals wait for a second review the caller may give (not as their first
    evaluator); None for someone who reviews none (qa.read alone)."""
    ctx.require(P.QA_READ)
    if not (ctx.actor.can(P.QA_EVALUATE) or ctx.actor.can(P.QA_MANAGE)):
        return None
    me = ctx.actor.user_id or 0
    theirs = (Evaluation.status == "appealed") & (
        Evaluation.evaluator_id.is_(None) | (Evaluation.evaluator_id != me)
    )
    async with ctx.read() as session:
        return int(
            await session.scalar(select(func.count(Evaluation.id)).where(theirs, Evaluation.agent_id != me))
            or 0
        )


async def awaiting_acknowledgement(ctx: Context, *, shown: int = 5) -> EvaluationsDue:
    """The caller's own scored evaluations, waiting for them to acknowledge or appeal, by deadline."""
    ctx.require(P.CALLS_HANDLE)
    mine = (Evaluation.agent_id == (ctx.actor.user_id or 0)) & (Evaluation.status == "scored")
    return await _due(ctx, mine, shown)


async def _due(ctx: Context, which: ColumnElement[bool], shown: int) -> EvaluationsDue:
    now = utcnow()
    async with ctx.read() as session:
        count = int(await session.scalar(select(func.count(Evaluation.id)).where(which)) or 0)
        late = int(
            await session.scalar(select(func.count(Evaluation.id)).where(which, Evaluation.due_at < now)) or 0
        )
        found = list(
            await session.scalars(
                select(Evaluation)
                .where(which)
                .order_by(Evaluation.due_at.is_(None), Evaluation.due_at, Evaluation.id)
                .limit(shown)
            )
        )
        names, cards = await context_of(session, found)
    return EvaluationsDue(count=count, overdue=late, next=rows_of(found, names, cards, now))
