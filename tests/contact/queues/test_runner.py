"""Queues on the simulated driver: the real router and runner, on virtual time."""

from __future__ import annotations

import asyncio
import math

import pytest

from hotline.contact.queues.acd import QueueConfig, Step, Strategy
from hotline.contact.queues.erlang import erlang_c_staffing
from hotline.contact.queues.reasons import RoutingReason
from hotline.contact.queues.runner import QueueRunner, Seat
from hotline.contact.simulate import Scenario, SimAgent, SimCall, recorded_day, replay, run, simulate
from hotline.voice.control import Leg
from hotline.voice.simulated import SimPhone, SimulatedVoice, run_virtual


def test_a_simulated_queue_behaves_like_erlang_c() -> None:
    """A short run with a fixed seed: within the sampling error of 6,000 calls (queue waits are
    strongly correlated, so that is several points); the benchmark runs 150,000 calls to ±0.01."""
    outcome = simulate(Scenario(agents=12, calls_per_hour=200, handle_seconds=180, calls=6000, seed=5))
    theory = erlang_c_staffing(12, 200, 180, 20)
    assert abs(outcome.waited - theory.wait_probability) < 0.08
    assert outcome.metrics.service_level is not None and theory.service_level is not None
    assert abs(outcome.metrics.service_level - theory.service_level) < 0.08
    assert outcome.metrics.occupancy is not None and abs(outcome.metrics.occupancy - 10 / 12) < 0.03


def test_the_customers_last_agent_is_waited_for_then_another_agent_takes_the_call() -> None:
    """Agent 1 served this customer last but is on another call: the caller waits the sticky step
    (20 s) and then goes to agent 2, who was free all along."""
    config = QueueConfig("hotel", "hotel", steps=(Step(20, sticky=True), Step(None)))

    async def scenario() -> tuple[QueueRunner, list[tuple[float, int]]]:
        answered: list[tuple[float, int]] = []
        voice: SimulatedVoice
        runner: QueueRunner

        async def caller(leg: Leg) -> None:
            await leg.answer()
            got = await runner.wait_for_agent(leg, "hotel", last_agent=1)
            answered.append((asyncio.get_running_loop().time(), got.seat.agent_id))
            await got.agent_leg.hang_up()

        voice = SimulatedVoice(
            caller, phones={"1001": SimPhone(answer_after=0), "1002": SimPhone(answer_after=0)}
        )
        runner = QueueRunner(voice, {"hotel": config})
        runner.seats = {
            1: Seat(1, "1001", "1001 (001)", {"hotel": 3}),
            2: Seat(2, "1002", "1002 (002)", {"hotel": 3}),
        }
        for agent in (1, 2):
            runner.agent(agent, "login")
        runner.agent(2, "ready")  # agent 1 is busy elsewhere
        leg = voice.call_in("13800138000", "4008001000")
        await leg.ended.wait()
        return runner, answered

    runner, answered = run_virtual(scenario())
    assert answered == [(20.0, 2)]
    assert [e.kind for e in runner.call_log] == ["queued", "offered", "answered"]
    offered = runner.call_log[1]
    reason = RoutingReason.decode(offered.detail)  # data for the UI to word, English for logs
    assert reason is not None and reason.code == "offered"
    assert (reason.params["agent"], reason.params["pick"], reason.params["idle_seconds"]) == (
        "1002 (002)",
        "idle",
        20,
    )
    assert str(reason) == "offered to 1002 (002): idle 20 s (step 2, after 20 s, waited 20 s)"


def test_replaying_a_day_under_the_same_policy_reproduces_it_and_another_policy_is_compared() -> None:
    """A simulated day with two queues and shifts is read back from its own event log as a
    recorded day; replayed under the same policy, every call waits exactly as it did."""
    queues = {
        "hotel": QueueConfig("hotel", "hotel", steps=(Step(20, min_level=4), Step(None))),
        "travel": QueueConfig("travel", "travel"),
    }
    agents = [
        SimAgent(1, {"hotel": 5}, (0, 4 * 3600)),
        SimAgent(2, {"hotel": 3, "travel": 3}),
        SimAgent(3, {"travel": 5}, (1800, math.inf)),
    ]
    calls = [
        SimCall(at=n * 97.0 % 7200, queue="hotel" if n % 3 else "travel", talk=60 + (n * 37) % 240,
                patience=90 if n % 7 == 0 else None)
        for n in range(120)
    ]  # fmt: skip
    day = run(calls, queues, agents)
    skills = {a.agent_id: a.skills for a in agents}
    recorded = recorded_day(day.calls, day.agents, skills, queues, {})
    assert len(recorded.calls) == 120
    assert {a.agent_id: a.shift[0] for a in recorded.agents} == {1: 0.0, 2: 0.0, 3: 1800.0}
    again = replay(recorded)
    for queue in queues:
        assert again.by_queue[queue].waits == pytest.approx(day.by_queue[queue].waits)
        assert again.by_queue[queue].abandoned == day.by_queue[queue].abandoned
    other = replay(recorded, strategy=Strategy.FEWEST_CALLS)
    assert other.metrics.offered == day.metrics.offered == 120
