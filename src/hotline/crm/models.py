"""Customers as stored: the file, its phones, and who served them last.

Personal data (ID number, phones, address, e-mail, birthday) is kept as entered (`__personal__`
names it); every response shows it masked (core/privacy.py), and revealing it is audited. Deleting a
customer anonymises the file: bookings and statistics keep pointing at the row.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.core.audit import Audited
from hotline.core.clock import utcnow
from hotline.core.db import Base
from hotline.core.privacy import Kind, personal


class Customer(Audited, Base):
    __tablename__ = "customers"
    __audit_redact__ = frozenset({"id_number"})
    __personal__ = personal(
        id_number=Kind.ID_NUMBER, birthday=Kind.BIRTHDAY, email=Kind.EMAIL, address=Kind.ADDRESS
    )
    __table_args__ = (
        Index("ix_customers_name", "name"),
        Index("ix_customers_name_pinyin", "name_pinyin"),
        Index("ix_customers_name_initials", "name_initials"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_number: Mapped[str] = mapped_column(String(8), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    name_pinyin: Mapped[str] = mapped_column(String(120), default="")
    name_initials: Mapped[str] = mapped_column(String(30), default="")
    title: Mapped[str] = mapped_column(String(8), default="")
    """先生 / 女士 / 小姐, as the customer likes to be addressed."""
    gender: Mapped[str | None] = mapped_column(String(1))
    id_type: Mapped[str] = mapped_column(String(10), default="none")
    """resident | passport | other | none"""
    id_number: Mapped[str | None] = mapped_column(String(32), unique=True)
    birthday: Mapped[date | None]
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    address: Mapped[str] = mapped_column(String(200), default="")
    city: Mapped[str] = mapped_column(String(40), default="")
    tier: Mapped[str] = mapped_column(String(12), default="standard")
    """standard | silver | gold | platinum (VIP tiers are served first in queues)"""
    points: Mapped[int] = mapped_column(default=0)
    tags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    preferences: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    source: Mapped[str] = mapped_column(String(20), default="phone")
    notes: Mapped[str] = mapped_column(String(2000), default="")
    last_agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    """The agent who served the customer last (sticky routing, R3)."""
    last_contact_at: Mapped[datetime | None]
    anonymised: Mapped[bool] = mapped_column(default=False)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    """Set when this file was merged into another (it is then anonymised; references follow it)."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    phones: Mapped[list[CustomerPhone]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", lazy="selectin",
        order_by="(CustomerPhone.preferred.desc(), CustomerPhone.id)",
    )  # fmt: skip


class CustomerPhone(Audited, Base):
    """One of a customer's numbers, in E.164. `recognise`: the customer agreed that calls from
    this number open their file (R4: a known customer on a registered phone)."""

    __tablename__ = "customer_phones"
    __personal__ = personal(number=Kind.PHONE)
    __table_args__ = (UniqueConstraint("customer_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(20), index=True)
    label: Mapped[str] = mapped_column(String(20), default="")
    preferred: Mapped[bool] = mapped_column(default=False)
    recognise: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    customer: Mapped[Customer] = relationship(back_populates="phones")


class PointsEntry(Base):
    """One line of a member's points ledger (C4). The balance is the sum of the ledger, always;
    `Customer.points` is that sum kept in the same transaction. Earned points carry what is left
    of them (`remaining`): redemptions use the oldest first, and what is left expires after two
    years as an `expire` line. Lines are never changed except `remaining`."""

    __tablename__ = "points_ledger"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(8))
    """earn | redeem | expire | adjust"""
    points: Mapped[int]
    """Signed: + earned or added, − redeemed, expired or taken off."""
    remaining: Mapped[int] = mapped_column(default=0)
    expires_at: Mapped[datetime | None]
    reason: Mapped[str] = mapped_column(String(200), default="")
    ref: Mapped[str] = mapped_column(String(64), default="")
    """What it is for, e.g. reservation:123 (one earn per reference)."""
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class TierChange(Base):
    __tablename__ = "tier_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    before: Mapped[str] = mapped_column(String(12))
    after: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str] = mapped_column(String(200), default="")


class TimelineEntry(Base):
    """One contact with a customer, from any domain (C3): a call, a booking, an order, a ticket,
    a message, a survey, a walk-in visit. Domains add entries through `crm.timeline.add`; the
    text is written for agents and holds no personal data."""

    __tablename__ = "customer_timeline"
    __table_args__ = (Index("ix_customer_timeline_customer_at", "customer_id", "at"), UniqueConstraint("ref"))

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(12))
    """call | booking | order | ticket | message | survey | visit | loyalty"""
    title: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(String(1000), default="")
    ref: Mapped[str] = mapped_column(String(80))
    """Where it comes from, unique (call:<id>, reservation:<id>, visit:<n>…): added once."""
    by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
