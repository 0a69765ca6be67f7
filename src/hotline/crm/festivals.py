"""China's festivals for greetings (N2 "on listed holidays"): the day each falls on.

Lunar festivals move against the Gregorian calendar (春节 2026-02-17, 2027-02-06), so they are
found with the lunar calendar (lunardate, 1900–2099); a festival day in a leap month does not
count, as in the almanac. Two can share a day (2020-10-01 was 中秋节 and 国庆节); a customer
still gets one greeting from a rule that day (a message's key is the rule, the customer and the
day). Which festivals a hotel greets on is the rule's condition (`festival=春节,中秋节`), not code.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

from lunardate import LunarDate

Festival = Literal["元旦", "除夕", "春节", "元宵节", "劳动节", "端午节", "七夕", "中秋节", "重阳节", "国庆节"]
SOLAR: dict[tuple[int, int], Festival] = {(1, 1): "元旦", (5, 1): "劳动节", (10, 1): "国庆节"}
LUNAR: dict[tuple[int, int], Festival] = {
    (1, 1): "春节", (1, 15): "元宵节", (5, 5): "端午节", (7, 7): "七夕", (8, 15): "中秋节", (9, 9): "重阳节",
}  # fmt: skip


def festivals_on(day: date) -> list[Festival]:
    """The festivals that fall on `day`: usually none, sometimes two (中秋节 was on 国庆节 in 2001
    and 2020). 除夕 is the eve of 春节 (the 29th or the 30th of the twelfth month)."""
    found = [SOLAR[(day.month, day.day)]] if (day.month, day.day) in SOLAR else []
    lunar, eve = _lunar(day), _lunar(day + timedelta(days=1))
    if lunar is not None and not lunar.is_leap_month and (lunar.month, lunar.day) in LUNAR:
        found.insert(0, LUNAR[(lunar.month, lunar.day)])
    if eve is not None and (eve.month, eve.day, eve.is_leap_month) == (1, 1, False):
        found.insert(0, "除夕")
    return found


def _lunar(day: date) -> LunarDate | None:
    try:
        return LunarDate.from_solar_date(day.year, day.month, day.day)
    except ValueError:  # outside the lunar tables (1900–2099)
        return None
