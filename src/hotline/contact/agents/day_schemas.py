"""What the agent's own day looks like to them: figures since midnight, callers to ring back,
callers waiting in their queues (contact/agents/today.py; the home page and the idle desktop)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from hotline.core import privacy
from hotline.core.schemas import Output


class DueCallback(Output):
    """A caller for the agent to ring back, with the customer whose registered phone it is."""

    id: int
    phone: privacy.Phone
    customer_id: int | None
    customer_name: str
    customer_title: str
    queue: str
    reason: str
    misses: int
    created_at: datetime
    last_missed_at: datetime


class AgentFigures(Output):
    """The agent's own day since midnight (docs/metrics.md)."""

    answered: int = Field(description="Queue calls the agent answered today")
    average_handle_time: float | None = Field(description="Seconds of talk and wrap-up per call")
    callbacks_done: int


class QueueWaiting(Output):
    queue: str
    title: str
    waiting: int = Field(description="Callers waiting now (kept callbacks not counted)")
    longest_wait: float = Field(description="Seconds the longest-waiting caller has waited")
