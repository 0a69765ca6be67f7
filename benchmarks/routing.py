"""ACD routing throughput: 1,000 agents, 50 skills, 5,000 waiting calls (issue 4's benchmark).

    uv run python benchmarks/routing.py [--runs 5] [--decisions 50000]

Every agent has 3 of the 50 skills at levels 1–5; each skill has a queue that routes in steps
(0–20 s the customer's last agent, 20–60 s skill level ≥ 3, then anyone with the skill). 5,000
calls wait, spread over the queues and over the last two minutes, with three priority levels.
Then agents come free one at a time (the event that triggers most decisions in a call center);
each decision sends a new call into the queues so that 5,000 keep waiting. The clock advances
1 ms per event. Reports decisions per second and the latency of one routing call (p50, p99),
one process, one core.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from hotline.contact.queues.acd import Entry, FreeAgent, QueueConfig, Router, Step

SKILLS = [f"skill{n:02d}" for n in range(50)]
STEPS = (Step(20, sticky=True), Step(60, min_level=3), Step(None))


def run(decisions_wanted: int, seed: int) -> tuple[float, float, float]:
    rng = random.Random(seed)
    router = Router({skill: QueueConfig(skill, skill, steps=STEPS) for skill in SKILLS})
    agents = [
        FreeAgent(n, f"{1000 + n}", {s: rng.randint(1, 5) for s in rng.sample(SKILLS, 3)}, idle_since=0.0)
        for n in range(1000)
    ]
    now, serial = 1000.0, 0

    def new_call(at: float) -> Entry:
        nonlocal serial
        serial += 1
        skill = rng.choice(SKILLS)
        return Entry(f"c{serial}", skill, at, rng.choice((0, 0, 0, 1, 2)), last_agent=rng.randrange(1000))

    for _ in range(5000):
        router.call_arrived(new_call(now - rng.uniform(0, 120)), now)
    latencies: list[float] = []
    decisions = 0
    started = time.perf_counter()
    while decisions < decisions_wanted:
        now += 0.001
        agent = rng.choice(agents)
        agent.idle_since = now
        t0 = time.perf_counter()
        decision = router.agent_free(agent, now)
        latencies.append(time.perf_counter() - t0)
        if decision is not None:
            decisions += 1
            router.call_arrived(new_call(now), now)  # keep 5,000 waiting (the agent is busy now)
        else:
            router.agent_busy(agent.agent_id)  # nothing it may take: it stays out of the pool here
    elapsed = time.perf_counter() - started
    latencies.sort()
    return (
        decisions / elapsed,
        latencies[len(latencies) // 2] * 1e6,
        latencies[int(len(latencies) * 0.99)] * 1e6,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--decisions", type=int, default=50_000)
    args = parser.parse_args()
    results = [run(args.decisions, seed) for seed in range(args.runs)]
    for rate, p50, p99 in results:
        print(f"{rate:10,.0f} decisions/s   p50 {p50:6.1f} µs   p99 {p99:6.1f} µs")
    rate, p50, p99 = (statistics.median(column) for column in zip(*results, strict=True))
    print(f"median: {rate:,.0f} decisions/s, p50 {p50:.1f} µs, p99 {p99:.1f} µs")


if __name__ == "__main__":
    main()
