"""The call figures' definitions (docs/metrics.md defines each; hotline.reports shows them in the
report shape of docs/reports.md) and what the call-record search answers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from hotline.core import privacy
from hotline.core.schemas import Output

Outcome = Literal[
    "answered", "abandoned", "short_abandoned", "callback", "timed_out", "refused", "voicemail",
    "ivr_only", "failed", "in_progress",
]  # fmt: skip


class QueueReportFigures(Output):
    offered: int
    answered: int
    abandoned: int
    short_abandoned: int
    callbacks: int
    timed_out: int
    service_level: float | None = Field(
        description="Answered within the queue's service time ÷ counted calls"
    )
    abandon_rate: float | None
    asa: float | None = Field(description="Average speed of answer, seconds")
    aht: float | None = Field(description="Average handle time (talk + wrap-up), seconds")
    longest_wait: float | None = Field(description="Seconds")


class AgentReportFigures(Output):
    signed_in: float = Field(description="Seconds signed in (every state but logged out)")
    ready: float
    not_ready: float
    not_ready_by_reason: dict[str, float]
    calls_in: int
    talk_in: float
    calls_out: int
    connected_out: int
    talk_out: float
    aht: float | None
    hold: float
    wrap_up: float
    occupancy: float | None
    transfers: int
    survey_score: float | None
    surveys: int
    qa_score: float | None = Field(
        default=None, description="Average QA review score (quality domain), null without reviews"
    )


class IvrFigures(Output):
    calls: int = Field(description="Calls that reached the node (or any node, in totals)")
    visits: int
    self_service: int = Field(description="Calls whose flow ran to its end without a queue or an agent")
    ended_in_ivr: int


class CallRecordOut(Output):
    call_id: str
    arrived_at: datetime
    ended_at: datetime | None
    direction: Literal["in", "out"]
    channel: str
    campaign: str
    dnis: str
    caller: privacy.Phone
    queue: str
    queue_title: str = ""
    agent_id: int | None
    agent: str = ""
    """How the contact log names them: "003 张三"."""
    agent_extension: str = ""
    """The extension they take calls on ("" when none)."""
    outcome: Outcome
    wait: float | None
    ring: float | None
    talk: float | None
    hold: float
    wrap_up: float
    duration: float | None
    transfers: int
    disposition: str
    has_recording: bool
    survey_score: int | None


class CallRecordPage(Output):
    items: list[CallRecordOut]
    total: int
    total_exact: bool = Field(description="False: more than `total` matched (counted up to it only)")
    next_cursor: str | None
    today: date | None = Field(
        default=None, description="Today in the site's time zone, the day the dates are read in"
    )
