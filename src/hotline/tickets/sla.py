"""Service levels (S4), pure: business time on China's calendar and the clock of a ticket.

Business time counts the working hours (09:00–18:00, Asia/Shanghai) of working days: Monday to
Friday, except public holidays, plus make-up workdays (调休上班) on weekends. The calendar is data
(`ticket_calendar` rows; 2026 ships in `CHINA_2026`). A policy may count around the clock instead
(emergencies). A ticket's clock runs while it is new, dispatched, in process or rejected; it is
paused while pending (waiting on the customer or a third party) — paused time never counts — and
stops when the work is completed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hotline.tickets.state import RUNNING

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY_START = time(9, 0)
DAY_END = time(18, 0)
ZERO = timedelta(0)

CHINA_2026: tuple[tuple[str, str, str], ...] = (
    # public holidays on weekdays and weekends (国务院办公厅 2026 年部分节假日安排)
    *((f"2026-01-0{d}", "holiday", "元旦") for d in (1, 2, 3)),
    *((f"2026-02-{d}", "holiday", "春节") for d in range(15, 24)),
    *((f"2026-04-0{d}", "holiday", "清明节") for d in (4, 5, 6)),
    *((f"2026-05-0{d}", "holiday", "劳动节") for d in (1, 2, 3, 4, 5)),
    *((f"2026-06-{d}", "holiday", "端午节") for d in (19, 20, 21)),
    *((f"2026-09-{d}", "holiday", "中秋节") for d in (25, 26, 27)),
    *((f"2026-10-0{d}", "holiday", "国庆节") for d in range(1, 8)),
    # make-up workdays (调休上班) on weekends
    ("2026-01-04", "workday", "元旦调休"),
    ("2026-02-14", "workday", "春节调休"),
    ("2026-02-28", "workday", "春节调休"),
    ("2026-05-09", "workday", "劳动节调休"),
    ("2026-09-20", "workday", "国庆节调休"),
    ("2026-10-10", "workday", "国庆节调休"),
)


@dataclass(frozen=True)
class Calendar:
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    """Make-up workdays on weekends."""
    start: time = DAY_START
    end: time = DAY_END
    zone: ZoneInfo = SHANGHAI
    around_the_clock: bool = False

    @classmethod
    def of(cls, days: Iterable[tuple[date, str]], *, around_the_clock: bool = False) -> Calendar:
        days = list(days)
        return cls(
            holidays=frozenset(d for d, kind in days if kind == "holiday"),
            workdays=frozenset(d for d, kind in days if kind == "workday"),
            around_the_clock=around_the_clock,
        )

    def is_workday(self, day: date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    def _window(self, day: date) -> tuple[datetime, datetime]:
        return (
            datetime.combine(day, self.start, tzinfo=self.zone),
            datetime.combine(day, self.end, tzinfo=self.zone),
        )

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Business time from `start` to `end` (zero if end is not after start)."""
        if end <= start:
            return ZERO
        if self.around_the_clock:
            return end - start
        total = ZERO
        day = start.astimezone(self.zone).date()
        last = end.astimezone(self.zone).date()
        while day <= last:
            if self.is_workday(day):
                opens, closes = self._window(day)
                lo, hi = max(opens, start), min(closes, end)
                if hi > lo:
                    total += hi - lo
            day += timedelta(days=1)
        return total

    def add(self, start: datetime, amount: timedelta) -> datetime:
        """The moment `amount` of business time after `start`."""
        if self.around_the_clock:
            return start + amount
        left = amount
        day = start.astimezone(self.zone).date()
        for _ in range(3660):  # ten years of days at most
            if self.is_workday(day):
                opens, closes = self._window(day)
                lo = max(opens, start)
                if closes > lo:
                    if lo + left <= closes:
                        return (lo + left).astimezone(start.tzinfo)
                    left -= closes - lo
            day += timedelta(days=1)
        raise ValueError("no working time within ten years")


def running(steps: Sequence[tuple[datetime, str]], now: datetime) -> list[tuple[datetime, datetime]]:
    """The intervals in which a ticket's resolution clock ran: `steps` are (when, state entered)
    in order, the first being the creation."""
    spans = []
    for n, (at, status) in enumerate(steps):
        until = steps[n + 1][0] if n + 1 < len(steps) else now
        if status in RUNNING and until > at:
            spans.append((at, min(until, now)))
    return [(a, b) for a, b in spans if b > a]


def elapsed(calendar: Calendar, steps: Sequence[tuple[datetime, str]], now: datetime) -> timedelta:
    return sum((calendar.between(a, b) for a, b in running(steps, now)), ZERO)


@dataclass(frozen=True)
class Targets:
    response: timedelta
    resolve: timedelta
    warn_percent: int = 80


@dataclass
class Clock:
    """A ticket's SLA timers as shown on the ticket and used by the sweep."""

    response_target: timedelta
    response_used: timedelta
    response_met: bool
    resolve_target: timedelta
    resolve_used: timedelta
    running: bool
    paused: bool
    stopped: bool
    due_at: datetime | None
    state: str = field(default="ok")
    """ok | warning | breached | paused | met"""
    response_breached: bool = False

    @property
    def resolve_left(self) -> timedelta:
        return self.resolve_target - self.resolve_used


def clock(
    calendar: Calendar, targets: Targets, steps: Sequence[tuple[datetime, str]], now: datetime,
    first_response_at: datetime | None,
) -> Clock:  # fmt: skip
    created = steps[0][0]
    response_used = calendar.between(created, first_response_at or now)
    used = elapsed(calendar, steps, now)
    status = steps[-1][1]
    is_running, paused = status in RUNNING, status == "pending"
    stopped = not is_running and not paused
    left = targets.resolve - used
    due = calendar.add(now, left) if is_running and left > ZERO else (now if is_running else None)
    breached = used >= targets.resolve
    warning = used * 100 >= targets.resolve * targets.warn_percent
    state = "met" if stopped and not breached else "breached" if breached else "paused" if paused else (
        "warning" if warning else "ok")  # fmt: skip
    return Clock(
        response_target=targets.response, response_used=response_used, response_met=first_response_at is not None,  # noqa: E501
        resolve_target=targets.resolve, resolve_used=used, running=is_running, paused=paused, stopped=stopped,
        due_at=due, state=state, response_breached=response_used >= targets.response,
    )  # fmt: skip


OUTCOMES = ("met", "breached", "open_overdue", "open_in_time")
"""Where a ticket stands against its resolution target (docs/tickets.md, "达标率"):

- met: resolved (its clock stopped) within the target;
- breached: resolved, but after the target;
- open_overdue: still open and already past the target — it can no longer be met;
- open_in_time: still open (or paused) within the target — not decided yet.
"""


def outcome(clock: Clock) -> str:
    """One of OUTCOMES for a clock: the one classification both the rate and the bars use."""
    late = clock.resolve_used >= clock.resolve_target
    if clock.stopped:
        return "breached" if late else "met"
    return "open_overdue" if late else "open_in_time"


@dataclass
class Tally:
    """Tickets counted by outcome. The met rate (达标率) is met ÷ decided, where decided is every
    ticket whose outcome can no longer change (met, breached, open_overdue): an open ticket past
    its target counts against the rate at once, one still within its target counts for nothing
    yet. So the rate is always the green share of the bar's decided (green + red) part."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))

    def add(self, kind: str) -> None:
        self.counts[kind] += 1

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def decided(self) -> int:
        return self.counts["met"] + self.counts["breached"] + self.counts["open_overdue"]

    @property
    def rate(self) -> float | None:
        return self.counts["met"] / self.decided if self.decided else None
