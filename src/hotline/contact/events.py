from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from hotline.contact.schemas import IvrStep, RoutingReasonOut
from hotline.core import privacy
from hotline.core.events import Event


class FlowPublished(Event):
    """A flow version went live (publish or roll back): voice nodes load it for new calls."""

    name: ClassVar[str] = "routing.flow_published"
    flow: str
    version: int


class QueuesChanged(Event):
    """Queues or agents' skills changed: voice nodes reload their routing set-up."""

    name: ClassVar[str] = "routing.queues_changed"
    queue: str


class CallOffered(Event):
    """A call is ringing an agent's phone: their desktop pops who is calling (D1). The number is
    masked (the desktop shows the customer's file, which reveals under its own rules)."""

    name: ClassVar[str] = "routing.offered"
    audience: list[int]
    call_id: str
    queue: str
    queue_title: str = Field(default="", description="The queue's name for people")
    caller: privacy.Phone = Field(description="The caller's number, masked")
    caller_class: str = Field(description="known | known_customer_new_number | unknown (R4)")
    customer: dict[str, Any] | None = None
    path: list[IvrStep] = Field(default_factory=list, description="IVR nodes the caller went through")
    waited: float = Field(description="Seconds since the call arrived")
    reason: RoutingReasonOut | None = Field(description="Why this agent (the routing decision)")


class CallWrapped(Event):
    """An agent wrapped up a call: every tab of theirs shows it done."""

    name: ClassVar[str] = "routing.wrapped"
    audience: list[int]
    call_id: str
    disposition: str


class CallControlled(Event):
    """An agent's call changed (held, consulting, three-way, transferred, ended…): every tab of
    the agents on it shows the softphone as it is now."""

    name: ClassVar[str] = "routing.call_state"
    audience: list[int]
    call: dict[str, Any] | None = Field(
        description="The call as `GET /api/routing/me/call` shows it; None: ended"
    )
    note: str = Field(
        default="", description="What just happened, for a toast (e.g. the colleague did not answer)"
    )


class DeskClosed(Event):
    """The last desktop tab of an agent closed (and did not come back within the grace time):
    a ready agent becomes not ready and a call ringing for them goes back in line."""

    name: ClassVar[str] = "routing.desk_closed"
    agent_id: int


class DeskOpened(Event):
    """An agent whose desktop had closed (`DeskClosed`) opened it again: if they were made not
    ready because of it, they are ready again, as they had chosen."""

    name: ClassVar[str] = "routing.desk_opened"
    agent_id: int


class DeskChanged(Event):
    """An agent moved on in a call's script, named the caller or filed them: their other
    desktops (tabs, another browser) ask for the desk again."""

    name: ClassVar[str] = "routing.desk_changed"
    audience: list[int]
    call_id: str


class PhoneChosen(Event):
    """An agent (or their supervisor) chose where they answer: the agent's desktops register the
    browser phone, or let it go for the desk phone."""

    name: ClassVar[str] = "routing.phone_chosen"
    audience: list[int]
    phone: str


class CallRecorded(Event):
    """A part of a call or a voicemail was recorded and its line is on the way to the log: the
    recordings library indexes it at once instead of at its next minute."""

    name: ClassVar[str] = "routing.recorded"
    call_id: str
