"""Travel as stored: the catalogue (routes with their itinerary, departures with seats,
insurance products), the planners' desks, and orders with their items, follow-ups,
assignments, money ledger and history."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hotline.core.audit import Audited
from hotline.core.clock import utcnow
from hotline.core.db import Base
from hotline.core.lifecycle import HistoryRow
from hotline.core.privacy import Kind, personal


class Route(Audited, Base):
    """A tour route (线路): where it goes, for how many days, what each day holds, its prices."""

    __tablename__ = "travel_routes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(13), index=True)
    """domestic | international"""
    destination: Mapped[str] = mapped_column(String(40))
    days: Mapped[int]
    itinerary: Mapped[list[Any]] = mapped_column(JSON)
    """One entry per day: [{"day": 1, "title": "上海—三亚", "detail": "…", "meals": "晚", "stay": "…"}]."""
    inclusions: Mapped[str] = mapped_column(String(1000), default="")
    exclusions: Mapped[str] = mapped_column(String(1000), default="")
    adult_price: Mapped[Decimal]
    child_price: Mapped[Decimal]
    single_supplement: Mapped[Decimal] = mapped_column(default=Decimal(0))
    cover_image: Mapped[str] = mapped_column(String(300), default="")
    active: Mapped[bool] = mapped_column(default=True)


class Departure(Base):
    """One date a route leaves on, with its seats and prices. Orders take seats only through a
    guarded UPDATE (`seats_taken + n <= capacity`), the same guarantee hotel rooms have."""

    __tablename__ = "travel_departures"
    __table_args__ = (
        UniqueConstraint("route_id", "departs_on"),
        CheckConstraint("seats_taken >= 0", name="seats_not_negative"),
        CheckConstraint("seats_taken <= capacity", name="never_oversold"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    route_id: Mapped[int] = mapped_column(ForeignKey("travel_routes.id", ondelete="CASCADE"), index=True)
    departs_on: Mapped[date] = mapped_column(index=True)
    returns_on: Mapped[date]
    capacity: Mapped[int]
    seats_taken: Mapped[int] = mapped_column(default=0)
    adult_price: Mapped[Decimal]
    child_price: Mapped[Decimal]
    single_supplement: Mapped[Decimal] = mapped_column(default=Decimal(0))
    closed: Mapped[bool] = mapped_column(default=False)


class InsuranceProduct(Audited, Base):
    __tablename__ = "travel_insurance"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    cover: Mapped[str] = mapped_column(String(300))
    price_per_day: Mapped[Decimal]
    """Per person per day, CNY."""
    active: Mapped[bool] = mapped_column(default=True)


class PlannerDesk(Base):
    """Which orders a planner (计调) takes — domestic, international or both — and the phone the
    customer is given when the planner is assigned."""

    __tablename__ = "travel_planner_desks"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    kinds: Mapped[list[Any]] = mapped_column(JSON)
    phone: Mapped[str] = mapped_column(String(20))


class Order(Audited, Base):
    """A travel order and where it stands in the workflow (state.py). Money is kept as the sums of
    its items (receivable) and ledger (received, cost) in the transaction that changes them."""

    __tablename__ = "travel_orders"
    __personal__ = personal(contact_phone=Kind.PHONE)
    __table_args__ = (
        Index("ix_travel_orders_state_kind", "state", "kind"),
        CheckConstraint("adults >= 0 AND children >= 0", name="travellers_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(10), unique=True)
    kind: Mapped[str] = mapped_column(String(13))
    """domestic | international"""
    source: Mapped[str] = mapped_column(String(10), default="phone")
    """phone | walk_in | web"""
    state: Mapped[str] = mapped_column(String(12), index=True)
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    contact_name: Mapped[str] = mapped_column(String(60))
    contact_phone: Mapped[str] = mapped_column(String(20))
    wish: Mapped[str] = mapped_column(String(500), default="")
    """What the customer asked for (destination, dates, budget), in the agent's words."""
    adults: Mapped[int] = mapped_column(default=1)
    children: Mapped[int] = mapped_column(default=0)
    departs_on: Mapped[date | None] = mapped_column(index=True)
    returns_on: Mapped[date | None] = mapped_column(index=True)
    creator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    assigner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    planner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    next_contact_at: Mapped[datetime | None]
    receivable: Mapped[Decimal] = mapped_column(default=Decimal(0))
    received: Mapped[Decimal] = mapped_column(default=Decimal(0))
    cost: Mapped[Decimal] = mapped_column(default=Decimal(0))
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    contract_no: Mapped[str] = mapped_column(String(20), default="")
    signed_at: Mapped[datetime | None]
    reviewed_at: Mapped[datetime | None]
    return_due_on: Mapped[date | None]
    """The return visit's day (the 3rd day after the return), set when the task is made."""
    closed_at: Mapped[datetime | None]
    summary: Mapped[str] = mapped_column(String(1000), default="")
    """The return-visit note the order was closed with."""
    void_reason: Mapped[str] = mapped_column(String(300), default="")
    call_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class OrderItem(Audited, Base):
    """A product on the order (旅游项目): seats on a departure, a ticket request, insurance or
    anything else priced by the planner. Editable only before the contract is signed."""

    __tablename__ = "travel_order_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("travel_orders.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    """tour | ticket | insurance | other"""
    title: Mapped[str] = mapped_column(String(120))
    departure_id: Mapped[int | None] = mapped_column(ForeignKey("travel_departures.id"))
    insurance_id: Mapped[int | None] = mapped_column(ForeignKey("travel_insurance.id"))
    adults: Mapped[int] = mapped_column(default=0)
    children: Mapped[int] = mapped_column(default=0)
    singles: Mapped[int] = mapped_column(default=0)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """Tickets: mode (air|train), from, to, date, passengers; insurance: persons, days."""
    amount: Mapped[Decimal]


class FollowUp(Base):
    """One follow-up of the planner (跟单): what was said and when to call again."""

    __tablename__ = "travel_follow_ups"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("travel_orders.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(String(1000))
    next_contact_at: Mapped[datetime | None]


class Assignment(Base):
    """Each hand-over: to a planner (assigner = team lead) or to the front desk for signing
    (assigner = planner). Performance counts per creator, assigner and owner read these."""

    __tablename__ = "travel_assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("travel_orders.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    stage: Mapped[str] = mapped_column(String(10))
    """planner | front_desk"""
    assigner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)


class LedgerLine(Base):
    """One line of an order's money: a receipt (+ received, − refunded) or a cost (ground
    handling, hotels, tickets…). Lines are never changed; after close only adjustments with a
    reason are added."""

    __tablename__ = "travel_ledger"
    __table_args__ = (Index("ix_travel_ledger_order_account", "order_id", "account"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("travel_orders.id", ondelete="CASCADE"))
    account: Mapped[str] = mapped_column(String(8))
    """receipt | cost"""
    category: Mapped[str] = mapped_column(String(16))
    """receipts: deposit | instalment | balance | refund | adjustment;
    costs: ground | hotel | ticket | insurance | transport | other | adjustment"""
    amount: Mapped[Decimal]
    """Signed: a refund or a negative adjustment is below zero."""
    method: Mapped[str] = mapped_column(String(10), default="")
    supplier: Mapped[str] = mapped_column(String(80), default="")
    reference: Mapped[str] = mapped_column(String(64), default="")
    note: Mapped[str] = mapped_column(String(300), default="")
    overpayment: Mapped[bool] = mapped_column(default=False)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class OrderChange(HistoryRow, Base):
    """The order's history: every step and every edit, who and when, from which state to which."""

    __tablename__ = "travel_order_changes"
    __note_length__ = 1000

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("travel_orders.id", ondelete="CASCADE"), index=True)
