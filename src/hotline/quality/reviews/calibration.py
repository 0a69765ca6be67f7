"""Calibration (SPEC Q2): several evaluators score the same call blind — none sees another's
answers, nor who scored what, until the session closes — and the spread (highest less lowest) per
item and overall is measured against the target agreement (10 points by default). The result is
kept with the session."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.admin import directory
from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.core.permissions import Permission
from hotline.quality.reviews import scorecards
from hotline.quality.reviews.errors import CalibrationRefused, ReviewNotFound
from hotline.quality.reviews.evaluations import _answers, _stored, staff_labels
from hotline.quality.reviews.models import CalibrationScore, CalibrationSession
from hotline.quality.reviews.schemas import (
    AnswerOut,
    CalibrationIn,
    CalibrationOut,
    CalibrationResult,
    CalibrationScoreIn,
    SpreadOut,
)
from hotline.quality.reviews.scoring import score

P = Permission


def spread(
    scores: dict[int, Decimal],
    per_item: dict[int, dict[str, Decimal | None]],
    texts: dict[str, str],
    target: Decimal,
) -> CalibrationResult:
    """The agreement of a closed session, pure: per item over the evaluators who found it
    applicable, and overall."""

    def one(key: str, values: list[Decimal], text: str = "") -> SpreadOut:
        if not values:
            return SpreadOut(key=key, text=text, low=None, high=None, spread=None, agreed=True)
        low, high = min(values), max(values)
        return SpreadOut(
            key=key, text=text, low=low, high=high, spread=high - low, agreed=high - low <= target
        )

    items = [
        one(key, [Decimal(str(v)) for e in per_item.values() if (v := e.get(key)) is not None], text)
        for key, text in texts.items()
    ]
    overall = one("overall", list(scores.values()))
    return CalibrationResult(
        overall=overall, items=items, agreed=overall.agreed and all(i.agreed for i in items), scores=scores
    )


async def _row(session: AsyncSession, session_id: int) -> CalibrationSession:
    found = await session.get(CalibrationSession, session_id)
    if found is None:
        raise ReviewNotFound(
            f"No calibration session {session_id}",
            field="session_id",
            reason="no-calibration",
            params={"session_id": session_id},
        )
    return found


async def create(ctx: Context, data: CalibrationIn) -> CalibrationOut:
    ctx.require(P.QA_MANAGE)
    async with ctx.write() as tx:
        card = await scorecards.get_row(tx.session, data.scorecard_id)
        if card.status != "published":
            raise CalibrationRefused(
                "Calibrate on a published scorecard version",
                field="body.scorecard_id",
                reason="evaluate-published-scorecard",
            )
        if len(set(data.evaluators)) != len(data.evaluators):
            raise CalibrationRefused(
                "Name each evaluator once", field="body.evaluators", reason="evaluator-named-twice"
            )
        known = await directory.existing(
            tx.session, [*data.evaluators, *([data.agent_id] if data.agent_id else [])]
        )
        if data.agent_id is not None and data.agent_id not in known:
            raise ReviewNotFound(
                f"No user {data.agent_id}", field="body.agent_id", reason="no-user-id",
                params={"user_id": data.agent_id},
            )  # fmt: skip
        for n, user_id in enumerate(data.evaluators):
            if user_id not in known:
                raise ReviewNotFound(
                    f"No user {user_id}", field=f"body.evaluators.{n}", reason="no-user-id",
                    params={"user_id": user_id},
                )  # fmt: skip
        row = CalibrationSession(**data.model_dump(), created_by=ctx.actor.user_id, status="open")
        tx.session.add(row)
        await tx.session.flush()
        session_id = row.id
    return await get(ctx, session_id)


async def get(ctx: Context, session_id: int) -> CalibrationOut:
    """A session as the caller may see it: while open, who has scored and the caller's own
    answers; once closed, everyone's scores and the spreads."""
    ctx.require(P.QA_READ)
    async with ctx.read() as session:
        row = await _row(session, session_id)
        scores = list(
            await session.scalars(select(CalibrationScore).where(CalibrationScore.session_id == row.id))
        )
        names = await staff_labels(session, row.evaluators)
    out = CalibrationOut.model_validate(row)
    out.evaluator_names = names
    out.submitted = sorted(s.evaluator_id for s in scores)
    own = next((s for s in scores if s.evaluator_id == ctx.actor.user_id), None)
    if own is not None:
        out.mine = {k: AnswerOut(**v) for k, v in own.answers.items()}
    return out


async def listing(ctx: Context) -> list[CalibrationOut]:
    ctx.require(P.QA_READ)
    async with ctx.read() as session:
        ids = list(
            await session.scalars(select(CalibrationSession.id).order_by(CalibrationSession.id.desc()))
        )
    return [await get(ctx, session_id) for session_id in ids]


async def submit(ctx: Context, session_id: int, data: CalibrationScoreIn) -> CalibrationOut:
    """An evaluator of the session scores the call (again, while it is open: the last answers count)."""
    ctx.require(P.QA_EVALUATE)
    me = ctx.actor.user_id
    async with ctx.write() as tx:
        row = await _row(tx.session, session_id)
        if row.status != "open":
            raise CalibrationRefused("The session is closed", reason="calibration-closed")
        if me not in row.evaluators:
            raise CalibrationRefused(
                "Only the evaluators named for the session score in it", reason="not-calibration-evaluator"
            )
        card = await scorecards.get_row(tx.session, row.scorecard_id)
        answers = _answers(data.answers)
        result = score(scorecards.items_of(card), answers)
        mine = await tx.session.scalar(
            select(CalibrationScore).where(
                CalibrationScore.session_id == row.id, CalibrationScore.evaluator_id == me
            )
        )
        if mine is None:
            mine = CalibrationScore(session_id=row.id, evaluator_id=me)
            tx.session.add(mine)
        mine.answers, mine.score, mine.submitted_at = _stored(answers), result.score, utcnow()
        mine.per_item = {k: (str(v) if v is not None else None) for k, v in result.per_item.items()}
    return await get(ctx, session_id)


async def close(ctx: Context, session_id: int) -> CalibrationOut:
    """Close the session once at least two evaluators scored: the spreads are computed and kept."""
    ctx.require(P.QA_MANAGE)
    async with ctx.write() as tx:
        row = await _row(tx.session, session_id)
        if row.status != "open":
            raise CalibrationRefused("The session is closed", reason="calibration-closed")
        scores = list(
            await tx.session.scalars(select(CalibrationScore).where(CalibrationScore.session_id == row.id))
        )
        if len(scores) < 2:
            raise CalibrationRefused(
                "At least two evaluators score before the session closes", reason="calibration-needs-two"
            )
        card = await scorecards.get_row(tx.session, row.scorecard_id)
        result = spread(
            {s.evaluator_id: s.score for s in scores},
            {
                s.evaluator_id: {k: (Decimal(v) if v is not None else None) for k, v in s.per_item.items()}
                for s in scores
            },
            scorecards.item_texts(card),
            row.target_spread,
        )
        row.result = result.model_dump(mode="json")
        row.status, row.closed_at = "closed", utcnow()
    return await get(ctx, session_id)


async def answers_of(ctx: Context, session_id: int) -> dict[int, dict[str, AnswerOut]]:
    """Every evaluator's answers, once the session is closed (blind until then)."""
    ctx.require(P.QA_READ)
    async with ctx.read() as session:
        row = await _row(session, session_id)
        if row.status != "closed":
            raise CalibrationRefused(
                "The answers stay blind until the session closes", reason="calibration-blind"
            )
        scores = list(
            await session.scalars(select(CalibrationScore).where(CalibrationScore.session_id == row.id))
        )
    return {s.evaluator_id: {k: AnswerOut(**v) for k, v in s.answers.items()} for s in scores}
