from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field

from hotline.core.periods import Granularity, PeriodQuery
from hotline.core.schemas import DbId, Input, Output


class TeamRefOut(Output):
    id: int
    name: str


class ComparedOut(Output):
    """The comparison period and its totals (the same figures, the same filters)."""

    start: date
    end: date
    totals: dict[str, Any]


class ReportOut(Output):
    """Every report's answer (docs/reports.md): the series per bucket (`start` is the bucket's
    wall-clock start in `timezone`), the totals, the comparison's totals and rows per key. Money
    figures are decimal strings to the fen; rates are fractions (0.9231), null when nothing to divide."""

    subject: str
    start: date
    end: date
    granularity: Granularity
    timezone: str
    team: TeamRefOut | None
    series: list[dict[str, Any]]
    totals: dict[str, Any]
    compare: ComparedOut | None
    rows: list[dict[str, Any]]


class QueuesQuery(PeriodQuery):
    """The queue report's query: the period, and the queues (keys) it is limited to."""

    queue: list[Annotated[str, Field(max_length=64)]] = Field(
        default_factory=list, max_length=50, description="Only these queues"
    )


class AgentsQuery(PeriodQuery):
    """The agent report's query: the period, the team, and one agent."""

    agent_id: DbId | None = Field(default=None, description="Only this agent")


ChatChannel = Literal["sms", "wechat", "web"]


class ChatsQuery(QueuesQuery):
    """The chat report's query: the period, the queues, the channels and one agent."""

    channel: list[ChatChannel] = Field(default_factory=list, max_length=3, description="Only these channels")
    agent_id: DbId | None = Field(default=None, description="Only this agent's conversations")


# ---------------------------------------------------------------- the monthly assessment (月度考核)


class AssessmentWeights(Input):
    """Each component's weight in percent; the five sum to 100."""

    volume: int = Field(ge=0, le=100, description="Calls and conversations handled")
    handle_time: int = Field(ge=0, le=100, description="Average handle time against its target")
    quality: int = Field(ge=0, le=100, description="Average QA score")
    satisfaction: int = Field(ge=0, le=100, description="Average post-call survey score and chat rating")
    attendance: int = Field(ge=0, le=100, description="Signed-in hours against the hours expected")


class AssessmentTargets(Input):
    """What scores 100 in each component."""

    calls: int = Field(ge=1, le=100_000, description="Calls handled in a whole month")
    aht_seconds: int = Field(ge=10, le=7_200, description="AHT at or under which handle time scores 100")
    quality: Decimal = Field(ge=1, le=100, decimal_places=2, description="Average QA score (of 100)")
    satisfaction: Decimal = Field(ge=1, le=5, decimal_places=2, description="Average survey score (of 5)")
    hours_per_workday: Decimal = Field(
        ge=1, le=24, decimal_places=2, description="Signed-in hours expected per working day"
    )
    conversation_weight: Decimal = Field(
        default=Decimal(1), ge=0, le=10, decimal_places=2,
        description="What one conversation handled (web chat, SMS, WeChat) counts for in the volume, in "
        "calls: 1, one conversation = one call; 0, conversations do not count",
    )  # fmt: skip


class AssessmentSchemeIn(Input):
    team_id: DbId | None = Field(default=None, description="The team's own scheme; none: the site's")
    weights: AssessmentWeights
    targets: AssessmentTargets


class AssessmentSchemeOut(Output):
    team_id: int | None = Field(description="The team whose own scheme this is; null: the site's")
    weights: AssessmentWeights
    targets: AssessmentTargets
    updated_at: datetime | None


class AssessmentComponentOut(Output):
    raw: float | None = Field(description="The figure as its domain counts it; null: no data (—)")
    score: float | None = Field(description="0–100, capped; null: no data, its weight rescaled away")


class AssessmentRowOut(Output):
    agent_id: int
    name: str
    team: str | None
    volume: AssessmentComponentOut
    handle_time: AssessmentComponentOut
    quality: AssessmentComponentOut
    satisfaction: AssessmentComponentOut
    attendance: AssessmentComponentOut
    evaluations: int = Field(description="QA evaluations scored in the month")
    surveys: int = Field(description="Post-call surveys answered in the month")
    calls: int = Field(description="Calls handled (answered in, connected out)")
    conversations: int = Field(
        description="Conversations handled (会话数): closed, less those left before an agent wrote"
    )
    chat_rating: float | None = Field(
        description="The web chat's average end rating (1–5, 会话满意度); null: none"
    )
    chat_ratings: int = Field(description="Web chat ratings given in the month")
    total: float | None = Field(description="Weighted total (0–100)")
    rank: int | None
    rescaled: bool = Field(description="A weighted component had no data: the others' weights were rescaled")


class AssessmentOut(Output):
    month: str
    start: date
    end: date
    timezone: str
    team: TeamRefOut | None
    scheme: AssessmentSchemeOut
    workdays: int = Field(description="Working days of the month (China's calendar)")
    workdays_passed: int = Field(description="Of them, those up to today (all, for a past month)")
    rows: list[AssessmentRowOut]
