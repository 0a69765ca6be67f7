"""The period every report covers: first and last day in the site's time zone, how finely its series
is cut, and the period it is compared with (the one before, or the same days a year earlier).

Pure: no database, no clock. Report services take a `Period`; the API builds one from a `PeriodQuery`
through `period_of` (bounds and field errors), so every report answers the same shape
(docs/reports.md). Buckets are wall-clock times in the zone: an interval is 15 minutes, a week starts
on Monday, a month on the 1st; a week or month bucket may start before the period's first day
(its figures are only those inside the period).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import Field

from hotline.core.errors import InvalidInput
from hotline.core.schemas import DbId, Input

Granularity = Literal["interval", "hour", "day", "week", "month"]
Compare = Literal["previous", "year", "none"]

MAX_DAYS = 366
"""A report covers at most a year (a leap year's days): a longer one is a custom report's job."""
MAX_INTERVAL_DAYS = 31
"""15-minute buckets for at most a month (2,976 of them)."""
INTERVAL = timedelta(minutes=15)
EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)


class PeriodQuery(Input):
    """The query every report takes (`GET /api/reports/<subject>?start=…&end=…`)."""

    start: date = Field(ge=EARLIEST, le=LATEST, description="First day, in the site's time zone")
    end: date = Field(ge=EARLIEST, le=LATEST, description="Last day (included)")
    granularity: Granularity = "day"
    compare: Compare = "none"
    team_id: DbId | None = Field(default=None, description="Only this team's current members")


@dataclass(frozen=True)
class Period:
    first: date
    last: date
    granularity: Granularity
    zone: ZoneInfo

    @property
    def since(self) -> datetime:
        """The first instant (aware, in the zone)."""
        return datetime.combine(self.first, time(0), tzinfo=self.zone)

    @property
    def until(self) -> datetime:
        """The instant after the last day (excluded)."""
        return datetime.combine(self.last + timedelta(days=1), time(0), tzinfo=self.zone)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def contains(self, at: datetime) -> bool:
        return self.since <= at < self.until

    def bucket(self, at: datetime) -> datetime:
        """The start of the bucket `at` (aware, any zone) falls in, as a wall-clock time in the zone."""
        local = at.astimezone(self.zone)
        if self.granularity == "interval":
            return local.replace(minute=local.minute - local.minute % 15, second=0, microsecond=0)
        if self.granularity == "hour":
            return local.replace(minute=0, second=0, microsecond=0)
        day = local.date()
        if self.granularity == "week":
            day -= timedelta(days=day.weekday())
        elif self.granularity == "month":
            day = day.replace(day=1)
        return datetime.combine(day, time(0), tzinfo=self.zone)

    def buckets(self) -> list[datetime]:
        """Every bucket of the period in order, empty ones too (a chart shows the gaps)."""
        found: list[datetime] = []
        if self.granularity in ("interval", "hour"):
            step = INTERVAL if self.granularity == "interval" else timedelta(hours=1)
            at = self.since
            while at < self.until:
                found.append(self.bucket(at))
                at = (at.astimezone(ZoneInfo("UTC")) + step).astimezone(self.zone)
            return sorted(set(found))
        day = self.first
        while day <= self.last:
            start = self.bucket(datetime.combine(day, time(12), tzinfo=self.zone))
            if not found or found[-1] != start:
                found.append(start)
            day += timedelta(days=1)
        return found

    def previous(self) -> Period:
        """As many days, just before."""
        return Period(
            self.first - timedelta(days=self.days),
            self.first - timedelta(days=1),
            self.granularity,
            self.zone,
        )

    def year_ago(self) -> Period:
        """The same days a year earlier (29 February becomes the 28th)."""
        return Period(_year_before(self.first), _year_before(self.last), self.granularity, self.zone)

    def compared(self, compare: Compare) -> Period | None:
        return {"previous": self.previous, "year": self.year_ago}.get(compare, lambda: None)()


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The first instant of a day in the zone, in UTC."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(ZoneInfo("UTC"))


def _year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def period_of(
    first: date, last: date, granularity: Granularity, zone: str | ZoneInfo, *, prefix: str = "query."
) -> Period:
    """A checked period: the end not before the start, at most MAX_DAYS days, 15-minute intervals
    for at most MAX_INTERVAL_DAYS. Errors name the query field at fault."""
    if last < first:
        raise InvalidInput(
            f"The end {last} is before the start {first}",
            field=f"{prefix}end",
            reason="period-end-before-start",
            params={"start": first.isoformat(), "end": last.isoformat()},
        )
    days = (last - first).days + 1
    if days > MAX_DAYS:
        raise InvalidInput(
            f"A report covers at most {MAX_DAYS} days ({days} asked)",
            field=f"{prefix}end",
            reason="period-too-long",
            params={"max_days": MAX_DAYS, "days": days},
        )
    if granularity == "interval" and days > MAX_INTERVAL_DAYS:
        raise InvalidInput(
            f"15-minute intervals cover at most {MAX_INTERVAL_DAYS} days ({days} asked)",
            field=f"{prefix}granularity",
            reason="period-intervals-too-long",
            params={"max_days": MAX_INTERVAL_DAYS, "days": days},
        )
    return Period(first, last, granularity, zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone))


# ---------------------------------------------------------------- figures folded into buckets

Number = int | float | Decimal


@dataclass
class Series:
    """Sums of named figures per bucket, plus totals: what a domain's figures function returns.
    Figures that are ratios are computed from sums afterwards (`ratio`), never averaged."""

    period: Period
    names: tuple[str, ...]
    money: tuple[str, ...] = ()
    """Figures that are amounts of money: Decimal sums (to the fen), never floats."""
    by_bucket: dict[datetime, dict[str, Number]] = field(default_factory=dict)
    totals: dict[str, Number] = field(default_factory=dict)

    def zero(self) -> dict[str, Number]:
        return {name: Decimal("0.00") if name in self.money else 0 for name in self.names}

    def __post_init__(self) -> None:
        for start in self.period.buckets():
            self.by_bucket[start] = self.zero()
        self.totals = self.zero()

    def add(self, at: datetime, name: str, amount: Number = 1) -> None:
        """Count `amount` of `name` at `at`; ignored outside the period."""
        if not self.period.contains(at):
            return
        start = self.period.bucket(at)
        bucket = self.by_bucket.setdefault(start, self.zero())
        bucket[name] = bucket[name] + amount  # type: ignore[operator]
        self.totals[name] = self.totals[name] + amount  # type: ignore[operator]

    def rows(self) -> Iterator[tuple[datetime, dict[str, Number]]]:
        yield from sorted(self.by_bucket.items())


def ratio(part: Number, whole: Number, places: int = 4) -> float | None:
    """part / whole rounded, None when there is no whole (no calls: no rate, not 0 %)."""
    return None if not whole else round(float(part) / float(whole), places)


@dataclass
class Figures:
    """A report's figures before it is labelled: the series, and rows per key (a source, a template,
    an agent) with their own figures. `rates` name the ratios to add, each from two sums."""

    series: Series
    rows: list[dict[str, Any]] = field(default_factory=list)
    rates: dict[str, tuple[str, str]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    """Totals that are not sums over the buckets (customers who opted out in the period)."""

    def __post_init__(self) -> None:
        self.rates = dict(self.rates)  # a module's RATES is shared; a report may add its own

    def with_rates(self, figures: dict[str, Any]) -> dict[str, Any]:
        return {**figures, **{name: ratio(figures[a], figures[b]) for name, (a, b) in self.rates.items()}}

    def points(self) -> list[dict[str, Any]]:
        return [
            {"start": start.isoformat(), **self.with_rates(values)} for start, values in self.series.rows()
        ]

    def totals(self) -> dict[str, Any]:
        return {**self.with_rates(self.series.totals), **self.extra}

    def merge(self, other: Figures) -> None:
        """Take `other`'s figures into this series, bucket by bucket (another domain's, say calls
        answered beside bookings); names must not clash."""
        self.series.names = (*self.series.names, *other.series.names)
        for start, values in other.series.by_bucket.items():
            self.series.by_bucket.setdefault(start, self.series.zero()).update(values)
        for values in self.series.by_bucket.values():
            for name in other.series.names:
                values.setdefault(name, 0)
        self.series.totals.update(other.series.totals)
        self.extra.update(other.extra)
