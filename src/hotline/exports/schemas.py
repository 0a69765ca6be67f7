"""What the exports' API takes and gives."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class ExportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject: str = Field(min_length=1, max_length=60, description="GET /api/exports/subjects lists them")
    format: Literal["xlsx", "csv"] = "xlsx"
    filters: dict[str, Any] = Field(default_factory=dict, max_length=30)
    """The subject's filters, the same as its list takes (checked by the subject)."""
    include_pii: bool = False
    """Personal data unmasked: needs customers.read_pii."""


class ExportOut(BaseModel):
    id: int
    subject: str
    title: str
    format: str
    filters: dict[str, Any]
    include_pii: bool
    status: str
    rows_done: int
    rows_total: int | None
    size: int | None
    created_at: datetime
    finished_at: datetime | None
    expires_at: datetime | None
    error: str | None
    download: str | None
    """The file's link, once done and until it expires."""


class SubjectOut(BaseModel):
    name: str
    title: str
    personal: bool
    """Has personal data (masked unless asked for with customers.read_pii)."""
