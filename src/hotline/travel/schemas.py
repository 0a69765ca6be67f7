from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from hotline.core import privacy
from hotline.core.schemas import NON_BLANK, DbId, Input, Money, Output

Kind = Literal["domestic", "international"]
Text = Annotated[str, StringConstraints(max_length=1000, strip_whitespace=True)]
Needed = Annotated[
    str, StringConstraints(min_length=1, max_length=300, pattern=NON_BLANK, strip_whitespace=True)
]
# max_length: "+" and 20 digits would be one more than the column holds.
Phone = Annotated[str, StringConstraints(max_length=20, pattern=r"^\+?[0-9 ()-]{7,20}$")]
Price = Annotated[Decimal, Field(ge=0, le=1_000_000, max_digits=10, decimal_places=2)]
Amount = Annotated[Decimal, Field(gt=0, le=10_000_000, max_digits=12, decimal_places=2)]
Code = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9-]{0,15}$")]
Name = Annotated[
    str, StringConstraints(min_length=2, max_length=80, pattern=NON_BLANK, strip_whitespace=True)
]


# ---------------------------------------------------------------- catalogue


class ItineraryDay(Input):
    day: int = Field(ge=1, le=60)
    title: Annotated[
        str, StringConstraints(min_length=1, max_length=80, pattern=NON_BLANK, strip_whitespace=True)
    ]
    detail: Annotated[str, StringConstraints(max_length=600, strip_whitespace=True)] = ""
    meals: Annotated[str, StringConstraints(max_length=20)] = ""
    stay: Annotated[str, StringConstraints(max_length=80)] = ""


class RouteIn(Input):
    code: Code
    name: Name
    kind: Kind
    destination: Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=NON_BLANK)]
    days: int = Field(ge=1, le=60)
    itinerary: list[ItineraryDay] = Field(min_length=1, max_length=60)
    inclusions: Text = ""
    exclusions: Text = ""
    adult_price: Price
    child_price: Price
    single_supplement: Price = Decimal(0)
    cover_image: Annotated[str, StringConstraints(max_length=300)] = ""
    active: bool = True

    @model_validator(mode="after")
    def _one_entry_a_day(self) -> RouteIn:
        if [d.day for d in self.itinerary] != list(range(1, self.days + 1)):
            raise ValueError("the itinerary has one entry per day, days 1…days in order")
        return self


class RouteOut(Output):
    id: int
    code: str
    name: str
    kind: Kind
    destination: str
    days: int
    itinerary: list[ItineraryDay]
    inclusions: str
    exclusions: str
    adult_price: Money
    child_price: Money
    single_supplement: Money
    cover_image: str
    active: bool


class DepartureIn(Input):
    departs_on: date
    capacity: int = Field(ge=1, le=1000)
    adult_price: Price | None = Field(default=None, description="The route's price when left out")
    child_price: Price | None = None
    single_supplement: Price | None = None
    closed: bool = False


class DepartureBatchIn(Input):
    """Departures on some weekdays between two dates, at the route's prices."""

    first: date
    last: date
    weekdays: list[Annotated[int, Field(ge=0, le=6)]] = Field(
        min_length=1, max_length=7, description="0 = Monday"
    )
    capacity: int = Field(ge=1, le=1000)


class DepartureChange(Input):
    capacity: int | None = Field(default=None, ge=1, le=1000)
    adult_price: Price | None = None
    child_price: Price | None = None
    single_supplement: Price | None = None
    closed: bool | None = None


class DepartureOut(Output):
    id: int
    route_id: int
    route_code: str = ""
    route_name: str = ""
    kind: str = ""
    departs_on: date
    returns_on: date
    capacity: int
    seats_taken: int
    seats_left: int = 0
    adult_price: Money
    child_price: Money
    single_supplement: Money
    closed: bool


class RouteDetail(RouteOut):
    departures: list[DepartureOut]


class InsuranceIn(Input):
    code: Code
    name: Name
    cover: Annotated[str, StringConstraints(min_length=2, max_length=300, pattern=NON_BLANK)]
    price_per_day: Annotated[Decimal, Field(gt=0, le=10_000, max_digits=8, decimal_places=2)]
    active: bool = True


class InsuranceOut(Output):
    id: int
    code: str
    name: str
    cover: str
    price_per_day: Money
    active: bool


class PlannerDeskIn(Input):
    kinds: list[Kind] = Field(min_length=1, max_length=2)
    phone: Phone


class PlannerOut(Output):
    user_id: int
    name: str
    kinds: list[str]
    phone: str
    open_orders: int


class StaffOut(Output):
    user_id: int
    name: str


# ---------------------------------------------------------------- orders


class OrderIn(Input):
    kind: Kind
    source: Literal["phone", "walk_in", "web"] = "phone"
    customer_id: DbId | None = Field(default=None, description="The customer's file, when known")
    contact_name: Annotated[
        str, StringConstraints(min_length=1, max_length=60, pattern=NON_BLANK, strip_whitespace=True)
    ]
    contact_phone: Phone
    wish: Annotated[str, StringConstraints(max_length=500, strip_whitespace=True)] = Field(
        default="", description="What the customer asks for: where, when, budget"
    )
    adults: int = Field(default=1, ge=0, le=99)
    children: int = Field(default=0, ge=0, le=99)
    departs_on: date | None = None
    returns_on: date | None = None
    call_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,64}$")] | None = Field(
        default=None, description="The call the enquiry came in on"
    )


class OrderUpdate(Input):
    """Details that may change until the order is closed (each change is kept in its history)."""

    contact_name: (
        Annotated[
            str, StringConstraints(min_length=1, max_length=60, pattern=NON_BLANK, strip_whitespace=True)
        ]
        | None
    ) = None
    contact_phone: Phone | None = None
    wish: Annotated[str, StringConstraints(max_length=500, strip_whitespace=True)] | None = None
    adults: int | None = Field(default=None, ge=0, le=99)
    children: int | None = Field(default=None, ge=0, le=99)
    departs_on: date | None = None
    returns_on: date | None = None


class ItemIn(Input):
    kind: Literal["tour", "ticket", "insurance", "other"]
    departure_id: DbId | None = Field(default=None, description="tour: the departure")
    adults: int = Field(default=0, ge=0, le=99, description="tour: adults (seats)")
    children: int = Field(default=0, ge=0, le=99, description="tour: children (seats)")
    singles: int = Field(default=0, ge=0, le=99, description="tour: single-room supplements")
    insurance_id: DbId | None = Field(default=None, description="insurance: the product")
    persons: int = Field(default=0, ge=0, le=99, description="insurance: insured persons")
    days: int = Field(default=0, ge=0, le=365, description="insurance: days covered")
    mode: Literal["air", "train"] | None = Field(default=None, description="ticket: air or train")
    from_city: Annotated[str, StringConstraints(max_length=40, strip_whitespace=True)] = ""
    to_city: Annotated[str, StringConstraints(max_length=40, strip_whitespace=True)] = ""
    travel_date: date | None = Field(default=None, description="ticket: the day of travel")
    passengers: int = Field(default=0, ge=0, le=99, description="ticket: passengers")
    title: Annotated[str, StringConstraints(max_length=120, strip_whitespace=True)] = ""
    amount: Price | None = Field(default=None, description="ticket/other: the price quoted, in all")


class ItemOut(Output):
    id: int
    kind: str
    title: str
    departure_id: int | None
    insurance_id: int | None
    adults: int
    children: int
    singles: int
    details: dict[str, object]
    amount: Money


class AssignIn(Input):
    planner_id: DbId


class HandOverIn(Input):
    front_desk_id: DbId
    note: Annotated[str, StringConstraints(max_length=300, strip_whitespace=True)] = ""


class FollowUpIn(Input):
    note: Annotated[
        str, StringConstraints(min_length=1, max_length=1000, pattern=NON_BLANK, strip_whitespace=True)
    ]
    next_contact_at: datetime | None = Field(default=None, description="When to contact the customer again")


class FollowUpOut(Output):
    id: int
    at: datetime
    by: int | None
    by_name: str = ""
    note: str
    next_contact_at: datetime | None


class SignIn(Input):
    contract_no: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9-]{1,20}$")] | None = Field(
        default=None, description="The paper contract's number; HT<order number> when left out"
    )


class NoteIn(Input):
    note: Annotated[str, StringConstraints(max_length=300, strip_whitespace=True)] = ""


class ReceiptIn(Input):
    category: Literal["deposit", "instalment", "balance", "refund", "adjustment"] = "instalment"
    method: Literal["cash", "card", "transfer", "online"] = "transfer"
    amount: Amount
    reference: Annotated[str, StringConstraints(max_length=64, strip_whitespace=True)] = ""
    overpayment: bool = Field(default=False, description="Take more than is outstanding, on purpose")
    reason: Annotated[str, StringConstraints(max_length=300, strip_whitespace=True)] = Field(
        default="", description="Required for an adjustment (the only entry after close)"
    )
    negative: bool = Field(default=False, description="adjustment: take the amount off")


class CostIn(Input):
    category: Literal["ground", "hotel", "ticket", "insurance", "transport", "other", "adjustment"]
    supplier: Annotated[str, StringConstraints(max_length=80, strip_whitespace=True)] = ""
    amount: Amount
    reference: Annotated[str, StringConstraints(max_length=64, strip_whitespace=True)] = ""
    note: Annotated[str, StringConstraints(max_length=300, strip_whitespace=True)] = ""
    reason: Annotated[str, StringConstraints(max_length=300, strip_whitespace=True)] = Field(
        default="", description="Required for an adjustment (the only entry after close)"
    )
    negative: bool = Field(default=False, description="adjustment: take the amount off")


class LedgerOut(Output):
    id: int
    account: str
    category: str
    amount: Money
    method: str
    supplier: str
    reference: str
    note: str
    overpayment: bool
    number: str
    at: datetime
    by: int | None
    by_name: str = ""


class CloseIn(Input):
    summary: Annotated[
        str, StringConstraints(min_length=2, max_length=1000, pattern=NON_BLANK, strip_whitespace=True)
    ] = Field(description="The return visit's note: what the customer said about the trip")


class VoidIn(Input):
    reason: Annotated[
        str, StringConstraints(min_length=2, max_length=300, pattern=NON_BLANK, strip_whitespace=True)
    ]


class ChangeOut(Output):
    id: int
    at: datetime
    by: int | None
    by_name: str = ""
    action: str
    before: str
    after: str
    note: str


class AssignmentOut(Output):
    id: int
    at: datetime
    stage: str
    assigner_id: int | None
    assigner_name: str = ""
    owner_id: int | None
    owner_name: str = ""


class OrderOut(Output):
    id: int
    number: str
    kind: Kind
    source: Literal["phone", "walk_in", "web"]
    state: str
    state_label: str = ""
    customer_id: int | None
    contact_name: str
    contact_phone: privacy.Phone
    wish: str
    adults: int
    children: int
    departs_on: date | None
    returns_on: date | None
    route: str = Field(
        default="", description="The first tour's route (product) name, as the catalogue has it"
    )
    route_departs_on: date | None = Field(default=None, description="The day the first tour departs")
    creator_id: int | None
    creator_name: str = ""
    assigner_id: int | None
    assigner_name: str = ""
    owner_id: int | None
    owner_name: str = ""
    planner_id: int | None
    planner_name: str = ""
    next_contact_at: datetime | None
    receivable: Money
    received: Money
    outstanding: Money = Decimal(0)
    cost: Money
    profit: Money = Decimal(0)
    contract_no: str
    signed_at: datetime | None
    reviewed_at: datetime | None
    return_due_on: date | None
    closed_at: datetime | None
    summary: str
    void_reason: str
    call_id: str | None
    created_at: datetime


class OrderDetail(Output):
    order: OrderOut
    items: list[ItemOut]
    follow_ups: list[FollowUpOut]
    ledger: list[LedgerOut]
    history: list[ChangeOut]
    assignments: list[AssignmentOut]
    actions: list[str] = Field(description="The steps the signed-in user may take now")
    items_editable: bool
    contract_ready: bool = Field(
        default=False, description="The contract PDF is drawn up (the order reached signing, not voided)"
    )


class OrderPage(Output):
    items: list[OrderOut]
    total: int
    counts: dict[str, int] = Field(description="Orders per state in the same scope")


# ---------------------------------------------------------------- money and performance


class FinanceQueue(Output):
    to_review: list[OrderOut]
    balances: list[OrderOut] = Field(description="Reviewed orders with money still to collect")
    receivable: Money
    received: Money
    outstanding: Money


class MoneyRow(Output):
    period: str
    orders: int
    receivable: Money
    received: Money
    outstanding: Money
    cost: Money
    profit: Money


class MoneyReport(Output):
    first: date
    last: date
    rows: list[MoneyRow]
    total: MoneyRow


class PersonFigures(Output):
    user_id: int
    name: str
    created: int = 0
    created_amount: Money = Decimal(0)
    assigned: int = 0
    assigned_amount: Money = Decimal(0)
    owned: int = 0
    owned_amount: Money = Decimal(0)
    signed: int = 0


class Performance(Output):
    first: date
    last: date
    people: list[PersonFigures]
    enquiries: int
    signed: int
    conversion: float | None = Field(description="Signed ÷ enquiries created in the period")
    hours_in_step: dict[str, float] = Field(description="Average hours an order spent in each state")


class OrderStep(Output):
    """Orders waiting for the reader's next step (their home page): how many, exactly, and the
    oldest few."""

    state: str
    state_label: str
    action: str
    action_label: str
    mine_only: bool = Field(description="Only the orders the reader owns (the others wait on colleagues)")
    count: int
    orders: list[OrderOut]
