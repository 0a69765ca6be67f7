"""When a saved report is mailed: daily, weekly (a weekday) or monthly (a day 1–28) at an hour of
the site's day. Pure: the next time after `now`; the job (mailing.py) sends what is due."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hotline.core.errors import InvalidInput

EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s.]{1,60}$")


def check(data: Any) -> None:
    for n, address in enumerate(data.recipients):
        if not EMAIL.match(address.strip()):
            raise InvalidInput(
                f"{address!r} is not an e-mail address",
                field=f"body.recipients.{n}",
                reason="custom-report-recipient",
                params={"address": address},
            )
    if data.schedule == "none":
        return
    if not data.recipients:
        raise InvalidInput(
            "A scheduled report needs at least one recipient",
            field="body.recipients",
            reason="custom-report-no-recipients",
            params={},
        )
    if data.schedule == "weekly" and data.weekday is None:
        raise InvalidInput(
            "A weekly report needs its weekday",
            field="body.weekday",
            reason="custom-report-weekday",
            params={},
        )
    if data.schedule == "monthly" and data.monthday is None:
        raise InvalidInput(
            "A monthly report needs its day of the month",
            field="body.monthday",
            reason="custom-report-monthday",
            params={},
        )


def next_send(report: Any, now: datetime, zone: str) -> datetime | None:
    """The first sending time strictly after `now` (aware, UTC), or None when not scheduled."""
    if report.schedule == "none":
        return None
    tz = ZoneInfo(zone)
    local = now.astimezone(tz)
    day = local.date()
    for _ in range(400):
        at = datetime.combine(day, time(report.hour), tzinfo=tz)
        if at > local and _on(report, day.isoweekday(), day.day):
            return at.astimezone(ZoneInfo("UTC"))
        day += timedelta(days=1)
    return None


def _on(report: Any, weekday: int, monthday: int) -> bool:
    if report.schedule == "weekly":
        return bool(weekday == report.weekday)
    if report.schedule == "monthly":
        return bool(monthday == report.monthday)
    return True
