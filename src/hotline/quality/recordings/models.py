"""Stored records of the recordings library: one row per recorded call part or voicemail, the
retention rule of each queue, the indexer's cursor and the key media URLs are signed with."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from hotline.core.audit import Audited
from hotline.core.db import Base
from hotline.core.privacy import Kind, personal


class Recording(Base):
    """A recorded part of a call (a transferred call has several) or a voicemail, with what the
    call's log said of it when it was indexed. Files stay where the voice node wrote them: `node`
    says which machine, `path` is relative to that node's recordings folder."""

    __tablename__ = "recordings"
    __personal__ = personal(number=Kind.PHONE)
    __table_args__ = (
        # Search is newest first with keyset pagination: every filter that narrows a lot has an
        # index ending in (started_at, id), so PostgreSQL walks it backwards and stops at `limit`.
        Index("ix_recordings_started", "started_at", "id"),
        Index("ix_recordings_agent_started", "agent_id", "started_at", "id"),
        Index("ix_recordings_queue_started", "queue", "started_at", "id"),
        Index("ix_recordings_customer_started", "customer_id", "started_at", "id"),
        Index("ix_recordings_kind_started", "kind", "started_at", "id"),
        Index("ix_recordings_disposition_started", "disposition", "started_at", "id"),
        Index("ix_recordings_hold_started", "legal_hold", "started_at", "id"),
        Index(
            "ix_recordings_number_rev",
            "number_rev",
            "started_at",
            postgresql_ops={"number_rev": "varchar_pattern_ops"},
        ),
        Index(
            "ix_recordings_dialled_rev",
            "dialled_rev",
            "started_at",
            postgresql_ops={"dialled_rev": "varchar_pattern_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_line: Mapped[int] = mapped_column(unique=True)
    """The contact log line it was indexed from ("recorded" or "voicemail"): indexing it twice is
    refused by this constraint."""
    call_id: Mapped[str] = mapped_column(String(64), index=True)
    part: Mapped[int] = mapped_column(default=1)
    kind: Mapped[str] = mapped_column(String(16))
    """call | voicemail"""
    started_at: Mapped[datetime]
    seconds: Mapped[float]
    direction: Mapped[str] = mapped_column(String(16))
    """inbound | outbound | internal"""
    queue: Mapped[str] = mapped_column(String(64), default="")
    agent_id: Mapped[int | None]
    agent_name: Mapped[str] = mapped_column(String(120), default="")
    agent_number: Mapped[str] = mapped_column(String(32), default="")
    customer_id: Mapped[int | None]
    number: Mapped[str] = mapped_column(String(32), default="")
    """The other party: the caller of an inbound call, the number called on an outbound one."""
    number_rev: Mapped[str] = mapped_column(String(32), default="")
    """`number`'s digits reversed: a search by the last digits is a prefix search on an index."""
    dialled: Mapped[str] = mapped_column(String(32), default="")
    dialled_rev: Mapped[str] = mapped_column(String(32), default="")
    disposition: Mapped[str] = mapped_column(String(16), default="")
    survey_score: Mapped[int | None]
    qa_score: Mapped[float | None]
    """Filled by reviews when the call is evaluated."""
    checks: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """What the automatic analysis found (quality.analysis); None until it ran."""
    checked_at: Mapped[datetime | None]
    longest_silence: Mapped[float | None] = mapped_column(index=True)
    """Seconds of the longest silence in the call (from `checks`, for searching and sampling)."""
    overtalk_seconds: Mapped[float | None] = mapped_column(index=True)
    """Seconds both sides spoke at once, in all (from `checks`)."""
    talk_ratio: Mapped[float | None]
    """The agent's share of all talk, 0..1 (from `checks`; None when nobody spoke)."""
    hold_seconds: Mapped[float] = mapped_column(default=0.0)
    """How long the caller was on hold during this part, from the call's log (not in the audio)."""
    channels: Mapped[int] = mapped_column(default=2)
    node: Mapped[str] = mapped_column(String(120), default="")
    path: Mapped[str] = mapped_column(String(400))
    """The two-channel mix (caller left, agent right) or the voicemail, relative to the node's
    recordings folder; caller and agent alone are a.wav and b.wav beside a mix."""
    legal_hold: Mapped[bool] = mapped_column(default=False)
    hold_reason: Mapped[str] = mapped_column(String(200), default="")
    deleted_at: Mapped[datetime | None]
    indexed_at: Mapped[datetime]

    def note_checks(self, checks: dict[str, Any], at: datetime) -> None:
        """What the automatic analysis found (or why it refused), with the figures searched by."""
        self.checks, self.checked_at = checks, at
        self.longest_silence = checks.get("longest_silence")
        self.overtalk_seconds = checks.get("overtalk_seconds")
        self.talk_ratio = checks.get("talk_ratio")


class RetentionRule(Audited, Base):
    """How long a queue's recordings are kept; "" is the rule for calls out of no queue (outbound
    and internal). Queues without a rule keep the default (180 days)."""

    __tablename__ = "recording_retention"

    queue: Mapped[str] = mapped_column(String(64), primary_key=True)
    days: Mapped[int]


class RecordingCursor(Base):
    """The last contact log line the indexer read (it re-reads nothing older)."""

    __tablename__ = "recording_cursor"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    position: Mapped[int] = mapped_column(default=0)


class MediaKey(Base):
    """The secret media URLs are signed with, made on first use and shared by every node through
    the database (HOTLINE_RECORDINGS_MEDIA_SECRET overrides it)."""

    __tablename__ = "recording_media_key"
    __audit_redact__ = frozenset({"secret"})

    id: Mapped[int] = mapped_column(primary_key=True)
    secret: Mapped[str] = mapped_column(String(128))
