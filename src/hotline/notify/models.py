"""Notifications as stored: templates (versioned, approved), rules, the outbox of messages,
customers' opt-outs and the gateway settings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hotline.core.audit import Audited
from hotline.core.clock import utcnow
from hotline.core.db import Base


class Template(Audited, Base):
    """One version of a template. Editing makes a new draft version; a supervisor approves it and
    it goes live, the version before it retires. Every version is kept."""

    __tablename__ = "message_templates"
    __table_args__ = (UniqueConstraint("code", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), index=True)
    version: Mapped[int]
    channel: Mapped[str] = mapped_column(String(8))
    """sms | email"""
    topic: Mapped[str] = mapped_column(String(40))
    """Whose variables it may use: hotels.reservation, crm.customer, …"""
    purpose: Mapped[str] = mapped_column(String(12), default="service")
    """service (transactional: always sent) | marketing (quiet hours and opt-outs apply)"""
    name: Mapped[str] = mapped_column(String(80))
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="draft")
    """draft | pending | live | retired | rejected"""
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    approved_at: Mapped[datetime | None]
    note: Mapped[str] = mapped_column(String(300), default="")


class Rule(Audited, Base):
    """When to send which template: on an event (`hotels.reservation:confirmed`), or on a
    schedule relative to a date (`hotels.arrival`, 1 day before, at 17:00), with conditions."""

    __tablename__ = "message_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    template_code: Mapped[str] = mapped_column(String(40))
    trigger: Mapped[str] = mapped_column(String(60))
    """An event and occasion (`hotels.reservation:confirmed`) or a date source (`hotels.arrival`)"""
    schedule: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """For date sources: {"days": -1, "at": "17:00", "timezone": "Asia/Shanghai"}"""
    conditions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """Field → allowed values, e.g. {"tier": ["gold", "platinum"], "hotel_code": ["SH-BUND"]}"""
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Message(Base):
    """One message to one recipient, a row before it is sent. The idempotency key — rule,
    recipient, object and occasion — is unique: a message is never queued twice."""

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_due", "status", "next_attempt_at"), Index("ix_messages_ref", "ref"))

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    channel: Mapped[str] = mapped_column(String(8))
    recipient: Mapped[str] = mapped_column(String(254))
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("message_rules.id", ondelete="SET NULL"))
    template_code: Mapped[str] = mapped_column(String(40))
    template_version: Mapped[int]
    purpose: Mapped[str] = mapped_column(String(12))
    ref: Mapped[str] = mapped_column(String(80), default="")
    """What it is about, e.g. reservation:60000001"""
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="queued")
    """queued | sending | sent | delivered | failed | suppressed | unknown"""
    reason: Mapped[str] = mapped_column(String(300), default="")
    """Why it was held, suppressed or failed (quiet hours, opt-out, gateway error…)"""
    gateway: Mapped[str] = mapped_column(String(12), default="")
    gateway_ref: Mapped[str] = mapped_column(String(80), default="")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    sent_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]


class OptOut(Audited, Base):
    """A customer who asked for no marketing messages on a channel (service messages — the
    confirmation of their own booking — still go)."""

    __tablename__ = "message_opt_outs"
    __table_args__ = (UniqueConstraint("customer_id", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(8))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    note: Mapped[str] = mapped_column(String(200), default="")


class GatewaySetting(Audited, Base):
    """How a channel is delivered: `log` (kept and shown, for `make run`), `smtp`, `kannel`."""

    __tablename__ = "message_gateways"
    __audit_redact__ = frozenset({"secret"})

    channel: Mapped[str] = mapped_column(String(8), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), default="log")
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """host, port, username, sender, starttls (smtp); url, username, smsc, dlr_base (kannel)"""
    secret: Mapped[str] = mapped_column(String(200), default="")
    """The password; never sent back by the API."""


class StaffNotice(Base):
    """An in-app message to one member of staff (N5): a workflow step for them, a mention."""

    __tablename__ = "staff_notices"
    __table_args__ = (Index("ix_staff_notices_user", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(24))
    """approval | conflict | assignment | dispatch | sla | mention | …"""
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(String(1000), default="")
    link: Mapped[str] = mapped_column(String(200), default="")
    """Where it opens in the web UI, e.g. /reservations?number=60000001"""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
