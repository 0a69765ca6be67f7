"""A report's period: local dates of the site's time zone, a granularity and a comparison, checked
(≤ 366 days; 15-minute intervals ≤ 31 days) and turned into UTC bounds and series buckets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from hotline.core.errors import InvalidInput

MAX_DAYS = 366
MAX_INTERVAL_DAYS = 31


class Granularity(StrEnum):
    INTERVAL = "interval"
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


class Compare(StrEnum):
    PREVIOUS = "previous"
    YEAR = "year"
    NONE = "none"


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    """Inclusive."""
    granularity: Granularity
    zone: ZoneInfo

    @classmethod
    def checked(cls, start: date, end: date, granularity: Granularity, zone: ZoneInfo) -> Period:
        if end < start:
            raise InvalidInput("The end is before the start", field="end", reason="stats-range-reversed")
        days = (end - start).days + 1
        if days > MAX_DAYS:
            raise InvalidInput(
                f"At most {MAX_DAYS} days",
                field="end",
                reason="stats-range-too-long",
                params={"days": MAX_DAYS},
            )
        if granularity is Granularity.INTERVAL and days > MAX_INTERVAL_DAYS:
            raise InvalidInput(
                f"15-minute intervals for at most {MAX_INTERVAL_DAYS} days",
                field="granularity",
                reason="stats-intervals-too-long",
                params={"days": MAX_INTERVAL_DAYS},
            )
        return cls(start, end, granularity, zone)

    @property
    def since(self) -> datetime:
        return local_midnight(self.start, self.zone)

    @property
    def until(self) -> datetime:
        return local_midnight(self.end + timedelta(days=1), self.zone)

    @property
    def fine(self) -> bool:
        """Read from the 15-minute rows (interval, hour), else from the day rows."""
        return self.granularity in (Granularity.INTERVAL, Granularity.HOUR)

    def compared(self, compare: Compare) -> Period | None:
        if compare is Compare.NONE:
            return None
        if compare is Compare.PREVIOUS:
            length = self.end - self.start + timedelta(days=1)
            return Period(self.start - length, self.end - length, self.granularity, self.zone)
        return Period(_year_before(self.start), _year_before(self.end), self.granularity, self.zone)

    def bucket(self, at: datetime | date) -> str:
        """The series point a row's interval (UTC datetime) or day belongs to, as local ISO text."""
        if isinstance(at, datetime):
            local = at.astimezone(self.zone)
            if self.granularity is Granularity.INTERVAL:
                return local.isoformat(timespec="minutes")
            if self.granularity is Granularity.HOUR:
                return local.replace(minute=0).isoformat(timespec="minutes")
            day = local.date()
        else:
            day = at
        if self.granularity is Granularity.WEEK:
            return (day - timedelta(days=day.weekday())).isoformat()
        if self.granularity is Granularity.MONTH:
            return day.replace(day=1).isoformat()
        return day.isoformat()


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


def _year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)
