"""Shared schema bases: inputs reject unknown fields, outputs read from ORM objects."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, field_validator

T = TypeVar("T")


MAX_ID = 2_147_483_647
"""Row ids are 32-bit integers on PostgreSQL; larger numbers are refused, never sent to the database."""
DbId = Annotated[int, Field(ge=1, le=MAX_ID)]


class Input(BaseModel):
    """Request bodies and query models: unknown fields are refused, nothing is silently altered."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        # PostgreSQL cannot store NUL in text, and no person types one: refuse it up front.
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(text, str) and "\x00" in text for text in texts):
            raise ValueError("must not contain NUL characters")
        return value


NON_BLANK = r"\S"
"""Pattern for text that must hold something other than spaces (stated in the OpenAPI spec too)."""


ClockTime = Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
"""A time of day as people write it: 09:30."""

Money = Annotated[Decimal, AfterValidator(lambda v: v.quantize(Decimal("0.01")))]
"""An amount as shown to people: to the fen (the database keeps four places)."""


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Page(Output, Generic[T]):
    items: list[T]
    total: int = Field(ge=0)


class Paging(Input):
    limit: int = Field(default=50, ge=1, le=500)
    offset: int = Field(default=0, ge=0, le=1_000_000)
