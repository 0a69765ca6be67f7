from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, field_serializer, field_validator

from hotline.contact.calls.words import LineCode
from hotline.contact.queues.reasons import ReasonCode, RoutingReason
from hotline.core import privacy
from hotline.core.schemas import Input, Output
from hotline.voice.control import PhoneKind

NodeKind = Literal[
    "play", "menu", "collect", "lookup", "say", "condition", "set", "hours", "transfer", "voicemail",
    "survey", "hangup", "count", "log",
]  # fmt: skip


class RoutingReasonOut(Output):
    """Why a call was offered to an agent, as a code and its parameters for the UI to word
    (queues/reasons.py lists each code's parameters; `text` holds an old line's English words)."""

    code: ReasonCode
    params: dict[str, str | int | float | bool | None]

    @classmethod
    def of(cls, detail: str) -> RoutingReasonOut | None:
        reason = RoutingReason.decode(detail)
        return None if reason is None else cls(code=reason.code, params=reason.params)


class LineWordsOut(Output):
    """A log line's detail as a code and parameters for the UI to word (calls/words.py)."""

    code: LineCode
    params: dict[str, str]


class IvrStep(Output):
    """One node of the IVR a caller went through: its id, its kind (None on lines logged before
    kinds were) and the label its flow gives it."""

    node: str
    kind: NodeKind | None = None
    label: str = ""


FlowName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,63}$")]


class FlowVersionOut(Output):
    id: int
    name: str
    version: int
    status: Literal["draft", "published", "retired"]
    note: str
    definition: dict[str, Any]
    created_at: datetime
    published_at: datetime | None


class FlowSummary(Output):
    name: str
    title: str
    published_version: int | None
    draft_version: int | None
    versions: int
    nodes: int


class DraftIn(Input):
    definition: dict[str, Any] = Field(
        description="The flow: name, title, start, nodes (as in the YAML files)"
    )
    note: Annotated[str, StringConstraints(max_length=200)] = ""


class RollbackIn(Input):
    version: int = Field(ge=1, le=1_000_000)


class VisitCount(Output):
    node: str
    visits: int


class StaffingIn(Input):
    calls_per_hour: float = Field(ge=0.1, le=100_000)
    handle_seconds: float = Field(ge=1, le=14_400, description="Average handle time: talk, hold and wrap-up")
    service_level: float = Field(default=0.8, ge=0.01, le=0.999)
    target_seconds: float = Field(default=20, ge=0, le=3600)
    patience_seconds: float | None = Field(
        default=None, ge=1, le=3600, description="Mean caller patience (Erlang A)"
    )
    shrinkage: float = Field(default=0.3, ge=0, le=0.9, description="Share of paid time not on the phones")


class StaffingRow(Output):
    agents: int
    service_level: float
    wait_probability: float
    average_speed_of_answer: float
    occupancy: float
    abandon_rate: float


class StaffingOut(Output):
    model: Literal["erlang-c", "erlang-a"]
    traffic: float
    agents_needed: int
    agents_scheduled: int
    """Agents to put on the schedule so that `agents_needed` are on the phones after shrinkage."""
    rows: list[StaffingRow]


QueueName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,63}$")]
SkillName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,63}$")]


class StepIn(Input):
    until: int | None = Field(
        default=None, ge=1, le=86_400, description="Seconds of waiting this step lasts (null: to the end)"
    )
    sticky: bool = Field(default=False, description="Only the customer's last agent")
    min_level: int = Field(default=1, ge=1, le=5, description="Lowest skill level allowed")


class QueueIn(Input):
    title: Annotated[str, StringConstraints(min_length=1, max_length=120)]
    skill: SkillName
    strategy: Literal["longest-idle", "round-robin", "fewest-calls", "ring-all", "skill-level-first"]
    steps: list[StepIn] = Field(min_length=1, max_length=10)
    ring_seconds: int = Field(default=15, ge=5, le=120)
    wrap_seconds: int = Field(default=10, ge=0, le=3600)
    wrap_required: bool = Field(
        default=False, description="Agents stay in wrap-up until they write it (disposition and note)"
    )
    max_wait_seconds: int | None = Field(default=None, ge=10, le=7200)
    overflow_to: QueueName | None = None
    hold_prompt: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    announce_seconds: int = Field(default=30, ge=0, le=600)
    offer_callback: bool = True
    join_when_empty: bool = False
    leave_when_empty: bool = True
    service_seconds: int = Field(default=20, ge=1, le=600)
    chat_channels: list[Literal["sms", "wechat", "web", "wecom"]] = Field(
        default_factory=list,
        max_length=4,
        description="Conversations this queue takes besides calls: SMS replies, WeChat, web chat, WeCom",
    )


class QueueLive(Output):
    waiting: int
    callbacks: int
    longest_wait: float
    agents: dict[str, int]
    """Agents who could take this queue's calls, by state."""
    chats: ChatLoadOut | None = None


class ChatLoadOut(Output):
    """A queue's conversations (web chat, SMS, WeChat) now."""

    waiting: int = Field(description="Conversations waiting for an agent")
    active: int = Field(description="Conversations with an agent now")
    longest_wait: float = Field(description="Seconds the oldest waiting conversation has waited")


class QueueOut(QueueIn, Output):
    id: int
    name: str
    live: QueueLive | None = None

    @field_validator("chat_channels", mode="before")
    @classmethod
    def _none_taken(cls, value: object) -> object:
        return value or []  # queues made before conversations were routed


"""Where an agent answers: a SIP desk phone (or softphone) on the extension, or the browser."""


class AgentOut(Output):
    user_id: int
    username: str
    display_name: str
    work_number: str
    extension: str | None
    phone_registered: bool
    skills: dict[str, int]
    wrap_seconds: int | None
    chat_capacity: int = 3
    calls_while_chatting: bool = True
    chats: int = Field(default=0, description="Conversations the agent holds now")
    phone: PhoneKind = "desk"
    state: str
    reason: str
    seconds_in_state: float
    call_id: str | None
    queues: list[str]


class ContactEventOut(Output):
    id: int
    at: datetime
    kind: str
    call_id: str | None
    agent_id: int | None
    agent: str = ""
    """The agent's work number and name, for people."""
    queue: str
    queue_title: str = ""
    """The queue's name for people (lines of a queue)."""
    state: str
    detail: str
    reason: RoutingReasonOut | None = None
    """An offer's routing reason (its `detail` is then empty)."""
    step: IvrStep | None = None
    """An IVR line's node (its `detail` is then empty)."""
    words: LineWordsOut | None = None
    """Any other line's detail as data (its `detail` is then empty)."""

    @field_serializer("detail")
    def _caller_masked(self, detail: str) -> str:
        """The caller's number in the words of an arrival (`13800138000 → 4008001000`) or a
        callback request, masked like every phone."""
        if self.kind == "arrived":
            caller, arrow, number = detail.partition(" → ")
            return f"{privacy.mask_phone(caller)}{arrow}{number}"
        return privacy.mask_phone(detail) if self.kind == "callback" and detail else detail


class CallSummary(Output):
    call_id: str
    arrived_at: datetime
    caller: privacy.Phone
    number: str
    flow: str
    path: list[IvrStep]
    queue: str
    queue_title: str = ""
    """The queue's name for people."""
    agent_id: int | None
    waited: float | None
    outcome: str
    reason: RoutingReasonOut | None
    """Why the call went to the agent who answered (the routing decision's words)."""
    talk: float | None = None
    """Seconds from the agent's answer to the end of their conversation."""
    recorded: bool = False
    survey: int | None = None
    """The caller's post-call rating, 1–5."""


class QueueFigures(Output):
    queue: str
    offered: int
    answered: int
    abandoned: int
    short_abandoned: int
    callbacks: int
    service_level: float | None
    abandon_rate: float | None
    average_speed_of_answer: float | None
    average_handle_time: float | None


class CallbackOut(Output):
    id: int
    phone: privacy.Phone
    call_id: str
    queue: str
    queue_title: str = ""
    """The queue's name for people."""
    reason: str
    misses: int
    status: str
    created_at: datetime
    last_missed_at: datetime
    done_at: datetime | None
    note: str


class CallbackDoneIn(Input):
    note: Annotated[str, StringConstraints(max_length=500)] = ""


class QueueThresholds(Input):
    """When a queue's tile on the wallboard turns amber and red (contact/queues/thresholds.py):
    callers waiting and the longest wait at or above, today's service level at or below."""

    waiting_amber: int = Field(default=3, ge=1, le=500, description="Callers waiting: amber from")
    waiting_red: int = Field(default=6, ge=1, le=500, description="Callers waiting: red from")
    wait_amber_seconds: int = Field(default=30, ge=1, le=7200, description="Longest wait: amber from")
    wait_red_seconds: int = Field(default=90, ge=1, le=7200, description="Longest wait: red from")
    service_amber_percent: int = Field(
        default=80, ge=0, le=100, description="Service level: amber at or below"
    )
    service_red_percent: int = Field(default=60, ge=0, le=100, description="Service level: red at or below")


class QueueThresholdsOut(QueueThresholds, Output):
    queue: str


Level = Literal["green", "amber", "red"]


class WallboardQueue(Output):
    """One queue on the wall: now, and today since midnight (China time)."""

    queue: str
    title: str
    waiting: int = Field(description="Callers waiting now (callbacks not counted)")
    longest_wait: float = Field(description="Seconds the longest-waiting caller has waited")
    callbacks_waiting: int
    agents: dict[str, int] = Field(description="Agents logged into the queue, by state")
    chats: ChatLoadOut | None = Field(default=None, description="Its conversations now (None: no voice node)")
    today: QueueFigures | None
    thresholds: QueueThresholdsOut
    levels: dict[str, Level] = Field(description="waiting, longest_wait, service_level: each one's colour")
    level: Level = Field(description="The tile's colour: the worst of `levels`")


class WallboardTrend(Output):
    """The wallboard's charts: today's service level per interval (from the event log) and the
    callers waiting per queue over the last minutes (sampled on this node)."""

    interval_minutes: int
    starts: list[datetime] = Field(description="Each interval's start, since midnight (China time)")
    service_level: dict[str, list[float | None]] = Field(
        description="Per queue, and under '*' all queues: the share answered in time per interval"
    )
    sample_seconds: int
    sampled_at: list[datetime]
    waiting: dict[str, list[int]] = Field(description="Per queue: callers waiting at each sample")


class Wallboard(Output):
    queues: list[WallboardQueue]
    agents: list[AgentOut]


Disposition = Literal["booked", "enquiry", "complaint", "callback", "other"]
"""The wrap-up codes (话后小结) of calls, and of conversations closed (contact/chat_wrapup.py):
their words are calls/wrapup.py's DISPOSITIONS."""


class WrapUpIn(Input):
    """The agent's wrap-up of a call they took (D3): what it was, a note, whom it was with."""

    disposition: Disposition
    note: Annotated[str, StringConstraints(max_length=300)] = ""
    customer_id: int | None = Field(default=None, ge=1, le=2_147_483_647)


class WrapUpOut(Output):
    call_id: str
    disposition: str
    ready: bool = Field(description="Whether the agent went back to ready")


class CallerFileIn(Input):
    """A new caller's file, made from the call (D2): the caller's number is taken from the call,
    so the agent never needs to see it."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=40, strip_whitespace=True)]
    title: Literal["", "先生", "女士", "小姐"] = ""
    city: Annotated[str, StringConstraints(max_length=40)] = ""


class RegisterPhoneIn(Input):
    customer_id: int = Field(ge=1, le=2_147_483_647)


# ---------------------------------------------------------------- call controls (T7, D1)

PhoneNumber = Annotated[str, StringConstraints(pattern=r"^\+?[0-9]{3,20}$")]
Keys = Annotated[str, StringConstraints(pattern=r"^[0-9*#A-D]{1,32}$")]


class ConsultOut(Output):
    target: str = Field(description="Whom the agent consults: '1002 (002) 李娜', a queue, a number")
    state: Literal["ringing", "talking"]


class LiveCallOut(Output):
    """An agent's call as their softphone panel shows it."""

    call_id: str
    direction: Literal["inbound", "outbound"]
    mode: Literal["talking", "held", "consulting", "three_way", "transferring"]
    muted: bool
    caller: privacy.Phone = Field(description="The other party's number, masked")
    customer_id: int | None
    queue: str
    agent_id: int | None = Field(description="The agent responsible for the call now")
    since: datetime = Field(description="When this agent's part of the call began")
    consult: ConsultOut | None = None


class HoldIn(Input):
    held: bool


class MuteIn(Input):
    muted: bool


class KeysIn(Input):
    keys: Keys = Field(description="DTMF to send to the other party (0-9 * # A-D), e.g. an extension")


class TransferIn(Input):
    """Blind: the caller goes at once and the agent is free. Consult: the caller holds while the
    agent talks to the target, then completes, cancels or makes it a three-way call."""

    to: Literal["agent", "queue", "number"]
    target: Annotated[str, StringConstraints(min_length=1, max_length=64)] = Field(
        description="An agent's work number (e.g. 002), a queue's name, or a phone number"
    )
    mode: Literal["blind", "consult"] = "blind"


class ConsultActionIn(Input):
    action: Literal["complete", "cancel", "conference"]


class DialIn(Input):
    """Click-to-dial: a number the agent typed, one of a customer's numbers or a callback's (never
    shown)."""

    number: PhoneNumber | None = None
    customer_id: int | None = Field(default=None, ge=1, le=2_147_483_647)
    phone_id: int | None = Field(default=None, ge=1, le=2_147_483_647)
    callback_id: int | None = Field(default=None, ge=1, le=2_147_483_647)
    """A callback task: its number (never shown) is rung, the task stays open until marked done."""


class DialOut(Output):
    call_id: str


class MonitorIn(Input):
    mode: Literal["listen", "whisper", "barge"]


class MonitorOut(Output):
    agent_id: int
    call_id: str
    mode: Literal["listen", "whisper", "barge", "ringing"]


# ---------------------------------------------------------------- the agent's desk (D1–D3)

CallerClass = Literal["known", "known_customer_new_number", "unknown"]
