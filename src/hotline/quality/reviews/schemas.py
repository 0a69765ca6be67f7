"""What the reviews' API takes and gives: scorecards, evaluations, plans, calibration, the library."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from hotline.core.schemas import MAX_ID, NON_BLANK, DbId, Input, Output

Score = Annotated[Decimal, AfterValidator(lambda v: v.quantize(Decimal("0.01")))]
"""A score out of 100 as people read it: to the hundredth (the database keeps four places)."""
Text = Annotated[str, StringConstraints(max_length=2000)]
Description = Annotated[str, StringConstraints(max_length=1000)]
Title = Annotated[
    str, StringConstraints(min_length=1, max_length=80, pattern=NON_BLANK, strip_whitespace=True)
]
Key = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
Tag = Annotated[str, StringConstraints(min_length=1, max_length=20, pattern=NON_BLANK, strip_whitespace=True)]
CallId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]
RecordingIds = Annotated[list[Annotated[int, Field(ge=1, le=MAX_ID)]], Field(max_length=20)]
ItemKind = Literal["yes_no", "scale"]
ScorecardStatus = Literal["draft", "published", "retired"]
EvaluationStatus = Literal["assigned", "in_progress", "scored", "appealed", "final"]
EvaluationOutcome = Literal["acknowledged", "upheld", "changed", "closed"]
EvaluationAction = Literal[
    "start", "save", "submit", "reassign", "acknowledge", "appeal", "uphold", "change", "close"
]
PickedFor = Literal["manual", "sample", "complaint", "long", "survey", "forbidden"]
Stratum = Literal["queue", "direction", "duration"]
ExampleKind = Literal["good", "bad"]
CalibrationStatus = Literal["open", "closed"]
Direction = Literal["inbound", "outbound"]


# ------------------------------------------------------------------------------------ scorecards
class ScorecardItemIn(Input):
    key: Key = Field(description="Stable within the scorecard (lower-case letters, digits, _)")
    text: Title
    guidance: Text = ""
    kind: ItemKind = "yes_no"
    max: int = Field(default=1, ge=1, le=10, description="The top of a scale (0..max); 1 for yes/no")
    weight: int = Field(ge=1, le=100)
    auto_fail: bool = Field(default=False, description="A no makes the whole evaluation 0 (yes/no items)")
    allow_na: bool = False

    @model_validator(mode="after")
    def _fits(self) -> ScorecardItemIn:
        if self.kind == "yes_no" and self.max != 1:
            raise ValueError("a yes/no item has max 1")
        if self.auto_fail and self.kind != "yes_no":
            raise ValueError("only a yes/no item is auto-fail")
        return self


class ScorecardSectionIn(Input):
    title: Title
    items: list[ScorecardItemIn] = Field(min_length=1, max_length=30)


class ScorecardIn(Input):
    name: Title
    description: Description = ""
    sections: list[ScorecardSectionIn] = Field(min_length=1, max_length=12)


class ScorecardItemOut(Output):
    key: str
    text: str
    guidance: str
    kind: ItemKind
    max: int
    weight: int
    auto_fail: bool
    allow_na: bool


class ScorecardSectionOut(Output):
    title: str
    items: list[ScorecardItemOut]


class ScorecardOut(Output):
    id: int
    family: int
    version: int
    name: str
    description: str
    sections: list[ScorecardSectionOut]
    status: ScorecardStatus
    created_at: datetime
    published_at: datetime | None
    in_use: int = Field(default=0, description="Evaluations scored on this version")


# ----------------------------------------------------------------------------------- evaluations
class AnswerIn(Input):
    value: int | None = Field(default=None, ge=0, le=10)
    na: bool = False


Answers = Annotated[dict[Key, AnswerIn], Field(max_length=200)]


class EvaluationIn(Input):
    """Assign one call for evaluation by hand (plans assign the sampled ones)."""

    call_id: CallId
    recording_ids: RecordingIds = Field(default_factory=list)
    agent_id: DbId
    evaluator_id: DbId
    scorecard_id: DbId
    call_started_at: datetime | None = None
    queue: Annotated[str, StringConstraints(max_length=64)] = ""
    direction: Direction = "inbound"
    seconds: int = Field(default=0, ge=0, le=86_400)


class EvaluationMoveIn(Input):
    """One step of the flow; what a step needs: `answers` (save, submit, change), `reason` (appeal,
    change; a note elsewhere), `evaluator_id` (reassign), `coaching` (submit, change)."""

    action: EvaluationAction
    answers: Answers | None = None
    reason: Text = ""
    coaching: Annotated[str, StringConstraints(max_length=4000)] | None = None
    evaluator_id: DbId | None = None


class CommentIn(Input):
    text: Annotated[str, StringConstraints(min_length=1, max_length=2000, pattern=NON_BLANK)]
    at_second: Decimal | None = Field(default=None, ge=0, le=86_400, decimal_places=1)
    item_key: Key | Literal[""] = ""
    internal: bool = False


class CommentOut(Output):
    id: int
    author_id: int | None
    author: str = ""
    at_second: Annotated[Decimal, AfterValidator(lambda v: v.quantize(Decimal("0.1")))] | None
    item_key: str
    text: str
    internal: bool
    created_at: datetime


class EvaluationStepOut(Output):
    at: datetime
    action: str
    before: str
    after: str
    by: int | None
    by_name: str = ""
    note: str


class AnswerOut(Output):
    value: int | None = None
    na: bool = False


class EvaluationRow(Output):
    id: int
    call_id: str
    recording_ids: list[int]
    agent_id: int
    agent_name: str = ""
    evaluator_id: int | None
    evaluator_name: str = ""
    reviewer_id: int | None
    reviewer_name: str = ""
    scorecard_id: int
    scorecard_name: str = ""
    scorecard_version: int = 0
    plan_id: int | None
    picked_for: PickedFor
    status: EvaluationStatus
    outcome: EvaluationOutcome | None
    score: Score | None
    first_score: Score | None
    auto_failed: bool
    call_started_at: datetime | None
    queue: str
    direction: Direction
    seconds: int
    due_at: datetime | None
    overdue: bool = False
    scored_at: datetime | None
    finalised_at: datetime | None
    created_at: datetime


class EvaluationOut(EvaluationRow):
    answers: dict[str, AnswerOut]
    coaching: str
    appeal_reason: str
    review_note: str
    scorecard: ScorecardOut
    comments: list[CommentOut]
    steps: list[EvaluationStepOut]
    actions: list[EvaluationAction] = Field(description="What the caller may do now (the buttons)")
    draft_score: Score | None = Field(
        default=None, description="What the answers given so far score (QA only; None before any)"
    )
    draft_auto_failed: bool = False


class EvaluationPage(Output):
    items: list[EvaluationRow]
    total: int


class EvaluationsDue(Output):
    """Evaluations waiting for someone (the home page): how many, how many are past their
    deadline, and the next ones by deadline, soonest first."""

    count: int = Field(description="Exact, however many")
    overdue: int = Field(description="Of those, past their deadline")
    next: list[EvaluationRow] = Field(description="The first few by deadline, soonest first")


class DeadlinesIn(Input):
    score_days: int = Field(ge=1, le=60)
    acknowledge_days: int = Field(ge=1, le=60)
    review_days: int = Field(ge=1, le=60)


class DeadlinesOut(Output):
    score_days: int
    acknowledge_days: int
    review_days: int


# ------------------------------------------------------------------------------------ sampling
class AlwaysIn(Input):
    complaint: bool = True
    long_seconds: int | None = Field(default=900, ge=60, le=86_400)
    survey_at_most: int | None = Field(default=2, ge=1, le=5)
    forbidden_hit: bool = True
    silence_at_least: int | None = Field(
        default=None, ge=5, le=3600, description="Every call with a silence this many seconds long"
    )
    overtalk_at_least: int | None = Field(
        default=None, ge=1, le=3600, description="Every call with this many seconds of overtalk in all"
    )


class PlanIn(Input):
    name: Title
    scorecard_family: DbId
    per_agent: int = Field(default=5, ge=0, le=100)
    strata: list[Stratum] = Field(default=["queue", "direction", "duration"], max_length=3)
    bands: list[Annotated[int, Field(ge=1, le=86_400)]] = Field(
        default_factory=lambda: [60, 180, 600], max_length=8
    )
    queues: list[Annotated[str, StringConstraints(min_length=1, max_length=64)]] = Field(
        default_factory=list, max_length=50
    )
    agents: list[DbId] = Field(default_factory=list, max_length=500)
    evaluators: list[DbId] = Field(min_length=1, max_length=50)
    always: AlwaysIn = Field(default_factory=AlwaysIn)
    active: bool = True
    seed: int = Field(default=0, ge=0, le=2**31 - 1)

    @model_validator(mode="after")
    def _bands_rise(self) -> PlanIn:
        if self.bands != sorted(set(self.bands)):
            raise ValueError("duration bands rise strictly")
        if len(set(self.strata)) != len(self.strata):
            raise ValueError("each stratum once")
        return self


class PlanRunIn(Input):
    week: date = Field(description="Any day of the week to sample (Monday to Sunday, in the centre's zone)")


class PlanRunOut(Output):
    plan_id: int
    week: date
    candidates: int = Field(description="The week's answered calls the plan looked at")
    assigned: int
    by_reason: dict[str, int] = Field(description="Picks by why: sample, complaint, long, survey, forbidden")
    by_evaluator: dict[int, int]
    ran_at: datetime | None = None
    ran_by: int | None = None


class PlanOut(Output):
    id: int
    name: str
    scorecard_family: int
    per_agent: int
    strata: list[Stratum]
    bands: list[int]
    queues: list[str]
    agents: list[int]
    evaluators: list[int]
    always: AlwaysIn
    active: bool
    seed: int
    last_week: date | None
    last_run: PlanRunOut | None = Field(default=None, description="What the latest run found and picked")
    names: dict[int, str] = Field(
        default_factory=dict,
        description="The plan's evaluators, agents and last runner as the call log names them",
    )
    created_at: datetime


# ---------------------------------------------------------------------------------- calibration
class CalibrationIn(Input):
    title: Title
    call_id: CallId
    recording_ids: RecordingIds = Field(default_factory=list)
    agent_id: DbId | None = None
    scorecard_id: DbId
    evaluators: list[DbId] = Field(min_length=2, max_length=20)
    target_spread: Decimal = Field(default=Decimal(10), ge=0, le=100, decimal_places=2)


class CalibrationScoreIn(Input):
    answers: Answers


class SpreadOut(Output):
    key: str
    text: str = ""
    low: Score | None
    high: Score | None
    spread: Score | None
    agreed: bool


class CalibrationResult(Output):
    overall: SpreadOut
    items: list[SpreadOut]
    agreed: bool = Field(description="Overall and every item within the target spread")
    scores: dict[int, Score] = Field(description="Each evaluator's score, by user id")


class CalibrationOut(Output):
    id: int
    title: str
    call_id: str
    recording_ids: list[int]
    agent_id: int | None
    scorecard_id: int
    evaluators: list[int]
    evaluator_names: dict[int, str] = Field(default_factory=dict)
    target_spread: Score
    status: CalibrationStatus
    submitted: list[int] = Field(default_factory=list, description="Who has scored (not what)")
    mine: dict[str, AnswerOut] | None = Field(default=None, description="The caller's own answers")
    result: CalibrationResult | None
    created_at: datetime
    closed_at: datetime | None


# -------------------------------------------------------------------------------- call library
class LibraryIn(Input):
    call_id: CallId
    recording_ids: RecordingIds = Field(default_factory=list)
    agent_id: DbId | None = None
    kind: ExampleKind
    title: Title
    tags: list[Tag] = Field(default_factory=list, max_length=12)
    note: Text = ""


class LibraryOut(Output):
    id: int
    call_id: str
    recording_ids: list[int]
    agent_id: int | None
    agent_name: str = ""
    kind: ExampleKind
    title: str
    tags: list[str]
    note: str
    created_at: datetime


class PlaylistIn(Input):
    title: Title
    topic: Tag
    description: Description = ""
    entries: list[DbId] = Field(default_factory=list, max_length=200)


class PlaylistOut(Output):
    id: int
    title: str
    topic: str
    description: str
    entries: list[LibraryOut]
    updated_at: datetime


class LongCall(Output):
    call_id: str
    agent_id: int | None
    agent_name: str = ""
    queue: str
    direction: Direction
    started_at: datetime
    seconds: int
    evaluation_id: int | None = None


class AgentQualityFigures(Output):
    agent_id: int
    agent_name: str = ""
    evaluations: int = Field(description="Scored evaluations in the period (scored, appealed or final)")
    average: Score | None
    auto_fails: int
    appeals: int
    appeals_won: int
    appeals_lost: int
    appeals_open: int
    calls_checked: int = Field(
        default=0, description="Recorded calls of the period the automatic checks ran on"
    )
    silences: int = Field(default=0, description="Silences longer than the threshold on those calls")
    overtalks: int = Field(default=0, description="Overtalk spans longer than the threshold on those calls")
    forbidden_hits: int = Field(default=0, description="Recordings of the period with a forbidden-phrase hit")


class Evaluator(Output):
    """Someone who may be named to score (holds qa.evaluate)."""

    user_id: int
    name: str
