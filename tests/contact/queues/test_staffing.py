"""Staffing maths: Erlang C against its published values, Erlang A against Erlang C at infinite
patience, monotonicity, the smallest staffing that meets the target, and the API."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.contact.queues.erlang import agents_needed, erlang_a_staffing, erlang_c, erlang_c_staffing
from hotline.core.context import Context
from tests.conftest import Users, assert_problem


def test_erlang_c_matches_the_textbook_value() -> None:
    assert abs(erlang_c(12, 10.0) - 0.4494) < 0.0001  # the figure issue 4 quotes


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 60), st.floats(0.1, 0.95), st.floats(10, 600))
def test_more_agents_never_serve_worse(agents: int, load: float, handle: float) -> None:
    calls = agents * load * 3600 / handle
    fewer = erlang_c_staffing(agents, calls, handle, 20)
    more = erlang_c_staffing(agents + 1, calls, handle, 20)
    assert 0 <= more.wait_probability <= fewer.wait_probability <= 1
    assert fewer.service_level is not None and more.service_level is not None
    assert more.service_level >= fewer.service_level - 1e-12


@settings(max_examples=25, deadline=None)
@given(st.integers(2, 30), st.floats(0.3, 0.9))
def test_erlang_a_becomes_erlang_c_when_nobody_gives_up(agents: int, load: float) -> None:
    calls, handle = agents * load * 3600 / 180, 180.0
    c = erlang_c_staffing(agents, calls, handle, 20)
    a = erlang_a_staffing(agents, calls, handle, 1e9, 20)
    assert abs(a.wait_probability - c.wait_probability) < 1e-4
    assert a.service_level is not None and c.service_level is not None
    assert abs(a.service_level - c.service_level) < 1e-3


def test_the_answer_is_the_fewest_agents_that_reach_the_target() -> None:
    needed = agents_needed(600, 60, service_level=0.8, target_seconds=20)
    below = erlang_c_staffing(needed.agents - 1, 600, 60, 20)
    assert needed.service_level is not None and below.service_level is not None
    assert below.service_level < 0.8 <= needed.service_level and needed.agents == 13
    impatient = agents_needed(600, 60, service_level=0.8, target_seconds=20, patience_seconds=60)
    assert impatient.agents < needed.agents and impatient.abandon_rate > 0  # those who leave free the line


async def test_a_team_lead_asks_the_api_and_bad_input_is_refused(seeded: Context, users: Users) -> None:
    teamlead = await users("teamlead")
    answer = await teamlead.post(
        "/api/routing/staffing", json={"calls_per_hour": 600, "handle_seconds": 60, "shrinkage": 0.25}
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["model"], body["traffic"], body["agents_needed"], body["agents_scheduled"]) == (
        "erlang-c",
        10.0,
        13,
        18,
    )
    assert [row["agents"] for row in body["rows"]] == list(range(11, 17))
    negative = await teamlead.post("/api/routing/staffing", json={"calls_per_hour": -1, "handle_seconds": 60})
    assert_problem(negative, 422, "validation-failed", "body.calls_per_hour")
    agent = await users("agent1")
    assert_problem(
        await agent.post("/api/routing/staffing", json={"calls_per_hour": 1, "handle_seconds": 1}),
        403,
        "permission-denied",
    )
