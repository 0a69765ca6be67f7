"""Routes of quality's reviews (under /api/quality): scorecards, evaluations and the agent's own
view of them (/my/…), sampling plans, calibration sessions, the call library and the figures."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from hotline.core.context import Context
from hotline.core.permissions import Permission
from hotline.core.web import IdPath, requires
from hotline.quality.reviews import (
    calibration,
    deadlines,
    evaluations,
    evaluators,
    figures,
    library,
    plans,
    scorecards,
)
from hotline.quality.reviews.schemas import (
    AgentQualityFigures,
    AnswerOut,
    CalibrationIn,
    CalibrationOut,
    CalibrationScoreIn,
    CallId,
    CommentIn,
    CommentOut,
    DeadlinesIn,
    DeadlinesOut,
    EvaluationIn,
    EvaluationMoveIn,
    EvaluationOut,
    EvaluationPage,
    EvaluationStatus,
    Evaluator,
    ExampleKind,
    LibraryIn,
    LibraryOut,
    LongCall,
    PlanIn,
    PlanOut,
    PlanRunIn,
    PlanRunOut,
    PlaylistIn,
    PlaylistOut,
    ScorecardIn,
    ScorecardOut,
)

router = APIRouter(prefix="/api/quality", tags=["quality"])
READ = Annotated[Context, Depends(requires(Permission.QA_READ))]
EVALUATE = Annotated[Context, Depends(requires(Permission.QA_EVALUATE))]
MANAGE = Annotated[Context, Depends(requires(Permission.QA_MANAGE))]
AGENT = Annotated[Context, Depends(requires(Permission.CALLS_HANDLE))]
Limit = Annotated[int, Query(ge=1, le=200)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]
Since = Annotated[
    datetime, Query(alias="from", description="From (inclusive), an ISO datetime with its zone")
]
Until = Annotated[datetime, Query(alias="to", description="To (exclusive), an ISO datetime with its zone")]


# ------------------------------------------------------------------------------------ scorecards
@router.get("/scorecards")
async def list_scorecards(ctx: READ, every_version: bool = False) -> list[ScorecardOut]:
    """Each scorecard's published version and its draft (every version with `every_version`)."""
    return await scorecards.listing(ctx, every_version=every_version)


@router.post("/scorecards", status_code=201)
async def create_scorecard(body: ScorecardIn, ctx: MANAGE) -> ScorecardOut:
    """A new scorecard, a draft (version 1)."""
    return await scorecards.create(ctx, body)


@router.get("/scorecards/{scorecard_id}")
async def get_scorecard(scorecard_id: IdPath, ctx: READ) -> ScorecardOut:
    return await scorecards.get(ctx, scorecard_id)


@router.put("/scorecards/{scorecard_id}")
async def edit_scorecard(scorecard_id: IdPath, body: ScorecardIn, ctx: MANAGE) -> ScorecardOut:
    """Edit a draft in place; editing a published version returns the family's next draft."""
    return await scorecards.edit(ctx, scorecard_id, body)


@router.post("/scorecards/{scorecard_id}/publish")
async def publish_scorecard(scorecard_id: IdPath, ctx: MANAGE) -> ScorecardOut:
    """Publish a draft: new evaluations use it, the version before is retired."""
    return await scorecards.publish(ctx, scorecard_id)


# ----------------------------------------------------------------------------------- evaluations
@router.get("/evaluations")
async def list_evaluations(
    ctx: READ,
    status: EvaluationStatus | None = None,
    agent_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    evaluator_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    call_id: CallId | None = None,
    overdue: bool | None = None,
    since: Annotated[datetime | None, Query(alias="from")] = None,
    until: Annotated[datetime | None, Query(alias="to")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> EvaluationPage:
    """Evaluations, newest first: by status, agent, evaluator (mine to score), call, overdue."""
    return await evaluations.listing(
        ctx, status=status, agent_id=agent_id, evaluator_id=evaluator_id, call_id=call_id,
        overdue=overdue, since=since, until=until, limit=limit, offset=offset,
    )  # fmt: skip


@router.post("/evaluations", status_code=201)
async def assign_evaluation(body: EvaluationIn, ctx: MANAGE) -> EvaluationOut:
    """Assign one call for evaluation by hand."""
    return await evaluations.assign(ctx, body)


@router.get("/evaluations/{evaluation_id}")
async def get_evaluation(evaluation_id: IdPath, ctx: READ) -> EvaluationOut:
    return await evaluations.get(ctx, evaluation_id)


@router.post("/evaluations/{evaluation_id}/moves")
async def move_evaluation(evaluation_id: IdPath, body: EvaluationMoveIn, ctx: READ) -> EvaluationOut:
    """QA's steps: start, save, submit, reassign (qa.manage), uphold or change an appeal (a second
    reviewer). The evaluation's `actions` say which the caller may take now."""
    return await evaluations.move(ctx, evaluation_id, body)


@router.post("/evaluations/{evaluation_id}/comments", status_code=201)
async def comment_evaluation(evaluation_id: IdPath, body: CommentIn, ctx: EVALUATE) -> CommentOut:
    """A comment pinned to a moment of the recording (`at_second`), maybe to an item; `internal`
    ones the agent never sees."""
    return await evaluations.comment(ctx, evaluation_id, body)


@router.get("/evaluators")
async def list_evaluators(ctx: READ) -> list[Evaluator]:
    """Who may be named to score (qa.evaluate): for assigning, reassigning and calibration."""
    return await evaluators.listing(ctx)


@router.get("/deadlines")
async def get_deadlines(ctx: READ) -> DeadlinesOut:
    """Days for each step: scoring, the agent's answer, the second review."""
    return await deadlines.get(ctx)


@router.put("/deadlines")
async def put_deadlines(body: DeadlinesIn, ctx: MANAGE) -> DeadlinesOut:
    return await deadlines.put(ctx, body)


# ------------------------------------------------------------------------- the agent's own view
@router.get("/my/evaluations")
async def my_evaluations(
    ctx: AGENT, status: EvaluationStatus | None = None, limit: Limit = 50, offset: Offset = 0
) -> EvaluationPage:
    """The caller's own evaluations, once scored."""
    return await evaluations.mine(ctx, status=status, limit=limit, offset=offset)


@router.get("/my/evaluations/{evaluation_id}")
async def my_evaluation(evaluation_id: IdPath, ctx: AGENT) -> EvaluationOut:
    """One of the caller's own evaluations with the coaching notes (internal comments left out)."""
    return await evaluations.get(ctx, evaluation_id, as_agent=True)


@router.post("/my/evaluations/{evaluation_id}/moves")
async def my_move(evaluation_id: IdPath, body: EvaluationMoveIn, ctx: AGENT) -> EvaluationOut:
    """The agent acknowledges the evaluation, or appeals (申诉) with a reason, once."""
    return await evaluations.move(ctx, evaluation_id, body, as_agent=True)


@router.get("/my/figures")
async def my_figures(ctx: AGENT, since: Since, until: Until) -> list[AgentQualityFigures]:
    """The caller's own quality figures for a period."""
    return await figures.agent_figures(ctx, since, until, agent_id=ctx.actor.user_id or 0)


@router.get("/my/playlists")
async def my_playlists(ctx: AGENT, topic: str | None = Query(None, max_length=20)) -> list[PlaylistOut]:
    """Training playlists, for agents."""
    return await library.playlists(ctx, topic=topic)


# ---------------------------------------------------------------------------------------- plans
@router.get("/plans")
async def list_plans(ctx: READ) -> list[PlanOut]:
    return await plans.listing(ctx)


@router.post("/plans", status_code=201)
async def create_plan(body: PlanIn, ctx: MANAGE) -> PlanOut:
    """A sampling plan: N calls per agent per week, stratified, plus the always-rules."""
    return await plans.save(ctx, body)


@router.put("/plans/{plan_id}")
async def edit_plan(plan_id: IdPath, body: PlanIn, ctx: MANAGE) -> PlanOut:
    return await plans.save(ctx, body, plan_id)


@router.post("/plans/{plan_id}/run")
async def run_plan(plan_id: IdPath, body: PlanRunIn, ctx: MANAGE) -> PlanRunOut:
    """Sample a past week now (the weekly job does this for the week just ended)."""
    return await plans.run(ctx, plan_id, body.week)


# ---------------------------------------------------------------------------------- calibration
@router.get("/calibrations")
async def list_calibrations(ctx: READ) -> list[CalibrationOut]:
    return await calibration.listing(ctx)


@router.post("/calibrations", status_code=201)
async def create_calibration(body: CalibrationIn, ctx: MANAGE) -> CalibrationOut:
    """A session over one call: the evaluators named score it blind."""
    return await calibration.create(ctx, body)


@router.get("/calibrations/{session_id}")
async def get_calibration(session_id: IdPath, ctx: READ) -> CalibrationOut:
    """While open: who has scored and the caller's own answers; once closed, the spreads."""
    return await calibration.get(ctx, session_id)


@router.post("/calibrations/{session_id}/scores")
async def score_calibration(session_id: IdPath, body: CalibrationScoreIn, ctx: EVALUATE) -> CalibrationOut:
    return await calibration.submit(ctx, session_id, body)


@router.post("/calibrations/{session_id}/close")
async def close_calibration(session_id: IdPath, ctx: MANAGE) -> CalibrationOut:
    """Close the session: the spread per item and overall against the target is computed and kept."""
    return await calibration.close(ctx, session_id)


@router.get("/calibrations/{session_id}/answers")
async def calibration_answers(session_id: IdPath, ctx: READ) -> dict[int, dict[str, AnswerOut]]:
    """Every evaluator's answers, by user id, once the session is closed."""
    return await calibration.answers_of(ctx, session_id)


# ------------------------------------------------------------------------------- call library
@router.get("/library")
async def list_library(
    ctx: READ,
    kind: ExampleKind | None = None,
    tag: str | None = Query(None, max_length=20),
    agent_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
) -> list[LibraryOut]:
    return await library.listing(ctx, kind=kind, tag=tag, agent_id=agent_id)


@router.post("/library", status_code=201)
async def add_to_library(body: LibraryIn, ctx: EVALUATE) -> LibraryOut:
    """Keep a call as a good or bad example, with tags and a note."""
    return await library.add(ctx, body)


@router.put("/library/{entry_id}")
async def edit_library(entry_id: IdPath, body: LibraryIn, ctx: EVALUATE) -> LibraryOut:
    return await library.edit(ctx, entry_id, body)


@router.delete("/library/{entry_id}", status_code=204)
async def remove_from_library(entry_id: IdPath, ctx: EVALUATE) -> Response:
    await library.remove(ctx, entry_id)
    return Response(status_code=204)


@router.get("/playlists")
async def list_playlists(ctx: READ, topic: str | None = Query(None, max_length=20)) -> list[PlaylistOut]:
    return await library.playlists(ctx, topic=topic)


@router.post("/playlists", status_code=201)
async def create_playlist(body: PlaylistIn, ctx: EVALUATE) -> PlaylistOut:
    """A playlist of library examples by topic, in training order."""
    return await library.save_playlist(ctx, body)


@router.get("/playlists/{playlist_id}")
async def get_playlist(playlist_id: IdPath, ctx: READ) -> PlaylistOut:
    return await library.playlist(ctx, playlist_id)


@router.put("/playlists/{playlist_id}")
async def edit_playlist(playlist_id: IdPath, body: PlaylistIn, ctx: EVALUATE) -> PlaylistOut:
    return await library.save_playlist(ctx, body, playlist_id)


@router.get("/long-calls")
async def long_calls(
    ctx: READ,
    month: Annotated[date, Query(description="Any day of the month")],
    minutes: Annotated[int, Query(ge=1, le=600)] = 15,
) -> list[LongCall]:
    """The month's 超长录音: answered calls longer than `minutes`, longest first."""
    return await library.long_calls(ctx, month, minutes)


# -------------------------------------------------------------------------------------- figures
@router.get("/figures/agents")
async def agent_figures(
    ctx: READ,
    since: Since,
    until: Until,
    agent_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
) -> list[AgentQualityFigures]:
    """Per agent for a period: evaluations, average score, auto-fails, appeals won/lost/open (Q4)."""
    return await figures.agent_figures(ctx, since, until, agent_id=agent_id)
