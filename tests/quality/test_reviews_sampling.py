"""Sampling as a QA lead plans it: exactly N calls per agent when there are enough, spread over
the strata like the calls are, every complaint / long call / low survey always in, nothing sampled
twice across runs, the same picks for the same seed."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.quality.reviews.sampling import (
    Always,
    CallFacts,
    Rules,
    allocate,
    always_reason,
    select,
    stratum,
)

START = datetime(2026, 11, 30, tzinfo=UTC)


@st.composite
def calls(draw: st.DrawFn, max_size: int = 80) -> list[CallFacts]:
    n = draw(st.integers(0, max_size))
    return [
        CallFacts(
            call_id=f"c{i}",
            agent_id=draw(st.integers(1, 4)),
            queue=draw(st.sampled_from(["hotel", "travel", "vip"])),
            direction=draw(st.sampled_from(["inbound", "outbound"])),
            seconds=draw(st.integers(5, 1500)),
            survey=draw(st.none() | st.integers(1, 5)),
            complaint=draw(st.booleans().filter(lambda b: True)) and draw(st.integers(0, 9)) == 0,
            started_at=START + timedelta(minutes=i),
            forbidden_hit=draw(st.integers(0, 19)) == 0,
            longest_silence=draw(st.sampled_from([0.0, 4.9, 12.0, 45.0])),
            overtalk=draw(st.sampled_from([0.0, 2.5, 20.0])),
        )
        for i in range(n)
    ]


rules_st = st.builds(
    Rules,
    per_agent=st.integers(0, 12),
    strata=st.sampled_from([(), ("queue",), ("queue", "direction", "duration"), ("duration",)]),
    always=st.builds(Always, complaint=st.booleans(), long_seconds=st.sampled_from([None, 900]),
                     survey_at_most=st.sampled_from([None, 2]), forbidden_hit=st.booleans(),
                     silence_at_least=st.sampled_from([None, 5, 30]),
                     overtalk_at_least=st.sampled_from([None, 10])),
)  # fmt: skip


@settings(max_examples=150)
@given(calls(), rules_st, st.integers(0, 2**32))
def test_exactly_n_per_agent_and_every_always_call_in(
    found: list[CallFacts], rules: Rules, seed: int
) -> None:
    picks = select(found, rules, seed)
    ids = [p.call.call_id for p in picks]
    assert len(ids) == len(set(ids))
    always = {c.call_id for c in found if always_reason(c, rules.always)}
    assert always <= set(ids)
    assert {p.call.call_id for p in picks if p.reason != "sample"} == always
    rest = Counter(c.agent_id for c in found if c.call_id not in always)
    sampled = Counter(p.call.agent_id for p in picks if p.reason == "sample")
    for agent, available in rest.items():
        assert sampled[agent] == min(rules.per_agent, available)


@settings(max_examples=150)
@given(calls(), rules_st, st.integers(0, 2**32))
def test_strata_get_their_share_of_n(found: list[CallFacts], rules: Rules, seed: int) -> None:
    picks = select(found, rules, seed)
    for agent in {c.agent_id for c in found}:
        pool = [c for c in found if c.agent_id == agent and not always_reason(c, rules.always)]
        total = len(pool)
        if total <= rules.per_agent:
            continue
        sizes = Counter(stratum(c, rules) for c in pool)
        got = Counter(
            stratum(p.call, rules) for p in picks if p.reason == "sample" and p.call.agent_id == agent
        )
        for key, size in sizes.items():
            share = rules.per_agent * size / total
            assert int(share) <= got[key] <= int(share) + 1, (key, size, total, got)


@given(calls(), rules_st, st.integers(0, 2**32), st.randoms())
def test_a_run_is_repeatable_and_never_picks_a_call_twice(
    found: list[CallFacts], rules: Rules, seed: int, shuffle: object
) -> None:
    first = select(found, rules, seed)
    mixed = list(found)
    shuffle.shuffle(mixed)  # type: ignore[attr-defined]
    assert select(mixed, rules, seed) == first
    again = select(found, rules, seed + 1, taken=[p.call.call_id for p in first])
    assert not {p.call.call_id for p in first} & {p.call.call_id for p in again}


@given(st.dictionaries(st.tuples(st.integers(0, 5)), st.integers(1, 50), min_size=1), st.integers(0, 60))
def test_allocation_adds_up_and_never_exceeds_a_stratum(sizes: dict[tuple[object, ...], int], n: int) -> None:
    shares = allocate(sizes, n)
    assert sum(shares.values()) == min(n, sum(sizes.values()))
    assert all(0 <= shares[k] <= sizes[k] for k in sizes)


def test_the_always_rules_of_seed_003() -> None:
    call = CallFacts("x", 1, "hotel", "inbound", 60, None, False, START)
    assert always_reason(call, Always()) is None
    assert always_reason(CallFacts("x", 1, "hotel", "inbound", 901, None, False, START), Always()) == "long"
    assert always_reason(CallFacts("x", 1, "hotel", "inbound", 60, 2, False, START), Always()) == "survey"
    assert always_reason(CallFacts("x", 1, "hotel", "inbound", 60, 3, True, START), Always()) == "complaint"


def test_the_always_rules_on_what_the_automatic_checks_found() -> None:
    quiet = CallFacts("x", 1, "hotel", "inbound", 60, None, False, START, longest_silence=31.0, overtalk=3.0)
    assert always_reason(quiet, Always()) is None  # off unless the plan sets them
    assert always_reason(quiet, Always(silence_at_least=30)) == "silence"
    assert always_reason(quiet, Always(silence_at_least=45)) is None
    assert always_reason(quiet, Always(overtalk_at_least=3)) == "overtalk"
