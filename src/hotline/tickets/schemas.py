from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import Field, PrivateAttr, StringConstraints, ValidationInfo, field_serializer, field_validator

from hotline.core import privacy
from hotline.core.schemas import MAX_ID, NON_BLANK, DbId, Input, Output
from hotline.notify.schemas import ChatText, SiteKey, VisitorEmail, VisitorName, VisitorPhone

Severity = Literal["low", "normal", "high", "critical"]
Source = Literal["call", "voicemail", "email", "walk_in", "web", "chat", "authority"]
Action = Literal[
    "dispatch", "process", "reject", "redispatch", "pend", "resume", "complete", "audit", "send_back", "close",  # noqa: E501
    "reopen",
]  # fmt: skip
Scope = Literal["all", "mine", "team", "unassigned"]
Code = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_\-]{1,31}$")]
Name = Annotated[
    str, StringConstraints(min_length=1, max_length=60, pattern=NON_BLANK, strip_whitespace=True)
]
Note = Annotated[str, StringConstraints(max_length=2000)]


class FieldDef(Input):
    key: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
    label: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    type: Literal["text", "textarea", "integer", "number", "boolean", "date", "datetime", "choice", "phone"]
    required: bool = False
    choices: list[Annotated[str, StringConstraints(min_length=1, max_length=40)]] = Field(
        default_factory=list, max_length=50
    )
    max_length: int | None = Field(default=None, ge=1, le=2000)
    min: float | None = Field(default=None, ge=-1e12, le=1e12)
    max: float | None = Field(default=None, ge=-1e12, le=1e12)


class TypeIn(Input):
    code: Code
    name: Name
    kind: Literal["general", "complaint", "emergency"] = "general"
    fields: list[FieldDef] = Field(default_factory=list, max_length=30)
    default_severity: Severity = "normal"
    sort: int = Field(default=0, ge=0, le=999)
    active: bool = True


class TypeOut(Output):
    id: int
    code: str
    name: str
    kind: str
    fields: list[dict[str, Any]]
    default_severity: str
    sort: int
    active: bool


class UnitIn(Input):
    code: Code
    name: Name
    kind: Literal["department", "work_area"] = "department"
    parent_id: DbId | None = None
    department_id: DbId | None = None
    lead_id: DbId | None = None
    active: bool = True
    on_duty: bool = False
    auto_assign: bool = True
    members: list[DbId] = Field(default_factory=list, max_length=200)


class MemberOut(Output):
    user_id: int
    name: str
    work_number: str = ""
    present: bool
    """Not away: an active user who is not logged out as an agent."""
    open_tickets: int = 0


class UnitOut(Output):
    id: int
    code: str
    name: str
    kind: str
    parent_id: int | None
    department_id: int | None
    lead_id: int | None
    active: bool
    on_duty: bool
    auto_assign: bool
    members: list[MemberOut] = Field(default_factory=list)


class TicketIn(Input):
    type_code: Code
    title: Annotated[
        str, StringConstraints(min_length=1, max_length=120, pattern=NON_BLANK, strip_whitespace=True)
    ]
    content: Annotated[str, StringConstraints(max_length=2000)] = ""
    fields: dict[str, Any] = Field(default_factory=dict, max_length=30)
    customer_id: DbId | None = None
    member_number: Annotated[str, StringConstraints(pattern=r"^[0-9]{1,8}$")] | None = Field(
        default=None, description="用户证号 / member number: finds the customer when no id is given"
    )
    contact_name: Annotated[str, StringConstraints(max_length=60)] = ""
    phone: Annotated[str, StringConstraints(max_length=32, pattern=r"^[+0-9 \-]*$")] = ""
    email: Annotated[str, StringConstraints(max_length=254)] = ""
    call_id: Annotated[str, StringConstraints(max_length=64)] | None = None
    conversation_id: DbId | None = Field(
        default=None, description="The conversation (chat, SMS, WeChat) the ticket is started from"
    )
    source: Source = "call"
    severity: Severity | None = None
    external_ref: Annotated[str, StringConstraints(max_length=64)] = ""
    authority: Annotated[str, StringConstraints(max_length=60)] = ""
    unit_id: DbId | None = Field(default=None, description="Dispatch at once to this department")


class TicketMoveIn(Input):
    action: Action
    note: Note = ""
    unit_id: DbId | None = None
    assignee_id: DbId | None = Field(default=None, description="Staff of the unit; none: round-robin")
    result: Note = ""


class AssignIn(Input):
    assignee_id: DbId | None = Field(default=None, description="None: take it yourself")
    note: Note = ""


class NoteIn(Input):
    note: Annotated[str, StringConstraints(min_length=1, max_length=2000, pattern=NON_BLANK)]


class ComplaintIn(Input):
    severity: Severity | None = None
    responsible_unit_id: DbId | None = None
    responsible_user_id: DbId | None = None
    external_ref: Annotated[str, StringConstraints(max_length=64)] | None = None
    authority: Annotated[str, StringConstraints(max_length=60)] | None = None
    note: Note = ""


class EscalateIn(Input):
    note: Annotated[str, StringConstraints(min_length=1, max_length=2000, pattern=NON_BLANK)]


class TellIn(Input):
    channel: Literal["phone", "sms"]
    note: Note = Field(default="", description="What the customer was told by phone")


class SatisfactionIn(Input):
    score: int = Field(ge=1, le=5)
    note: Annotated[str, StringConstraints(max_length=300)] = ""


class TicketMergeIn(Input):
    into_id: DbId
    note: Note = ""


class LinkIn(Input):
    other_id: DbId
    kind: Literal["related", "duplicate"] = "related"


class FieldsIn(Input):
    fields: dict[str, Any] = Field(max_length=30)


class SlaOut(Output):
    state: str
    """ok | warning | breached | paused | met"""
    response_target_minutes: int
    response_used_minutes: int
    response_met: bool
    response_breached: bool
    resolve_target_minutes: int
    resolve_used_minutes: int
    paused: bool
    due_at: datetime | None
    business_hours: bool


class TicketOut(Output):
    id: int
    number: str
    type_id: int
    type_code: str = ""
    type_name: str = ""
    kind: str = "general"
    title: str
    content: str
    fields: dict[str, Any]
    customer_id: int | None
    customer_name: str = ""
    member_number: str = ""
    contact_name: str
    phone: privacy.Phone
    email: privacy.Email
    call_id: str | None
    conversation_id: int | None = None
    source: str
    attachment: str
    severity: str
    priority: int
    status: str
    status_name: str = ""
    customer_status: str = ""
    unit_id: int | None
    unit_name: str = ""
    assignee_id: int | None
    assignee_name: str = ""
    processor_id: int | None
    auditor_id: int | None
    result: str
    misdispatches: int
    reopened: int
    merged_into_id: int | None
    external_ref: str
    authority: str
    responsible_unit_id: int | None
    responsible_user_id: int | None
    escalation: int
    told_at: datetime | None
    told_by: str
    satisfaction: int | None
    satisfaction_note: str
    first_response_at: datetime | None
    completed_at: datetime | None
    closed_at: datetime | None
    due_at: datetime | None
    sla_breached_at: datetime | None
    created_at: datetime
    created_by: int | None
    updated_at: datetime
    _phone_fields: set[str] = PrivateAttr(default_factory=set)
    """The custom fields of type phone (the ticket type says), masked like every phone."""

    @field_serializer("fields")
    def _phones_masked(self, fields: dict[str, Any]) -> dict[str, Any]:
        return {key: privacy.masked(privacy.Kind.PHONE, value) if key in self._phone_fields else value
                for key, value in fields.items()}  # fmt: skip


class StepOut(Output):
    id: int
    at: datetime
    by: int | None
    by_name: str = ""
    action: str
    before: str
    after: str
    unit_id: int | None
    unit_name: str = ""
    assignee_id: int | None
    assignee_name: str = ""
    note: str


class LinkOut(Output):
    other_id: int
    number: str
    title: str
    status: str
    kind: str


class TicketDetail(Output):
    ticket: TicketOut
    steps: list[StepOut]
    links: list[LinkOut]
    sla: SlaOut | None
    actions: list[str] = Field(
        description="What the signed-in user may do now (the ticket's state and their permissions): the "
        "lifecycle's steps (tickets/state.py, POST .../transition) and the others: assign, take, escalate, "
        "tell, rate, merge, investigate"
    )


class TicketPage(Output):
    items: list[TicketOut]
    total: int


class StatusQuery(Output):
    """What a customer is told (D5): each of their tickets and where it stands."""

    number: str
    type_name: str
    title: str
    status: str
    customer_status: str
    created_at: datetime
    steps: list[StepOut]


class ViewIn(Input):
    name: Annotated[
        str, StringConstraints(min_length=1, max_length=40, pattern=NON_BLANK, strip_whitespace=True)
    ]
    filters: dict[str, str | Annotated[int, Field(ge=0, le=MAX_ID)] | None] = Field(
        default_factory=dict, max_length=12
    )


class ViewOut(Output):
    id: int
    name: str
    filters: dict[str, Any]


class PolicyIn(Input):
    type_id: DbId | None = None
    severity: Severity
    response_minutes: int = Field(ge=1, le=60 * 24 * 60)
    resolve_minutes: int = Field(ge=1, le=60 * 24 * 365)
    business_hours: bool = True
    warn_percent: int = Field(default=80, ge=10, le=99)


class PolicyOut(Output):
    id: int
    type_id: int | None
    severity: str
    response_minutes: int
    resolve_minutes: int
    business_hours: bool
    warn_percent: int


class CalendarDayIn(Input):
    day: date
    kind: Literal["holiday", "workday"]
    name: Annotated[str, StringConstraints(max_length=40)] = ""


class CalendarDayOut(Output):
    day: date
    kind: str
    name: str


class SlaOutcomes(Output):
    """Tickets by where they stand against the resolution target (tickets/sla.py, OUTCOMES)."""

    met: int
    breached: int
    open_overdue: int
    open_in_time: int


class SlaRow(Output):
    key: str
    label: str
    total: int = Field(description="Every ticket in the row: the sum of `outcomes`")
    open: int
    breached: int = Field(description="Past the target: resolved late plus open and overdue")
    response_breached: int
    warning: int = Field(description="Open in time but past the policy's warning share")
    met: int
    outcomes: SlaOutcomes = Field(description="The bar's segments, the same counts the rate comes from")
    decided: int = Field(description="met + breached + open_overdue: tickets whose outcome is settled")
    met_rate: float | None = Field(description="met ÷ decided (None when nothing is decided yet)")
    avg_resolve_minutes: float | None


class SlaReport(Output):
    days: int
    by_type: list[SlaRow]
    by_unit: list[SlaRow]
    by_severity: list[SlaRow]
    at_risk: list[TicketOut]


class Counts(Output):
    """The queues' sizes for the tabs of the ticket list."""

    dispatch: int
    redispatch: int
    todo: int
    audit: int
    mine: int
    team: int
    unassigned: int
    breached: int


class BoardColumn(Output):
    status: str
    tickets: list[TicketOut] = Field(description="The first cards (at most 400 over all columns)")
    total: int = Field(description="Every ticket in the column, counted")


class UnitBoard(Output):
    unit: UnitOut
    columns: list[BoardColumn]


# ---------------------------------------------------------------- a web visitor's message (public)


VisitorKey = Annotated[str, StringConstraints(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


class LeaveMessageIn(Input):
    """The web chat's 留言 form, when no agent is there to chat: it becomes a ticket."""

    key: VisitorKey = Field(
        description="Made once per message by the window: a retry or a second click makes no second ticket"
    )
    name: VisitorName
    phone: VisitorPhone = ""
    email: VisitorEmail = ""
    text: ChatText = Field(description="The message")
    site: SiteKey = Field(default="", description="The site key of the widget's script tag")
    page: Annotated[str, StringConstraints(max_length=300)] = Field(
        default="", description="The page they are on"
    )

    @field_validator("email", mode="after")
    @classmethod
    def _reachable(cls, email: str, info: ValidationInfo) -> str:
        if not email and info.data.get("phone") == "":  # an ill-formed phone is refused at its own field
            raise ValueError("leave a phone number or an e-mail address")
        return email


class MessageLeftOut(Output):
    number: str = Field(description="The ticket's number, for the visitor to quote")
