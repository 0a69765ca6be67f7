"""Festival days for greetings: the lunar festivals land where the almanac puts them, once a year."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from hotline.crm.festivals import Festival, festivals_on


def test_the_festivals_of_2026_and_2027_fall_on_their_days() -> None:
    expected: dict[date, Festival] = {
        date(2026, 1, 1): "元旦", date(2026, 2, 16): "除夕", date(2026, 2, 17): "春节",
        date(2026, 3, 3): "元宵节", date(2026, 5, 1): "劳动节",
        date(2026, 6, 19): "端午节", date(2026, 8, 19): "七夕", date(2026, 9, 25): "中秋节",
        date(2026, 10, 18): "重阳节", date(2026, 10, 1): "国庆节",
        date(2027, 2, 6): "春节", date(2027, 9, 15): "中秋节",
    }  # fmt: skip
    for day, festival in expected.items():
        assert festivals_on(day) == [festival], day
    assert festivals_on(date(2026, 2, 15)) == []  # the first day off is not a festival
    assert festivals_on(date(2027, 2, 5)) == ["除夕"]  # the 29th of a short twelfth month
    assert festivals_on(date(2020, 10, 1)) == ["中秋节", "国庆节"]
    assert festivals_on(date(2200, 1, 1)) == ["元旦"]  # past the lunar tables: no error


@given(st.integers(min_value=1901, max_value=2098))
def test_each_festival_falls_once_a_year(year: int) -> None:
    day, seen = date(year, 1, 1), Counter[str]()
    while day.year == year:
        seen.update(festivals_on(day))
        day += timedelta(days=1)
    assert seen == Counter(dict.fromkeys(Festival.__args__, 1))
    spring = next(
        d for d in (date(year, 1, 20) + timedelta(days=n) for n in range(32)) if "春节" in festivals_on(d)
    )
    assert date(year, 1, 21) <= spring <= date(year, 2, 20)
