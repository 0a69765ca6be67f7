"""China's calling rules (src/hotline/outbound/rules.py): whatever the attempts, times, zones and
do-not-call entries, a dial `decide` allows breaks no rule, and `next_allowed_at` is the first
instant it would allow. The oracle below re-checks each rule in the plainest way, apart from decide."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotline.core.errors import InvalidInput
from hotline.outbound.rules import (
    Attempt,
    CampaignKind,
    CampaignRules,
    Consent,
    DncEntry,
    DncSource,
    History,
    Reason,
    Target,
    callee_zones,
    decide,
    normalise,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
MOBILE = "139 1234 5678"
SIGNED_UP = Consent("官网注册勾选同意", datetime(2025, 1, 1, tzinfo=SHANGHAI))
MARKETING = CampaignRules(CampaignKind.MARKETING, "spring-sale")
RETURN_VISIT = CampaignRules(CampaignKind.SERVICE, "return-visit")

# Several spellings of the same numbers, so that history written one way matches a target written another.
NUMBERS = [
    "13912345678",
    "+86 139 1234 5678",
    "0086-139-1234-5678",
    "010-8888 6666",
    "+1 212 555 0123",
    "+1 (650) 253-0000",
    "+44 20 7123 4567",
    "+61 2 9374 4000",
    "+1 800 555 0123",
    "+7 495 123 4567",
]


def at(day: str, clock: str, zone: ZoneInfo = SHANGHAI) -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=zone)


# ---------------------------------------------------------------- readable examples


def test_a_shanghai_mobile_may_be_called_at_20_59_but_not_at_21_00() -> None:
    target = Target(MOBILE, SIGNED_UP)
    assert decide(target, MARKETING, History(), at("2026-12-03", "20:59")).allowed
    late = decide(target, MARKETING, History(), at("2026-12-03", "21:00"))
    assert (late.allowed, late.reason) == (False, Reason.OUTSIDE_WINDOW)
    assert late.next_allowed_at == at("2026-12-04", "09:00")


def test_a_us_number_is_called_at_its_own_10_00_not_shanghai_s() -> None:
    target = Target("+1 212 555 0123", SIGNED_UP)
    ten_in_new_york = at("2026-12-03", "10:00", NEW_YORK)  # 23:00 in Shanghai
    decision = decide(target, MARKETING, History(), ten_in_new_york)
    assert decision.allowed and decision.zones == ("America/New_York",)
    early = decide(target, MARKETING, History(), at("2026-12-03", "08:59", NEW_YORK))
    assert early.reason is Reason.OUTSIDE_WINDOW and early.next_allowed_at == at(
        "2026-12-03", "09:00", NEW_YORK
    )


def test_a_refusal_keeps_the_number_out_of_marketing_for_six_months_and_not_out_of_return_visits() -> None:
    refused = DncEntry("+8613912345678", DncSource.REFUSAL, at("2026-01-15", "10:00"))
    history = History(dnc=[refused])
    target = Target(MOBILE, SIGNED_UP)
    before = decide(target, MARKETING, history, at("2026-07-15", "09:59"))
    assert (before.reason, before.next_allowed_at) == (Reason.DO_NOT_CALL, at("2026-07-15", "10:00"))
    assert decide(target, MARKETING, history, at("2026-07-15", "10:00")).allowed
    assert decide(target, RETURN_VISIT, history, at("2026-03-01", "10:00")).allowed


def test_an_opt_out_of_all_calls_stops_return_visits_too_and_never_ends_by_itself() -> None:
    opted_out = DncEntry(MOBILE, DncSource.OPT_OUT, at("2026-01-15", "10:00"), all_calls=True)
    decision = decide(Target(MOBILE), RETURN_VISIT, History(dnc=[opted_out]), at("2026-12-03", "10:00"))
    assert (decision.allowed, decision.reason, decision.next_allowed_at) == (False, Reason.DO_NOT_CALL, None)


def test_marketing_without_evidence_of_consent_is_never_dialled() -> None:
    decision = decide(Target(MOBILE), MARKETING, History(), at("2026-12-03", "10:00"))
    assert (decision.reason, decision.next_allowed_at) == (Reason.NO_CONSENT, None)
    assert decide(Target(MOBILE), RETURN_VISIT, History(), at("2026-12-03", "10:00")).allowed


def test_two_marketing_attempts_of_any_campaigns_today_wait_for_tomorrow_morning() -> None:
    tries = [
        Attempt(MOBILE, at("2026-12-03", "09:30"), "winter-sale", CampaignKind.MARKETING),
        Attempt("+8613912345678", at("2026-12-03", "11:00"), "spring-sale", CampaignKind.MARKETING),
    ]
    decision = decide(Target(MOBILE, SIGNED_UP), MARKETING, History(tries), at("2026-12-03", "15:00"))
    assert (decision.reason, decision.next_allowed_at) == (Reason.DAILY_CAP, at("2026-12-04", "09:00"))
    # A return visit counts only its own attempts.
    assert decide(Target(MOBILE), RETURN_VISIT, History(tries), at("2026-12-03", "15:00")).allowed


def test_five_marketing_attempts_this_week_wait_for_monday_and_four_do_not() -> None:
    days = ["2026-11-30", "2026-11-30", "2026-12-01", "2026-12-02", "2026-12-02"]  # Monday to Wednesday
    tries = [Attempt(MOBILE, at(day, "10:00"), "spring-sale", CampaignKind.MARKETING) for day in days]
    thursday = at("2026-12-03", "10:00")
    decision = decide(Target(MOBILE, SIGNED_UP), MARKETING, History(tries), thursday)
    assert (decision.reason, decision.next_allowed_at) == (Reason.WEEKLY_CAP, at("2026-12-07", "09:00"))
    assert decide(Target(MOBILE, SIGNED_UP), MARKETING, History(tries[1:]), thursday).allowed


def test_an_imported_entry_lasts_until_its_end_and_a_refusal_until_the_later_of_its_end_and_six_months() -> (
    None
):
    listed = DncEntry(MOBILE, DncSource.IMPORTED, at("2026-01-01", "00:00"), until=at("2026-12-03", "12:00"))
    target = Target(MOBILE, SIGNED_UP)
    decision = decide(target, MARKETING, History(dnc=[listed]), at("2026-12-03", "10:00"))
    assert (decision.reason, decision.next_allowed_at) == (Reason.DO_NOT_CALL, at("2026-12-03", "12:00"))
    refused = DncEntry(MOBILE, DncSource.REFUSAL, at("2026-01-15", "10:00"), until=at("2026-09-01", "10:00"))
    assert (
        decide(target, MARKETING, History(dnc=[refused]), at("2026-08-31", "10:00")).reason
        is Reason.DO_NOT_CALL
    )
    assert decide(target, MARKETING, History(dnc=[refused]), at("2026-09-01", "10:00")).allowed


def test_no_redial_within_72_hours_of_an_abandoned_answer() -> None:
    dropped = Attempt(
        MOBILE, at("2026-12-01", "10:00"), "spring-sale", CampaignKind.MARKETING, abandoned=True
    )
    decision = decide(Target(MOBILE, SIGNED_UP), MARKETING, History([dropped]), at("2026-12-03", "10:00"))
    assert (decision.reason, decision.next_allowed_at) == (Reason.ABANDONED_72H, at("2026-12-04", "10:00"))
    assert (
        decide(Target(MOBILE, SIGNED_UP), MARKETING, History([dropped]), dropped.at).reason
        is Reason.ABANDONED_72H
    )


def test_marketing_rests_on_national_day_and_return_visits_do_not() -> None:
    decision = decide(Target(MOBILE, SIGNED_UP), MARKETING, History(), at("2026-10-01", "10:00"))
    assert (decision.reason, decision.next_allowed_at) == (Reason.HOLIDAY, at("2026-10-08", "09:00"))
    assert decide(Target(MOBILE), RETURN_VISIT, History(), at("2026-10-01", "10:00")).allowed


def test_a_marketing_window_wider_than_nine_to_nine_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidInput) as late:
        CampaignRules(CampaignKind.MARKETING, window_end=time(21, 30))
    assert (late.value.field, late.value.reason) == ("window_end", "campaign-window-outside")
    with pytest.raises(InvalidInput) as early:
        CampaignRules(CampaignKind.MARKETING, window_start=time(8, 30))
    assert early.value.field == "window_start"
    assert CampaignRules(CampaignKind.SERVICE, window_start=time(8), window_end=time(21, 30)).kind
    with pytest.raises(InvalidInput) as caps:
        CampaignRules(CampaignKind.MARKETING, daily_cap=3)
    assert caps.value.field == "daily_cap"
    with pytest.raises(InvalidInput) as months:
        CampaignRules(CampaignKind.MARKETING, refusal_months=5)
    assert months.value.field == "refusal_months"


def test_numbers_are_normalised_to_e164_or_say_why_not() -> None:
    assert normalise("0086 139-1234-5678").e164 == "+8613912345678"
    assert normalise("010 8888 6666").e164 == "+861088886666"
    assert normalise("  ").problem == "number-empty"
    assert normalise("call me").problem == "number-unparsable"
    assert normalise("139123").problem == "number-invalid"
    decision = decide(Target("139123"), RETURN_VISIT, History(), at("2026-12-03", "10:00"))
    assert (decision.reason, decision.next_allowed_at) == (Reason.INVALID_NUMBER, None)


# ---------------------------------------------------------------- properties

anywhen = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)
)
daytime_in_shanghai = st.builds(
    lambda day, minute: datetime.combine(day, time(7), SHANGHAI) + timedelta(minutes=minute),
    st.dates(date(2025, 1, 1), date(2026, 12, 31)),
    st.integers(0, 16 * 60),
)
moments = st.one_of(anywhen, daytime_in_shanghai, daytime_in_shanghai).map(
    lambda d: d.replace(second=0, microsecond=0).astimezone(UTC)
)


@st.composite
def campaigns(draw: st.DrawFn) -> CampaignRules:
    kind = draw(st.sampled_from(CampaignKind))
    low, high = (time(9), time(21)) if kind is CampaignKind.MARKETING else (time(8), time(21, 30))
    within = [time(n // 2, 30 * (n % 2)) for n in range(48) if low <= time(n // 2, 30 * (n % 2)) <= high]
    start = draw(st.just(time(9)) | st.sampled_from(within[:-1]))
    end = draw(st.just(high) | st.sampled_from([t for t in within if t > start]))
    most_day, most_week = (2, 5) if kind is CampaignKind.MARKETING else (5, 15)
    daily = draw(st.none() | st.integers(1, most_day))
    weekly = draw(st.none() | st.integers(daily or (2 if kind is CampaignKind.MARKETING else 3), most_week))
    return CampaignRules(
        kind,
        draw(st.sampled_from(["spring-sale", "return-visit"])),
        window_start=start,
        window_end=end,
        days=draw(st.just(frozenset(range(7))) | st.frozensets(st.integers(0, 6), min_size=1)),
        holidays_off=draw(st.none() | st.booleans()),
        daily_cap=daily,
        weekly_cap=weekly,
        refusal_months=draw(st.integers(6, 12)),
    )


@st.composite
def situations(draw: st.DrawFn) -> tuple[Target, CampaignRules, History, datetime]:
    now = draw(moments)
    number = draw(st.sampled_from([*NUMBERS[:4] * 3, *NUMBERS, "12345"]))
    nearby = st.sampled_from([number] * 8 + NUMBERS)  # history mostly about the target
    minutes = (st.integers(0, 3 * 24 * 60) | st.integers(0, 14 * 24 * 60)).map(
        lambda m: now - timedelta(minutes=m)
    )
    attempts = draw(
        st.lists(
            st.builds(
                Attempt,
                number=nearby,
                at=minutes,
                campaign_id=st.sampled_from(["spring-sale", "winter-sale", "return-visit"]),
                kind=st.sampled_from(CampaignKind),
                abandoned=st.sampled_from([False] * 12 + [True]),
            ),
            max_size=10,
        )
    )
    since = st.integers(-400 * 24 * 60, 24 * 60).map(lambda m: now - timedelta(minutes=m))
    dnc = draw(
        st.lists(
            st.builds(
                DncEntry,
                number=nearby,
                source=st.sampled_from(DncSource),
                at=since,
                until=st.none() | since,
                all_calls=st.booleans(),
            ),
            max_size=2,
        )
    )
    consent = draw(
        st.sampled_from([True] * 4 + [False]).flatmap(
            lambda likely: (
                st.builds(Consent, source=st.just("网站"), at=since.map(lambda t: min(t, now)))
                if likely
                else st.none() | st.builds(Consent, source=st.sampled_from(["", "门店"]), at=since)
            )
        )
    )
    target = Target(number, consent)
    return target, draw(campaigns()), History(attempts, dnc), now


def breaks_a_rule(target: Target, campaign: CampaignRules, history: History, now: datetime) -> str | None:
    """The oracle: which rule a dial at `now` would break, checked plainly; None when none."""
    number = normalise(target.number).e164
    if number is None:
        return "invalid number"
    marketing = campaign.kind is CampaignKind.MARKETING
    if marketing and (target.consent is None or not target.consent.source or target.consent.at > now):
        return "no consent"
    for zone in map(ZoneInfo, callee_zones(number, campaign.zone)):
        local = now.astimezone(zone)
        if not campaign.window_start <= local.time().replace(tzinfo=None) < campaign.window_end:
            return "outside the window"
        if local.weekday() not in campaign.days:
            return "not a calling day"
        if number.startswith("+86") and campaign.off_on_holidays and public_holiday(local.date()):
            return "a public holiday"
        mine = [
            a.at.astimezone(zone)
            for a in history.attempts
            if normalise(a.number).e164 == number
            and a.at <= now
            and (marketing or a.campaign_id == campaign.campaign_id)
        ]
        per_day, per_week = campaign.caps
        if sum(1 for a in mine if a.date() == local.date()) >= per_day:
            return "over the daily cap"
        if sum(1 for a in mine if a.isocalendar()[:2] == local.isocalendar()[:2]) >= per_week:
            return "over the weekly cap"
    for a in history.attempts:
        if (
            normalise(a.number).e164 == number
            and a.abandoned
            and timedelta(0) <= now - a.at < timedelta(hours=72)
        ):
            return "within 72 h of an abandon"
    for entry in history.dnc:
        if normalise(entry.number).e164 != number or entry.at > now:
            continue
        still_listed = entry.until is None or entry.until > now
        out_for = relativedelta(months=campaign.refusal_months)
        kept_longer = entry.until is not None and entry.until > now
        refused_lately = entry.source is DncSource.REFUSAL and (now < entry.at + out_for or kept_longer)
        if marketing and (refused_lately or (entry.source is not DncSource.REFUSAL and still_listed)):
            return "on the do-not-call list"
        if entry.source is DncSource.OPT_OUT and entry.all_calls and still_listed:
            return "opted out of all calls"
    return None


def public_holiday(day: date) -> bool:
    try:
        off, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return False
    return bool(off and name)


FAST = settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(situations())
def test_a_dial_is_allowed_exactly_when_it_breaks_no_rule(
    situation: tuple[Target, CampaignRules, History, datetime],
) -> None:
    decision = decide(*situation)
    assert decision.allowed == (
        breaks_a_rule(*situation) is None
    )  # nothing allowed that breaks a rule, nor refused that breaks none
    if decision.allowed:
        assert decision.reason is None and decision.next_allowed_at is None
    else:
        assert decision.reason is not None


@FAST
@given(situations(), st.lists(st.floats(0, 1), min_size=5, max_size=20))
def test_next_allowed_at_is_allowed_and_nothing_earlier_is(
    situation: tuple[Target, CampaignRules, History, datetime], fractions: list[float]
) -> None:
    target, campaign, history, now = situation
    decision = decide(target, campaign, history, now)
    if decision.allowed or decision.next_allowed_at is None:
        return
    first = decision.next_allowed_at
    assert first > now
    assert decide(target, campaign, history, first).allowed
    assert breaks_a_rule(target, campaign, history, first) is None
    gap = first - now
    earlier = {now, first - timedelta(seconds=1), *(now + gap * f for f in fractions)}
    steps = min(48, int(gap / timedelta(minutes=15)))
    earlier |= {now + gap * (i / (steps + 1)) for i in range(1, steps + 1)}
    for instant in sorted(t for t in earlier if now <= t < first):
        assert not decide(target, campaign, history, instant).allowed, instant


@settings(max_examples=300)
@given(
    st.one_of(
        st.text(max_size=30),
        st.from_regex(r"[+0]?[0-9 ()\-]{3,20}", fullmatch=True),
        st.sampled_from(NUMBERS),
    )
)
def test_normalising_is_idempotent_and_never_raises(raw: str) -> None:
    once = normalise(raw)
    assert (once.e164 is None) != (once.problem is None)
    if once.e164 is not None:
        assert normalise(once.e164) == once
        assert once.e164.startswith("+") and once.e164[1:].isdigit()
