"""What the API gives and takes about the agent's desk rebuilt from the server (D1–D3)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from hotline.contact.schemas import CallerClass, IvrStep, RoutingReasonOut
from hotline.core import privacy
from hotline.core.schemas import Input, Output


class DeskCustomer(Output):
    id: int | None
    name: str
    title: str
    member_number: str
    tier: str


class DeskCallOut(Output):
    """One call on the agent's desktop, rebuilt from the server: the pop, where the agent is in
    the script, and whether the wrap-up is still to be written."""

    call_id: str
    state: Literal["ringing", "talking", "ended"] = Field(
        description="The agent's part of the call: ringing their phone, on it, or over"
    )
    queue: str
    queue_title: str = Field(default="", description="The queue's name for people")
    caller: privacy.Phone = Field(description="The caller's number, masked")
    caller_class: CallerClass = Field(description="R4; the script to follow")
    customer: DeskCustomer | None
    path: list[IvrStep] = Field(description="IVR nodes the caller went through")
    waited: float = Field(description="Seconds from arrival until the call was offered to this agent")
    reason: RoutingReasonOut | None = Field(description="Why this agent (the routing decision)")
    offered_at: datetime
    stage: int = Field(description="The script stage the agent is at (from 0)")
    registered: bool = Field(description="The caller's number was registered on the file during the call")
    wrapped: bool = Field(description="The agent wrote this call's wrap-up")
    wrap_required: bool = Field(
        description="The queue requires a wrap-up, not written yet: for the call on the line, and for the "
        "call that holds the agent in wrap-up until it is written"
    )


class DeskOut(Output):
    calls: list[DeskCallOut] = Field(
        description="The call the agent is on or is rung for first, then the latest calls they took, "
        "newest first: those awaiting a wrap-up, and the last one for a while after its wrap-up"
    )


class StageIn(Input):
    # a script has at most 20 stages (knowledge's ScriptIn)
    stage: int = Field(ge=0, le=19, description="The script stage the agent moved to (from 0)")


class CallerIn(Input):
    """The agent found who is calling (by member number, name or ID): the pop shows their file."""

    customer_id: int = Field(ge=1, le=2_147_483_647)
