"""Discrete-event simulation of a contact center: the real queue runner, router and presence on
the simulated voice driver, on virtual time (seconds of simulated day pass in microseconds).

- `simulate(Scenario)`: Poisson arrivals to one queue, exponential handle times and (optionally)
  exponential patience, N identical agents; checked against Erlang C in benchmarks/simulator.py.
- `run(calls, queues, agents)`: any list of calls (arrival, queue, talk time, patience,
  priority, last agent) against any queues and agents with skills and shifts.
- `replay(...)`: a recorded day from the event log, as it happened and again under another
  routing policy, so the two can be compared.

Figures come from the same event log and definitions as the live ones (docs/metrics.md).
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from hotline.contact.metrics import AgentEvent, CallEvent, Metrics, compute
from hotline.contact.queues.acd import QueueConfig, Strategy
from hotline.contact.queues.runner import NoAgent, QueueRules, QueueRunner, Seat
from hotline.core.errors import InvalidTransition
from hotline.voice.control import Leg
from hotline.voice.simulated import SimPhone, SimulatedVoice, run_virtual


@dataclass(frozen=True)
class SimCall:
    at: float  # seconds from the start
    queue: str
    talk: float  # seconds with the agent
    patience: float | None = None  # hangs up unanswered after this long (None: waits forever)
    priority: int = 0
    last_agent: int | None = None
    caller: str = "caller"


@dataclass(frozen=True)
class SimAgent:
    agent_id: int
    skills: dict[str, int]
    shift: tuple[float, float] = (0.0, math.inf)  # logged in from, to (seconds)
    answer_after: float = 0.0  # seconds the phone rings before the agent picks up


@dataclass
class Result:
    metrics: Metrics
    by_queue: dict[str, Metrics]
    simulated_hours: float
    calls: list[CallEvent] = field(repr=False)
    agents: list[AgentEvent] = field(repr=False)

    @property
    def waited(self) -> float:
        """Share of answered calls that waited at all (Erlang C's P(wait > 0))."""
        return sum(1 for w in self.metrics.waits if w > 1e-9) / max(1, len(self.metrics.waits))


def run(
    calls: Sequence[SimCall],
    queues: dict[str, QueueConfig],
    agents: Sequence[SimAgent],
    *,
    rules: dict[str, QueueRules] | None = None,
    service_seconds: float = 20.0,
    short_abandon_seconds: float = 0.0,
) -> Result:
    """Play the calls against the queues and agents; return the figures of the day."""
    ordered = sorted(calls, key=lambda c: c.at)

    async def main() -> tuple[QueueRunner, float]:
        voice: SimulatedVoice
        runner: QueueRunner
        talks: dict[str, SimCall] = {}

        async def caller(leg: Leg) -> None:
            await leg.answer()
            call = talks.pop(leg.id)
            try:
                answered = await runner.wait_for_agent(
                    leg, call.queue, priority=call.priority, last_agent=call.last_agent
                )
            except NoAgent:
                return
            bridge = voice.bridge(leg, answered.agent_leg)
            try:
                await bridge.wait()
            finally:
                await bridge.stop()
                await answered.agent_leg.hang_up()
                runner.call_ended(leg.id, answered.seat, answered.queue)

        phones = {_extension(a.agent_id): SimPhone(answer_after=a.answer_after) for a in agents}
        voice = SimulatedVoice(caller, phones=phones)
        runner = QueueRunner(voice, dict(queues), dict(rules or {}))
        for agent in agents:
            runner.seats[agent.agent_id] = Seat(
                agent.agent_id, _extension(agent.agent_id), _extension(agent.agent_id), dict(agent.skills)
            )
            asyncio.get_running_loop().call_at(agent.shift[0], _start_shift, runner, agent.agent_id)
            if math.isfinite(agent.shift[1]):
                asyncio.get_running_loop().call_at(agent.shift[1], _end_shift, runner, agent.agent_id)
        legs = []
        loop = asyncio.get_running_loop()
        for call in ordered:
            delay = call.at - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            leg = voice.call_in(call.caller, call.queue, gives_up_after=call.patience, talks_for=call.talk)
            talks[leg.id] = call
            legs.append(leg)
        for leg in legs:
            await leg.ended.wait()
        await asyncio.sleep(0)
        end = loop.time()
        await voice.stop()
        return runner, end

    runner, end = run_virtual(main())

    def figures(calls: list[CallEvent], agents: list[AgentEvent]) -> Metrics:
        return compute(
            calls,
            agents,
            service_seconds=service_seconds,
            short_abandon_seconds=short_abandon_seconds,
            until=end,
        )

    by_queue = {name: figures([e for e in runner.call_log if e.queue == name], []) for name in queues}
    metrics = figures(runner.call_log, runner.agent_log)
    return Result(metrics, by_queue, end / 3600, runner.call_log, runner.agent_log)


def _extension(agent_id: int) -> str:
    return str(10_000 + agent_id)


def _start_shift(runner: QueueRunner, agent_id: int) -> None:
    runner.agent(agent_id, "login")
    runner.agent(agent_id, "ready")


def _end_shift(runner: QueueRunner, agent_id: int) -> None:
    """At the end of a shift an agent finishes the call in hand, then logs out."""
    try:
        runner.agent(agent_id, "logout")
    except InvalidTransition:
        asyncio.get_running_loop().call_later(10.0, _end_shift, runner, agent_id)


# ---------------------------------------------------------------- Poisson scenarios


@dataclass(frozen=True)
class Scenario:
    agents: int
    calls_per_hour: float
    handle_seconds: float
    calls: int
    patience_seconds: float | None = None
    wrap_seconds: float = 0.0
    service_seconds: float = 20.0
    seed: int = 1
    strategy: Strategy = Strategy.LONGEST_IDLE


def poisson_calls(scenario: Scenario, queue: str = "main") -> list[SimCall]:
    rng = random.Random(scenario.seed)  # noqa: S311 - a reproducible simulation, not security
    rate = scenario.calls_per_hour / 3600
    at, calls = 0.0, []
    for _ in range(scenario.calls):
        at += rng.expovariate(rate)
        patience = rng.expovariate(1 / scenario.patience_seconds) if scenario.patience_seconds else None
        calls.append(SimCall(at, queue, rng.expovariate(1 / scenario.handle_seconds), patience))
    return calls


def simulate(scenario: Scenario) -> Result:
    """One queue, one skill, N identical agents (skill levels 1–5 in turn, for the strategies
    that look at them)."""
    queues = {"main": QueueConfig("main", "main", strategy=scenario.strategy)}
    rules = {"main": QueueRules(ring_seconds=30.0, wrap_seconds=scenario.wrap_seconds)}
    agents = [SimAgent(n, {"main": 1 + n % 5}) for n in range(scenario.agents)]
    return run(poisson_calls(scenario), queues, agents, rules=rules, service_seconds=scenario.service_seconds)


# ---------------------------------------------------------------- replaying a recorded day


@dataclass(frozen=True)
class RecordedDay:
    """What a day's event log says happened, as inputs for the simulator."""

    calls: list[SimCall]
    agents: list[SimAgent]
    queues: dict[str, QueueConfig]
    rules: dict[str, QueueRules]
    actual: dict[str, Metrics]
    """The day's figures per queue as recorded (the baseline to compare against)."""


def recorded_day(
    calls: Sequence[CallEvent],
    agents: Sequence[AgentEvent],
    skills: dict[int, dict[str, int]],
    queues: dict[str, QueueConfig],
    rules: dict[str, QueueRules],
    *,
    service_seconds: float = 20.0,
) -> RecordedDay:
    """Turn a day of the event log into simulator input: each queued call with its arrival, talk
    time (answered → ended) and, for callers who gave up, their patience; each agent's logged-in
    span as a shift. Calls never answered nor abandoned keep the day's mean talk time."""
    start = min([e.at for e in calls] + [e.at for e in agents], default=0.0)
    by_call: dict[str, dict[str, CallEvent]] = {}
    for line in sorted(calls, key=lambda e: e.at):
        by_call.setdefault(line.call_id, {}).setdefault(line.kind, line)
    talks = [k["ended"].at - k["answered"].at for k in by_call.values() if "answered" in k and "ended" in k]
    mean_talk = sum(talks) / len(talks) if talks else 180.0
    sim_calls = []
    for call_id, kinds in by_call.items():
        queued = kinds.get("queued")
        if queued is None or queued.queue not in queues:
            continue
        talk = mean_talk
        if "answered" in kinds and "ended" in kinds:
            talk = kinds["ended"].at - kinds["answered"].at
        patience = kinds["abandoned"].at - queued.at if "abandoned" in kinds else None
        sim_calls.append(SimCall(queued.at - start, queued.queue, talk, patience, caller=call_id))
    shifts: dict[int, list[float]] = {}
    for event in sorted(agents, key=lambda e: e.at):
        span = shifts.setdefault(event.agent_id, [])
        if (event.state != "logged_out" and len(span) % 2 == 0) or (
            event.state == "logged_out" and len(span) % 2 == 1
        ):
            span.append(event.at - start)
    sim_agents = []
    for agent_id, span in shifts.items():
        if agent_id not in skills or not span:
            continue
        end = span[1] if len(span) > 1 else math.inf  # first shift of the day
        sim_agents.append(SimAgent(agent_id, skills[agent_id], (span[0], end)))
    actual = {
        name: compute([e for e in calls if e.queue == name], service_seconds=service_seconds)
        for name in queues
    }
    return RecordedDay(sim_calls, sim_agents, queues, rules, actual)


def replay(day: RecordedDay, *, strategy: Strategy | None = None, service_seconds: float = 20.0) -> Result:
    """The recorded calls and shifts again, under another strategy (or the same, to check the
    simulator against the day)."""
    queues = {
        name: replace(config, strategy=strategy) if strategy is not None else config
        for name, config in day.queues.items()
    }
    return run(day.calls, queues, day.agents, rules=day.rules, service_seconds=service_seconds)
