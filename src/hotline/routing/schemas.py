from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from hotline.core.schemas import Input, Output

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
    calls_per_hour: float = Field(gt=0, le=100_000)
    handle_seconds: float = Field(gt=0, le=36_000, description="Average handle time: talk, hold and wrap-up")
    service_level: float = Field(default=0.8, gt=0, lt=1)
    target_seconds: float = Field(default=20, ge=0, le=3600)
    patience_seconds: float | None = Field(
        default=None, gt=0, le=36_000, description="Mean caller patience (Erlang A)"
    )
    shrinkage: float = Field(default=0.3, ge=0, lt=1, description="Share of paid time not on the phones")


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
