"""The dialer's pacing policies (hotline.outbound.pacer): the hard abandon cap in both windows,
progressive and preview, the 72-hour no-redial rule, and a short run of benchmarks/dialer.py.

What the cap guarantees, precisely: whenever an answered call is abandoned at time t, in each
window (the last 24 h and the last 30 days, here shortened to minutes so that they roll within a
test) abandons <= cap x live answers, counting the abandon itself as both. This holds whatever the
answers, ring times and handle times are (the adversary below picks them), as long as idle agents
stay ready for the calls and the dialer hangs up calls not answered within `max_ring`. With fewer
than 33 live answers in a window (3 % cap) no abandon fits at all: the pacer dials progressively.
"""

from __future__ import annotations

import heapq
import importlib.util
import random
import sys
from fractions import Fraction
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.outbound.pacer import (
    DAY,
    MONTH,
    REDIAL_BLOCK,
    AbandonWindows,
    PacerSettings,
    PredictivePolicy,
    PreviewPolicy,
    ProgressivePolicy,
    Snapshot,
)

CAP = Fraction(3, 100)


def within_cap(windows: AbandonWindows, now: float) -> bool:
    for window in windows.windows:
        answers, abandons = windows.counts(now, window)
        if abandons * CAP.denominator > CAP.numerator * answers:
            return False
    return True


@given(
    events=st.lists(st.tuples(st.floats(0, 5_000), st.booleans()), max_size=300),
    probe=st.floats(0, 6_000),
)
def test_headroom_is_exactly_the_abandons_every_window_can_absorb(
    events: list[tuple[float, bool]], probe: float
) -> None:
    windows = AbandonWindows(windows=(600.0, 3_000.0))
    for at, abandoned in sorted(events):
        (windows.record_abandon if abandoned else windows.record_answer)(at)
    now = max([probe] + [at for at, _ in events])
    k = windows.headroom(now)
    if k < 0:
        assert not within_cap(windows, now)  # already over the cap in a window
        return
    for _ in range(k):
        windows.record_abandon(now)
    assert within_cap(windows, now)
    windows.record_abandon(now)
    assert not within_cap(windows, now)


def run_adversary(rng: random.Random, agents: int, seconds: float) -> tuple[int, int]:
    """A campaign whose answers, ring times and handle times an adversary picks (not the pacer's
    model), with an aggressive pacer whose only brake is the hard cap; checks the cap at each
    abandon. Returns (answers, abandons)."""
    windows = AbandonWindows(windows=(600.0, 1_800.0))
    pacer = PredictivePolicy(windows, PacerSettings(marginal_risk=0.5, target_rate=0.5, near_cap=100.0))
    max_ring, grace = pacer.s.max_ring, pacer.s.grace
    idle, busy, ringing, waiting = agents, {}, {}, {}
    events: list[tuple[float, int, int]] = [(0.0, 0, 0)]
    ids = answers = abandons = 0
    while events:
        now, kind, ref = heapq.heappop(events)
        if now > seconds:
            break
        if kind == 0:  # the dialer's tick
            snap = Snapshot(
                now,
                idle,
                [now - s for s in busy.values()],
                [now - s for s in ringing.values()],
                len(waiting),
            )
            for _ in range(pacer.dial_count(snap)):
                ids += 1
                ringing[ids] = now
                ring = rng.uniform(0.5, max_ring)
                kind_end = 1 if rng.random() < rng.choice((0.1, 0.5, 0.9)) else 2
                heapq.heappush(events, (now + ring, kind_end, ids))
            heapq.heappush(events, (now + rng.choice((0.5, 1.0, 3.0)), 0, 0))
        elif kind in (1, 2):  # answered / given up
            pacer.observe_dial(now - ringing.pop(ref), answered=kind == 1)
            if kind == 1:
                waiting[ref] = now
                heapq.heappush(events, (now + grace, 3, ref))
        elif kind == 3 and waiting.pop(ref, None) is not None:  # the grace ran out
            pacer.observe_abandon(now, f"+86138{ref:08d}")
            abandons += 1
            answers += 1
            assert within_cap(windows, now), (now, windows.counts(now, 600.0))
        elif kind == 4:  # an agent is free
            pacer.observe_handle(now - busy.pop(ref))
            idle += 1
        while idle and waiting:  # free agents take the waiting calls, oldest first
            call = next(iter(waiting))
            del waiting[call]
            idle -= 1
            ids += 1
            busy[ids] = now
            heapq.heappush(events, (now + rng.choice((2.0, 10.0, 60.0, 300.0)) * rng.random(), 4, ids))
            pacer.observe_answer(now)
            answers += 1
    return answers, abandons


@settings(max_examples=20)
@given(seed=st.integers(0, 2**32), agents=st.integers(1, 40))
def test_given_any_answers_and_handle_times_then_no_abandon_breaks_the_cap_in_either_window(
    seed: int, agents: int
) -> None:
    run_adversary(random.Random(seed), agents, seconds=2_400.0)


def test_given_an_aggressive_pacer_then_the_cap_is_reached_but_never_crossed() -> None:
    answers, abandons = run_adversary(random.Random(4), 30, seconds=3_600.0)
    assert abandons >= 5  # the adversary does make the pacer abandon calls
    assert abandons / answers <= 0.03


snapshots = st.builds(
    Snapshot,
    now=st.floats(0, 10 * DAY),
    idle_agents=st.integers(0, 50),
    busy_elapsed=st.lists(st.floats(0, 4_000), max_size=50),
    ringing_elapsed=st.lists(st.floats(0, 30), max_size=80),
    waiting=st.integers(0, 10),
)


@given(snap=snapshots)
def test_progressive_never_dials_more_than_the_idle_agents_left_without_a_call(snap: Snapshot) -> None:
    n = ProgressivePolicy().dial_count(snap)
    assert 0 <= n <= snap.idle_agents
    assert n + len(snap.ringing_elapsed) + snap.waiting <= max(
        snap.idle_agents, len(snap.ringing_elapsed) + snap.waiting
    )


@given(snap=snapshots, answers=st.integers(0, 3_000), abandons=st.integers(0, 200))
def test_predictive_never_puts_more_calls_at_risk_than_the_windows_absorb(
    snap: Snapshot, answers: int, abandons: int
) -> None:
    windows = AbandonWindows()
    history = [(snap.now - i * 10.0, False) for i in range(answers)]
    history += [(snap.now - i * 100.0 - 5.0, True) for i in range(abandons)]
    for at, abandoned in sorted(history):
        (windows.record_abandon if abandoned else windows.record_answer)(at)
    pacer = PredictivePolicy(windows)
    n = pacer.dial_count(snap)
    at_risk = len(snap.ringing_elapsed) + snap.waiting + n - snap.idle_agents
    headroom = max(0, windows.headroom(snap.now, pacer.s.max_ring + pacer.s.grace))
    assert n == ProgressivePolicy().dial_count(snap) or at_risk <= headroom
    if pacer.near_cap(snap.now):
        assert n <= snap.idle_agents


def test_preview_dials_only_on_the_agents_clicks() -> None:
    preview = PreviewPolicy()
    snap = Snapshot(now=0.0, idle_agents=3)
    assert preview.dial_count(snap) == 0
    preview.click()
    preview.click()
    assert preview.dial_count(snap) == 2
    assert preview.dial_count(snap) == 0


@given(
    abandoned_at=st.floats(0, 10 * DAY),
    later=st.floats(0, 5 * DAY),
    others=st.lists(st.text("0123456789", min_size=5, max_size=11), max_size=5),
)
def test_an_abandoned_number_is_not_redialled_within_72_hours(
    abandoned_at: float, later: float, others: list[str]
) -> None:
    windows = AbandonWindows()
    windows.record_abandon(abandoned_at, "+8613800000000")
    now = abandoned_at + later
    assert windows.abandoned_recently("+8613800000000", now) is (later < REDIAL_BLOCK)
    assert not any(windows.abandoned_recently(n, now) for n in others if n != "+8613800000000")


def test_the_windows_are_24_hours_and_30_days_at_3_percent_by_default() -> None:
    windows = AbandonWindows()
    assert windows.windows == (DAY, MONTH) and windows.cap == CAP
    for i in range(100):
        windows.record_answer(float(i))
    assert windows.headroom(100.0) == 3  # 3 abandons of 103 answers <= 3 %, 4 of 104 is not
    windows.record_abandon(DAY + 50.0)  # a day later the first 50 answers have left the 24 h window
    assert windows.counts(DAY + 50.0, DAY) == (50, 1)
    assert windows.counts(DAY + 50.0, MONTH) == (101, 1)


def load_benchmark():  # type: ignore[no-untyped-def]
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "dialer.py"
    spec = importlib.util.spec_from_file_location("dialer_benchmark", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["dialer_benchmark"] = module
    spec.loader.exec_module(module)
    return module


def test_given_a_short_simulated_campaign_then_agents_talk_and_abandons_stay_under_3_percent() -> None:
    bench = load_benchmark()
    world = bench.World(agents=40, hours=2.0)
    result = bench.simulate(world, "hotline", seed=3)
    assert result.answered > 1_000
    assert result.rate() <= 0.03 and result.worst_rolling <= 0.03
    assert result.talk_per_agent_hour(world) >= 45.0
