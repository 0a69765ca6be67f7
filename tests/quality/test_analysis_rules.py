"""The rules of the recording checks on speech spans written by hand (10 ms frames: 100 = 1 s)."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from hotline.quality.analysis.checks import SEGMENT_CAP, CallChecks, check_call
from hotline.voice.media.vad import smooth

S = 100  # frames per second


def check(
    caller: list[tuple[int, int]], agent: list[tuple[int, int]], seconds: int, **limits: int
) -> CallChecks:
    return check_call(
        caller,
        agent,
        seconds * S,
        silence_frames=limits.get("silence", 5 * S),
        overtalk_frames=limits.get("overtalk", 2 * S),
        hold_seconds=0.0,
    )


def test_given_dead_air_between_turns_when_longer_than_the_threshold_then_it_is_a_silence() -> None:
    checks = check(caller=[(7 * S, 10 * S)], agent=[(0, 1 * S), (16 * S, 20 * S)], seconds=20).as_dict()
    # 1→7 s is 6 s of dead air: counted; 10→16 s too; nothing after the agent's last word
    assert checks["segments"]["silences"] == [[1.0, 7.0], [10.0, 16.0]]
    assert (checks["silence_count"], checks["silence_total"], checks["longest_silence"]) == (2, 12.0, 6.0)
    shorter = check(caller=[(5 * S, 10 * S)], agent=[(0, 1 * S)], seconds=10).as_dict()
    assert shorter["silence_count"] == 0  # 4 s: under the 5 s threshold


def test_given_both_sides_talking_when_longer_than_the_threshold_then_it_is_overtalk() -> None:
    checks = check(
        caller=[(0, 5 * S), (10 * S, 11 * S)], agent=[(2 * S, 8 * S), (10 * S, 12 * S)], seconds=12
    )
    figures = checks.as_dict()
    assert figures["segments"]["overtalk"] == [[2.0, 5.0]]  # 10→11 s is only 1 s
    assert (figures["overtalk_count"], figures["overtalk_seconds"], figures["longest_overtalk"]) == (
        1,
        3.0,
        3.0,
    )


def test_the_talk_ratio_is_the_agent_s_share_of_all_talk() -> None:
    assert check(caller=[(0, 1 * S)], agent=[(2 * S, 5 * S)], seconds=5).talk_ratio == 0.75
    assert check(caller=[(0, 1 * S)], agent=[], seconds=5).talk_ratio == 0.0
    assert check(caller=[], agent=[], seconds=5).talk_ratio is None


def test_short_back_channels_do_not_end_a_monologue_but_a_reply_does() -> None:
    agent = [(0, 10 * S), (11 * S, 20 * S)]  # reads for 20 s with a 1 s breath
    backchannel = check(caller=[(5 * S, 5 * S + 40), (15 * S, 15 * S + 60)], agent=agent, seconds=30)
    assert backchannel.monologue is not None and backchannel.monologue.side == "agent"
    assert backchannel.as_dict()["longest_monologue"] == 20.0
    reply = check(caller=[(8 * S, 10 * S + 50)], agent=agent, seconds=30)  # 2.5 s: takes the floor
    assert reply.monologue is not None and reply.monologue.side == "agent"
    assert (reply.monologue.span.start, reply.monologue.span.end) == (11.0, 20.0)


def test_a_long_pause_ends_a_monologue_and_the_longest_side_wins() -> None:
    checks = check(caller=[(0, 6 * S), (8 * S + 50, 12 * S)], agent=[(20 * S, 27 * S)], seconds=30)
    # the caller's 2.5 s pause splits 6 s + 3.5 s; the agent's 7 s is the longest
    assert checks.monologue is not None and checks.monologue.side == "agent"
    assert checks.as_dict()["segments"]["monologue"] == [20.0, 27.0]
    assert check(caller=[], agent=[], seconds=3).as_dict()["monologue_side"] is None


def test_hangover_bridges_a_speaker_s_short_pauses_and_drops_clicks() -> None:
    assert smooth([(0, 50), (70, 120), (200, 260), (300, 305)]) == [(0, 120), (200, 260)]


spans = st.lists(st.tuples(st.integers(0, 3000), st.integers(1, 400)), max_size=8).map(
    lambda pairs: smooth(sorted((start, min(start + length, 3000)) for start, length in pairs), shortest=1)
)


@given(spans, spans)
def test_talk_silence_and_overtalk_add_up_to_the_call(
    caller: list[tuple[int, int]], agent: list[tuple[int, int]]
) -> None:
    every = check(caller, agent, 30, silence=0, overtalk=0).as_dict()
    total = every["caller_talk"] + every["agent_talk"] - every["overtalk_seconds"] + every["silence_total"]
    assert abs(total - 30.0) < 0.011 * (len(caller) + len(agent) + 1)
    swapped = check(agent, caller, 30, silence=0, overtalk=0).as_dict()
    assert swapped["segments"]["silences"] == every["segments"]["silences"]
    assert swapped["segments"]["overtalk"] == every["segments"]["overtalk"]
    if every["talk_ratio"] is not None:
        assert abs(swapped["talk_ratio"] + every["talk_ratio"] - 1) <= 0.0011  # two roundings to 0.001
    assert swapped["longest_monologue"] == every["longest_monologue"]


def test_given_a_thousand_short_silences_then_the_checks_keep_the_200_longest_and_exact_counts() -> None:
    # 2.3 hours: the caller says a word (1 s), then 5.1 to 9.9 s of dead air, a thousand times over
    caller: list[tuple[int, int]] = []
    agent: list[tuple[int, int]] = []
    at, gaps = 0, []
    for n in range(1000):
        caller.append((at, at + S))
        gap = 510 + (n * 37) % 480
        gaps.append(gap)
        at += S + gap
    seconds = at // S + 1
    figures = check(caller, agent, seconds).as_dict()
    kept = figures["segments"]["silences"]
    assert figures["silence_count"] == 1000 and figures["segment_counts"]["silences"] == 1000
    assert figures["segment_counts"]["caller"] == 1000 and len(figures["segments"]["caller"]) == 200
    assert len(kept) == SEGMENT_CAP == 200
    assert kept == sorted(kept)  # still in time order, for the player to draw
    shortest_kept = min(round(end - start, 2) for start, end in kept)
    assert shortest_kept >= sorted((g / S for g in gaps), reverse=True)[199] - 0.01  # the longest ones
    assert figures["longest_silence"] == max(gaps) / S
    tail = seconds * S - at  # the last silence runs on to the end of the recording
    assert abs(figures["silence_total"] - (sum(gaps) + tail) / S) < 0.01  # every one, not the kept alone
    assert len(json.dumps(figures)) < 20_000  # a row and a response of a few kilobytes


@given(st.lists(st.integers(51, 300), min_size=0, max_size=400))
def test_the_silences_kept_are_the_longest_and_never_more_than_the_cap(gaps: list[int]) -> None:
    caller: list[tuple[int, int]] = []
    at = 0
    for gap in gaps:
        caller.append((at, at + 10))
        at += 10 + gap
    figures = check(caller, [], at // S + 1, silence=50).as_dict()
    kept = figures["segments"]["silences"]
    every = [[s.start, s.end] for s in check(caller, [], at // S + 1, silence=50).silences]
    assert figures["segment_counts"]["silences"] == figures["silence_count"] == len(every)
    assert len(kept) == min(len(every), SEGMENT_CAP) and kept == sorted(kept)
    dropped = [s for s in every if s not in kept]
    if dropped:
        assert min(e - s for s, e in kept) >= max(e - s for s, e in dropped) - 1e-9
