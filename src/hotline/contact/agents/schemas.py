"""What the API takes from agents and their supervisors: a change of state, of skills and wrap-up
time, and where the agent answers (`AgentOut`, which the wallboard shares, is in contact/schemas)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from hotline.contact.schemas import QueueName, SkillName
from hotline.core.schemas import Input
from hotline.voice.control import PhoneKind


class AgentStateIn(Input):
    state: Literal["logged_out", "not_ready", "ready"]
    reason: Annotated[str, StringConstraints(max_length=60)] = Field(
        default="",
        description="Why not ready (break, meeting, training, …); required for a supervisor's change",
    )
    queues: list[QueueName] | None = Field(
        default=None, max_length=50, description="On log-in: the queues to take calls from (none: all)"
    )


class AgentProfileIn(Input):
    skills: dict[SkillName, Annotated[int, Field(ge=1, le=5)]] = Field(max_length=50)
    wrap_seconds: int | None = Field(default=None, ge=0, le=3600)
    chat_capacity: int = Field(
        default=3, ge=0, le=10, description="How many conversations the agent holds at a time (0: none)"
    )
    calls_while_chatting: bool = Field(
        default=True, description="Whether calls are offered to the agent while they hold conversations"
    )


class AgentPhoneIn(Input):
    phone: PhoneKind = Field(
        description="desk: a SIP phone on the extension; browser: the agent desktop rings"
    )
