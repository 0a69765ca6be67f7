"""Hotels as stored: branches, room types, daily inventory with prices, rate plans with their
change/cancel policy, reservations with their history and the confirmations sent."""

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


class Hotel(Audited, Base):
    __tablename__ = "hotels"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    city: Mapped[str] = mapped_column(String(40), index=True)
    address: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(20))
    latitude: Mapped[Decimal | None]
    longitude: Mapped[Decimal | None]
    check_in: Mapped[str] = mapped_column(String(5), default="14:00")
    check_out: Mapped[str] = mapped_column(String(5), default="12:00")
    hold_until: Mapped[str] = mapped_column(String(5), default="18:00")
    """Rooms not guaranteed are held until this time on the arrival day (保留到XX点)."""
    timezone: Mapped[str] = mapped_column(String(40), default="Asia/Shanghai")
    active: Mapped[bool] = mapped_column(default=True)
    stars: Mapped[int] = mapped_column(default=0, server_default="0")
    """The branch's star rating (0: not rated), shown with its offers."""


class RoomType(Audited, Base):
    __tablename__ = "room_types"
    __table_args__ = (UniqueConstraint("hotel_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    hotel_id: Mapped[int] = mapped_column(ForeignKey("hotels.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(40))
    capacity: Mapped[int] = mapped_column(default=2)
    bed: Mapped[str] = mapped_column(String(10), default="大床")


class Inventory(Base):
    """One room type on one night: how many rooms there are, sold, held (group blocks) and out of
    order, and the rack price. Bookings change `sold` only through a guarded UPDATE."""

    __tablename__ = "room_inventory"
    __table_args__ = (
        UniqueConstraint("room_type_id", "day"),
        CheckConstraint("sold >= 0 AND held >= 0 AND out_of_order >= 0", name="counts_not_negative"),
        CheckConstraint("sold + held + out_of_order <= total", name="never_oversold"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    room_type_id: Mapped[int] = mapped_column(ForeignKey("room_types.id", ondelete="CASCADE"))
    day: Mapped[date]
    total: Mapped[int]
    sold: Mapped[int] = mapped_column(default=0)
    held: Mapped[int] = mapped_column(default=0)
    out_of_order: Mapped[int] = mapped_column(default=0)
    closed: Mapped[bool] = mapped_column(default=False)
    price: Mapped[Decimal]
    """Rack rate for the night, CNY."""


class RatePlan(Audited, Base):
    __tablename__ = "rate_plans"
    __table_args__ = (UniqueConstraint("hotel_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    hotel_id: Mapped[int] = mapped_column(ForeignKey("hotels.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(40))
    factor: Mapped[Decimal] = mapped_column(default=Decimal("1.00"))
    """Price = rack × factor (× the member tier's discount when `member` is set)."""
    member: Mapped[bool] = mapped_column(default=False)
    breakfast: Mapped[bool] = mapped_column(default=False)
    breakfast_price: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    """Added per room per night when breakfast is included."""
    guaranteed: Mapped[bool] = mapped_column(default=False)
    """A guaranteed booking (prepaid) is held all night; others until the hotel's hold time."""
    policy: Mapped[list[Any]] = mapped_column(JSON)
    """Refund by notice, e.g. [{"hours": 48, "refund": 100}, {"hours": 24, "refund": 50},
    {"hours": 0, "refund": 0}] — cancelling at least `hours` before arrival refunds `refund` % of
    what was paid."""
    active: Mapped[bool] = mapped_column(default=True)


class Reservation(Audited, Base):
    __tablename__ = "reservations"
    __personal__ = personal(guest_phone=Kind.PHONE)
    __table_args__ = (
        Index("ix_reservations_hotel_arrival", "hotel_id", "arrival"),
        CheckConstraint("departure > arrival", name="stays_a_night"),
        CheckConstraint("rooms >= 1", name="at_least_one_room"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(10), unique=True)
    hotel_id: Mapped[int] = mapped_column(ForeignKey("hotels.id"))
    room_type_id: Mapped[int] = mapped_column(ForeignKey("room_types.id"))
    rate_plan_id: Mapped[int] = mapped_column(ForeignKey("rate_plans.id"))
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    """The booker (a CRM customer)."""
    guest_name: Mapped[str] = mapped_column(String(60))
    guest_phone: Mapped[str] = mapped_column(String(20))
    rooms: Mapped[int]
    guests: Mapped[int]
    arrival: Mapped[date]
    departure: Mapped[date]
    expected_arrival: Mapped[str] = mapped_column(String(5), default="18:00")
    hold_until: Mapped[datetime]
    special_requests: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(12), index=True)
    """tentative | confirmed | checked_in | checked_out | cancelled | no_show | conflict (a paper
    booking entered later that found its rooms sold meanwhile: it holds no rooms until resolved)"""
    nights: Mapped[list[Any]] = mapped_column(JSON)
    """The price breakdown: [{"date": "2026-12-24", "price": "688.00"}] per room."""
    total: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    deposit: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    cancel_fee: Mapped[Decimal | None]
    refund: Mapped[Decimal | None]
    source: Mapped[str] = mapped_column(String(12), default="phone")
    late_since: Mapped[datetime | None]
    """When the no-show sweep found the guest past their expected arrival (a call task was made)."""
    call_id: Mapped[str | None] = mapped_column(String(64))
    """The call it was booked on, when booked from the agent desktop."""
    taken_at: Mapped[datetime | None]
    """When a booking taken on paper during an outage was really taken (X4); created_at is when
    it was entered."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class ReservationChange(HistoryRow, Base):
    """Each step of a reservation (hotels/state.py): who, when, which action, from and to, and why."""

    __tablename__ = "reservation_changes"
    __note_length__ = 300

    id: Mapped[int] = mapped_column(primary_key=True)
    reservation_id: Mapped[int] = mapped_column(ForeignKey("reservations.id", ondelete="CASCADE"), index=True)


class Confirmation(Base):
    """What the customer is told (H6): the event's text as rendered, kept and visible until the
    notifications capability sends it by SMS and e-mail."""

    __tablename__ = "reservation_confirmations"

    id: Mapped[int] = mapped_column(primary_key=True)
    reservation_id: Mapped[int] = mapped_column(ForeignKey("reservations.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(12))
    """confirmed | modified | cancelled | unreachable"""
    text: Mapped[str] = mapped_column(String(1000))


class Payment(Base):
    """One line of a reservation's payments ledger (H8): deposits and prepayments in, refunds out.
    What was paid is always the sum of the ledger; lines are never changed."""

    __tablename__ = "reservation_payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    reservation_id: Mapped[int] = mapped_column(ForeignKey("reservations.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(10))
    """deposit | prepayment | balance | refund"""
    method: Mapped[str] = mapped_column(String(10))
    """cash | card | transfer | online"""
    amount: Mapped[Decimal]
    """Signed: + received, − refunded."""
    reference: Mapped[str] = mapped_column(String(64), default="")
    """The card slip, bank transfer or online payment reference."""
    receipt: Mapped[str] = mapped_column(String(20), unique=True)
    by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class GroupBlock(Audited, Base):
    """A group reservation (团单, H4): rooms of several types held over the group's nights, a
    contact, a deposit, and a release date after which rooms without a name go back on sale."""

    __tablename__ = "group_blocks"
    __personal__ = personal(contact_phone=Kind.PHONE)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(10), unique=True)
    hotel_id: Mapped[int] = mapped_column(ForeignKey("hotels.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    contact_name: Mapped[str] = mapped_column(String(60))
    contact_phone: Mapped[str] = mapped_column(String(20))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    arrival: Mapped[date]
    departure: Mapped[date]
    release_on: Mapped[date]
    deposit: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    status: Mapped[str] = mapped_column(String(10), default="held")
    """held | released | cancelled"""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class GroupRoom(Base):
    """One room of a block: its type, and the guest once the rooming list names one."""

    __tablename__ = "group_rooms"

    id: Mapped[int] = mapped_column(primary_key=True)
    block_id: Mapped[int] = mapped_column(ForeignKey("group_blocks.id", ondelete="CASCADE"), index=True)
    room_type_id: Mapped[int] = mapped_column(ForeignKey("room_types.id"))
    guest_name: Mapped[str] = mapped_column(String(60), default="")
    released: Mapped[bool] = mapped_column(default=False)


class PmsEvent(Base):
    """An arrival or departure a hotel's PMS posted (H10), kept by its event id so that the same
    event posted twice is applied once."""

    __tablename__ = "pms_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    reservation_number: Mapped[str] = mapped_column(String(10))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    result: Mapped[str] = mapped_column(String(200))
