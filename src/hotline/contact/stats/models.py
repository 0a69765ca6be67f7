"""The figures as stored: one record per call, and additive rows per 15-minute interval and per
day of the site's time zone (docs/metrics.md "Interval figures"). Durations are whole
milliseconds, so adding and taking away a call's contribution leaves no rounding behind."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from hotline.core.db import Base
from hotline.core.privacy import Kind, personal

MEASURES: tuple[str, ...] = (
    "calls", "offered", "answered", "answered_in_time", "abandoned", "short_abandoned", "callbacks",
    "timed_out", "refused", "voicemail", "ivr_only", "self_service", "failed",
    "wait_ms", "ring_ms", "in_answered", "in_talk_ms", "out_calls", "out_connected", "out_talk_ms",
    "hold_ms", "wrap_ms", "handled", "transfers", "surveys", "survey_sum", "recorded", "ivr_visits",
    "ivr_calls",
)  # fmt: skip
"""The additive measures of a call-figures row, in this order (`wait_max_ms` is kept beside)."""

STATE_DIMENSIONS = ("site", "queue", "agent", "dnis", "ivr", "channel", "campaign")


class Figures:
    """The additive measures (MEASURES), one column each, and the longest wait (kept by maximum)."""

    calls: Mapped[int] = mapped_column(BigInteger, default=0)
    offered: Mapped[int] = mapped_column(BigInteger, default=0)
    answered: Mapped[int] = mapped_column(BigInteger, default=0)
    answered_in_time: Mapped[int] = mapped_column(BigInteger, default=0)
    abandoned: Mapped[int] = mapped_column(BigInteger, default=0)
    short_abandoned: Mapped[int] = mapped_column(BigInteger, default=0)
    callbacks: Mapped[int] = mapped_column(BigInteger, default=0)
    timed_out: Mapped[int] = mapped_column(BigInteger, default=0)
    refused: Mapped[int] = mapped_column(BigInteger, default=0)
    voicemail: Mapped[int] = mapped_column(BigInteger, default=0)
    ivr_only: Mapped[int] = mapped_column(BigInteger, default=0)
    self_service: Mapped[int] = mapped_column(BigInteger, default=0)
    failed: Mapped[int] = mapped_column(BigInteger, default=0)
    wait_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    ring_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    in_answered: Mapped[int] = mapped_column(BigInteger, default=0)
    in_talk_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    out_calls: Mapped[int] = mapped_column(BigInteger, default=0)
    out_connected: Mapped[int] = mapped_column(BigInteger, default=0)
    out_talk_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    hold_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    wrap_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    handled: Mapped[int] = mapped_column(BigInteger, default=0)
    transfers: Mapped[int] = mapped_column(BigInteger, default=0)
    surveys: Mapped[int] = mapped_column(BigInteger, default=0)
    survey_sum: Mapped[int] = mapped_column(BigInteger, default=0)
    recorded: Mapped[int] = mapped_column(BigInteger, default=0)
    ivr_visits: Mapped[int] = mapped_column(BigInteger, default=0)
    ivr_calls: Mapped[int] = mapped_column(BigInteger, default=0)
    wait_max_ms: Mapped[int] = mapped_column(BigInteger, default=0)


class CallRecord(Base):
    """One call, summed up from its lines in the event log; re-derived whenever a line of it comes."""

    __tablename__ = "call_records"
    __personal__ = personal(caller=Kind.PHONE)
    __table_args__ = (
        Index("ix_call_records_arrived", "arrived_at", "id"),
        Index("ix_call_records_agent_arrived", "agent_id", "arrived_at"),
        Index("ix_call_records_queue_arrived", "first_queue", "arrived_at"),
        Index("ix_call_records_caller_rev", "caller_rev"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[str] = mapped_column(String(64), unique=True)
    arrived_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    direction: Mapped[str] = mapped_column(String(3))
    """in | out"""
    channel: Mapped[str] = mapped_column(String(16), default="voice")
    campaign: Mapped[str] = mapped_column(String(64), default="")
    flow: Mapped[str] = mapped_column(String(64), default="")
    dnis: Mapped[str] = mapped_column(String(32), default="")
    """The number dialled (inbound); "" for calls out."""
    caller: Mapped[str] = mapped_column(String(32), default="")
    """The customer's number: the caller's, or the number an agent dialled (logged masked)."""
    caller_rev: Mapped[str] = mapped_column(String(32), default="")
    """The number's digits reversed: "ends with 8000" is an index range."""
    first_queue: Mapped[str] = mapped_column(String(64), default="")
    last_queue: Mapped[str] = mapped_column(String(64), default="")
    agent_id: Mapped[int | None]
    """The agent who answered first (users.id); the call's figures are theirs."""
    outcome: Mapped[str] = mapped_column(String(24))
    wait_ms: Mapped[int | None] = mapped_column(BigInteger)
    ring_ms: Mapped[int | None] = mapped_column(BigInteger)
    talk_ms: Mapped[int | None] = mapped_column(BigInteger)
    hold_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    wrap_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    duration_ms: Mapped[int | None] = mapped_column(BigInteger)
    """From arrival to the end of the call (None while it lasts)."""
    in_time: Mapped[bool] = mapped_column(default=False)
    transfers: Mapped[int] = mapped_column(default=0)
    disposition: Mapped[str] = mapped_column(String(16), default="")
    has_recording: Mapped[bool] = mapped_column(default=False)
    survey_score: Mapped[int | None]
    ivr_path: Mapped[list[Any]] = mapped_column(JSON, default=list)
    """[[node, kind], …] in the order visited."""
    flow_outcome: Mapped[str] = mapped_column(String(64), default="")
    enquiries: Mapped[list[Any]] = mapped_column(JSON, default=list)
    """What the caller asked about in the IVR, in order: ["route:YN6", "hotel:SH-BUND", …]."""
    last_line: Mapped[int] = mapped_column(BigInteger, default=0)


class CallInterval(Figures, Base):
    """The additive call figures of one dimension's key in one 15-minute interval (UTC start)."""

    __tablename__ = "call_intervals"
    __table_args__ = (Index("ux_call_intervals", "dimension", "key", "start", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    start: Mapped[datetime]
    dimension: Mapped[str] = mapped_column(String(10))
    key: Mapped[str] = mapped_column(String(140))


class CallDay(Figures, Base):
    """The same, per day of the site's time zone."""

    __tablename__ = "call_days"
    __table_args__ = (Index("ux_call_days", "dimension", "key", "day", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date]
    dimension: Mapped[str] = mapped_column(String(10))
    key: Mapped[str] = mapped_column(String(140))


class AgentStateInterval(Base):
    """Milliseconds an agent spent in a state (with its reason) within one 15-minute interval."""

    __tablename__ = "agent_state_intervals"
    __table_args__ = (Index("ux_agent_state_intervals", "agent_id", "start", "state", "reason", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    start: Mapped[datetime] = mapped_column(index=True)
    agent_id: Mapped[int]
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(64), default="")
    ms: Mapped[int] = mapped_column(BigInteger, default=0)


class AgentStateDay(Base):
    __tablename__ = "agent_state_days"
    __table_args__ = (Index("ux_agent_state_days", "agent_id", "day", "state", "reason", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(index=True)
    agent_id: Mapped[int]
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(64), default="")
    ms: Mapped[int] = mapped_column(BigInteger, default=0)


class StatsCursor(Base):
    """How far into contact_events the figures have read (the id of the last line taken)."""

    __tablename__ = "stats_cursors"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, default=0)
