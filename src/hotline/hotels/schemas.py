from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from itertools import pairwise
from typing import Annotated, Any, Literal
from zoneinfo import available_timezones

from pydantic import AfterValidator, Field, StringConstraints, field_validator, model_validator

from hotline.core import privacy
from hotline.core.schemas import NON_BLANK, ClockTime, DbId, Input, Money, Output
from hotline.hotels.offer_schemas import Alternative as Alternative
from hotline.hotels.offer_schemas import AvailabilityOut as AvailabilityOut
from hotline.hotels.offer_schemas import HotelOffers as HotelOffers
from hotline.hotels.offer_schemas import Offer as Offer
from hotline.hotels.offer_schemas import PlanOffer as PlanOffer
from hotline.hotels.offer_schemas import RoomTypeOffers as RoomTypeOffers

MAX_INVENTORY_DAYS = 731


class HotelOut(Output):
    id: int
    code: str
    name: str
    city: str
    address: str
    phone: str
    check_in: str
    check_out: str
    hold_until: str
    active: bool = True
    stars: int = 0


class RoomTypeOut(Output):
    id: int
    code: str
    name: str
    capacity: int
    bed: str


class PolicyWindow(Input):
    hours: int = Field(ge=0, le=24 * 60, description="Cancelled at least this many hours before arrival…")
    refund: int = Field(ge=0, le=100, description="…refunds this percentage of what was paid")


class RatePlanOut(Output):
    id: int
    code: str
    name: str
    factor: Annotated[Decimal, AfterValidator(lambda v: v.quantize(Decimal("0.01")))]
    member: bool
    breakfast: bool
    breakfast_price: Money
    guaranteed: bool
    policy: list[PolicyWindow]
    active: bool


class HotelDetail(HotelOut):
    latitude: Decimal | None
    longitude: Decimal | None
    timezone: str
    room_types: list[RoomTypeOut]
    rate_plans: list[RatePlanOut]


Code = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9-]{0,15}$")]
Name = Annotated[
    str, StringConstraints(min_length=1, max_length=40, pattern=NON_BLANK, strip_whitespace=True)
]


class HotelIn(Input):
    code: Code
    name: Annotated[
        str, StringConstraints(min_length=2, max_length=80, pattern=NON_BLANK, strip_whitespace=True)
    ]
    city: Name
    address: Annotated[str, StringConstraints(min_length=2, max_length=200, strip_whitespace=True)]
    # max_length: "+" and 20 digits would be one more than the column holds (a 500 on PostgreSQL).
    phone: Annotated[str, StringConstraints(max_length=20, pattern=r"^\+?[0-9 ()-]{7,20}$")]
    latitude: Decimal | None = Field(default=None, ge=-90, le=90, max_digits=9, decimal_places=6)
    longitude: Decimal | None = Field(default=None, ge=-180, le=180, max_digits=9, decimal_places=6)
    check_in: ClockTime = "14:00"
    check_out: ClockTime = "12:00"
    hold_until: ClockTime = Field(default="18:00", description="Rooms not guaranteed are held until then")
    timezone: str = "Asia/Shanghai"
    stars: int = Field(default=0, ge=0, le=5, description="Star rating (0: not rated)")
    active: bool = True

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if value not in available_timezones():
            raise ValueError(f"unknown time zone {value!r}")
        return value


class RoomTypeIn(Input):
    code: Code
    name: Name
    capacity: int = Field(ge=1, le=12)
    bed: Annotated[str, StringConstraints(min_length=1, max_length=10, strip_whitespace=True)] = "大床"
    rooms: int | None = Field(default=None, ge=0, le=2000, description="New room type: rooms a night")
    price: Decimal | None = Field(
        default=None,
        gt=0,
        le=1_000_000,
        max_digits=10,
        decimal_places=2,
        description="New room type: rack price a night",
    )
    days: int = Field(default=180, ge=1, le=MAX_INVENTORY_DAYS, description="New room type: nights opened")


class RatePlanIn(Input):
    code: Code
    name: Name
    factor: Decimal = Field(default=Decimal("1.00"), gt=0, le=5, max_digits=4, decimal_places=2)
    member: bool = False
    breakfast: bool = False
    breakfast_price: Decimal = Field(default=Decimal(0), ge=0, le=10_000, max_digits=7, decimal_places=2)
    guaranteed: bool = False
    policy: list[PolicyWindow] = Field(min_length=1, max_length=6)
    active: bool = True

    @field_validator("policy")
    @classmethod
    def _windows(cls, windows: list[PolicyWindow]) -> list[PolicyWindow]:
        hours = [w.hours for w in windows]
        if len(set(hours)) != len(hours):
            raise ValueError("two windows start at the same notice")
        if 0 not in hours:
            raise ValueError("the policy needs a window from 0 hours (a late cancellation)")
        ordered = sorted(windows, key=lambda w: -w.hours)
        if any(a.refund < b.refund for a, b in pairwise(ordered)):
            raise ValueError("shorter notice cannot refund more than longer notice")
        return ordered


class InventoryDay(Output):
    day: date
    total: int
    sold: int
    held: int
    out_of_order: int
    closed: bool
    price: Money


class InventoryChange(Input):
    first: date
    last: date
    weekdays: list[Annotated[int, Field(ge=0, le=6)]] = Field(
        default_factory=list, max_length=7, description="Only these weekdays (0 = Monday); all when empty"
    )
    total: int | None = Field(default=None, ge=0, le=2000)
    out_of_order: int | None = Field(default=None, ge=0, le=2000)
    closed: bool | None = None
    price: Decimal | None = Field(default=None, gt=0, le=1_000_000, max_digits=10, decimal_places=2)

    @model_validator(mode="after")
    def _fits(self) -> InventoryChange:
        if self.total is not None and self.out_of_order is not None and self.out_of_order > self.total:
            raise ValueError("more rooms out of order than there are")
        return self


class BookingIn(Input):
    hotel_id: DbId
    room_type_id: DbId
    rate_plan_id: DbId
    customer_id: DbId | None = Field(default=None, description="The booker (a CRM customer)")
    guest_name: Annotated[
        str, StringConstraints(min_length=1, max_length=60, pattern=NON_BLANK, strip_whitespace=True)
    ]
    guest_phone: Annotated[str, StringConstraints(max_length=20, pattern=r"^(\+?[0-9 ()-]{7,20})?$")] = Field(
        default="", description="Needed unless `guest_is_booker`"
    )
    guest_is_booker: bool = Field(
        default=False,
        description="本人入住: the booker stays; the guest phone is copied from their file (the agent sees "
        "it masked only), `customer_id` is needed",
    )
    rooms: int = Field(ge=1, le=20)
    guests: int = Field(ge=1, le=80)
    arrival: date
    departure: date
    expected_arrival: ClockTime = "18:00"
    hold_until: ClockTime | None = Field(
        default=None, description="保留到XX点 (not earlier than the hotel's)"
    )
    special_requests: Annotated[str, StringConstraints(max_length=500)] = ""
    deposit: Decimal = Field(default=Decimal(0), ge=0, le=1_000_000, max_digits=10, decimal_places=2)
    deposit_method: Literal["cash", "card", "transfer", "online"] = "card"
    deposit_reference: Annotated[str, StringConstraints(max_length=64)] = ""
    source: Literal["phone", "walk-in", "web", "pms", "paper"] = "phone"
    confirm: bool = Field(
        default=True, description="Confirm at once (else tentative; rooms are held either way)"
    )
    call_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,64}$")] | None = Field(
        default=None, description="The call it is booked on (the desktop passes it): noted in the call's log"
    )
    taken_at: datetime | None = Field(
        default=None,
        description="A paper booking entered after an outage (X4): when it was really taken. If its "
        "rooms were sold meanwhile it is kept as a `conflict` holding no rooms, never overbooked.",
    )


class BookingWarning(Output):
    """Something the agent should tell the caller; the booking stands."""

    code: Literal["hold-before-arrival"]
    hold_until: str
    expected_arrival: str


class ReservationOut(Output):
    id: int
    number: str
    hotel_id: int
    room_type_id: int
    rate_plan_id: int
    customer_id: int | None
    guest_name: str
    guest_phone: privacy.Phone
    rooms: int
    guests: int
    arrival: date
    departure: date
    expected_arrival: str
    hold_until: datetime
    special_requests: str
    status: str
    nights: list[Any]
    total: Money
    currency: str
    deposit: Money
    cancel_fee: Money | None
    refund: Money | None
    source: str
    call_id: str | None = None
    taken_at: datetime | None
    warnings: list[BookingWarning] = Field(default_factory=list)
    """On the answer to booking only: e.g. the room is released before the guest expects to arrive."""
    created_at: datetime
    actions: list[str] = Field(
        default=[],
        description="The lifecycle's actions the reader may take now (hotels/state.py): confirm, "
        "check_in, check_out, no_show, cancel, retry, modify, late_outcome",
    )


class NightLeft(Output):
    day: date
    left: int


class PaperConflict(Output):
    """A paper booking whose rooms were sold while it was on paper (X4), and what to do about it."""

    reservation: ReservationOut
    short: list[NightLeft] = Field(description="The nights without enough rooms, and how many are left")
    competing: list[ReservationOut] = Field(
        description="Bookings for those nights made after the paper one was taken"
    )
    alternatives: list[Alternative]


class ChangeOut(Output):
    at: datetime
    by: int | None
    action: str = Field(description="The lifecycle's action (empty for rows older than the field)")
    before: str
    after: str
    note: str


class ConfirmationOut(Output):
    at: datetime
    kind: str
    text: str


class ReservationDetail(Output):
    reservation: ReservationOut
    changes: list[ChangeOut]
    confirmations: list[ConfirmationOut]


class ConfirmationSendIn(Input):
    channel: Literal["sms", "email"]


class CancelQuote(Output):
    hours_before_arrival: float
    refund_percent: int
    paid: Money
    fee: Money
    refund: Money
    policy: str


class TransitionIn(Input):
    action: Literal["confirm", "check_in", "check_out", "no_show", "cancel", "retry"] = Field(
        description="retry: a paper booking in conflict takes its rooms if some are free again"
    )
    note: Annotated[str, StringConstraints(max_length=300)] = ""


class ModifyIn(Input):
    """What changes; the rest stays. Re-checked and moved in one transaction: if the new stay does
    not fit, nothing changes."""

    arrival: date | None = None
    departure: date | None = None
    room_type_id: DbId | None = None
    rooms: int | None = Field(default=None, ge=1, le=20)
    guests: int | None = Field(default=None, ge=1, le=80)


class PaymentIn(Input):
    kind: Literal["deposit", "prepayment", "balance", "refund"]
    method: Literal["cash", "card", "transfer", "online"]
    amount: Decimal = Field(gt=0, le=1_000_000, max_digits=10, decimal_places=2)
    reference: Annotated[str, StringConstraints(max_length=64)] = ""


class PaymentLineOut(Output):
    at: datetime
    kind: str
    method: str
    amount: Money
    reference: str
    receipt: str
    receipt_text: str = ""
    """The receipt as the customer gets it."""


class PaymentsOut(Output):
    total: Money
    paid: Money
    """The ledger's sum."""
    balance: Money
    lines: list[PaymentLineOut]


class LateOutcomeIn(Input):
    outcome: Literal["delayed", "cancelled", "unreachable"]
    eta: ClockTime | None = Field(default=None, description="For delayed: the new expected arrival")


class GroupLineIn(Input):
    room_type_id: DbId
    count: int = Field(ge=1, le=200)


class GroupIn(Input):
    hotel_id: DbId
    name: Annotated[str, StringConstraints(min_length=1, max_length=80, pattern=NON_BLANK)]
    contact_name: Annotated[str, StringConstraints(min_length=1, max_length=60, pattern=NON_BLANK)]
    contact_phone: Annotated[str, StringConstraints(max_length=20, pattern=r"^\+?[0-9 ()-]{7,20}$")]
    customer_id: DbId | None = None
    arrival: date
    departure: date
    release_on: date = Field(description="After this day, rooms without a guest's name go back on sale")
    deposit: Decimal = Field(default=Decimal(0), ge=0, le=10_000_000, max_digits=12, decimal_places=2)
    rooms: list[GroupLineIn] = Field(min_length=1, max_length=10)


class GroupRoomOut(Output):
    id: int
    room_type_id: int
    guest_name: str
    released: bool


class GroupOut(Output):
    id: int
    number: str
    hotel_id: int
    name: str
    contact_name: str
    contact_phone: privacy.Phone
    arrival: date
    departure: date
    release_on: date
    deposit: Money
    status: str
    rooms: list[GroupRoomOut] = Field(default=[])
    actions: list[str] = Field(
        default=[], description="The actions the reader may take now (hotels/state.py): rooming, cancel"
    )


class RoomingEntry(Input):
    room_id: DbId
    guest_name: Annotated[str, StringConstraints(max_length=60)]


class RoomingIn(Input):
    rooms: list[RoomingEntry] = Field(min_length=1, max_length=400)


class PmsEventIn(Input):
    event_id: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]
    kind: Literal["arrival", "departure"]
    reservation: Annotated[str, StringConstraints(pattern=r"^[0-9]{8}$")] = Field(
        description="Reservation number"
    )


class PmsEventOut(Output):
    event_id: str
    applied: bool
    duplicate: bool
    """True when this event id was received before: nothing was changed again."""
    result: str


class DayCount(Output):
    day: str
    bookings: int
    cancelled: int


class BookingStats(Output):
    bookings: int
    cancelled: int
    cancellation_rate: float | None
    revenue: Money
    """Booked room revenue of the bookings not cancelled."""
    by_day: list[DayCount]
    by_source: dict[str, int]
    by_hotel: dict[str, int]


class FrontDesk(Output):
    """A hotel's day at the front desk (H10)."""

    day: date
    arrivals: list[ReservationOut] = Field(description="Due today (or late) and not checked in yet")
    in_house: list[ReservationOut] = Field(description="Checked in, leaving after today")
    departures: list[ReservationOut] = Field(description="Checked in and due to leave today (or overdue)")


class HotelArrivals(Output):
    """How many guests a hotel still expects today (the front desk's home page)."""

    hotel_id: int
    hotel_name: str
    day: date
    arrivals: int = Field(description="Due today (or late) and not checked in yet")
    departures: int = Field(description="Checked in and due to leave today (or overdue)")
