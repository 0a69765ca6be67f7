"""Evaluations (SPEC Q2, seed 003's 质检部工作流程): a call scored on a scorecard version by its
evaluator, acknowledged or appealed (申诉) by the agent, reviewed a second time by someone else,
final. Every step is a row of `qa_evaluation_steps` (and the audit log); each step has a deadline
in days (`qa_deadlines`); an agent sees only their own scored evaluations and never the comments
marked internal."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.admin import directory
from hotline.core.clock import utcnow
from hotline.core.context import Context, Tx
from hotline.core.lifecycle import Step
from hotline.core.permissions import Permission
from hotline.quality.recordings import service as recordings
from hotline.quality.reviews import deadlines, scorecards, state
from hotline.quality.reviews.access import AGENT_SEES
from hotline.quality.reviews.errors import AnswersInvalid, EvaluationRefused, ReviewNotFound
from hotline.quality.reviews.models import (
    Evaluation,
    EvaluationComment,
    EvaluationStep,
    Scorecard,
)
from hotline.quality.reviews.schemas import (
    AnswerIn,
    CommentIn,
    CommentOut,
    EvaluationIn,
    EvaluationMoveIn,
    EvaluationOut,
    EvaluationPage,
    EvaluationRow,
    EvaluationStepOut,
    ScorecardOut,
)
from hotline.quality.reviews.scoring import Answer, check, score, so_far

P = Permission
STEP_PERMISSION = {
    **dict.fromkeys(state.EVALUATOR_STEPS, P.QA_EVALUATE),
    **dict.fromkeys(state.AGENT_STEPS, P.CALLS_HANDLE),
    **dict.fromkeys(state.REVIEW_STEPS, P.QA_READ),  # and qa.evaluate or qa.manage: state.py checks
    "reassign": P.QA_MANAGE,
    "close": P.QA_MANAGE,
}


# ------------------------------------------------------------------------------- assignment
async def _check_people(session: AsyncSession, agent_id: int, evaluator_id: int) -> None:
    people = await directory.people(session, (agent_id, evaluator_id))
    for field, user_id in (("body.agent_id", agent_id), ("body.evaluator_id", evaluator_id)):
        if user_id not in people:
            raise ReviewNotFound(
                f"No user {user_id}", field=field, reason="no-user-id", params={"user_id": user_id}
            )
    if evaluator_id not in await directory.holders_of(session, P.QA_EVALUATE):
        raise EvaluationRefused(
            "The evaluator must hold the permission to score calls (质检评分)",
            field="body.evaluator_id",
            reason="evaluator-cannot-score",
        )
    if agent_id == evaluator_id:
        raise EvaluationRefused(
            "An agent does not evaluate their own call",
            field="body.evaluator_id",
            reason="agent-not-own-evaluator",
        )


async def add_assigned(
    tx: Tx,
    data: EvaluationIn,
    *,
    by: int | None,
    plan_id: int | None = None,
    picked_for: str = "manual",
) -> Evaluation:
    """A new evaluation, assigned (the caller checked the people and the scorecard)."""
    now = utcnow()
    days = await deadlines.of(tx.session)
    evaluation = Evaluation(
        call_id=data.call_id, recording_ids=list(data.recording_ids), agent_id=data.agent_id,
        evaluator_id=data.evaluator_id, scorecard_id=data.scorecard_id, plan_id=plan_id,
        picked_for=picked_for, status="assigned", answers={}, call_started_at=data.call_started_at,
        queue=data.queue, direction=data.direction, seconds=data.seconds,
        due_at=deadlines.due("assigned", days, now),
    )  # fmt: skip
    tx.session.add(evaluation)
    await tx.session.flush()
    step = EvaluationStep(
        evaluation_id=evaluation.id, at=now, action="assign", before="", after="assigned", by=by
    )
    tx.session.add(step)
    return evaluation


async def assign(ctx: Context, data: EvaluationIn) -> EvaluationOut:
    """Assign one call for evaluation by hand (a complaint someone asked about, a call heard)."""
    ctx.require(P.QA_MANAGE)
    async with ctx.write() as tx:
        card = await scorecards.get_row(tx.session, data.scorecard_id)
        if card.status != "published":
            raise EvaluationRefused(
                "Evaluate on a published scorecard version",
                field="body.scorecard_id",
                reason="evaluate-published-scorecard",
            )
        await _check_people(tx.session, data.agent_id, data.evaluator_id)
        evaluation = await add_assigned(tx, data, by=ctx.actor.user_id)
    return await get(ctx, evaluation.id)


# ---------------------------------------------------------------------------------- reading
async def _get_row(session: AsyncSession, evaluation_id: int) -> Evaluation:
    evaluation = await session.get(Evaluation, evaluation_id)
    if evaluation is None:
        raise ReviewNotFound(
            f"No evaluation {evaluation_id}",
            field="evaluation_id",
            reason="no-evaluation",
            params={"evaluation_id": evaluation_id},
        )
    return evaluation


def _visible(ctx: Context, evaluation: Evaluation, as_agent: bool) -> bool:
    """QA reads every evaluation; an agent (or anyone reading as the agent, on /my) their own, once scored."""
    if not as_agent and ctx.actor.can(P.QA_READ):
        return True
    return evaluation.agent_id == ctx.actor.user_id and evaluation.status in AGENT_SEES


def rows_of(
    evaluations: Iterable[Evaluation], names: dict[int, str], cards: dict[int, Scorecard], now: datetime
) -> list[EvaluationRow]:
    out = []
    for evaluation in evaluations:
        row = EvaluationRow.model_validate(evaluation)
        row.agent_name = names.get(evaluation.agent_id, "")
        row.evaluator_name = names.get(evaluation.evaluator_id or 0, "")
        row.reviewer_name = names.get(evaluation.reviewer_id or 0, "")
        card = cards.get(evaluation.scorecard_id)
        if card is not None:
            row.scorecard_name, row.scorecard_version = card.name, card.version
        row.overdue = (
            evaluation.status in state.OPEN and evaluation.due_at is not None and evaluation.due_at < now
        )
        out.append(row)
    return out


async def staff_labels(session: AsyncSession, user_ids: Iterable[int | None]) -> dict[int, str]:
    """Staff as the call log names them: "001 陈晓" (work number and name)."""
    return {user_id: person.label for user_id, person in (await directory.people(session, user_ids)).items()}


async def context_of(
    session: AsyncSession, evaluations: list[Evaluation]
) -> tuple[dict[int, str], dict[int, Scorecard]]:
    ids = {e.agent_id for e in evaluations} | {e.evaluator_id or 0 for e in evaluations}
    ids |= {e.reviewer_id or 0 for e in evaluations}
    people = await directory.people(session, ids)
    names = {user_id: person.label for user_id, person in people.items()}
    card_ids = {e.scorecard_id for e in evaluations}
    cards = {c.id: c for c in await session.scalars(select(Scorecard).where(Scorecard.id.in_(card_ids)))}
    return names, cards


async def get(ctx: Context, evaluation_id: int, *, as_agent: bool = False) -> EvaluationOut:
    """One evaluation with its scorecard, answers, comments, steps and the caller's actions; read
    `as_agent`, only the caller's own scored ones, without internal comments."""
    ctx.require(P.CALLS_HANDLE if as_agent else P.QA_READ)
    async with ctx.read() as session:
        evaluation = await _get_row(session, evaluation_id)
        if not _visible(ctx, evaluation, as_agent):
            raise ReviewNotFound(
                f"No evaluation {evaluation_id}",
                field="evaluation_id",
                reason="no-evaluation",
                params={"evaluation_id": evaluation_id},
            )
        names, cards = await context_of(session, [evaluation])
        comments = list(
            await session.scalars(
                select(EvaluationComment)
                .where(EvaluationComment.evaluation_id == evaluation.id)
                .order_by(EvaluationComment.at_second, EvaluationComment.id)
            )
        )
        steps = list(
            await session.scalars(
                select(EvaluationStep)
                .where(EvaluationStep.evaluation_id == evaluation.id)
                .order_by(EvaluationStep.id)
            )
        )
        in_use = int(
            await session.scalar(
                select(func.count(Evaluation.id)).where(Evaluation.scorecard_id == evaluation.scorecard_id)
            )
            or 0
        )
    if as_agent:
        comments = [c for c in comments if not c.internal]
    more = await directory.staff(
        ctx, {c.author_id for c in comments if c.author_id} | {s.by for s in steps if s.by}
    )
    names |= {user_id: person.label for user_id, person in more.items()}
    row = rows_of([evaluation], names, cards, utcnow())[0]
    card = ScorecardOut.model_validate(cards[evaluation.scorecard_id])
    card.in_use = in_use
    draft = (
        None
        if as_agent
        else so_far(scorecards.items_of(cards[evaluation.scorecard_id]), _answers(evaluation.answers))
    )
    return EvaluationOut(
        **row.model_dump(),
        answers=evaluation.answers,
        coaching=evaluation.coaching,
        appeal_reason=evaluation.appeal_reason,
        review_note=evaluation.review_note,
        scorecard=card,
        comments=[
            CommentOut.model_validate(c).model_copy(update={"author": names.get(c.author_id or 0, "")})
            for c in comments
        ],
        steps=[
            EvaluationStepOut.model_validate(s).model_copy(update={"by_name": names.get(s.by or 0, "")})
            for s in steps
        ],
        actions=[a for a in _actions(ctx, evaluation) if not as_agent or a in state.AGENT_STEPS],
        draft_score=draft.score if draft else None,
        draft_auto_failed=bool(draft and draft.auto_failed),
    )


def _snapshot(evaluation: Evaluation) -> state.Snapshot:
    return state.Snapshot(
        status=evaluation.status, agent_id=evaluation.agent_id, evaluator_id=evaluation.evaluator_id,
        reviewer_id=evaluation.reviewer_id, appealed=bool(evaluation.appeal_reason),
        outcome=evaluation.outcome,
    )  # fmt: skip


def _actions(ctx: Context, evaluation: Evaluation) -> list[str]:
    me = ctx.actor
    if me.via == "system":
        return []
    found = state.actions(
        _snapshot(evaluation), me.user_id, manages=me.can(P.QA_MANAGE), evaluates=me.can(P.QA_EVALUATE)
    )
    return [a for a in found if a != "close" and me.can(STEP_PERMISSION[a])]


async def listing(
    ctx: Context,
    *,
    status: str | None = None,
    agent_id: int | None = None,
    evaluator_id: int | None = None,
    call_id: str | None = None,
    overdue: bool | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> EvaluationPage:
    """Evaluations, newest first, filtered (QA's lists: mine to score, overdue, per agent)."""
    ctx.require(P.QA_READ)
    return await _page(
        ctx, status=status, agent_id=agent_id, evaluator_id=evaluator_id, call_id=call_id,
        overdue=overdue, since=since, until=until, limit=limit, offset=offset,
    )  # fmt: skip


async def mine(
    ctx: Context, *, status: str | None = None, limit: int = 50, offset: int = 0
) -> EvaluationPage:
    """The caller's own evaluations as the agent evaluated: scored ones only."""
    ctx.require(P.CALLS_HANDLE)
    return await _page(ctx, status=status, agent_id=ctx.actor.user_id or 0, agent_view=True, limit=limit,
                       offset=offset)  # fmt: skip


async def _page(
    ctx: Context,
    *,
    status: str | None = None,
    agent_id: int | None = None,
    evaluator_id: int | None = None,
    call_id: str | None = None,
    overdue: bool | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    agent_view: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> EvaluationPage:
    now = utcnow()
    where: list[ColumnElement[bool]] = []
    if status is not None:
        where.append(Evaluation.status == status)
    if agent_view:
        where.append(Evaluation.status.in_(AGENT_SEES))
    if agent_id is not None:
        where.append(Evaluation.agent_id == agent_id)
    if evaluator_id is not None:
        where.append(Evaluation.evaluator_id == evaluator_id)
    if call_id is not None:
        where.append(Evaluation.call_id == call_id)
    if overdue is not None:
        late = Evaluation.status.in_(state.OPEN) & (Evaluation.due_at < now)
        where.append(late if overdue else ~late)
    if since is not None:
        where.append(Evaluation.created_at >= since)
    if until is not None:
        where.append(Evaluation.created_at < until)
    async with ctx.read() as session:
        total = int(await session.scalar(select(func.count(Evaluation.id)).where(*where)) or 0)
        found = list(
            await session.scalars(
                select(Evaluation).where(*where).order_by(Evaluation.id.desc()).limit(limit).offset(offset)
            )
        )
        names, cards = await context_of(session, found)
    return EvaluationPage(items=rows_of(found, names, cards, now), total=total)


# ------------------------------------------------------------------------------------- steps
def _answers(raw: dict[str, AnswerIn] | dict[str, Any]) -> dict[str, Answer]:
    out = {}
    for key, value in raw.items():
        data = value.model_dump() if isinstance(value, AnswerIn) else value
        out[key] = Answer(data.get("value"), bool(data.get("na", False)))
    return out


def _stored(answers: dict[str, Answer]) -> dict[str, Any]:
    return {key: {"value": a.value, "na": a.na} for key, a in answers.items()}


async def move(
    ctx: Context, evaluation_id: int, data: EvaluationMoveIn, *, as_agent: bool = False
) -> EvaluationOut:
    """Take one step of the flow (state.py): check the step and what it carries, then record it;
    `as_agent` (the agent's own page) takes only the agent's steps."""
    if as_agent and data.action not in state.AGENT_STEPS:
        raise EvaluationRefused(
            "The agent acknowledges or appeals; the other steps are QA's",
            field="body.action",
            reason="agent-acknowledges-or-appeals",
        )
    permission = STEP_PERMISSION[data.action]
    if data.action in state.REVIEW_STEPS and not (ctx.actor.can(P.QA_EVALUATE) or ctx.actor.can(P.QA_MANAGE)):
        permission = P.QA_EVALUATE
    ctx.require(permission)
    me = ctx.actor.user_id if ctx.actor.via != "system" else None
    async with ctx.write() as tx:
        evaluation = await _get_row(tx.session, evaluation_id)
        if not _visible(ctx, evaluation, as_agent or not ctx.actor.can(P.QA_READ)):
            raise ReviewNotFound(
                f"No evaluation {evaluation_id}",
                field="evaluation_id",
                reason="no-evaluation",
                params={"evaluation_id": evaluation_id},
            )
        nxt, step = state.apply(
            _snapshot(evaluation),
            state.Move(
                data.action, me, manages=ctx.actor.can(P.QA_MANAGE), evaluates=ctx.actor.can(P.QA_EVALUATE),
                reason=data.reason, evaluator_id=data.evaluator_id,
            ),
        )  # fmt: skip
        card = await scorecards.get_row(tx.session, evaluation.scorecard_id)
        items = scorecards.items_of(card)
        now = utcnow()
        if data.action == "reassign" and data.evaluator_id is not None:
            await _check_people(tx.session, evaluation.agent_id, data.evaluator_id)
        if data.action in ("save", "submit", "change"):
            if data.answers is None and data.action != "save":
                raise AnswersInvalid(
                    "Send the answers to every item", field="body.answers", reason="send-answers"
                )
            answers = {**_answers(evaluation.answers), **_answers(data.answers or {})}
            if data.action == "change":
                answers = _answers(data.answers or {})
            if data.action == "save":
                check(items, answers, complete=False)
            else:
                result = score(items, answers)
                if data.action == "change":
                    evaluation.first_score = evaluation.score
                evaluation.score, evaluation.auto_failed = result.score, result.auto_failed
                evaluation.scored_at = now
                await recordings.note_qa_score(
                    tx.session, evaluation.call_id, evaluation.agent_id, float(result.score)
                )
            evaluation.answers = _stored(answers)
        if data.coaching is not None:
            if data.action not in ("save", "submit", "change"):
                raise EvaluationRefused(
                    "Coaching notes are written while scoring or changing the score",
                    field="body.coaching",
                    reason="coaching-while-scoring",
                )
            evaluation.coaching = data.coaching
        if data.action == "appeal":
            evaluation.appeal_reason = data.reason.strip()
        if data.action in state.REVIEW_STEPS:
            evaluation.review_note = data.reason.strip()
        if nxt.status != evaluation.status or data.action == "reassign":
            evaluation.due_at = deadlines.due(nxt.status, await deadlines.of(tx.session), now)
        if nxt.status == "final":
            evaluation.finalised_at = now
        evaluation.status, evaluation.evaluator_id = nxt.status, nxt.evaluator_id
        evaluation.reviewer_id, evaluation.outcome = nxt.reviewer_id, nxt.outcome
        if data.action != "save":  # a saved draft is not a step of the flow
            row = EvaluationStep(evaluation_id=evaluation.id, at=now)
            row.record(state_step(step), step.note)
            tx.session.add(row)
    return await get(ctx, evaluation_id, as_agent=as_agent)


def state_step(step: state.Step) -> Step[str]:
    return Step(step.action, step.before, step.after, step.by)


async def comment(ctx: Context, evaluation_id: int, data: CommentIn) -> CommentOut:
    """A comment pinned to a moment of the recording (and maybe an item) by QA."""
    ctx.require(P.QA_EVALUATE)
    async with ctx.write() as tx:
        evaluation = await _get_row(tx.session, evaluation_id)
        if evaluation.status == "final":
            raise EvaluationRefused(
                "A final evaluation does not change: no more comments", reason="final-evaluation-unchanged"
            )
        if data.item_key:
            card = await scorecards.get_row(tx.session, evaluation.scorecard_id)
            if data.item_key not in scorecards.item_texts(card):
                raise AnswersInvalid(
                    f"The scorecard has no item {data.item_key!r}",
                    field="body.item_key",
                    reason="scorecard-no-item",
                    params={"key": data.item_key},
                )
        row = EvaluationComment(
            evaluation_id=evaluation.id, author_id=ctx.actor.user_id, at_second=data.at_second,
            item_key=data.item_key, text=data.text, internal=data.internal,
        )  # fmt: skip
        tx.session.add(row)
        await tx.session.flush()
        out = CommentOut.model_validate(row)
    out.author = ctx.actor.display_name
    return out


async def close_overdue(ctx: Context) -> int:
    """Scored evaluations whose agent let the acknowledgement deadline pass become final
    (outcome `closed`); a job runs this. Returns how many."""
    ctx.require(P.QA_MANAGE)
    async with ctx.read() as session:
        late = list(
            await session.scalars(
                select(Evaluation.id).where(Evaluation.status == "scored", Evaluation.due_at < utcnow())
            )
        )
    for evaluation_id in late:
        await move(ctx, evaluation_id, EvaluationMoveIn(action="close"))
    return len(late)


def average(scores: Iterable[Decimal]) -> Decimal | None:
    found = list(scores)
    return (sum(found, Decimal(0)) / len(found)).quantize(Decimal("0.01")) if found else None
