"""Metrics from a hand-built event log match the values worked out by hand (docs/metrics.md)."""

from __future__ import annotations

import pytest

from hotline.contact.metrics import AgentEvent, CallEvent, compute


def test_figures_from_a_hand_built_log() -> None:
    q, a = CallEvent, AgentEvent
    calls = [
        q(0, "c1", "queued", "hotel"), q(10, "c1", "answered", "hotel", 1), q(70, "c1", "ended"),
        q(5, "c2", "queued", "hotel"), q(35, "c2", "answered", "hotel", 2), q(125, "c2", "ended"),
        q(20, "c3", "queued", "hotel"), q(23, "c3", "abandoned"),  # after 3 s: a short abandon
        q(30, "c4", "queued", "hotel"), q(60, "c4", "abandoned"),  # after 30 s: abandoned
        q(40, "c5", "queued", "hotel"), q(50, "c5", "callback"),  # keeps its place: not abandoned
        q(50, "c6", "queued", "hotel"), q(90, "c6", "answered", "hotel", 1), q(130, "c6", "ended"),
    ]  # fmt: skip
    agents = [
        a(0, 1, "ready"), a(10, 1, "on_call"), a(70, 1, "wrap_up"), a(80, 1, "ready"),
        a(90, 1, "on_call"), a(130, 1, "wrap_up"), a(140, 1, "ready"),
        a(0, 2, "ready"), a(35, 2, "on_call"), a(125, 2, "ready"),
    ]  # fmt: skip
    m = compute(calls, agents, service_seconds=20, short_abandon_seconds=5, until=150)
    assert (m.offered, m.answered, m.answered_in_time, m.abandoned, m.short_abandoned, m.callbacks) == (
        6,
        3,
        1,
        1,
        1,
        1,
    )
    assert m.service_level == pytest.approx(1 / 4)  # c1 only, of 6 offered − 1 short abandon − 1 callback
    assert m.abandon_rate == pytest.approx(1 / 4)
    assert m.average_speed_of_answer == pytest.approx((10 + 30 + 40) / 3)
    assert m.average_handle_time == pytest.approx(
        (60 + 90 + 40 + 20) / 3
    )  # talk plus agent 1's two 10 s wrap-ups
    assert m.occupancy == pytest.approx(210 / 300)  # (on call + wrap-up) / (that + ready), both agents


def test_no_calls_means_no_figures_rather_than_zero() -> None:
    m = compute([], [])
    assert m.service_level is None and m.average_speed_of_answer is None and m.occupancy is None
