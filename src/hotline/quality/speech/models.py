"""Stored records of transcripts and phrase rules: a recording's transcript (its header, its
utterances), the phrase hits and missing required phrases found in it, and each queue's rules."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from hotline.core.audit import Audited
from hotline.core.db import Base


class Transcript(Base):
    """A recording's transcript: which engine made it (or "demo": written as data for the demo),
    whether it was refused, and what the phrase rules found, counted for the library's filters."""

    __tablename__ = "recording_transcripts"
    __table_args__ = (Index("ix_recording_transcripts_unmatched", "matched_at"),)

    recording_id: Mapped[int] = mapped_column(
        ForeignKey("recordings.id", ondelete="CASCADE"), primary_key=True
    )
    engine: Mapped[str] = mapped_column(String(120))
    demo: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(16))
    """done | refused"""
    reason: Mapped[str] = mapped_column(String(80), default="")
    """Why it was refused (a stable reason code)."""
    transcribed_at: Mapped[datetime]
    matched_at: Mapped[datetime | None]
    """When the queue's phrase rules were last matched; None: to match (new, or the rules changed)."""
    forbidden_count: Mapped[int] = mapped_column(default=0)
    missing_count: Mapped[int] = mapped_column(default=0)


class Utterance(Base):
    """What one side said from `start_seconds` to `end_seconds` of the recording. `plain` is the
    text as phrase rules and the text search compare it (normalise.plain)."""

    __tablename__ = "transcript_utterances"

    id: Mapped[int] = mapped_column(primary_key=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int]
    """Its place in the transcript (time order), which hits point at."""
    channel: Mapped[str] = mapped_column(String(8))
    """caller | agent"""
    start_seconds: Mapped[float]
    end_seconds: Mapped[float]
    text: Mapped[str] = mapped_column(String(1000))
    plain: Mapped[str] = mapped_column(String(1000))


class PhraseHit(Base):
    """A phrase rule's finding on a recording: a required phrase said (`required`) or not
    (`missing`: no moment), or a forbidden phrase said (`forbidden`, every time)."""

    __tablename__ = "phrase_hits"
    __table_args__ = (Index("ix_phrase_hits_kind_rule", "kind", "rule", "recording_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id", ondelete="CASCADE"), index=True)
    rule: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    """required | forbidden | missing"""
    phrase: Mapped[str] = mapped_column(String(40), default="")
    channel: Mapped[str] = mapped_column(String(8), default="")
    at: Mapped[float | None]
    utterance: Mapped[int | None]
    """The utterance's `seq`."""


class PhraseRuleSet(Audited, Base):
    """A queue's phrase rules: a list of {"key", "title", "kind", "phrases", "side", "within",
    "seconds", "pinyin"} (schemas.PhraseRuleIn); "" holds the rules of calls out of no queue."""

    __tablename__ = "phrase_rules"

    queue: Mapped[str] = mapped_column(String(64), primary_key=True)
    rules: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    updated_at: Mapped[datetime]
    updated_by: Mapped[int | None]
