"""The recording checks on Mandarin speech placed at known moments on each channel: talk, silences,
overtalk and the longest monologue come out within 0.2 s of where the speech was placed."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotline.core.compute import ComputePool
from hotline.quality.analysis import analyse, analyse_files
from hotline.quality.analysis.errors import UnusableRecording
from tests.quality.speech import (
    ASK_NAME,
    GREETING,
    HM,
    PHRASES,
    POLICY,
    REQUEST,
    channel,
    clip,
    truth,
    write_wav,
)

NEAR = 0.2  # seconds: how far a found boundary may be from the placed one
Spans = list[tuple[float, float]]


def quiet_and_both(caller: Spans, agent: Spans, seconds: float) -> tuple[Spans, Spans]:
    """Where both sides are quiet and where both talk, on a 10 ms grid (the test's own arithmetic)."""
    grid = np.arange(int(seconds * 100)) / 100 + 0.005

    def talking(spans: Spans) -> np.ndarray:
        return np.any([(grid >= s) & (grid < e) for s, e in spans], axis=0) if spans else grid < 0

    def runs(flags: np.ndarray) -> Spans:
        edges = np.flatnonzero(np.diff(np.concatenate(([0], flags.astype(np.int8), [0]))))
        return [(s / 100, e / 100) for s, e in zip(edges[::2], edges[1::2], strict=True)]

    a, b = talking(caller), talking(agent)
    return runs(~a & ~b), runs(a & b)


def assert_near(found: list[list[float]], placed: Spans) -> None:
    assert len(found) == len(placed), (found, placed)
    for (start, end), (s, e) in zip(found, placed, strict=True):
        assert abs(start - s) <= NEAR and abs(end - e) <= NEAR, (found, placed)


def assert_longer_than(found: list[list[float]], placed: Spans, threshold: float) -> None:
    """The placed stretches longer than `threshold` are found, each within NEAR; a stretch whose
    length is within the tolerance of the threshold may rightly be counted either way."""
    left = list(found)
    for s, e in placed:
        if e - s <= threshold - 2 * NEAR:
            continue
        if left and abs(left[0][0] - s) <= NEAR and abs(left[0][1] - e) <= NEAR:
            left.pop(0)
        else:
            assert e - s < threshold + 2 * NEAR, ("not found", (s, e), found, placed)
    assert not left, ("found but not placed", left, placed)


SCRIPT_SECONDS = 37.0
AGENT = [(0.5, GREETING), (8.0, HM), (9.5, ASK_NAME), (21.0, POLICY)]
CALLER = [(6.3, REQUEST), (20.0, HM), (27.0, HM)]


@pytest.fixture(scope="module")
def scripted_call(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A booking call: greeting, the request with the agent's 嗯 inside it, the agent answering
    before the caller has finished, a long silence while the agent looks something up, then the
    agent reading the hotel's policy while the caller says 嗯 twice."""
    folder = tmp_path_factory.mktemp("call")
    return (
        write_wav(folder / "a.wav", channel(SCRIPT_SECONDS, CALLER, seed=1)),
        write_wav(folder / "b.wav", channel(SCRIPT_SECONDS, AGENT, seed=2)),
    )


def test_a_scripted_call_s_talk_silence_and_overtalk_are_where_they_were_said(
    scripted_call: tuple[Path, Path],
) -> None:
    caller, agent = scripted_call
    checks = analyse_files(str(caller), str(agent), silence_seconds=5.0, overtalk_seconds=2.0)
    quiet, both = quiet_and_both(truth(CALLER), truth(AGENT), SCRIPT_SECONDS)
    assert_near(checks["segments"]["caller"], truth(CALLER))
    assert_near(checks["segments"]["agent"], truth(AGENT))
    long_quiet = [s for s in quiet if s[1] - s[0] > 5.0]
    assert len(long_quiet) == 1 and 6 < long_quiet[0][1] - long_quiet[0][0] < 8  # the look-up
    assert_near(checks["segments"]["silences"], long_quiet)
    long_both = [s for s in both if s[1] - s[0] > 2.0]
    assert len(long_both) == 1  # the agent answering early; the 嗯s are too short to count
    assert_near(checks["segments"]["overtalk"], long_both)
    assert checks["silence_count"] == 1 and checks["overtalk_count"] == 1
    assert abs(checks["longest_silence"] - (long_quiet[0][1] - long_quiet[0][0])) <= 2 * NEAR
    assert abs(checks["overtalk_seconds"] - (long_both[0][1] - long_both[0][0])) <= 2 * NEAR
    caller_talk = sum(e - s for s, e in truth(CALLER))
    agent_talk = sum(e - s for s, e in truth(AGENT))
    assert abs(checks["caller_talk"] - caller_talk) <= 2 * NEAR * len(CALLER)
    assert abs(checks["agent_talk"] - agent_talk) <= 2 * NEAR * len(AGENT)
    assert abs(checks["talk_ratio"] - agent_talk / (agent_talk + caller_talk)) < 0.02
    # the policy, read through the caller's two 嗯, is the longest monologue
    policy = truth([(21.0, POLICY)])[0]
    assert checks["monologue_side"] == "agent"
    assert_near([checks["segments"]["monologue"]], [policy])
    assert abs(checks["longest_monologue"] - (policy[1] - policy[0])) <= 2 * NEAR
    assert checks["duration"] == SCRIPT_SECONDS and checks["hold_seconds"] == 0.0
    assert json.loads(json.dumps(checks)) == checks  # plain JSON for the recording's `checks`


def test_hold_time_comes_from_the_call_s_log_and_thresholds_change_what_counts(
    scripted_call: tuple[Path, Path],
) -> None:
    caller, agent = scripted_call
    strict = analyse_files(
        str(caller), str(agent), silence_seconds=0.5, overtalk_seconds=0.2, hold_seconds=42.5
    )
    assert strict["hold_seconds"] == 42.5
    # the short gaps between turns now count, and so does each 嗯 said over the other side
    assert strict["silence_count"] > 1 and strict["overtalk_count"] == 3
    assert strict["thresholds"] == {"silence_seconds": 0.5, "overtalk_seconds": 0.2}


@st.composite
def placements(draw: st.DrawFn) -> tuple[list[tuple[float, str]], list[tuple[float, str]], float]:
    def one_side() -> list[tuple[float, str]]:
        placed, at = [], draw(st.floats(0.0, 3.0))
        for text in draw(st.lists(st.sampled_from(PHRASES), min_size=1, max_size=3)):
            placed.append((round(at, 2), text))
            at += len(clip(text).samples) / 8000 + draw(st.floats(0.6, 4.0))
        return placed

    caller, agent = one_side(), one_side()
    ends = [at + len(clip(text).samples) / 8000 for at, text in caller + agent]
    return caller, agent, round(max(ends) + draw(st.floats(0.0, 2.0)), 2)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(placements())
def test_speech_placed_anywhere_is_found_within_a_fifth_of_a_second(
    call: tuple[list[tuple[float, str]], list[tuple[float, str]], float],
) -> None:
    caller, agent, seconds = call
    quiet, both = quiet_and_both(truth(caller), truth(agent), seconds)
    checks = analyse(
        channel(seconds, caller, seed=1).tobytes(),
        channel(seconds, agent, seed=2).tobytes(),
        silence_seconds=1.0,
        overtalk_seconds=0.5,
    ).as_dict()
    assert_near(checks["segments"]["caller"], truth(caller))
    assert_near(checks["segments"]["agent"], truth(agent))
    assert_longer_than(checks["segments"]["silences"], quiet, 1.0)
    assert_longer_than(checks["segments"]["overtalk"], both, 0.5)


def test_a_call_where_nobody_speaks_is_one_long_silence(tmp_path: Path) -> None:
    hiss = channel(12.0, [])
    checks = analyse(hiss.tobytes(), hiss.tobytes()).as_dict()
    assert (checks["caller_talk"], checks["agent_talk"], checks["talk_ratio"]) == (0.0, 0.0, None)
    assert checks["segments"]["silences"] == [[0.0, 12.0]] and checks["longest_monologue"] == 0.0


@pytest.fixture
async def pool() -> AsyncIterator[ComputePool]:
    running = ComputePool(1, limit=30, memory_mib=512, backlog=1)
    await running.start()
    yield running
    await running.stop()


async def test_the_checks_run_in_a_compute_worker_and_its_errors_keep_their_reason(
    pool: ComputePool, scripted_call: tuple[Path, Path], tmp_path: Path
) -> None:
    caller, agent = scripted_call
    there: dict[str, Any] = await pool.run(partial(analyse_files, hold_seconds=12.0), str(caller), str(agent))
    assert there == analyse_files(str(caller), str(agent), hold_seconds=12.0)
    wide = write_wav(tmp_path / "b.wav", np.zeros(16000, dtype="<i2"), rate=16000)
    with pytest.raises(UnusableRecording) as refused:
        await pool.run(analyse_files, str(caller), str(wide))
    assert (refused.value.reason, refused.value.field) == ("recording-wrong-format", "agent")
