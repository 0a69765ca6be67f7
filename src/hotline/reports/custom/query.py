"""A custom report's query, made of the catalogue's expressions only (core/report_catalogue.py).

One statement: the chosen dimensions (the time cut in the site's zone) as the groups, and per
measure the sum of its numerator and of its denominator; the ratios, the totals and the words of
the keys are worked out from those few grouped rows. On PostgreSQL the time is cut with
`timezone(zone, t)`; on SQLite (one site, demo and tests) with the zone's offset at the period's
middle — a zone with summer time would put the hour after a change in the day before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Select, cast, func, literal_column, select, true
from sqlalchemy.sql.elements import ColumnElement

from hotline.core.errors import InvalidInput
from hotline.core.report_catalogue import TIME_DIMENSIONS, Expr, Measure, Subject
from hotline.reports.custom.definition import Definition

MAX_ROWS = 10_000
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Span:
    first: date
    last: date
    zone: str

    @property
    def since(self) -> datetime:
        return datetime.combine(self.first, time(0), tzinfo=ZoneInfo(self.zone))

    @property
    def until(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(0), tzinfo=ZoneInfo(self.zone))


def _time_cut(subject: Subject, unit: str, span: Span, dialect: str) -> ColumnElement[Any]:
    column = subject.time
    if dialect == "postgresql":
        local = column if subject.time_kind == "day" else func.timezone(span.zone, column)
        if unit == "day":
            return cast(local, Date)
        return cast(func.date_trunc(unit, local), Date)
    if subject.time_kind == "day":
        local = func.date(column)
    else:
        middle = span.since + (span.until - span.since) / 2
        offset = middle.utcoffset() or timedelta(0)
        local = func.date(column, f"{int(offset.total_seconds() // 60):+d} minutes")
    if unit == "week":
        return func.date(local, "-6 days", "weekday 1")
    if unit == "month":
        return func.date(local, "start of month")
    return local


def _coerce(column: Expr, values: list[Any], field: str) -> list[Any]:
    try:
        kind = column.expression.type.python_type
    except NotImplementedError:
        return values
    if kind is int:
        try:
            return [int(v) for v in values]
        except (TypeError, ValueError):
            raise InvalidInput(
                "This filter takes whole numbers",
                field=field,
                reason="custom-report-filter-numbers",
                params={},
            ) from None
    if kind is str:
        return [str(v) for v in values]
    return values


def statement(
    subject: Subject, definition: Definition, span: Span, dialect: str, field: str = "body"
) -> Select[Any]:
    """The grouped select: d0, d1 (the dimensions' keys), then n0, q0, n1, q1 … (each measure's
    numerator and denominator sums; q is NULL without a denominator)."""
    groups: list[ColumnElement[Any]] = []
    for n, name in enumerate(definition.dimensions):
        expr = (
            _time_cut(subject, name, span, dialect)
            if name in TIME_DIMENSIONS
            else subject.by_key[name].column
        )
        groups.append(expr.label(f"d{n}"))
    sums: list[ColumnElement[Any]] = []
    for n, key in enumerate(definition.measures):
        measure = subject.measure_by_key[key]
        top = func.count() if measure.numerator is None else func.sum(measure.numerator)
        bottom = literal_column("NULL") if measure.denominator is None else func.sum(measure.denominator)
        sums += [top.label(f"n{n}"), bottom.label(f"q{n}")]
    if subject.time_kind == "day":
        period = [subject.time >= span.first, subject.time <= span.last]
    else:
        period = [subject.time >= span.since, subject.time < span.until]
    chosen: list[ColumnElement[bool]] = []
    for n, f in enumerate(definition.filters):
        column = subject.by_key[f.dimension].column
        chosen.append(column.in_(_coerce(column, f.values, f"{field}.filters.{n}.values")))
    query = select(*groups, *sums).select_from(subject.source).where(true(), *period, *subject.where, *chosen)
    if groups:
        query = query.group_by(*groups).order_by(*groups)
    return query.limit(MAX_ROWS + 1)


def ratio(measure: Measure, top: Any, bottom: Any) -> Any:
    """A measure's value from its sums: the exact ratio of sums, rounded as it is shown."""
    top = top or 0
    if measure.denominator is not None:
        if not bottom:
            return None
        value = Decimal(top) / Decimal(bottom) * Decimal(str(measure.scale))
    else:
        value = Decimal(top) * Decimal(str(measure.scale))
    if measure.kind == "money":
        return value.quantize(CENT)
    if measure.kind in ("count", "number"):
        return int(value)
    if measure.kind == "rate":
        return float(round(value, 4))
    return float(round(value, 2))


def time_key(value: Any) -> str:
    """PostgreSQL gives dates, SQLite ISO text."""
    if isinstance(value, datetime):
        return value.date().isoformat()
    return value.isoformat() if isinstance(value, date) else str(value)[:10]
