from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, field_validator

from hotline.core import privacy
from hotline.core.schemas import MAX_ID, NON_BLANK, ClockTime, Input, Output

Code = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_.-]{1,39}$")]


class TemplateIn(Input):
    code: Code = Field(description="Stable name rules refer to, e.g. reservation.confirmed.sms")
    channel: Literal["sms", "email", "wechat", "wecom"]
    topic: Annotated[str, StringConstraints(max_length=40)] = Field(description="Whose variables it uses")
    purpose: Literal["service", "marketing"] = "service"
    name: Annotated[
        str, StringConstraints(min_length=1, max_length=80, pattern=NON_BLANK, strip_whitespace=True)
    ]
    subject: Annotated[str, StringConstraints(max_length=200)] = ""
    body: Annotated[str, StringConstraints(min_length=1, max_length=4000, pattern=NON_BLANK)]
    html: Annotated[str, StringConstraints(max_length=20000)] = ""


class TemplateOut(Output):
    id: int
    code: str
    version: int
    channel: str
    topic: str
    purpose: str
    name: str
    subject: str
    body: str
    html: str
    status: str
    created_by: int | None
    created_at: datetime
    approved_by: int | None
    approved_at: datetime | None
    note: str


class DecisionIn(Input):
    approve: bool
    note: Annotated[str, StringConstraints(max_length=300)] = ""


class PreviewIn(Input):
    topic: Annotated[str, StringConstraints(max_length=40)]
    channel: Literal["sms", "email", "wechat", "wecom"]
    subject: Annotated[str, StringConstraints(max_length=200)] = ""
    body: Annotated[str, StringConstraints(max_length=4000)]
    html: Annotated[str, StringConstraints(max_length=20000)] = ""


class Preview(Output):
    subject: str
    body: str
    html: str
    encoding: str = Field(description="GSM-7 or UCS-2 (any Chinese character) for an SMS")
    characters: int
    segments: int = Field(
        description="SMS parts the network bills: 70 UCS-2 characters in one, 67 each when split"
    )


class TopicOut(Output):
    name: str
    variables: dict[str, str]
    occasions: list[str]
    choices: dict[str, list[str]] = Field(
        default_factory=dict, description="Fields with a closed list of values (festival: 春节, 中秋节…)"
    )


class SourceOut(Output):
    name: str
    topic: str
    label: str


class Schedule(Input):
    days: int = Field(ge=-366, le=366, description="Days after the date (-1: the day before)")
    at: ClockTime = Field(description="Local time of day it is sent")
    timezone: str = "Asia/Shanghai"


class RuleIn(Input):
    name: Annotated[
        str, StringConstraints(min_length=1, max_length=80, pattern=NON_BLANK, strip_whitespace=True)
    ]
    template_code: Code
    trigger: Annotated[str, StringConstraints(min_length=3, max_length=60)] = Field(
        description="An event and occasion (hotels.reservation:confirmed) or a date source (hotels.arrival)"
    )
    schedule: Schedule | None = None
    conditions: dict[str, list[str | Annotated[int, Field(ge=-MAX_ID, le=MAX_ID)]]] = Field(
        default_factory=dict, max_length=8
    )
    active: bool = True

    @field_validator("conditions")
    @classmethod
    def _values(cls, value: dict[str, list[str | int]]) -> dict[str, list[str | int]]:
        for key, allowed in value.items():
            if not allowed or len(allowed) > 100:
                raise ValueError(f"condition {key!r} needs 1–100 allowed values")
        return value


class RuleOut(Output):
    id: int
    name: str
    template_code: str
    trigger: str
    schedule: dict[str, Any] | None
    conditions: dict[str, Any]
    active: bool


class MessageOut(Output):
    id: int
    channel: str
    recipient: privacy.Contact
    customer_id: int | None
    rule_id: int | None
    template_code: str
    template_version: int
    purpose: str
    ref: str
    subject: str
    body: str
    status: str
    reason: str
    gateway: str
    gateway_ref: str
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None


class SendIn(Input):
    """A message sent by hand from a template to one customer (N3)."""

    template_code: Code
    customer_id: int = Field(ge=1, le=2_147_483_647)
    values: dict[str, str] = Field(default_factory=dict, max_length=30, description="Extra variables")


class GatewayIn(Input):
    kind: Literal["log", "smtp", "kannel", "wechat", "wecom"]
    config: dict[str, str | Annotated[int, Field(ge=0, le=1_000_000)] | bool] = Field(
        default_factory=dict, max_length=12
    )
    secret: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        default=None, description="Password; leave out to keep the stored one"
    )


class GatewayOut(Output):
    channel: str
    kind: str
    config: dict[str, Any]
    has_secret: bool
    has_mo_token: bool = Field(
        default=False, description="Whether Kannel's replies (sms-service) have their token set; never shown"
    )
    has_callback_token: bool = Field(
        default=False, description="Whether the WeChat callbacks' Token is set; never shown"
    )
    has_aes_key: bool = Field(
        default=False, description="Whether the WeChat EncodingAESKey (safe mode) is set; never shown"
    )


class OptOutIn(Input):
    channel: Literal["sms", "email"]
    opted_out: bool
    note: Annotated[str, StringConstraints(max_length=200)] = ""


class ReportRow(Output):
    day: str
    channel: str
    template_code: str
    rule_id: int | None
    gateway: str
    counts: dict[str, int]


class Segment(Input):
    """Customers chosen by their CRM fields (N3); every given field must match."""

    tiers: list[Literal["standard", "silver", "gold", "platinum"]] = Field(default_factory=list, max_length=4)
    cities: list[Annotated[str, StringConstraints(min_length=1, max_length=40)]] = Field(
        default_factory=list, max_length=50
    )
    tags: list[Annotated[str, StringConstraints(min_length=1, max_length=40)]] = Field(
        default_factory=list, max_length=20, description="Any of these tags"
    )
    birthday_month: int | None = Field(default=None, ge=1, le=12)


class BulkIn(Input):
    template_code: Code
    segment: Segment
    dry_run: bool = True
    batch: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{8,40}$")] = Field(
        description="The sender's id for this mailing: sending it again queues nothing new"
    )


class BulkOut(Output):
    matched: int = Field(description="Customers in the segment")
    recipients: int = Field(description="Who will get it now")
    held: int = Field(description="Held for quiet hours, sent at 08:00")
    excluded: dict[str, int] = Field(description="opt-out, no phone / e-mail")
    queued: int = Field(description="Messages queued (0 in a dry run)")


class StaffNoticeOut(Output):
    id: int
    kind: str
    title: str
    body: str
    link: str
    created_at: datetime
    read_at: datetime | None


class InboxOut(Output):
    unread: int
    items: list[StaffNoticeOut]


class ConversationOut(Output):
    """A conversation as the list shows it: who (name, or the number masked), its last message."""

    id: int
    channel: str
    customer_id: int | None
    customer_name: str = Field(description="Empty when the number is in no customer's file")
    address: privacy.Phone = Field(description="The customer's number (or WeChat OpenID), masked")
    status: Literal["open", "closed"]
    created_at: datetime
    last_message_at: datetime
    last_body: str
    last_direction: Literal["in", "out"]
    waiting: bool = Field(description="Open, and the customer spoke last: waiting for an answer")
    visitor_name: str = Field(default="", description="Web chat: the name the visitor gave")
    queue: str | None = Field(default=None, description="The ACD queue it waits in or was served from")
    queued_at: datetime | None = Field(
        default=None, description="When it entered its queue (its place in line)"
    )
    assigned_to: int | None = Field(default=None, description="The agent who has it now (None: waiting)")
    assigned_name: str = Field(default="", description="That agent's name")
    disposition: str | None = Field(default=None, description="The wrap-up given on closing (a call's codes)")
    wrap_note: str = Field(default="", description="The wrap-up's note")


class ChatFileOut(Output):
    """An image or PDF a web chat's message carries (notify/chat_files.py): its type read from its
    bytes; fetched from `/api/chat/files/{id}` (visitor) or the conversation's `files/{id}`."""

    id: int = Field(description="The message's id, which names the file too")
    name: str = Field(description="The name it was sent under (shown only, never trusted)")
    kind: Literal["image", "pdf"]
    media_type: str
    size: int = Field(description="Bytes")
    width: int = Field(description="Pixels; 0 for a PDF")
    height: int


class ConversationMessageOut(Output):
    id: int
    direction: Literal["in", "out"]
    body: str
    at: datetime
    author_id: int | None
    author_name: str = Field(description="The agent who answered; empty for Hotline's own and incoming ones")
    message_id: int | None = Field(description="The outbox message of an outgoing one")
    status: str = Field(description="The outgoing message's outbox status; empty for incoming ones")
    file: ChatFileOut | None = Field(default=None, description="The image or PDF it carries (web chat)")


class ChatVisitorOut(Output):
    """The web chat's visitor as the agent's thread shows them."""

    name: str
    phone: privacy.Phone
    email: privacy.Email
    topic: str
    site: str
    page: str
    typing: bool = Field(description="The visitor is typing (within the last few seconds)")
    read_up_to: int = Field(description="The last message the visitor's window showed")
    rating: int | None
    rating_note: str
    ended: bool = Field(description="The visitor ended the chat (or left it)")
    verified_by: Literal["", "sms", "member"] = Field(
        default="", description="How the visitor proved who they are (chat_identity.py); '': not at all"
    )
    verified_phone: privacy.Phone = Field(default="", description="The phone they proved")
    member_id: str = Field(default="", description="Their member id on the partner site (member token)")


class ConversationThread(Output):
    conversation: ConversationOut
    opted_out: bool = Field(description="The number (or customer) takes no marketing SMS")
    messages: list[ConversationMessageOut]
    visitor: ChatVisitorOut | None = Field(
        default=None, description="Web chat: who the visitor said they are"
    )


class SeenIn(Input):
    up_to: Annotated[int, Field(ge=0, le=MAX_ID)] = Field(
        description="The last message the agent's thread shows"
    )


# ---------------------------------------------------------------- the web chat's visitors (public)

ChatText = Annotated[str, StringConstraints(min_length=1, max_length=1000, pattern=NON_BLANK)]
VisitorName = Annotated[
    str, StringConstraints(min_length=1, max_length=40, pattern=NON_BLANK, strip_whitespace=True)
]
VisitorPhone = Annotated[str, StringConstraints(max_length=20, pattern=r"^(\+?[0-9 ()-]{7,20})?$")]
VisitorEmail = Annotated[str, StringConstraints(max_length=254, pattern=r"^([^@\s]+@[^@\s]+\.[^@\s]+)?$")]
SiteKey = Annotated[str, StringConstraints(max_length=80, pattern=r"^[A-Za-z0-9_.-]*$")]
"""The site key of the widget's script tag (`data-site`)."""


class ChatStartIn(Input):
    """The pre-chat form."""

    name: VisitorName
    phone: VisitorPhone = ""
    email: VisitorEmail = ""
    topic: Literal["hotel", "travel", "complaint", "other"] = "other"
    text: ChatText = Field(description="The question the visitor starts with")
    site: SiteKey = Field(default="", description="The site key of the widget's script tag")
    page: Annotated[str, StringConstraints(max_length=300)] = Field(
        default="", description="The page they are on"
    )


class ChatSayIn(Input):
    text: ChatText


class ChatReadIn(Input):
    up_to: Annotated[int, Field(ge=0, le=MAX_ID)]


class ChatEndIn(Input):
    rating: Annotated[int, Field(ge=1, le=5)] | None = None
    note: Annotated[str, StringConstraints(max_length=300)] = ""
    transcript_to: Annotated[
        str, StringConstraints(max_length=254, pattern=r"^([^@\s]+@[^@\s]+\.[^@\s]+)?$")
    ] = Field(default="", description="E-mail the transcript here")


class ChatLineOut(Output):
    """A message as the visitor's window shows it: no ids of staff, only the agent's name."""

    id: int
    mine: bool = Field(description="The visitor's own message")
    text: str
    at: datetime
    agent: str = Field(description="The answering agent's name; empty for the visitor's")
    file: ChatFileOut | None = Field(default=None, description="The image or PDF it carries")


class ChatStateOut(Output):
    status: Literal["open", "closed"]
    lines: list[ChatLineOut] = Field(description="Messages after `after`, oldest first")
    agent_typing: bool
    read_up_to: int = Field(description="The last of the visitor's messages an agent has seen")
    answered: bool = Field(description="An agent has answered at least once")
    verified: Literal["", "sms", "member"] = Field(default="", description="How the visitor is identified")


class ChatStartedOut(ChatStateOut):
    token: str = Field(description="Keep it: it is the visitor's key to this chat (X-Chat-Token)")


class ConversationCustomerIn(Input):
    customer_id: Annotated[int, Field(ge=1, le=MAX_ID)] | None = Field(
        description="The customer's file; null: nobody's known"
    )


class ReplyIn(Input):
    body: Annotated[str, StringConstraints(min_length=1, max_length=300, pattern=NON_BLANK)] = Field(
        description="The answer (at most 300 characters) on the conversation's channel; SMS add the signature"
    )


class ChatAvailabilityOut(Output):
    available: bool = Field(
        description="An agent would answer a chat started now; else the visitor leaves a message"
    )
