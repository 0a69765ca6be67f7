"""What the outbound routes take and give. Numbers leave the server masked (`privacy.Phone`)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, Field, StringConstraints, field_validator

from hotline.core.privacy import Phone
from hotline.core.schemas import NON_BLANK, ClockTime, DbId, Input, Output

Code = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_\-]{1,31}$")]
Key = Annotated[str, StringConstraints(max_length=24, pattern=r"^[a-z][a-z0-9_]{0,31}$")]
Text = Annotated[
    str, StringConstraints(min_length=1, max_length=60, pattern=NON_BLANK, strip_whitespace=True)
]
Kind = Literal["marketing", "service"]
Day = Annotated[date, Field(ge=date(2020, 1, 1), le=date(2100, 12, 31))]
Purpose = Literal["return_visit", "survey", "marketing", "callback", "complaint", "other"]
Mode = Literal["preview", "progressive", "predictive"]
Status = Literal["draft", "running", "paused", "closed"]
TargetState = Literal["open", "done", "exhausted", "blocked", "removed"]
Outcome = Literal[
    "dialing", "answered", "no_answer", "busy", "failed", "machine", "abandoned", "agent_missed"
]
"""agent_missed: the agent's own phone did not answer, so the number was never rung (not counted)."""


class Disposition(Input):
    code: Key
    label: Text
    final: bool = True
    """Closes the number: nobody calls it again for this campaign."""
    refusal: bool = False
    """The person refused: the number goes on the do-not-call list for the campaign's refusal months."""


class Retry(Input):
    no_answer_minutes: int = Field(default=120, ge=10, le=7 * 24 * 60)
    busy_minutes: int = Field(default=30, ge=5, le=7 * 24 * 60)
    max_attempts: int = Field(default=3, ge=1, le=10)


QuestionType = Literal["score", "choice", "choices", "yes_no", "text"]


class Question(Input):
    key: Key
    text: Annotated[str, StringConstraints(min_length=2, max_length=200, pattern=NON_BLANK)]
    type: QuestionType = "score"
    """score: 1–5 stars; choice: one of `choices`; choices: any of them (at least one); yes_no; text."""
    choices: list[Text] = Field(default_factory=list, max_length=10)
    required: bool = True


class CampaignIn(Input):
    code: Code
    name: Text
    kind: Kind
    purpose: Purpose = "other"
    mode: Mode = "preview"
    window_start: ClockTime = "09:00"
    window_end: ClockTime = "21:00"
    days: list[Annotated[int, Field(ge=0, le=6)]] = Field(
        default_factory=lambda: list(range(7)), max_length=7
    )
    holidays_off: bool | None = None
    daily_cap: int | None = Field(default=None, ge=1, le=5)
    weekly_cap: int | None = Field(default=None, ge=1, le=15)
    refusal_months: int = Field(default=6, ge=6, le=36)
    caller_id: Annotated[str, StringConstraints(max_length=20, pattern=r"^(\+?[0-9]{3,20})?$")] = ""
    script: Annotated[str, StringConstraints(max_length=5000)] = ""
    questionnaire: list[Question] = Field(default_factory=list, max_length=20)
    dispositions: list[Disposition] = Field(default_factory=list, max_length=20)
    """Empty: the standard set (docs/outbound.md)."""
    retry: Retry = Field(default_factory=Retry)
    starts_on: Day | None = None
    ends_on: Day | None = None
    feed_source: Annotated[str, StringConstraints(max_length=40)] = ""
    """A date source whose people join the list every morning ('' for none): GET /api/outbound/sources."""
    feed_days_after: int = Field(default=1, ge=0, le=30)
    detect_machines: bool = False
    """Progressive and predictive calls: answering machines told from people (docs/outbound.md)."""
    machine_message: Annotated[str, StringConstraints(max_length=300)] = ""
    """Left on a machine once its greeting ends; '' hangs up (the number is retried)."""
    agent_ids: list[DbId] = Field(default_factory=list, max_length=200)


class CampaignOut(Output):
    id: int
    code: str
    name: str
    kind: Kind
    purpose: Purpose
    mode: Mode
    status: Status
    window_start: str
    """09:00"""
    window_end: str
    days: list[int]
    holidays_off: bool | None
    daily_cap: int | None
    weekly_cap: int | None
    refusal_months: int
    caller_id: str
    script: str
    questionnaire: list[dict[str, Any]]
    dispositions: list[dict[str, Any]]
    retry: dict[str, Any]
    starts_on: date | None
    ends_on: date | None
    feed_source: str
    feed_days_after: int
    detect_machines: bool
    machine_message: str
    agent_ids: list[int] = Field(default_factory=list)
    progress: Progress | None = None

    @field_validator("window_start", "window_end", mode="before")
    @classmethod
    def _clock(cls, value: object) -> object:
        return value.strftime("%H:%M") if isinstance(value, time) else value


class StatusIn(Input):
    status: Status


class Progress(Output):
    """Where a campaign's numbers stand (or one agent's share of them)."""

    total: int = 0
    open: int = 0
    done: int = 0
    exhausted: int = 0
    blocked: int = 0
    removed: int = 0
    unassigned: int = 0
    attempts: int = 0
    answered: int = 0
    dispositions: dict[str, int] = Field(default_factory=dict)


class AgentProgress(Progress):
    agent_id: int
    agent: str


class CampaignProgress(Output):
    campaign: Progress
    agents: list[AgentProgress]


class TargetOut(Output):
    id: int
    campaign_id: int
    phone: Phone
    name: str
    customer_id: int | None
    consent_source: str
    consent_at: datetime | None
    fields: dict[str, Any]
    state: TargetState
    next_at: datetime | None
    attempts: int
    last_attempt_at: datetime | None
    last_outcome: str
    disposition: str
    blocked_reason: str
    assignee_id: int | None
    assignee: str = ""


class TargetPage(Output):
    items: list[TargetOut]
    total: int


class ListImportProblem(Output):
    row: int
    """The row in the file (1 is the header)."""
    field: str
    reason: str
    message: str


class ListImportReport(Output):
    rows: int
    valid: int
    """Rows with a callable number."""
    problems: list[ListImportProblem]
    """Every row that cannot be called, and why (the first 500)."""
    repeated: int
    """Rows whose number an earlier row of the file has (kept once)."""
    listed: int
    """Numbers the campaign's list has already (left as they are)."""
    customers: int
    """Numbers registered to a customer in the CRM (linked to their file)."""
    do_not_call: int
    """Numbers on the do-not-call list the campaign heeds (added, never dialled)."""
    added: int = 0
    import_id: int | None = None


class TargetAssignIn(Input):
    how: Literal["hand", "evenly", "skill"]
    """hand: the numbers chosen go to one agent; evenly: unassigned open numbers are shared among
    the agents; skill: as evenly, weighted by each agent's level of `skill`."""
    target_ids: list[DbId] = Field(default_factory=list, max_length=5000)
    agent_ids: list[DbId] = Field(default_factory=list, max_length=200)
    """Empty with evenly/skill: the campaign's agents."""
    skill: Annotated[str, StringConstraints(max_length=64)] = ""
    limit: int | None = Field(default=None, ge=1, le=100_000)
    """At most this many numbers handed out (evenly/skill)."""


class TakeBackIn(Input):
    target_ids: list[DbId] = Field(default_factory=list, max_length=5000)
    agent_id: DbId | None = None
    """Every open number of this agent (with no target_ids)."""


class Assigned(Output):
    assigned: dict[int, int]
    """Numbers handed to each agent."""
    total: int


class DncIn(Input):
    number: Annotated[str, StringConstraints(min_length=3, max_length=32)]
    source: Literal["opt-out", "refusal", "imported", "staff"] = "staff"
    all_calls: bool = False
    until: AwareDatetime | None = None
    note: Annotated[str, StringConstraints(max_length=200)] = ""


class DncOut(Output):
    id: int
    phone: Phone
    source: str
    all_calls: bool
    at: datetime
    until: datetime | None
    note: str
    campaign_id: int | None


class DncPage(Output):
    items: list[DncOut]
    total: int


class ListSourceOut(Output):
    name: str
    label: str


class FromSourceIn(Input):
    source: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    day: Day
    dry_run: bool = True


class Check(Output):
    """What China's calling rules say of dialling the number now (rules.decide)."""

    allowed: bool
    reason: str | None = None
    next_allowed_at: datetime | None = None


class CampaignBrief(Output):
    id: int
    code: str
    name: str
    kind: Kind
    mode: Mode
    caller_id: str = ""
    status: Status
    script: str
    questionnaire: list[dict[str, Any]]
    dispositions: list[dict[str, Any]]


class AttemptOut(Output):
    id: int
    started_at: datetime
    ended_at: datetime | None
    outcome: Outcome
    disposition: str
    note: str
    answers: dict[str, Any]
    agent_id: int | None
    call_id: str


class WorkItem(Output):
    """A number as the agent previews it: the list's columns, the campaign's script and
    questions, what the rules say now, and its earlier attempts."""

    target: TargetOut
    script: str = ""
    """The campaign's script with this number's values in its placeholders ({姓名}, {酒店} …)."""
    campaign: CampaignBrief
    check: Check
    attempts: list[AttemptOut]


class NextOut(Output):
    item: WorkItem | None
    """None: nothing of the agent's may be called now."""
    next_at: datetime | None = None
    """Then: the earliest a number of theirs comes due."""


class Dialled(Output):
    attempt_id: int
    call_id: str


Answer = (
    Annotated[int, Field(ge=1, le=5)]
    | bool
    | Annotated[str, StringConstraints(max_length=500)]
    | Annotated[list[Annotated[str, StringConstraints(max_length=100)]], Field(min_length=1, max_length=10)]
)
"""A score 1–5, yes or no, a choice or free text, or the choices of a multiple-choice question."""


class ResultIn(Input):
    disposition: Key | None = None
    """Required when the call was answered: one of the campaign's dispositions."""
    note: Annotated[str, StringConstraints(max_length=500)] = ""
    answers: dict[Key, Answer] = Field(default_factory=dict, max_length=20)
    call_back_at: AwareDatetime | None = None
    """When a non-final disposition (约定改时间再联系) agreed a time to call again."""


class AttemptResult(Output):
    attempt: AttemptOut
    target: TargetOut


class DialerState(Output):
    """A progressive or predictive campaign on the dialer, as its agents and supervisors see it."""

    campaign_id: int
    mode: Mode
    joined: bool
    """The signed-in agent is taking the campaign's calls."""
    agents: int
    """Agents who joined."""
    ringing: int
    """Numbers ringing now."""
    paused_by: str = ""
    """The title of the inbound queue whose service level holds outbound calls back ('' when none)."""


class CurrentCall(Output):
    """The dialer's call the agent is on (or last was, until they write its result)."""

    attempt_id: int
    call_id: str
    item: WorkItem


CampaignOut.model_rebuild()


MAX_LINKS = 5000
"""Survey links sent by one request at most: a list larger than that is sent in parts."""


class SurveySendIn(Input):
    target_ids: list[DbId] | None = Field(default=None, max_length=MAX_LINKS)
    """The numbers to text (None: every open or finished number of the list)."""


class SurveySendOut(Output):
    sent: int
    skipped: int
    """Numbers with a link still open or answered, or no mobile number."""
    expires_at: datetime


class PublicSurvey(Output):
    """The mobile page's survey: who asks and what (nothing about the person)."""

    company: str
    title: str
    questions: list[dict[str, Any]]
    expires_at: datetime


class SurveyAnswerIn(Input):
    answers: dict[Key, Answer] = Field(max_length=20)


class QuestionResult(Output):
    key: str
    text: str
    type: QuestionType
    answered: int
    average: float | None
    """Score questions: the average of 1–5."""
    counts: dict[str, int]
    """Choices and yes/no: how often each was given."""
    texts: list[str]
    """Text questions: the latest 20 answers."""


class SurveyResults(Output):
    responses: int
    by_channel: dict[str, int]
    links_sent: int
    links_answered: int
    links_expired: int
    questions: list[QuestionResult]
