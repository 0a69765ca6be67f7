"""The catalogue of custom reports' subjects (SPEC A3, docs/reports.md "Custom reports").

Each domain declares the subjects it owns in `<domain>/report_subjects.py` (named in domains.py,
`Domain.report_subjects`): the table, the time the period applies to, the dimensions a report may
be cut by, the measures it may show and who may see it. The reports layer builds its queries from
these declarations only — a person picks names from the catalogue, never SQL — so a domain
registers here without importing the reports layer.

A measure is a ratio of sums (`numerator` summed, divided by `denominator` summed when there is
one, times `scale`): counts and sums have no denominator, averages divide by a count, rates by
the sum they are a part of. Never an average of averages.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import ColumnElement, FromClause
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from hotline.core.permissions import Permission

Label = tuple[str, str]
"""(Chinese, English)."""
Words = Callable[[AsyncSession, set[Any] | None], Awaitable[dict[Any, str]]]
"""Names for a dimension's keys looked up in the owner's tables (queue → its title, agent → name);
keys None: every key there is (at most CHOICES), the choices a filter on the dimension offers."""
CHOICES = 500
Expr = ColumnElement[Any] | InstrumentedAttribute[Any]
"""A column of the subject's table or an expression over its columns."""
MeasureKind = Literal["count", "number", "money", "seconds", "hours", "rate", "score"]
TIME_DIMENSIONS = ("day", "week", "month")


@dataclass(frozen=True)
class Dimension:
    key: str
    label: Label
    column: Expr
    words: Mapping[str, Label] | None = None
    """Codes worded as users read them (statuses, outcomes)."""
    lookup: Words | None = None
    filterable: bool = True


@dataclass(frozen=True)
class Measure:
    key: str
    label: Label
    kind: MeasureKind
    numerator: Expr | None
    """Summed; None counts the rows."""
    denominator: Expr | None = None
    scale: float = 1.0


@dataclass(frozen=True)
class Subject:
    key: str
    label: Label
    permission: Permission
    """Besides reports.read."""
    source: FromClause
    time: Expr
    time_kind: Literal["instant", "day"]
    """An aware instant (UTC) or a day already in the site's zone (the rollups' `day`)."""
    dimensions: tuple[Dimension, ...]
    measures: tuple[Measure, ...]
    where: tuple[ColumnElement[bool], ...] = ()
    order: int = 0
    by_key: dict[str, Dimension] = field(init=False, repr=False, compare=False)
    measure_by_key: dict[str, Measure] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_key", {d.key: d for d in self.dimensions})
        object.__setattr__(self, "measure_by_key", {m.key: m for m in self.measures})

    def dimension_keys(self) -> tuple[str, ...]:
        return (*TIME_DIMENSIONS, *self.by_key)


TIME_LABELS: dict[str, Label] = {"day": ("日期", "Day"), "week": ("周", "Week"), "month": ("月份", "Month")}
_SUBJECTS: dict[str, Subject] = {}


def register(subject: Subject) -> Subject:
    if subject.key in _SUBJECTS and _SUBJECTS[subject.key] is not subject:
        raise ValueError(f"report subject {subject.key!r} registered twice")
    clash = set(subject.by_key) & set(TIME_DIMENSIONS)
    if clash:
        raise ValueError(f"{subject.key}: dimensions {sorted(clash)} are the time's")
    _SUBJECTS[subject.key] = subject
    return subject


def subjects() -> list[Subject]:
    return sorted(_SUBJECTS.values(), key=lambda s: (s.order, s.key))


def subject(key: str) -> Subject | None:
    return _SUBJECTS.get(key)
