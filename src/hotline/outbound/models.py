"""Outbound work as stored: campaigns (a list plus its rules, mode, script or questionnaire,
dispositions and retries), the numbers on their lists and who works them, every attempt, the
do-not-call list, and the imports lists come from (docs/outbound.md)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from hotline.core.audit import Audited
from hotline.core.clock import utcnow
from hotline.core.db import Base
from hotline.core.privacy import Kind, personal


class Campaign(Audited, Base):
    """A list of people to call and how: marketing or service (which of China's calling rules
    apply), the dialing mode, the calling window, caps, the number shown, what the agent says or
    asks, how a call may end (dispositions) and when an unanswered number is tried again."""

    __tablename__ = "outbound_campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(12))
    """marketing | service (rules.CampaignKind)"""
    purpose: Mapped[str] = mapped_column(String(16), default="other")
    """return_visit | survey | marketing | callback | complaint | other: what the list is for."""
    mode: Mapped[str] = mapped_column(String(12), default="preview")
    """preview | progressive | predictive"""
    status: Mapped[str] = mapped_column(String(10), default="draft", index=True)
    """draft | running | paused | closed"""
    window_start: Mapped[time] = mapped_column(default=time(9))
    window_end: Mapped[time] = mapped_column(default=time(21))
    days: Mapped[list[Any]] = mapped_column(default=lambda: list(range(7)))
    holidays_off: Mapped[bool | None]
    daily_cap: Mapped[int | None]
    weekly_cap: Mapped[int | None]
    refusal_months: Mapped[int] = mapped_column(default=6)
    zone: Mapped[str] = mapped_column(String(40), default="Asia/Shanghai")
    caller_id: Mapped[str] = mapped_column(String(20), default="")
    """The number the called person sees (one of the site's trunk numbers); '' for the trunk's own."""
    script: Mapped[str] = mapped_column(Text, default="")
    questionnaire: Mapped[list[Any]] = mapped_column(default=list)
    dispositions: Mapped[list[Any]] = mapped_column(default=list)
    """[{code, label, final, refusal}]: how an answered call may end; `final` closes the number,
    `refusal` also puts it on the do-not-call list for the campaign's refusal months."""
    retry: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """{no_answer_minutes, busy_minutes, max_attempts}"""
    starts_on: Mapped[date | None]
    ends_on: Mapped[date | None]
    feed_source: Mapped[str] = mapped_column(String(40), default="", server_default="")
    """A date source (core.topics.SOURCES: hotels.departure, travel.return …) whose people of
    `feed_days_after` days ago join the list every morning while the campaign runs ('' for none)."""
    feed_days_after: Mapped[int] = mapped_column(default=1, server_default="1")
    detect_machines: Mapped[bool] = mapped_column(default=False, server_default=false())
    """Progressive and predictive calls: tell answering machines from people (voice/media/amd.py)."""
    machine_message: Mapped[str] = mapped_column(Text, default="", server_default="")
    """Left on an answering machine once its greeting ends ('' : hang up; the number is retried)."""
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CampaignAgent(Base):
    """An agent who works a campaign (handed its numbers evenly, dialled for by the pacer)."""

    __tablename__ = "outbound_campaign_agents"

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("outbound_campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)


class Target(Audited, Base):
    """One number on a campaign's list: whom it belongs to, the evidence of consent, the columns
    the list came with, who works it, and where it stands."""

    __tablename__ = "outbound_targets"
    __personal__ = personal(phone=Kind.PHONE)
    __table_args__ = (
        UniqueConstraint("campaign_id", "phone"),
        Index("ix_outbound_targets_work", "campaign_id", "state", "next_at"),
        Index("ix_outbound_targets_assignee", "assignee_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("outbound_campaigns.id", ondelete="CASCADE"))
    phone: Mapped[str] = mapped_column(String(20))
    """E.164."""
    name: Mapped[str] = mapped_column(String(60), default="")
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    """The customer whose registered number this is (found at import), when exactly one."""
    consent_source: Mapped[str] = mapped_column(String(40), default="")
    consent_at: Mapped[datetime | None]
    fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """The list's own columns shown to the agent (线路, 出行日期 …)."""
    state: Mapped[str] = mapped_column(String(10), default="open")
    """open (to call; `next_at` says from when) | done (a final disposition) | exhausted (out of
    attempts) | blocked (the rules say never: an opt-out, no consent) | removed (taken off)"""
    next_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    last_attempt_at: Mapped[datetime | None]
    last_outcome: Mapped[str] = mapped_column(String(16), default="")
    disposition: Mapped[str] = mapped_column(String(24), default="")
    blocked_reason: Mapped[str] = mapped_column(String(24), default="")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    assigned_at: Mapped[datetime | None]
    import_id: Mapped[int | None] = mapped_column(ForeignKey("outbound_imports.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Attempt(Base):
    """One dial of a number: by whom, the call, how it went, and (answered) how the agent closed it."""

    __tablename__ = "outbound_attempts"
    __personal__ = personal(phone=Kind.PHONE)
    __table_args__ = (
        Index("ix_outbound_attempts_phone", "phone", "started_at"),
        Index("ix_outbound_attempts_target", "target_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("outbound_campaigns.id", ondelete="CASCADE"))
    target_id: Mapped[int] = mapped_column(ForeignKey("outbound_targets.id", ondelete="CASCADE"))
    phone: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(12))
    """The campaign's kind when dialled: marketing caps count every marketing campaign's attempts."""
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    call_id: Mapped[str] = mapped_column(String(64), default="")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    outcome: Mapped[str] = mapped_column(String(16), default="dialing")
    """dialing | answered | no_answer | busy | failed | machine | abandoned"""
    disposition: Mapped[str] = mapped_column(String(24), default="")
    note: Mapped[str] = mapped_column(String(500), default="")
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """The questionnaire's answers given on this call, by question key."""


class DoNotCall(Audited, Base):
    """A number not to be called: an opt-out (marketing, or every call with `all_calls`), a refusal
    on a call (out for the campaign's refusal months), an imported list, or staff's entry."""

    __tablename__ = "outbound_dnc"
    __personal__ = personal(phone=Kind.PHONE)

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), index=True)
    source: Mapped[str] = mapped_column(String(10))
    """opt-out | refusal | imported | staff (rules.DncSource)"""
    all_calls: Mapped[bool] = mapped_column(default=False)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    until: Mapped[datetime | None]
    note: Mapped[str] = mapped_column(String(200), default="")
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("outbound_campaigns.id", ondelete="SET NULL"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class ListImport(Base):
    """A file imported into a campaign's list: what it held and what became of each row."""

    __tablename__ = "outbound_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("outbound_campaigns.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(120))
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SurveyResponse(Base):
    """One customer's answers to a survey, however given (docs/outbound.md, "Surveys"): to an agent
    on a return visit (`phone`), to the IVR's post-call survey (`ivr`), or on the mobile page an
    SMS link opens (`sms`). One store for the three, so a report or a customer's file reads them
    the same way; `score` is the first 1–5 score answered (the IVR's key), what reports average."""

    __tablename__ = "survey_responses"
    __table_args__ = (Index("ix_survey_responses_at", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(80), unique=True)
    """What gave it, once: attempt:<id>, link:<id> or ivr:<event id>."""
    at: Mapped[datetime] = mapped_column(default=utcnow)
    channel: Mapped[str] = mapped_column(String(8))
    """phone | ivr | sms"""
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("outbound_campaigns.id", ondelete="SET NULL"))
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    """The agent the answers are about: who served the call (IVR) or made the return visit."""
    call_id: Mapped[str] = mapped_column(String(64), default="")
    queue: Mapped[str] = mapped_column(String(64), default="")
    hotel: Mapped[str] = mapped_column(String(80), default="")
    route: Mapped[str] = mapped_column(String(80), default="")
    """The hotel stayed at and the travel route taken (names), where the survey is about one."""
    score: Mapped[int | None]
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)


class SurveyLink(Base):
    """A survey sent by SMS: a one-time link to a mobile page, no sign-in, until it expires. Only
    the token's SHA-256 is kept: the link in the SMS is the one way in."""

    __tablename__ = "survey_links"
    __personal__ = personal(phone=Kind.PHONE)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("outbound_campaigns.id", ondelete="CASCADE"), index=True
    )
    target_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbound_targets.id", ondelete="SET NULL"), index=True
    )
    phone: Mapped[str] = mapped_column(String(20))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    hotel: Mapped[str] = mapped_column(String(80), default="")
    route: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    expires_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
