"""Tickets as stored: types with their admin-defined fields, the departments and work areas
tickets are dispatched to (queues), tickets with every step they went through, links, saved
views, SLA policies and the business calendar (holidays and make-up workdays)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hotline.core.audit import Audited
from hotline.core.clock import utcnow
from hotline.core.db import Base
from hotline.core.lifecycle import HistoryRow
from hotline.core.privacy import Kind, personal


class TicketType(Audited, Base):
    """A kind of ticket (咨询单, 投诉单, 工单 …) and the fields its form asks for, as data:
    `fields` is a list of {"key", "label", "type", "required", "choices", "max_length", "min", "max"}
    with type one of text, textarea, integer, number, boolean, date, datetime, choice, phone."""

    __tablename__ = "ticket_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(12), default="general")
    """general | complaint (result told before closing, escalation, authority reference) |
    emergency (top priority, on-duty team alerted, after-care call when closed)"""
    fields: Mapped[list[Any]] = mapped_column(JSON, default=list)
    default_severity: Mapped[str] = mapped_column(String(10), default="normal")
    sort: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)


class Unit(Audited, Base):
    """A department or work area (工区) that takes dispatched tickets: its queue, its staff
    (members), the lead who hears of escalations, and the round-robin cursor."""

    __tablename__ = "ticket_units"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(12), default="department")
    """department | work_area"""
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("ticket_units.id", ondelete="SET NULL"))
    """The next level up: escalations go to its lead after this unit's."""
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="SET NULL"))
    """The organisation's department (admin) this queue belongs to, if any."""
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    active: Mapped[bool] = mapped_column(default=True)
    on_duty: Mapped[bool] = mapped_column(default=False)
    """The emergency team: alerted at once and dispatched to first for 紧急救援."""
    auto_assign: Mapped[bool] = mapped_column(default=True)
    last_assigned_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class UnitMember(Base):
    __tablename__ = "ticket_unit_members"

    unit_id: Mapped[int] = mapped_column(ForeignKey("ticket_units.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)


class Ticket(Audited, Base):
    __tablename__ = "tickets"
    __personal__ = personal(phone=Kind.PHONE, email=Kind.EMAIL)
    __table_args__ = (
        Index("ix_tickets_status_unit", "status", "unit_id"),
        Index("ix_tickets_assignee", "assignee_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(10), unique=True)
    type_id: Mapped[int] = mapped_column(ForeignKey("ticket_types.id"))
    title: Mapped[str] = mapped_column(String(120))
    content: Mapped[str] = mapped_column(String(2000), default="")
    """受理内容: what the customer asked for or complained about."""
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """The type's custom field values, validated against the type when written."""
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    contact_name: Mapped[str] = mapped_column(String(60), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    call_id: Mapped[str | None] = mapped_column(String(64))
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), index=True
    )
    """The conversation (web chat, SMS, WeChat) it was started from; the ticket links back to it."""
    source: Mapped[str] = mapped_column(String(12), default="call")
    """call | voicemail | email | walk_in | web | chat (a conversation: SMS, WeChat, web chat) | authority"""
    source_ref: Mapped[str | None] = mapped_column(String(200), unique=True)
    """What the ticket was made from, once: voicemail:<event id>, email:<Message-ID>."""
    attachment: Mapped[str] = mapped_column(String(300), default="")
    """A voicemail recording's path, an e-mail's attachments' names."""
    severity: Mapped[str] = mapped_column(String(10), default="normal")
    """low | normal | high | critical — with the type, picks the SLA policy."""
    priority: Mapped[int] = mapped_column(default=2)
    """1 top (emergencies) … 4; lists sort by it."""
    status: Mapped[str] = mapped_column(String(12), default="new", index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("ticket_units.id", ondelete="SET NULL"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    processor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    """Who completed the work (may not audit it)."""
    auditor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    result: Mapped[str] = mapped_column(String(2000), default="")
    misdispatches: Mapped[int] = mapped_column(default=0)
    reopened: Mapped[int] = mapped_column(default=0)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    # complaints (S3)
    external_ref: Mapped[str] = mapped_column(String(64), default="")
    """上级部门下转投诉: the authority's reference."""
    authority: Mapped[str] = mapped_column(String(60), default="")
    responsible_unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("ticket_units.id", ondelete="SET NULL")
    )
    responsible_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    escalation: Mapped[int] = mapped_column(default=0)
    """How many levels up it has been escalated."""
    told_at: Mapped[datetime | None]
    told_by: Mapped[str] = mapped_column(String(8), default="")
    """How the customer was told the result: phone | sms."""
    satisfaction: Mapped[int | None]
    satisfaction_note: Mapped[str] = mapped_column(String(300), default="")
    # SLA (S4)
    first_response_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    due_at: Mapped[datetime | None] = mapped_column(index=True)
    """When the resolution target runs out if the clock keeps running (None while paused/stopped)."""
    sla_warned_at: Mapped[datetime | None]
    sla_breached_at: Mapped[datetime | None]
    response_breached_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class TicketStep(HistoryRow, Base):
    """Each thing done to a ticket, who did it, when and why: the timeline and the record the
    customer-visible status and the SLA clock are derived from. Never changed."""

    __tablename__ = "ticket_steps"
    __note_length__ = 2000

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("ticket_units.id", ondelete="SET NULL"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class TicketLink(Base):
    __tablename__ = "ticket_links"
    __table_args__ = (UniqueConstraint("ticket_id", "other_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    other_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10), default="related")
    """related | duplicate"""
    at: Mapped[datetime] = mapped_column(default=utcnow)
    by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class SavedView(Base):
    __tablename__ = "ticket_saved_views"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(40))
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SlaPolicy(Audited, Base):
    """Targets for a ticket type (or every type: `type_id` None) at a severity."""

    __tablename__ = "ticket_sla_policies"
    __table_args__ = (UniqueConstraint("type_id", "severity"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    type_id: Mapped[int | None] = mapped_column(ForeignKey("ticket_types.id", ondelete="CASCADE"))
    severity: Mapped[str] = mapped_column(String(10))
    response_minutes: Mapped[int]
    resolve_minutes: Mapped[int]
    business_hours: Mapped[bool] = mapped_column(default=True)
    """Counted in working hours on China's working days; False: around the clock."""
    warn_percent: Mapped[int] = mapped_column(default=80)


class CalendarDay(Audited, Base):
    """A day off the usual week: a public holiday (on a weekday) or a make-up workday (调休上班, on
    a weekend). Days not listed follow the week: Monday–Friday work."""

    __tablename__ = "ticket_calendar"

    day: Mapped[date] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    """holiday | workday"""
    name: Mapped[str] = mapped_column(String(40), default="")


class IntakeCursor(Base):
    """How far an intake has read (the contact event log's last voicemail id, an IMAP UID)."""

    __tablename__ = "ticket_intake_cursors"

    source: Mapped[str] = mapped_column(String(32), primary_key=True)
    position: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
