"""The monthly assessment's arithmetic (reports/scoring.py) as rules: weights summing to 100 give
a total within 0–100, a better figure never lowers a score, a component without data gives its
weight to the others."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from hotline.reports.scoring import COMPONENTS, Raw, Targets, blended, ranks, rescaled, scores, total, volume

TARGETS = Targets(calls=800, aht_seconds=300, quality=90.0, satisfaction=4.5, hours_per_workday=7.5)


@st.composite
def weights(draw: st.DrawFn) -> dict[str, int]:
    cuts = sorted(draw(st.lists(st.integers(0, 100), min_size=4, max_size=4)))
    bounds = [0, *cuts, 100]
    return {c: bounds[i + 1] - bounds[i] for i, c in enumerate(COMPONENTS)}


raws = st.builds(
    Raw,
    calls=st.integers(0, 5000),
    aht=st.none() | st.floats(0, 3600),
    quality=st.none() | st.floats(0, 100),
    satisfaction=st.none() | st.floats(1, 5),
    hours=st.floats(0, 400),
)
month = st.integers(1, 23).flatmap(lambda days: st.tuples(st.just(days), st.integers(0, days)))


@given(raws, weights(), month)
def test_weights_summing_to_100_give_a_total_within_0_and_100(
    raw: Raw, w: dict[str, int], days: tuple[int, int]
) -> None:
    assert sum(w.values()) == 100
    found = total(scores(raw, TARGETS, workdays=days[0], passed=days[1]), w)
    assert found is None or 0 <= found <= 100
    for score in scores(raw, TARGETS, workdays=days[0], passed=days[1]).values():
        assert score is None or 0 <= score <= 100


@given(
    raws,
    weights(),
    st.integers(0, 500),
    st.floats(0, 600),
    st.floats(0, 20),
    st.floats(0, 2),
    st.floats(0, 50),
)
def test_a_better_figure_never_lowers_the_total(
    raw: Raw, w: dict[str, int], calls: int, faster: float, qa: float, survey: float, hours: float
) -> None:
    better = replace(
        raw,
        calls=raw.calls + calls,
        aht=None if raw.aht is None else max(0.0, raw.aht - faster),
        quality=None if raw.quality is None else min(100.0, raw.quality + qa),
        satisfaction=None if raw.satisfaction is None else min(5.0, raw.satisfaction + survey),
        hours=raw.hours + hours,
    )
    before = scores(raw, TARGETS, workdays=21, passed=21)
    after = scores(better, TARGETS, workdays=21, passed=21)
    for c in COMPONENTS:
        assert (before[c] is None) == (after[c] is None)
        assert before[c] is None or (after[c] is not None and after[c] >= before[c])
    a, b = total(before, w), total(after, w)
    assert a is None or (b is not None and b >= a - 1e-9)


@given(raws, weights())
def test_a_component_without_data_gives_its_weight_to_the_others(raw: Raw, w: dict[str, int]) -> None:
    found = scores(raw, TARGETS, workdays=21, passed=21)
    present = {c: s for c, s in found.items() if s is not None}
    weight = sum(w[c] for c in present)
    expected = None if weight == 0 else sum(w[c] * s for c, s in present.items()) / weight
    got = total(found, w)
    assert (got is None) == (expected is None)
    assert got is None or (expected is not None and abs(got - expected) < 0.01)
    assert rescaled(found, w) == any(w[c] > 0 and found[c] is None for c in COMPONENTS)


def test_given_the_targets_met_when_scored_then_every_component_scores_100() -> None:
    raw = Raw(calls=800, aht=280, quality=95, satisfaction=4.5, hours=7.5 * 21)
    found = scores(raw, TARGETS, workdays=21, passed=21)
    assert found == dict.fromkeys(COMPONENTS, 100.0)
    # half the month gone: half the calls and hours are the target
    half = scores(replace(raw, calls=400, hours=7.5 * 10), TARGETS, workdays=20, passed=10)
    assert half["volume"] == 100.0 and half["attendance"] == 100.0
    slow = scores(replace(raw, aht=600), TARGETS, workdays=21, passed=21)
    assert slow["handle_time"] == 50.0


def test_ties_share_a_rank_and_no_total_has_none() -> None:
    assert ranks([80.0, 95.5, 80.0, None, 60.0]) == [2, 1, 2, None, 4]


averages = st.one_of(st.tuples(st.none(), st.just(0)), st.tuples(st.floats(1, 5), st.integers(1, 10_000)))


@given(averages, averages)
def test_the_satisfaction_weighs_surveys_and_chat_ratings_by_their_count(
    survey: tuple[float | None, int], chat: tuple[float | None, int]
) -> None:
    found = blended(survey[0], survey[1], chat[0], chat[1])
    given_ = [avg for avg, n in (survey, chat) if avg is not None]
    assert (found is None) == (not given_)
    if found is not None:
        assert min(given_) - 0.005 <= found <= max(given_) + 0.005
    if survey[0] is not None and chat[0] is None:
        assert found == round(survey[0], 2)  # no chat rating: the surveys' average as before
    assert blended(4.0, 3, 5.0, 1) == 4.25  # three surveys of 4, one rating of 5


@given(st.integers(0, 5000), st.integers(0, 5000), st.sampled_from([0, 0.25, 0.5, 1, 2]))
def test_a_conversation_counts_as_the_schemes_weight_of_a_call(calls: int, chats: int, weight: float) -> None:
    assert volume(calls, chats, weight) == calls + chats * weight
    assert volume(calls, chats + 1, weight) >= volume(calls, chats, weight)
    assert volume(calls, chats, 0) == calls
