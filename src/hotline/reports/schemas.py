from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import Field

from hotline.core.periods import Granularity, PeriodQuery
from hotline.core.schemas import DbId, Output


class TeamRefOut(Output):
    id: int
    name: str


class ComparedOut(Output):
    """The comparison period and its totals (the same figures, the same filters)."""

    start: date
    end: date
    totals: dict[str, Any]


class ReportOut(Output):
    """Every report's answer (docs/reports.md): the series per bucket (`start` is the bucket's
    wall-clock start in `timezone`), the totals, the comparison's totals and rows per key. Money
    figures are decimal strings to the fen; rates are fractions (0.9231), null when nothing to divide."""

    subject: str
    start: date
    end: date
    granularity: Granularity
    timezone: str
    team: TeamRefOut | None
    series: list[dict[str, Any]]
    totals: dict[str, Any]
    compare: ComparedOut | None
    rows: list[dict[str, Any]]


class QueuesQuery(PeriodQuery):
    """The queue report's query: the period, and the queues (keys) it is limited to."""

    queue: list[Annotated[str, Field(max_length=64)]] = Field(
        default_factory=list, max_length=50, description="Only these queues"
    )


class AgentsQuery(PeriodQuery):
    """The agent report's query: the period, the team, and one agent."""

    agent_id: DbId | None = Field(default=None, description="Only this agent")
