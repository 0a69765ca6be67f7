"""What the home page and the idle desktop show (docs/home.md)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from hotline.contact.agents.day_schemas import AgentFigures, DueCallback, QueueWaiting
from hotline.core.schemas import Output
from hotline.hotels.schemas import HotelArrivals
from hotline.quality.reviews.schemas import EvaluationsDue
from hotline.tickets.schemas import TicketOut
from hotline.travel.schemas import OrderStep


class Landing(Output):
    """Where the signed-in user starts, and whether they have an agent's state at all."""

    agent: bool = Field(description="Has an extension or agent profile: a state to show and follow")
    page: Literal["desktop", "home"] = Field(description="Agents who take calls start on the desktop")


class TicketList(Output):
    count: int = Field(description="Exact, however many")
    tickets: list[TicketOut]


class AgentDesk(Output):
    """An agent's work between calls: figures today, callers to ring back, return visits, tickets
    assigned, and the callers waiting in their queues."""

    figures: AgentFigures
    callbacks: list[DueCallback]
    callbacks_count: int = Field(description="Open callbacks of the agent's queues, exact")
    return_visits: OrderStep | None
    tickets: TicketList | None
    queues: list[QueueWaiting]


class FloorQueue(Output):
    queue: str
    title: str
    waiting: int
    longest_wait: float
    service_level: float | None = Field(description="Today so far, 0–1; none before a call counts")
    answered: int
    abandoned: int


class Alert(Output):
    kind: Literal["tickets_breached", "callbacks_open", "service_level", "long_wait"]
    count: int = Field(description="Tickets or callbacks (exact); for a queue: callers waiting")
    queue: str = ""
    value: float | None = Field(default=None, description="The service level (0–1) or the longest wait (s)")
    mark: float | None = Field(
        default=None,
        description="The queue's amber mark it crossed: service level at or below (0–1), wait from (s)",
    )
    level: Literal["amber", "red"] | None = Field(
        default=None, description="For a queue: how far past its marks"
    )


class Floor(Output):
    """The supervisor's floor now: queues, agents by state, what needs them."""

    queues: list[FloorQueue]
    agents: dict[str, int] = Field(description="Agents (with an extension) by state")
    alerts: list[Alert]


class WorkOrders(Output):
    """A department's work orders: assigned to the reader, and their units' open ones."""

    mine: TicketList
    team_count: int
    breached: int


class QaHome(Output):
    """Quality assurance's work: the evaluations the reader is to score, by deadline, the appeals
    waiting for a second review they may give, and the calls answered today."""

    to_score: EvaluationsDue
    appeals_to_review: int | None = Field(
        description="Appeals the reader may review (not as their first evaluator); null when they review none"
    )
    calls_answered_today: int


class Home(Output):
    """The signed-in user's work, a section per kind of work their permissions give; a section
    they have no part in is null."""

    landing: Landing
    desk: AgentDesk | None = None
    floor: Floor | None = None
    orders: list[OrderStep] | None = None
    arrivals: list[HotelArrivals] | None = None
    work_orders: WorkOrders | None = None
    qa: QaHome | None = None
    my_evaluations: EvaluationsDue | None = Field(
        default=None,
        description="The reader's own scored evaluations waiting for them to acknowledge or appeal",
    )
