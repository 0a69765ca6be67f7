from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import Field

from hotline.core.permissions import Role
from hotline.core.schemas import NON_BLANK, Input, Output
from hotline.reports.custom.definition import Chart, Definition

Schedule = Literal["none", "daily", "weekly", "monthly"]
EMAIL = r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{1,60}$"


class CustomReportIn(Input):
    name: str = Field(min_length=1, max_length=80, pattern=NON_BLANK)
    definition: Definition
    shared_roles: list[Role] = Field(default_factory=list, max_length=9)
    schedule: Schedule = "none"
    hour: int = Field(default=8, ge=0, le=23, description="The hour of the site's day it is sent at")
    weekday: int | None = Field(default=None, ge=1, le=7, description="1 Monday … 7 Sunday (weekly)")
    monthday: int | None = Field(default=None, ge=1, le=28, description="Day of the month (monthly)")
    recipients: list[str] = Field(default_factory=list, max_length=20)


class CustomReportOut(Output):
    id: int
    name: str
    owner_id: int | None
    owner_name: str
    mine: bool
    may_edit: bool
    definition: dict[str, Any]
    shared_roles: list[str]
    schedule: Schedule
    hour: int
    weekday: int | None
    monthday: int | None
    recipients: list[str]
    """Whole for whoever may edit the report; masked for the others."""
    next_send_at: datetime | None
    last_sent_at: datetime | None
    last_error: str


class ColumnOut(Output):
    key: str
    label: str
    kind: str
    """"dimension", or the measure's kind: count, number, money, seconds, hours, rate, score."""


class ResultOut(Output):
    """A custom report's figures: `rows` are lists in the order of `columns` (the dimensions'
    words first, then the measures); `totals` has the measures of all rows (None under the
    dimensions). Money is a decimal string to the fen, rates fractions (null: nothing to divide)."""

    subject: str
    title: str
    start: date
    end: date
    timezone: str
    chart: Chart
    columns: list[ColumnOut]
    rows: list[list[Any]]
    totals: list[Any]


class ChoiceOut(Output):
    value: str
    label: str


class DimensionOut(Output):
    key: str
    label: str
    time: bool
    filterable: bool
    choices: list[ChoiceOut]


class MeasureOut(Output):
    key: str
    label: str
    kind: str


class ReportSubjectOut(Output):
    key: str
    label: str
    dimensions: list[DimensionOut]
    measures: list[MeasureOut]
