"""China's calling rules for outbound work: may this number be called now, and if not, why and when.

Pure: no database, no I/O. The dialer and the agents' preview screen ask `decide(target, campaign,
history, now)` before every dial and get a `Decision` — allowed, a stable reason code, and the
earliest instant the number could be dialled if nothing else changes (so retries can be scheduled).

The rules (docs/outbound.md, "Calling rules (China)"):
- calling window in the callee's time zone (09:00–21:00 by default; marketing never outside it,
  service calls within 08:00–21:30), optional days of week, marketing off on China's public holidays;
- attempt caps per number per local day and ISO week (marketing counts every campaign's attempts);
- the do-not-call list (refusals keep a number out ≥ 6 months; opt-outs and imported entries until
  removed); service calls heed only the customer's opt-out of all calls;
- no redial within 72 h of an answered call the dialer abandoned;
- marketing needs evidence of consent (source and time).
"""

from __future__ import annotations

import calendar
import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as phone_timezones

from hotline.core.errors import FieldProblems, InvalidInput


class CampaignKind(StrEnum):
    MARKETING = "marketing"
    SERVICE = "service"
    """A return visit or survey about the customer's own stay or trip."""


class DncSource(StrEnum):
    OPT_OUT = "opt-out"
    """The customer asked not to be called (marketing, or with `all_calls` any call)."""
    REFUSAL = "refusal"
    """Refused on a call: out for at least `refusal_months` (≥ 6)."""
    IMPORTED = "imported"
    STAFF = "staff"


class Reason(StrEnum):
    """Why a number may not be dialled now; stable codes (screens label them in frontend/src/labels.ts)."""

    INVALID_NUMBER = "invalid-number"
    NO_CONSENT = "no-consent"
    DO_NOT_CALL = "do-not-call"
    ABANDONED_72H = "abandoned-72h"
    WEEKLY_CAP = "weekly-cap"
    DAILY_CAP = "daily-cap"
    HOLIDAY = "holiday"
    OUTSIDE_WINDOW = "outside-window"


CHINA_ZONE = "Asia/Shanghai"
DEFAULT_WINDOW = (time(9), time(21))
WINDOW_BOUNDS = {CampaignKind.MARKETING: (time(9), time(21)), CampaignKind.SERVICE: (time(8), time(21, 30))}
DEFAULT_CAPS = {CampaignKind.MARKETING: (2, 5), CampaignKind.SERVICE: (3, 8)}
"""(a day, a week) when a campaign sets none."""
MAX_CAPS = {CampaignKind.MARKETING: (2, 5), CampaignKind.SERVICE: (5, 15)}
"""Marketing may lower its caps, never raise them; service may go up to 5 a day, 15 a week."""
MIN_REFUSAL_MONTHS = 6
ABANDON_QUIET = timedelta(hours=72)
MAX_ZONE_SPREAD = timedelta(hours=3)
"""A number that may be in several zones is held to the window in all of them, unless they span
more than this (a toll-free number of all North America): then the campaign's zone decides."""
HORIZON = timedelta(days=3 * 366)
"""`next_allowed_at` looks this far ahead at most (a refusal of up to 36 months)."""
_REFERENCE_INSTANTS = (
    datetime.fromisoformat("2026-01-15T12:00Z"),
    datetime.fromisoformat("2026-07-15T12:00Z"),
)


# ---------------------------------------------------------------- numbers


@dataclass(frozen=True)
class NumberCheck:
    """A number as the rules see it: `e164` when valid, else `problem` (a stable code) and no number."""

    e164: str | None
    problem: str | None = None


NUMBER_PROBLEMS = ("number-empty", "number-too-long", "number-unparsable", "number-invalid")
_MAX_INPUT = 40


@functools.lru_cache(maxsize=65536)
def normalise(raw: str, region: str = "CN") -> NumberCheck:
    """The number in E.164 (`+8613912345678`), or why it is not one; never raises.

    Numbers without a country code are read in `region` (China by default): `139 1234 5678`,
    `010-8888 6666`, `+86 139…`, `0086…` all give the same E.164."""
    text = raw.strip()
    if not text:
        return NumberCheck(None, "number-empty")
    if len(text) > _MAX_INPUT:
        return NumberCheck(None, "number-too-long")
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return NumberCheck(None, "number-unparsable")
    if not phonenumbers.is_valid_number(parsed):
        return NumberCheck(None, "number-invalid")
    return NumberCheck(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


@functools.lru_cache(maxsize=65536)
def callee_zones(e164: str, campaign_zone: str = CHINA_ZONE) -> tuple[str, ...]:
    """The time zones the callee may be in: China's numbers Asia/Shanghai; others as phonenumbers
    knows them; the campaign's zone when unknown or when the candidates span too wide."""
    parsed = phonenumbers.parse(e164)
    if parsed.country_code == 86:
        return (CHINA_ZONE,)
    names = [n for n in phone_timezones.time_zones_for_number(parsed) if _known_zone(n)]
    if not names:
        return (campaign_zone,)
    offsets = [ZoneInfo(n).utcoffset(at) or timedelta(0) for n in names for at in _REFERENCE_INSTANTS]
    if max(offsets) - min(offsets) > MAX_ZONE_SPREAD:
        return (campaign_zone,)
    return tuple(sorted(names))


def _known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def is_china_public_holiday(day: date) -> bool:
    """A day off for one of China's public holidays (not an ordinary weekend, not a make-up workday).
    Outside the years the State Council has published, no day is one."""
    try:
        import chinese_calendar

        off, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return False
    return bool(off) and name is not None


# ---------------------------------------------------------------- what decide() is given


@dataclass(frozen=True)
class CampaignRules:
    """A campaign's calling rules; built once when the campaign is saved (raises `InvalidInput`
    naming the field when a rule is out of bounds)."""

    kind: CampaignKind
    campaign_id: str = ""
    window_start: time = DEFAULT_WINDOW[0]
    window_end: time = DEFAULT_WINDOW[1]
    days: frozenset[int] = frozenset(range(7))
    """Days of week it may call on, Monday 0 … Sunday 6, in the callee's zone."""
    holidays_off: bool | None = None
    """Off on China's public holidays; None: marketing off, service on."""
    daily_cap: int | None = None
    weekly_cap: int | None = None
    refusal_months: int = MIN_REFUSAL_MONTHS
    zone: str = CHINA_ZONE
    """The campaign's own zone: for numbers whose zone is unknown."""

    def __post_init__(self) -> None:
        problems = FieldProblems()  # every broken rule at once
        low, high = WINDOW_BOUNDS[self.kind]
        kind = self.kind.value
        for name, verb in (("window_start", "start calling"), ("window_end", "call")):
            if not low <= getattr(self, name) <= high:
                problems.add(
                    InvalidInput(
                        f"A {kind} campaign may not {verb} before {low:%H:%M} or after {high:%H:%M}",
                        field=name,
                        reason="campaign-window-outside",
                        params={"kind": kind, "earliest": f"{low:%H:%M}", "latest": f"{high:%H:%M}"},
                    )
                )
        if self.window_end <= self.window_start:
            problems.add(
                InvalidInput(
                    "The calling window ends before it starts",
                    field="window_end",
                    reason="campaign-window-reversed",
                )
            )
        if not self.days or not self.days <= frozenset(range(7)):
            problems.add(
                InvalidInput(
                    "Choose at least one day of the week (Monday 0 to Sunday 6)",
                    field="days",
                    reason="campaign-days-empty",
                )
            )
        most_a_day, most_a_week = MAX_CAPS[self.kind]
        for name, value, most in (
            ("daily_cap", self.daily_cap, most_a_day),
            ("weekly_cap", self.weekly_cap, most_a_week),
        ):
            if value is not None and not 1 <= value <= most:
                problems.add(
                    InvalidInput(
                        f"The attempt cap of a {kind} campaign must be between 1 and {most}",
                        field=name,
                        reason="campaign-cap-bounds",
                        params={"kind": kind, "most": most},
                    )
                )
        if self.caps[1] < self.caps[0]:
            problems.add(
                InvalidInput(
                    "The weekly cap is lower than the daily cap",
                    field="weekly_cap",
                    reason="campaign-caps-reversed",
                )
            )
        if not MIN_REFUSAL_MONTHS <= self.refusal_months <= 36:
            problems.add(
                InvalidInput(
                    f"A refusal keeps a number out for {MIN_REFUSAL_MONTHS} to 36 months",
                    field="refusal_months",
                    reason="campaign-refusal-months",
                    params={"least": MIN_REFUSAL_MONTHS, "most": 36},
                )
            )
        if not _known_zone(self.zone):
            problems.add(
                InvalidInput(
                    f"Unknown time zone {self.zone!r}",
                    field="zone",
                    reason="unknown-time-zone",
                    params={"name": repr(self.zone)},
                )
            )
        problems.raise_any()

    @property
    def caps(self) -> tuple[int, int]:
        """(attempts a day, attempts a week) per number."""
        day, week = DEFAULT_CAPS[self.kind]
        return (self.daily_cap or day, self.weekly_cap or week)

    @property
    def off_on_holidays(self) -> bool:
        return self.kind is CampaignKind.MARKETING if self.holidays_off is None else self.holidays_off


@dataclass(frozen=True)
class Consent:
    """Evidence that the person agreed to marketing calls: where it came from and when."""

    source: str
    at: datetime


@dataclass(frozen=True)
class Target:
    number: str
    """As stored or imported; normalised here (region below)."""
    consent: Consent | None = None
    region: str = "CN"


@dataclass(frozen=True)
class Attempt:
    """A dial of the number (any outcome), by a campaign."""

    number: str
    at: datetime
    campaign_id: str
    kind: CampaignKind
    abandoned: bool = False
    """Answered by the person, then dropped by the dialer with no agent free."""


@dataclass(frozen=True)
class DncEntry:
    """A do-not-call entry as recorded: the source and time are the evidence. Removing the entry
    (leaving it out of `History.dnc`) ends it."""

    number: str
    source: DncSource
    at: datetime
    until: datetime | None = None
    """An explicit end; a refusal lasts at least the campaign's `refusal_months` anyway."""
    all_calls: bool = False
    """An opt-out of every call, service calls included."""


@dataclass(frozen=True)
class History:
    attempts: Sequence[Attempt] = ()
    dnc: Sequence[DncEntry] = ()


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: Reason | None = None
    next_allowed_at: datetime | None = None
    number: str | None = None
    """The E.164 the rules were applied to."""
    zones: tuple[str, ...] = field(default=())


# ---------------------------------------------------------------- the decision


def decide(target: Target, campaign: CampaignRules, history: History, now: datetime) -> Decision:
    """May `target` be dialled by `campaign` at `now`? If not, why, and the earliest instant ≥ now
    it may be if nothing else changes (None when no time will do: no consent, an opt-out)."""
    if now.tzinfo is None:
        raise ValueError("decide() needs an aware datetime")
    checked = normalise(target.number, target.region)
    if checked.e164 is None:
        return Decision(False, Reason.INVALID_NUMBER)
    rules = _Rules(checked.e164, target, campaign, history)
    at = now
    first: Reason | None = None
    while at - now <= HORIZON:
        blockers = rules.blockers(at)
        if not blockers:
            return Decision(first is None, first, None if first is None else at, checked.e164, rules.zones)
        first = first or blockers[0][0]
        lifts = [lift for _, lift in blockers]
        if any(lift is None for lift in lifts):
            break
        at = max(lift for lift in lifts if lift is not None)
    return Decision(False, first, None, checked.e164, rules.zones)


class _Rules:
    """One number's facts against one campaign, asked at successive instants."""

    def __init__(self, e164: str, target: Target, campaign: CampaignRules, history: History) -> None:
        self.campaign = campaign
        self.marketing = campaign.kind is CampaignKind.MARKETING
        self.zones = callee_zones(e164, campaign.zone)
        self.china = e164.startswith("+86")
        self.consent = target.consent
        same = [a for a in history.attempts if normalise(a.number, target.region).e164 == e164]
        self.counted = sorted(a.at for a in same if self.marketing or a.campaign_id == campaign.campaign_id)
        self.abandons = sorted(a.at for a in same if a.abandoned)
        self.dnc = [
            d for d in history.dnc if normalise(d.number, target.region).e164 == e164 and self._heeded(d)
        ]

    def _heeded(self, entry: DncEntry) -> bool:
        if self.marketing:
            return True
        return entry.source is DncSource.OPT_OUT and entry.all_calls

    def blockers(self, at: datetime) -> list[tuple[Reason, datetime | None]]:
        """What stops a dial at `at`, most lasting first, each with the earliest instant it could
        lift (a lower bound on the next allowed instant; None: no time lifts it)."""
        found: list[tuple[Reason, datetime | None]] = []
        if self.marketing and (self.consent is None or not self.consent.source.strip()):
            found.append((Reason.NO_CONSENT, None))
        elif self.marketing and self.consent is not None and self.consent.at > at:
            found.append((Reason.NO_CONSENT, self.consent.at))
        ends = [self._dnc_end(d) for d in self.dnc if d.at <= at]
        if any(end is None for end in ends):
            found.append((Reason.DO_NOT_CALL, None))
        elif any(end is not None and end > at for end in ends):
            found.append((Reason.DO_NOT_CALL, max(end for end in ends if end is not None and end > at)))
        quiet = [a + ABANDON_QUIET for a in self.abandons if a <= at < a + ABANDON_QUIET]
        if quiet:
            found.append((Reason.ABANDONED_72H, max(quiet)))
        found.extend(self._caps(at))
        found.extend(self._calendar(at))
        return found

    def _dnc_end(self, entry: DncEntry) -> datetime | None:
        if entry.source is DncSource.REFUSAL:
            least = add_months(entry.at, self.campaign.refusal_months)
            return least if entry.until is None else max(least, entry.until)
        return entry.until

    def _caps(self, at: datetime) -> list[tuple[Reason, datetime | None]]:
        """Counted per local day and ISO week in each zone the callee may be in (all must be under)."""
        per_day, per_week = self.campaign.caps
        week_ends: list[datetime] = []
        day_ends: list[datetime] = []
        for name in self.zones:
            zone = ZoneInfo(name)
            local = at.astimezone(zone)
            day_start = datetime.combine(local.date(), time(0), zone)
            week_start = day_start - timedelta(days=local.weekday())
            week = [a for a in self.counted if week_start <= a <= at]
            if len(week) >= per_week:
                week_ends.append(_local_midnight(week_start.date() + timedelta(days=7), zone))
            elif sum(1 for a in week if a >= day_start) >= per_day:
                day_ends.append(_local_midnight(local.date() + timedelta(days=1), zone))
        found: list[tuple[Reason, datetime | None]] = []
        if week_ends:
            found.append((Reason.WEEKLY_CAP, max(week_ends)))
        if day_ends:
            found.append((Reason.DAILY_CAP, max(day_ends)))
        return found

    def _calendar(self, at: datetime) -> list[tuple[Reason, datetime | None]]:
        reason = self._closed(at)
        if reason is None:
            return []
        return [(reason, self._next_open(at))]

    def _closed(self, at: datetime) -> Reason | None:
        """Why the calendar is shut at `at` in some zone the callee may be in (None: open in all)."""
        campaign = self.campaign
        outside = False
        for name in self.zones:
            local = at.astimezone(ZoneInfo(name))
            if self.china and campaign.off_on_holidays and is_china_public_holiday(local.date()):
                return Reason.HOLIDAY
            clock = local.time().replace(tzinfo=None)
            if (
                local.weekday() not in campaign.days
                or not campaign.window_start <= clock < campaign.window_end
            ):
                outside = True
        return Reason.OUTSIDE_WINDOW if outside else None

    def _next_open(self, after: datetime) -> datetime | None:
        """The earliest instant > `after` the calendar is open in every zone: one zone's window
        opening (the intersection of windows opens when its last window does)."""
        starts: list[datetime] = []
        for name in self.zones:
            zone = ZoneInfo(name)
            first = after.astimezone(zone).date()
            for offset in range(60):
                opening = datetime.combine(first + timedelta(days=offset), self.campaign.window_start, zone)
                if opening > after:
                    starts.append(opening)
        for opening in sorted(set(starts)):
            if self._closed(opening) is None:
                return opening
        return None


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), zone)


def add_months(at: datetime, months: int) -> datetime:
    """The same wall-clock time `months` calendar months later (the month's last day when shorter)."""
    index = at.year * 12 + at.month - 1 + months
    year, month = divmod(index, 12)
    day = min(at.day, calendar.monthrange(year, month + 1)[1])
    return at.replace(year=year, month=month + 1, day=day)
