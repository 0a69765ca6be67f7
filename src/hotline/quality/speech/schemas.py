"""What the transcript and phrase-rule routes take and give."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from hotline.quality.speech.rules import Channel, RuleKind, Side, Within

TranscriptStatus = Literal["off", "pending", "done", "refused"]
HitKind = Literal["required", "forbidden", "missing"]
Phrase = Annotated[str, Field(min_length=1, max_length=40)]


class PhraseRuleIn(BaseModel):
    key: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,63}$", description="Stable name, e.g. greeting, job_number")
    title: str = Field(min_length=1, max_length=40, description="What it is, e.g. 问候语")
    kind: RuleKind
    phrases: list[Phrase] = Field(min_length=1, max_length=20, description="Alternatives: any one will do")
    side: Side = "agent"
    within: Within | None = Field(default=None, description="Only in the first or last `seconds`")
    seconds: float | None = Field(default=None, ge=1, le=3600)
    pinyin: bool = Field(default=False, description="Also match homophones (same pinyin, tones ignored)")


class PhraseRulesIn(BaseModel):
    rules: list[PhraseRuleIn] = Field(max_length=50)


class PhraseRulesOut(BaseModel):
    queue: str
    queue_title: str
    rules: list[PhraseRuleIn]
    updated_at: datetime | None


class UtteranceOut(BaseModel):
    seq: int
    channel: Channel
    start: float
    end: float
    text: str = Field(description="Numbers of 7 digits or more masked")


class HitOut(BaseModel):
    rule: str
    title: str
    kind: HitKind
    phrase: str
    channel: Channel | None
    at: float | None = Field(description="Seconds from the recording's start; None when missing")
    utterance: int | None = Field(description="The utterance's seq")


class TranscriptOut(BaseModel):
    recording_id: int
    status: TranscriptStatus = Field(
        description="off: no speech engine; pending: not transcribed yet; refused: see reason"
    )
    engine: str
    demo: bool = Field(description="Written as demo data, not recognised from the audio")
    reason: str
    utterances: list[UtteranceOut]
    hits: list[HitOut] = Field(description="Required phrases said, forbidden phrases said, and missing ones")


class SpeechSummary(BaseModel):
    """A recording's phrase figures, in the library's rows (None until transcribed)."""

    forbidden_count: int
    missing_count: int
    missing: list[str] = Field(description="Keys of the required phrases not said")
