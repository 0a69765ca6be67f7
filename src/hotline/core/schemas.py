"""Shared schema bases: inputs reject unknown fields, outputs read from ORM objects."""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

T = TypeVar("T")


MAX_ID = 2_147_483_647
"""Row ids are 32-bit integers on PostgreSQL; larger numbers are refused, never sent to the database."""
DbId = Annotated[int, Field(ge=1, le=MAX_ID)]


class Input(BaseModel):
    """Request bodies and query models: unknown fields are refused, nothing is silently altered."""

    model_config = ConfigDict(extra="forbid")


def Text(max_length: int, *, min_length: int = 1) -> Any:  # noqa: N802 - reads as a type
    """A string that must hold something other than spaces (the OpenAPI spec says so too)."""
    return Annotated[str, StringConstraints(min_length=min_length, max_length=max_length, pattern=r"\S")]


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Page(Output, Generic[T]):
    items: list[T]
    total: int = Field(ge=0)


class Paging(Input):
    limit: int = Field(default=50, ge=1, le=500)
    offset: int = Field(default=0, ge=0)
