"""Discrete-event simulation of a queue: the real routing code on the simulated voice driver, on
virtual time. Poisson arrivals, exponential handle times and (optionally) exponential patience;
the figures come from the same event log and definitions as the live ones (docs/metrics.md)."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass

from hotline.routing.acd import QueueConfig, Strategy
from hotline.routing.metrics import Metrics, compute
from hotline.routing.queue import QueueRules, QueueRunner, Seat
from hotline.voice.control import Leg
from hotline.voice.simulated import SimPhone, SimulatedVoice, run_virtual


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


@dataclass(frozen=True)
class Outcome:
    metrics: Metrics
    waited: float  # share of answered calls that waited at all
    simulated_hours: float


def simulate(scenario: Scenario) -> Outcome:
    rng = random.Random(scenario.seed)  # noqa: S311 - a reproducible simulation, not security

    async def main() -> tuple[QueueRunner, float]:
        voice: SimulatedVoice
        runner: QueueRunner

        async def caller(leg: Leg) -> None:
            await leg.answer()
            answered = await runner.wait_for_agent(leg, "main")
            bridge = voice.bridge(leg, answered.agent_leg)
            try:
                await bridge.wait()
            finally:
                await bridge.stop()
                await answered.agent_leg.hang_up()
                runner.call_ended(leg.id, answered.seat, "main")

        phones = {str(1000 + n): SimPhone(answer_after=0.0) for n in range(scenario.agents)}
        voice = SimulatedVoice(caller, phones=phones)
        runner = QueueRunner(
            voice,
            {"main": QueueConfig("main", "main", strategy=scenario.strategy)},
            {"main": QueueRules(ring_seconds=30.0, wrap_seconds=scenario.wrap_seconds)},
        )
        for n in range(scenario.agents):
            runner.seats[n] = Seat(n, str(1000 + n), str(1000 + n), {"main": 1 + n % 5})
            runner.agent(n, "login")
            runner.agent(n, "ready")
        legs = []
        rate = scenario.calls_per_hour / 3600
        for _ in range(scenario.calls):
            await asyncio.sleep(rng.expovariate(rate))
            patience = rng.expovariate(1 / scenario.patience_seconds) if scenario.patience_seconds else None
            talk = rng.expovariate(1 / scenario.handle_seconds)
            legs.append(voice.call_in("caller", "main", gives_up_after=patience, talks_for=talk))
        for leg in legs:
            await leg.ended.wait()
        await asyncio.sleep(0)
        end = asyncio.get_running_loop().time()
        await voice.stop()
        return runner, end

    runner, end = run_virtual(main())
    metrics = compute(runner.call_log, runner.agent_log, service_seconds=scenario.service_seconds,
                      short_abandon_seconds=0.0, until=end)  # fmt: skip
    waited = sum(1 for w in metrics.waits if w > 1e-9) / max(1, len(metrics.waits))
    return Outcome(metrics, waited, end / 3600)
