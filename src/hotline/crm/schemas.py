from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from hotline.core import privacy
from hotline.core.schemas import NON_BLANK, Input, Output

CustomerName = Annotated[
    str, StringConstraints(min_length=1, max_length=60, pattern=NON_BLANK, strip_whitespace=True)
]
Title = Literal["", "先生", "女士", "小姐"]
Tier = Literal["standard", "silver", "gold", "platinum"]
IdType = Literal["resident", "passport", "other", "none"]
Text = Annotated[str, StringConstraints(max_length=200)]
Email = Annotated[
    str, StringConstraints(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", to_lower=True)
]


class PhoneIn(Input):
    number: Annotated[str, StringConstraints(min_length=3, max_length=32)]
    label: Annotated[str, StringConstraints(max_length=20)] = ""
    preferred: bool = False
    recognise: bool = Field(
        default=True, description="The customer agreed that calls from this number open their file"
    )


class CustomerIn(Input):
    name: CustomerName
    title: Title = ""
    gender: Literal["M", "F"] | None = None
    id_type: IdType = "none"
    id_number: Annotated[str, StringConstraints(max_length=32)] | None = None
    birthday: date | None = None
    email: Email | None = None
    address: Text = ""
    city: Annotated[str, StringConstraints(max_length=40)] = ""
    tier: Tier = "standard"
    tags: list[Annotated[str, StringConstraints(min_length=1, max_length=20)]] = Field(
        default_factory=list, max_length=20
    )
    preferences: dict[str, Annotated[str, StringConstraints(max_length=100)]] = Field(
        default_factory=dict, max_length=20,
        description="room, bed, smoking, diet, travel interests…",
    )  # fmt: skip
    source: Annotated[str, StringConstraints(max_length=20)] = "phone"
    notes: Annotated[str, StringConstraints(max_length=2000)] = ""
    phones: list[PhoneIn] = Field(default_factory=list, max_length=10)


class CustomerUpdate(Input):
    name: CustomerName | None = None
    title: Title | None = None
    gender: Literal["M", "F"] | None = None
    id_type: IdType | None = None
    id_number: Annotated[str, StringConstraints(max_length=32)] | None = None
    birthday: date | None = None
    email: Email | None = None
    address: Text | None = None
    city: Annotated[str, StringConstraints(max_length=40)] | None = None
    tier: Tier | None = None
    tags: list[Annotated[str, StringConstraints(min_length=1, max_length=20)]] | None = Field(
        default=None, max_length=20
    )
    preferences: dict[str, Annotated[str, StringConstraints(max_length=100)]] | None = Field(
        default=None, max_length=20
    )
    notes: Annotated[str, StringConstraints(max_length=2000)] | None = None


class PhoneOut(Output):
    id: int
    number: privacy.Phone
    """Masked (138****8000); revealed with POST …/reveal."""
    label: str
    preferred: bool
    recognise: bool


class CustomerOut(Output):
    id: int
    member_number: str
    name: str
    title: str
    gender: str | None
    id_type: str
    id_number: privacy.IdNumber | None
    """Masked (only the last 4 characters); revealed with POST …/reveal."""
    birthday: privacy.Birthday | None
    """Masked to the year (1985-**-**)."""
    email: privacy.Email | None
    address: privacy.Address
    """Masked to the city (上海 ****)."""
    city: str
    tier: str
    points: int
    tags: list[Any]
    preferences: dict[str, Any]
    source: str
    notes: str
    phones: list[PhoneOut]
    last_agent_id: int | None
    last_contact_at: datetime | None
    created_at: datetime
    updated_at: datetime
    masked: bool = True


class MemberCard(Output):
    """Who a member number belongs to, for a form to fill in: the phone masked (the server copies
    the real one where it is needed)."""

    id: int
    member_number: str
    name: str
    title: str
    tier: str
    phone: privacy.Phone | None


class CustomerHit(Output):
    """A search result, with what an agent can ask to tell people of the same name apart."""

    id: int
    member_number: str
    name: str
    title: str
    tier: str
    hint: str
    """e.g. 1985年生 · 上海 · 尾号8000"""
    matched_by: str
    """member_number | phone | id_number | email | name | pinyin"""


class RevealIn(Input):
    field: Literal["id_number", "phones", "birthday", "email", "address"]


class Revealed(Output):
    field: str
    value: str | list[str] | None


class CallerIdentity(Output):
    """R4: who is calling, from the caller ID."""

    caller_class: Literal["unknown", "known", "shared"]
    """unknown: no customer recognises this number (a new caller, or a known one on a new phone —
    the agent finds the file by member number or name and may register the number);
    known: one customer; shared: several customers recognise it (a family or office line)."""
    phone: privacy.Phone | None
    """The number asked about, in E.164 (shown masked like every phone)."""
    customers: list[CustomerHit]
    last_agent_id: int | None = None
    priority: int = 0


class PointsEntryOut(Output):
    id: int
    at: datetime
    kind: str
    points: int
    remaining: int
    expires_at: datetime | None
    reason: str
    ref: str


class TierChangeOut(Output):
    at: datetime
    before: str
    after: str
    reason: str


class LoyaltyOut(Output):
    points: int
    """The balance: always the sum of the ledger."""
    tier: str
    earned_last_12_months: int
    next_tier: str | None
    points_to_next_tier: int | None
    benefits: list[str]
    ledger: list[PointsEntryOut]
    tiers: list[TierChangeOut]


class EarnIn(Input):
    amount: Decimal = Field(gt=0, le=10_000_000, max_digits=12, decimal_places=2, description="Yuan spent")
    reason: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    ref: Annotated[str, StringConstraints(min_length=1, max_length=64)] = Field(
        description="What was paid for, e.g. reservation:123 (points are earned once per reference)"
    )


class RedeemIn(Input):
    points: int = Field(gt=0, le=10_000_000)
    reason: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class AdjustIn(Input):
    points: int = Field(ge=-10_000_000, le=10_000_000, description="Signed: + adds, − takes off")
    reason: Annotated[str, StringConstraints(max_length=200)]


class TimelineEntryOut(Output):
    id: int
    at: datetime
    kind: str
    title: str
    detail: str
    ref: str
    by: int | None


class VisitIn(Input):
    place: Annotated[str, StringConstraints(min_length=1, max_length=60)] = Field(
        description="Branch or desk"
    )
    purpose: Annotated[str, StringConstraints(min_length=1, max_length=60)]
    note: Annotated[str, StringConstraints(max_length=1000)] = ""


class MergeIn(Input):
    merge_id: int = Field(ge=1, le=2_147_483_647, description="The duplicate to merge into this file")


class ImportProblem(Output):
    row: int
    """The row in the file (1 is the header)."""
    field: str
    message: str


class ImportReport(Output):
    rows: int
    valid: int
    problems: list[ImportProblem]
    """Every problem (the first 500); a file with any problem writes nothing."""
    created: int = 0
