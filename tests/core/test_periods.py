"""The period every report takes (core/periods.py): buckets, comparisons, bounds."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.core.errors import InvalidInput
from hotline.core.periods import MAX_DAYS, Period, Series, period_of

SH = ZoneInfo("Asia/Shanghai")
days = st.dates(min_value=date(2001, 1, 1), max_value=date(2099, 12, 31))
grains = st.sampled_from(["hour", "day", "week", "month"])


@given(days, st.integers(0, 40), grains, st.floats(0, 1))
def test_every_instant_of_a_period_falls_in_one_of_its_buckets(
    first: date, length: int, grain: str, where: float
) -> None:
    period = period_of(first, first + timedelta(days=length), grain, "Asia/Shanghai")  # type: ignore[arg-type]
    instant = period.since + (period.until - period.since) * where
    if instant >= period.until:
        instant = period.until - timedelta(seconds=1)
    buckets = period.buckets()
    assert buckets == sorted(set(buckets))
    assert period.bucket(instant.astimezone(UTC)) in buckets
    series = Series(period, ("n",))
    series.add(instant, "n")
    series.add(period.until, "n")  # the first instant after: not counted
    assert series.totals["n"] == 1 and sum(v["n"] for _, v in series.rows()) == 1


@given(days, st.integers(0, MAX_DAYS - 1))
def test_the_previous_period_is_as_long_and_ends_the_day_before(first: date, length: int) -> None:
    period = period_of(first, first + timedelta(days=length), "day", SH)
    before = period.previous()
    assert before.days == period.days and before.last == period.first - timedelta(days=1)
    assert period.compared("none") is None


def test_a_year_ago_keeps_the_days_and_29_february_becomes_the_28th() -> None:
    period = Period(date(2024, 2, 29), date(2024, 3, 31), "day", SH)
    assert (period.year_ago().first, period.year_ago().last) == (date(2023, 2, 28), date(2023, 3, 31))


def test_intervals_are_quarter_hours_in_the_site_zone_and_weeks_start_on_monday() -> None:
    day = period_of(date(2025, 3, 5), date(2025, 3, 5), "interval", SH)
    assert len(day.buckets()) == 96
    assert day.bucket(datetime(2025, 3, 5, 1, 7, tzinfo=UTC)) == datetime(2025, 3, 5, 9, 0, tzinfo=SH)
    weeks = period_of(date(2025, 3, 5), date(2025, 3, 18), "week", SH)
    assert [b.date() for b in weeks.buckets()] == [date(2025, 3, 3), date(2025, 3, 10), date(2025, 3, 17)]


def test_bad_periods_name_the_field() -> None:
    with pytest.raises(InvalidInput) as reversed_:
        period_of(date(2025, 3, 2), date(2025, 3, 1), "day", SH)
    assert reversed_.value.field == "query.end"
    with pytest.raises(InvalidInput) as long:
        period_of(date(2024, 1, 1), date(2025, 1, 1), "day", SH)
    assert long.value.field == "query.end" and long.value.params["days"] == 367
    assert period_of(date(2024, 1, 1), date(2024, 12, 31), "month", SH).days == 366
    with pytest.raises(InvalidInput) as fine:
        period_of(date(2025, 1, 1), date(2025, 2, 1), "interval", SH)
    assert fine.value.field == "query.granularity"
