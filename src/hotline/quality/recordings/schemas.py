"""What the recordings library's routes take and give. Numbers leave masked (`service.rows_out`);
a role that may see one reveals it through core/privacy.py, audited."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from hotline.quality.speech.schemas import SpeechSummary

Direction = Literal["inbound", "outbound", "internal"]
RecordingKind = Literal["call", "voicemail"]
Channel = Literal["mix", "caller", "agent", "peaks"]
Purpose = Literal["play", "download"]


class Checks(BaseModel):
    """What the automatic analysis found in a call's audio (seconds, counts, a ratio); the
    analysis's other figures (segments, thresholds: docs/qa.md) come along as they are."""

    model_config = ConfigDict(extra="allow")
    caller_talk: float
    agent_talk: float
    silence_count: int
    longest_silence: float
    overtalk_count: int
    overtalk_seconds: float
    longest_monologue: float
    talk_ratio: float | None = Field(description="The agent's share of all talk; None when nobody spoke")
    hold_seconds: float


class RecordingRow(BaseModel):
    id: int
    call_id: str
    part: int = Field(description="1-based: a transferred call has one recording per part")
    kind: RecordingKind
    started_at: datetime
    seconds: float
    direction: Direction
    queue: str
    queue_title: str
    agent_id: int | None
    agent_name: str
    agent_number: str = Field(description="The agent's 工号")
    customer_id: int | None
    customer_name: str
    number: str = Field(
        description="The other party's number, masked (reveal: entity `recording`, field `number`)"
    )
    dialled: str = Field(description="The number the caller dialled (a hotline number)")
    disposition: str
    survey_score: int | None
    qa_score: float | None
    checks: Checks | None
    legal_hold: bool
    delete_after: date | None = Field(description="None while on legal hold")
    channels: int = Field(description="2 for a call (caller and agent), 1 for a voicemail")
    phrases: SpeechSummary | None = Field(
        default=None, description="Forbidden-phrase hits and missing required phrases; None until transcribed"
    )


class RecordingPage(BaseModel):
    items: list[RecordingRow]
    next_cursor: str | None


class PlayOut(BaseModel):
    audio: str = Field(description="The recording (both channels), signed URL")
    caller: str | None = Field(description="The caller's channel alone (None for a voicemail)")
    agent: str | None
    peaks: str = Field(description="Waveform peaks JSON, signed URL")
    expires_at: datetime


class DownloadOut(BaseModel):
    url: str
    expires_at: datetime


class RecordingHoldIn(BaseModel):
    legal_hold: bool
    reason: str = Field(min_length=2, max_length=200, description="Why (a case number, a complaint)")


class RetentionRuleOut(BaseModel):
    queue: str = Field(description='The queue; "" for calls out of no queue (outbound, internal)')
    queue_title: str
    days: int


class RetentionOut(BaseModel):
    default_days: int
    minimum_days: int
    rules: list[RetentionRuleOut]


class RetentionRuleIn(BaseModel):
    queue: str = Field(max_length=64)
    days: int = Field(ge=30, le=3650, description="At least 30 days (outbound calls too)")


class RetentionIn(BaseModel):
    rules: list[RetentionRuleIn] = Field(max_length=200)


class Peaks(BaseModel):
    duration: float
    rate: int = Field(description="Points per second")
    channels: list[list[float]] = Field(description="Per channel, min and max of each point in turn")
