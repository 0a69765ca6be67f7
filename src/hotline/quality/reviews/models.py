"""Stored records of the reviews: scorecards (one row per version), evaluations with their steps
and comments, sampling plans, calibration sessions, the call library and its playlists."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hotline.core.audit import Audited
from hotline.core.clock import utcnow
from hotline.core.db import Base
from hotline.core.lifecycle import HistoryRow


class Scorecard(Audited, Base):
    """One version of a scorecard. The form is data: `sections` is a list of {"title", "items":
    [{"key", "text", "guidance", "kind": yes_no|scale, "max", "weight", "auto_fail", "allow_na"}]}.
    A draft is edited in place; editing a published version makes the next draft of its family, and
    publishing it retires the one before. Evaluations point at the version they were scored on."""

    __tablename__ = "qa_scorecards"
    __table_args__ = (UniqueConstraint("family", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    family: Mapped[int] = mapped_column(index=True)
    """The first version's id: every version of one scorecard shares it."""
    version: Mapped[int] = mapped_column(default=1)
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(String(1000), default="")
    sections: Mapped[list[Any]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(12), default="draft")
    """draft | published | retired"""
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None]


class Evaluation(Audited, Base):
    """One call scored against one scorecard version (state.py has its lifecycle). The call's facts
    as sampled are kept with it: the log may be purged, the evaluation stays readable."""

    __tablename__ = "qa_evaluations"
    __table_args__ = (Index("ix_qa_evaluations_agent_status", "agent_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[str] = mapped_column(String(64), index=True)
    recording_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    """The recordings (quality/recordings) of the call's parts it covers; the lead adds the link."""
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    evaluator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    scorecard_id: Mapped[int] = mapped_column(ForeignKey("qa_scorecards.id", ondelete="RESTRICT"))
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("qa_plans.id", ondelete="SET NULL"))
    picked_for: Mapped[str] = mapped_column(String(12), default="manual")
    """manual | sample | complaint | long | survey | forbidden"""
    status: Mapped[str] = mapped_column(String(12), default="assigned", index=True)
    outcome: Mapped[str | None] = mapped_column(String(12))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """{item key: {"value": int | None, "na": bool}}"""
    score: Mapped[Decimal | None]
    first_score: Mapped[Decimal | None]
    """The score before a second review changed it (None when it was not changed)."""
    auto_failed: Mapped[bool] = mapped_column(default=False)
    coaching: Mapped[str] = mapped_column(Text, default="")
    """Coaching notes for the agent (the agent sees them)."""
    appeal_reason: Mapped[str] = mapped_column(String(2000), default="")
    review_note: Mapped[str] = mapped_column(String(2000), default="")
    call_started_at: Mapped[datetime | None]
    queue: Mapped[str] = mapped_column(String(64), default="")
    direction: Mapped[str] = mapped_column(String(12), default="inbound")
    seconds: Mapped[int] = mapped_column(default=0)
    due_at: Mapped[datetime | None]
    """When the current step is due (scoring, the agent's answer, the second review)."""
    scored_at: Mapped[datetime | None]
    finalised_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class EvaluationStep(HistoryRow, Base):
    """Each step of an evaluation, who took it, when and why. Never changed."""

    __tablename__ = "qa_evaluation_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(
        ForeignKey("qa_evaluations.id", ondelete="CASCADE"), index=True
    )


class EvaluationComment(Audited, Base):
    """A comment pinned to a moment of the recording (and maybe to an item); `internal` ones stay
    with QA: the agent never sees them."""

    __tablename__ = "qa_evaluation_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(
        ForeignKey("qa_evaluations.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at_second: Mapped[Decimal | None]
    item_key: Mapped[str] = mapped_column(String(40), default="")
    text: Mapped[str] = mapped_column(String(2000))
    internal: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReviewDeadlines(Audited, Base):
    """Days allowed for each step of an evaluation (one row)."""

    __tablename__ = "qa_deadlines"

    id: Mapped[int] = mapped_column(primary_key=True)
    score_days: Mapped[int] = mapped_column(default=3)
    acknowledge_days: Mapped[int] = mapped_column(default=3)
    review_days: Mapped[int] = mapped_column(default=5)


class SamplingPlan(Audited, Base):
    """N calls per agent per week, stratified, plus the always-rules (sampling.py); run weekly by
    a job that spreads the evaluations over the plan's evaluators."""

    __tablename__ = "qa_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    scorecard_family: Mapped[int] = mapped_column(index=True)
    """Scored on the family's published version at the time of each run."""
    per_agent: Mapped[int] = mapped_column(default=5)
    strata: Mapped[list[Any]] = mapped_column(JSON, default=list)
    bands: Mapped[list[Any]] = mapped_column(JSON, default=list)
    queues: Mapped[list[Any]] = mapped_column(JSON, default=list)
    agents: Mapped[list[Any]] = mapped_column(JSON, default=list)
    evaluators: Mapped[list[Any]] = mapped_column(JSON, default=list)
    always: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    active: Mapped[bool] = mapped_column(default=True)
    seed: Mapped[int] = mapped_column(default=0)
    last_week: Mapped[date | None]
    """The Monday of the last week run."""
    last_run: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """What the latest run found and picked (schemas.PlanRunOut), shown on the plan's screen."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CalibrationSession(Audited, Base):
    """Several evaluators score one call blind; once closed, the spread per item and overall is
    kept against the target agreement."""

    __tablename__ = "qa_calibrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(80))
    call_id: Mapped[str] = mapped_column(String(64))
    recording_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    scorecard_id: Mapped[int] = mapped_column(ForeignKey("qa_scorecards.id", ondelete="RESTRICT"))
    evaluators: Mapped[list[Any]] = mapped_column(JSON, default=list)
    target_spread: Mapped[Decimal] = mapped_column(default=Decimal(10))
    status: Mapped[str] = mapped_column(String(8), default="open")
    """open | closed"""
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]


class CalibrationScore(Audited, Base):
    __tablename__ = "qa_calibration_scores"
    __table_args__ = (UniqueConstraint("session_id", "evaluator_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("qa_calibrations.id", ondelete="CASCADE"), index=True)
    evaluator_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    score: Mapped[Decimal]
    per_item: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)


class LibraryEntry(Audited, Base):
    """A call kept as a good or bad example (Q3), with tags and a note."""

    __tablename__ = "qa_library"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[str] = mapped_column(String(64), index=True)
    recording_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(4))
    """good | bad"""
    title: Mapped[str] = mapped_column(String(80))
    tags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    note: Mapped[str] = mapped_column(String(2000), default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Playlist(Audited, Base):
    """Library entries in a training order, by topic."""

    __tablename__ = "qa_playlists"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(80))
    topic: Mapped[str] = mapped_column(String(40), index=True)
    description: Mapped[str] = mapped_column(String(1000), default="")
    entries: Mapped[list[Any]] = mapped_column(JSON, default=list)
    """Library entry ids, in playing order."""
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
