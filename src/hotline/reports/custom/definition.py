"""What a custom report is made of, checked against the catalogue (core/report_catalogue.py).

A definition names a subject, at most two dimensions, one to six measures, filters on the
subject's dimensions, a period and a chart. Every name must be one the catalogue declares for
the subject; a wrong one is refused naming its field (`body.definition.measures.2`), so the
query (query.py) is made of declared expressions only.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import Field

from hotline.core.errors import InvalidInput
from hotline.core.report_catalogue import TIME_DIMENSIONS, Subject, subject, subjects
from hotline.core.schemas import Input

Chart = Literal["bar", "line", "pie", "table"]
Preset = Literal[
    "yesterday",
    "last_7_days",
    "last_30_days",
    "this_month",
    "last_month",
    "this_year",
    "last_year",
    "last_365_days",
    "custom",
]
MAX_DAYS = 731
"""Two years at most (a year compared with the one before fits)."""
EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)
Key = Annotated[int, Field(ge=-(2**31), le=2**31 - 1)] | Annotated[str, Field(min_length=1, max_length=140)]


class FilterIn(Input):
    dimension: str = Field(min_length=1, max_length=32)
    values: list[Key] = Field(min_length=1, max_length=50)


class PeriodIn(Input):
    preset: Preset = "last_30_days"
    start: date | None = Field(default=None, ge=EARLIEST, le=LATEST)
    end: date | None = Field(default=None, ge=EARLIEST, le=LATEST)


class Definition(Input):
    subject: str = Field(min_length=1, max_length=32)
    dimensions: list[str] = Field(default_factory=list, max_length=2)
    measures: list[str] = Field(min_length=1, max_length=6)
    filters: list[FilterIn] = Field(default_factory=list, max_length=6)
    period: PeriodIn = Field(default_factory=PeriodIn)
    chart: Chart = "bar"


def check(definition: Definition, field: str = "body.definition") -> Subject:
    """The definition's subject, once every name in it is the subject's."""
    found = subject(definition.subject)
    if found is None:
        known = ", ".join(s.key for s in subjects())
        raise InvalidInput(
            f"No report subject {definition.subject!r}; there are {known}",
            field=f"{field}.subject",
            reason="custom-report-unknown-subject",
            params={"name": definition.subject, "known": known},
        )
    allowed = found.dimension_keys()
    seen: set[str] = set()
    times = 0
    for n, name in enumerate(definition.dimensions):
        if name not in allowed:
            raise _unknown(f"{field}.dimensions.{n}", "dimension", name, allowed)
        if name in seen:
            raise InvalidInput(
                f"Dimension {name} chosen twice",
                field=f"{field}.dimensions.{n}",
                reason="custom-report-dimension-twice",
                params={"name": name},
            )
        seen.add(name)
        times += name in TIME_DIMENSIONS
        if times > 1:
            raise InvalidInput(
                "At most one of day, week and month",
                field=f"{field}.dimensions.{n}",
                reason="custom-report-two-times",
                params={},
            )
    measures = tuple(found.measure_by_key)
    for n, name in enumerate(definition.measures):
        if name not in measures:
            raise _unknown(f"{field}.measures.{n}", "measure", name, measures)
        if definition.measures.index(name) != n:
            raise InvalidInput(
                f"Measure {name} chosen twice",
                field=f"{field}.measures.{n}",
                reason="custom-report-measure-twice",
                params={"name": name},
            )
    filterable = tuple(d.key for d in found.dimensions if d.filterable)
    for n, chosen in enumerate(definition.filters):
        if chosen.dimension not in filterable:
            raise _unknown(f"{field}.filters.{n}.dimension", "filter", chosen.dimension, filterable)
    if definition.chart == "pie" and len(definition.dimensions) != 1:
        raise InvalidInput(
            "A pie chart shows one dimension",
            field=f"{field}.chart",
            reason="custom-report-pie-one-dimension",
            params={},
        )
    days_of(definition.period, date(2026, 1, 1), field=f"{field}.period")
    return found


def _unknown(field: str, kind: str, name: str, allowed: tuple[str, ...]) -> InvalidInput:
    return InvalidInput(
        f"No {kind} {name!r} here; there are {', '.join(allowed)}",
        field=field,
        reason=f"custom-report-unknown-{kind}",
        params={"name": name, "known": ", ".join(allowed)},
    )


def days_of(period: PeriodIn, today: date, *, field: str = "body.definition.period") -> tuple[date, date]:
    """The first and last day (included) the period covers, seen from `today` (the site's)."""
    if period.preset == "custom":
        if period.start is None or period.end is None:
            name = "start" if period.start is None else "end"
            raise InvalidInput(
                "A custom period needs its first and last day",
                field=f"{field}.{name}",
                reason="custom-report-period-days",
                params={},
            )
        first, last = period.start, period.end
        if last < first:
            raise InvalidInput(
                "The end is before the start", field=f"{field}.end", reason="stats-range-reversed", params={}
            )
        if (last - first).days + 1 > MAX_DAYS:
            raise InvalidInput(
                f"A custom report covers at most {MAX_DAYS} days",
                field=f"{field}.end",
                reason="stats-range-too-long",
                params={"days": MAX_DAYS},
            )
        return first, last
    month = today.replace(day=1)
    if period.preset == "yesterday":
        return today - timedelta(days=1), today - timedelta(days=1)
    if period.preset == "last_7_days":
        return today - timedelta(days=7), today - timedelta(days=1)
    if period.preset == "last_30_days":
        return today - timedelta(days=30), today - timedelta(days=1)
    if period.preset == "last_365_days":
        return today - timedelta(days=365), today - timedelta(days=1)
    if period.preset == "this_month":
        return month, today
    if period.preset == "last_month":
        last = month - timedelta(days=1)
        return last.replace(day=1), last
    if period.preset == "this_year":
        return today.replace(month=1, day=1), today
    return date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)


def today_in(zone: str, now: datetime) -> date:
    return now.astimezone(ZoneInfo(zone)).date()
