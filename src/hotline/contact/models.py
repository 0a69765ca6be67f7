"""Routing as stored: IVR flow versions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint, false, true
from sqlalchemy.orm import Mapped, mapped_column

from hotline.core.audit import Audited
from hotline.core.clock import utcnow
from hotline.core.db import Base
from hotline.core.privacy import Kind, personal


class FlowVersion(Audited, Base):
    """One version of an IVR flow. Editing makes a draft; publishing makes it the live version
    (the previous live one is kept as `retired`); rolling back publishes an older version again."""

    __tablename__ = "ivr_flow_versions"
    __table_args__ = (UniqueConstraint("name", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int]
    status: Mapped[str] = mapped_column(String(10))
    """draft | published | retired"""
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    published_at: Mapped[datetime | None]


class QueueDef(Audited, Base):
    """A queue callers wait in, and how it routes (acd.QueueConfig is its runtime form)."""

    __tablename__ = "queues"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    """What flows' transfer nodes name (`to: queue, target: hotel`)."""
    title: Mapped[str] = mapped_column(String(120))
    skill: Mapped[str] = mapped_column(String(64))
    strategy: Mapped[str] = mapped_column(String(24), default="longest-idle")
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    """[{"until": 20, "sticky": true}, {"until": 60, "min_level": 3}, {"until": null}]"""
    ring_seconds: Mapped[int] = mapped_column(default=15)
    wrap_seconds: Mapped[int] = mapped_column(default=10)
    wrap_required: Mapped[bool] = mapped_column(default=False, server_default=false())
    """The agent stays in wrap-up until they write it (disposition and note)."""
    max_wait_seconds: Mapped[int | None]
    overflow_to: Mapped[str | None] = mapped_column(String(64))
    hold_prompt: Mapped[str | None] = mapped_column(String(64))
    announce_seconds: Mapped[int] = mapped_column(default=30)
    """Every so often the caller hears their position and the estimated wait (0: never)."""
    offer_callback: Mapped[bool] = mapped_column(default=True)
    join_when_empty: Mapped[bool] = mapped_column(default=False)
    leave_when_empty: Mapped[bool] = mapped_column(default=True)
    service_seconds: Mapped[int] = mapped_column(default=20)
    """The service-level threshold: answered within this many seconds counts as in time."""
    chat_channels: Mapped[list[str] | None] = mapped_column(JSON)
    """The conversations this queue takes, by channel (sms, wechat, web); None or []: none."""
    thresholds: Mapped[dict[str, int] | None] = mapped_column(JSON)
    """The wallboard's amber and red marks (schemas.QueueThresholds; None: the defaults)."""
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AgentProfile(Audited, Base):
    """What routing knows of an agent beyond the user: skills with levels and own wrap-up time."""

    __tablename__ = "agent_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    skills: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    wrap_seconds: Mapped[int | None]
    """Overrides the queue's wrap-up time for this agent (None: the queue's)."""
    phone: Mapped[str] = mapped_column(String(8), default="desk", server_default="desk")
    """Where the agent answers: "desk" (a SIP phone on the extension) or "browser" (the desktop
    registers the extension over WebSocket and rings in the page)."""
    chat_capacity: Mapped[int] = mapped_column(default=3, server_default="3")
    """How many conversations (web chat, SMS, WeChat) the agent holds at a time (0: none)."""
    calls_while_chatting: Mapped[bool] = mapped_column(default=True, server_default=true())
    """Whether calls are offered to the agent while they hold conversations."""
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ContactEvent(Base):
    """The one append-only event log of calls and agents (docs/metrics.md). CDRs, the wallboard
    and statistics are derived from it; nothing updates or deletes a row."""

    __tablename__ = "contact_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(24))
    """Calls: arrived, ivr, queued, offered, missed, answered, overflowed, callback, abandoned,
    refused, ended. Agents: agent (the state entered is in `state`)."""
    call_id: Mapped[str | None] = mapped_column(String(64), index=True)
    agent_id: Mapped[int | None] = mapped_column(index=True)
    queue: Mapped[str] = mapped_column(String(64), default="")
    state: Mapped[str] = mapped_column(String(16), default="")
    detail: Mapped[str] = mapped_column(String(400), default="")
    """Words for people: the routing reason, the IVR node, why the state changed."""


class CallbackTask(Audited, Base):
    """A caller to ring back (R5): abandoned in a queue, timed out, refused by an empty queue, or
    a requested callback that found nobody. One open task per number: more misses count up."""

    __tablename__ = "callback_tasks"
    __personal__ = personal(phone=Kind.PHONE)

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(32), index=True)
    call_id: Mapped[str] = mapped_column(String(64))
    """The (first) call this task comes from."""
    queue: Mapped[str] = mapped_column(String(64), default="")
    reason: Mapped[str] = mapped_column(String(24))
    """abandoned | timed_out | refused | callback_failed"""
    misses: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(String(10), default="open", index=True)
    """open | done"""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_missed_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None]
    done_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(String(500), default="")


class DeskCall(Audited, Base):
    """What an agent did on their desktop for one call offered to them (D1–D3), kept on the server
    so the pop comes back whole after a reload or a sign-in on another browser: the script stage
    they reached, the customer they found the caller to be, the number registered, and the wrap-up
    (written once). Everything else the pop shows comes from the call's event log."""

    __tablename__ = "desk_calls"
    __table_args__ = (UniqueConstraint("call_id", "agent_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[str] = mapped_column(String(64))
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    stage: Mapped[int] = mapped_column(default=0)
    """The step of the caller's script (D2) the agent is at, from 0."""
    customer_id: Mapped[int | None]
    """The customer the agent found the caller to be, or made a file for (None: as identified)."""
    caller_class: Mapped[str] = mapped_column(String(32), default="")
    """'' while the call's own class (R4) stands; `known` once the agent made the caller's file."""
    registered: Mapped[bool] = mapped_column(default=False)
    """The caller's number was registered on the customer's file during the call."""
    wrapped_at: Mapped[datetime | None]
    """When the agent wrote the wrap-up; set once, by a conditional update (two tabs cannot both)."""
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
