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
