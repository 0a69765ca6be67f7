"""The predictive pacer against a VICIdial-style adaptive dialer, in one simulated world.

    uv run python benchmarks/dialer.py [--hours 100] [--agents 100] [--seed 1] [--runs 3]

A discrete-event simulation in virtual time (a heap of events, pure Python, deterministic for a
seed) of a predictive campaign: --agents agents for --hours hours; each call dialled is answered
with probability --connect (25 %) after 5-20 s of ringing, else the network gives up at 25 s; an
answered call waits at most 2 s for a free agent, else it is an abandoned answered call; a call
with an agent lasts a log-normal handle time (talk + wrap-up, mean 180 s). Every second the policy
under test says how many calls to dial. Both policies run on the same world (same seeds):

* "hotline": hotline.outbound.pacer.PredictivePolicy (the model-based pacer and its hard cap);
* "vicidial": a baseline written here after VICIdial's adaptive method ADAPT_HARD_LIMIT
  (AST_VDadapt): a dial level (lines per logged-in agent, 1.0 to 3.0) recomputed every 15 s from
  agents waiting minus calls waiting, forced back to 1.0 while the dropped share of answers since
  midnight is at or above ADAPT_HARD_LIMIT = 3 %; each second it dials level x agents minus the
  calls already up (ringing, waiting or with an agent).

The calls are simulated as timings, not through the simulated voice driver
(hotline.voice.simulated): that driver runs real coroutines per call and ~800,000 dials would take
hours; the pacer only sees timings anyway.

Reported per policy (median of --runs seeds): talk minutes per agent-hour (handle time, talk plus
wrap-up, as the world's 180 s), the abandon rate of the worst calendar day, the worst rolling 24 h
window at any abandon, and the whole run (the 30-day window's stand-in), calls dialled, answered.
"""

from __future__ import annotations

import argparse
import heapq
import math
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing import Pool
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from hotline.outbound.pacer import (  # noqa: E402
    DAY,
    AbandonWindows,
    PacerSettings,
    PredictivePolicy,
    Snapshot,
)

TICK, RING_END, WAIT_END, AGENT_FREE, ADAPT = range(5)
ADAPT_HARD_LIMIT = 0.03


@dataclass(frozen=True, slots=True)
class World:
    agents: int = 100
    hours: float = 100.0
    connect: float = 0.25
    handle_mean: float = 180.0
    handle_sigma: float = 0.5  # of the log
    ring_answer: tuple[float, float] = (5.0, 20.0)
    give_up: float = 25.0
    grace: float = 2.0
    tick: float = 1.0  # both dialers decide once a second, as VICIdial's AST_VDauto_dial loop


class VicidialAdaptive:
    """The baseline: VICIdial's adaptive dial level with the hard drop limit, as described above."""

    name = "vicidial"

    def __init__(self, agents: int, gain: float = 0.01, max_level: float = 3.0) -> None:
        self.level = 1.0
        self.gain = gain
        self.max_level = max_level
        self.agents = agents
        self.day = -1
        self.answers = 0
        self.drops = 0

    def observe_answer(self, at: float) -> None:
        self._roll(at)
        self.answers += 1

    def observe_abandon(self, at: float, number: str | None = None) -> None:
        self._roll(at)
        self.answers += 1
        self.drops += 1

    def _roll(self, at: float) -> None:
        day = int(at // DAY)
        if day != self.day:  # the counts restart at midnight
            self.day, self.answers, self.drops = day, 0, 0

    def adapt(self, now: float, agents_waiting: int, calls_waiting: int) -> None:
        self._roll(now)
        if self.answers and self.drops / self.answers >= ADAPT_HARD_LIMIT:
            self.level = 1.0
            return
        diff = (agents_waiting - calls_waiting) / self.agents
        self.level = min(self.max_level, max(1.0, self.level + self.gain * diff))

    def count(self, calls_up: int) -> int:
        return max(0, int(self.level * self.agents) - calls_up)


@dataclass(slots=True)
class Result:
    policy: str
    seed: int
    handled: float = 0.0
    dialled: int = 0
    answered: int = 0
    abandoned: int = 0
    worst_day: float = 0.0
    worst_rolling: float = 0.0
    seconds: float = 0.0

    def talk_per_agent_hour(self, world: World) -> float:
        return self.handled / 60.0 / (world.agents * world.hours)

    def rate(self) -> float:
        return self.abandoned / self.answered if self.answered else 0.0


def simulate(
    world: World, policy_name: str, seed: int, settings: PacerSettings | None = None, gain: float = 0.01
) -> Result:
    started = time.perf_counter()
    rng = random.Random(seed)
    end = world.hours * 3600.0
    mu = math.log(world.handle_mean) - world.handle_sigma**2 / 2
    lo, hi = world.ring_answer
    pacer = PredictivePolicy(settings=settings) if policy_name == "hotline" else None
    base = VicidialAdaptive(world.agents, gain) if pacer is None else None
    meter = AbandonWindows()
    res = Result(policy_name, seed)
    day_answers: dict[int, int] = {}
    day_drops: dict[int, int] = {}
    idle = world.agents
    busy: dict[int, float] = {}  # agent -> start of the call
    ringing: dict[int, float] = {}  # call -> dialled at
    waiting: dict[int, float] = {}  # call -> answered at
    events: list[tuple[float, int, int]] = [(0.0, TICK, 0), (15.0, ADAPT, 0)]
    call_ids = 0
    agent_ids = world.agents  # free agents take fresh ids: only counts and starts matter
    push, pop = heapq.heappush, heapq.heappop
    lognorm, uniform, random_ = rng.lognormvariate, rng.uniform, rng.random

    def connect(now: float) -> None:
        nonlocal idle, agent_ids
        idle -= 1
        agent_ids += 1
        handle = lognorm(mu, world.handle_sigma)
        busy[agent_ids] = now
        res.handled += min(handle, end - now)
        push(events, (now + handle, AGENT_FREE, agent_ids))
        record(now, dropped=False)

    def record(now: float, *, dropped: bool) -> None:
        day = int(now // DAY)
        day_answers[day] = day_answers.get(day, 0) + 1
        policy_obs = pacer if pacer is not None else base
        assert policy_obs is not None
        res.answered += 1
        if dropped:
            res.abandoned += 1
            day_drops[day] = day_drops.get(day, 0) + 1
            meter.record_abandon(now)
            policy_obs.observe_abandon(now)
            res.worst_rolling = max(res.worst_rolling, meter.rate(now, DAY))
        else:
            meter.record_answer(now)
            policy_obs.observe_answer(now)

    while events:
        now, kind, ref = pop(events)
        if now >= end:
            break
        if kind == TICK:
            if pacer is not None:
                snap = Snapshot(
                    now=now,
                    idle_agents=idle,
                    busy_elapsed=[now - s for s in busy.values()],
                    ringing_elapsed=[now - s for s in ringing.values()],
                    waiting=len(waiting),
                )
                n = pacer.dial_count(snap)
            else:
                assert base is not None
                n = base.count(len(ringing) + len(waiting) + len(busy))
            for _ in range(n):
                call_ids += 1
                ringing[call_ids] = now
                answered = random_() < world.connect
                ring = uniform(lo, hi) if answered else world.give_up
                push(events, (now + ring, RING_END if answered else -RING_END, call_ids))
            res.dialled += n
            push(events, (now + world.tick, TICK, 0))
        elif kind == RING_END or kind == -RING_END:
            answered = kind == RING_END
            rang = now - ringing.pop(ref)
            if pacer is not None:
                pacer.observe_dial(rang, answered=answered)
            if answered:
                if idle:
                    connect(now)
                else:
                    waiting[ref] = now
                    push(events, (now + world.grace, WAIT_END, ref))
        elif kind == WAIT_END:
            if waiting.pop(ref, None) is not None:
                record(now, dropped=True)
        elif kind == AGENT_FREE:
            handle = now - busy.pop(ref)
            if pacer is not None:
                pacer.observe_handle(handle)
            idle += 1
            if waiting:
                call = next(iter(waiting))
                del waiting[call]
                connect(now)
        elif kind == ADAPT:
            assert base is not None or pacer is not None
            if base is not None:
                base.adapt(now, idle, len(waiting))
                push(events, (now + 15.0, ADAPT, 0))
    res.worst_day = max((day_drops.get(d, 0) / a for d, a in day_answers.items() if a), default=0.0)
    res.seconds = time.perf_counter() - started
    return res


def _run(job: tuple[World, str, int, float, float]) -> Result:
    world, name, seed, gain, risk = job
    return simulate(world, name, seed, PacerSettings(marginal_risk=risk), gain=gain)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hours", type=float, default=100.0)
    parser.add_argument("--agents", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--gain", type=float, default=0.01, help="the baseline's level change per idle share")
    parser.add_argument(
        "--risk",
        type=float,
        default=PacerSettings().marginal_risk,
        help="the pacer's marginal abandon risk per call",
    )
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args(argv)
    world = World(agents=args.agents, hours=args.hours)
    seeds = [args.seed + i for i in range(args.runs)]
    jobs = [(world, name, seed, args.gain, args.risk) for seed in seeds for name in ("hotline", "vicidial")]
    with Pool(args.processes) as pool:
        results = pool.map(_run, jobs)
    print(
        f"{world.agents} agents, {world.hours:g} h, connect {world.connect:.0%}, "
        f"handle {world.handle_mean:g} s, seeds {seeds}"
    )
    header = (
        f"{'policy':10} {'seed':>5} {'talk min/agent-h':>17} {'worst day':>10} {'worst 24h':>10} {'run':>7} "
        f"{'dialled':>9} {'answered':>9} {'abandoned':>9} {'cpu s':>6}"
    )
    print(header)
    summary: dict[str, dict[str, float]] = {}
    for name in ("hotline", "vicidial"):
        mine = [r for r in results if r.policy == name]
        for r in mine:
            print(
                _row(
                    r.policy,
                    str(r.seed),
                    r.talk_per_agent_hour(world),
                    r.worst_day,
                    r.worst_rolling,
                    r.rate(),
                    r.dialled,
                    r.answered,
                    r.abandoned,
                    r.seconds,
                )
            )

        def med(f: Callable[[Result], float], mine: list[Result] = mine) -> float:
            return statistics.median(f(r) for r in mine)

        summary[name] = {
            "talk": med(lambda r: r.talk_per_agent_hour(world)),
            "day": med(lambda r: r.worst_day),
            "rolling": med(lambda r: r.worst_rolling),
            "run": med(lambda r: r.rate()),
        }
        print(
            _row(
                name,
                "median",
                summary[name]["talk"],
                summary[name]["day"],
                summary[name]["rolling"],
                summary[name]["run"],
                med(lambda r: r.dialled),
                med(lambda r: r.answered),
                med(lambda r: r.abandoned),
                med(lambda r: r.seconds),
            )
        )
    ours, theirs = summary["hotline"], summary["vicidial"]
    ratio = ours["talk"] / theirs["talk"] if theirs["talk"] else float("inf")
    print(f"ratio of talk minutes hotline / vicidial: {ratio:.3f}")
    floor_1 = ours["talk"] >= 50 and max(ours["day"], ours["rolling"], ours["run"]) <= 0.03
    floor_2 = (
        ratio >= 1.1 and ours["run"] <= theirs["run"] and ours["rolling"] <= max(theirs["rolling"], 0.03)
    )
    print(f"floor >= 50 talk-min/agent-h at <= 3 % in every window: {'met' if floor_1 else 'NOT met'}")
    print(
        "floor >= 1.1x the baseline's talk at no more than its abandon rate: "
        + ("met" if floor_2 else "NOT met")
    )


def _row(
    name: str,
    seed: str,
    talk: float,
    day: float,
    rolling: float,
    run: float,
    dialled: float,
    answered: float,
    abandoned: float,
    cpu: float,
) -> str:
    return (
        f"{name:10} {seed:>5} {talk:17.2f} {day:10.2%} {rolling:10.2%} {run:7.2%} {dialled:9.0f} "
        f"{answered:9.0f} {abandoned:9.0f} {cpu:6.1f}"
    )


if __name__ == "__main__":
    main()
