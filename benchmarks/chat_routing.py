"""The chat ACD at issue 24's size: 1,000 concurrent conversations and 200 agents on one node.

    uv run python benchmarks/chat_routing.py [--runs 5] [--closes 20000]

200 agents, each with 2 of 5 skills at levels 1–5 and a capacity of 3 to 5 conversations; 5
queues that route in steps (0–20 s the customer's last agent, 20–60 s level ≥ 3, then anyone).
1,000 conversations are open at any time: the agents' capacities are full (about 800) and the rest
wait, over three priorities. Then conversations close one at a time — the event that frees
capacity — and each close brings a new conversation so that 1,000 stay open; the clock advances
50 ms per event. Measured: the time from a close to the decision giving the freed room to the next
conversation (`ChatRouter.left` returning it: the ACD's part of "assigned within 1 s of capacity
freeing"; the database write and the push to the desktop come after, on the node's loop), p50 and
p99; and the memory the router holds per waiting conversation (tracemalloc, 1,000 added to an
empty router). One process, one core.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import tracemalloc

from hotline.contact.queues.acd import Entry, QueueConfig, Step
from hotline.contact.queues.chats import ChatRouter, ChatSeat

SKILLS = ["hotel", "travel", "complaint", "vip", "group"]
STEPS = (Step(20, sticky=True), Step(60, min_level=3), Step(None))
AGENTS = 200
OPEN = 1000


def _router(rng: random.Random) -> ChatRouter:
    router = ChatRouter({s: QueueConfig(s, s, steps=STEPS) for s in SKILLS})
    for n in range(AGENTS):
        skills = {s: rng.randint(1, 5) for s in rng.sample(SKILLS, 2)}
        router.seat(ChatSeat(n, f"{1000 + n}", skills, rng.randint(3, 5), True), 0.0)
    return router


def run(closes: int, seed: int) -> tuple[float, float, float, int]:
    rng = random.Random(seed)
    router = _router(rng)
    now, serial = 100.0, 0

    def arrive() -> None:
        nonlocal serial
        serial += 1
        last = rng.randrange(AGENTS) if rng.random() < 0.3 else None
        router.arrived(
            Entry(f"c{serial}", rng.choice(SKILLS), now, rng.choice((0, 0, 0, 1, 2)), None, last), now
        )

    for _ in range(OPEN):
        now += 0.005
        arrive()
    latencies: list[float] = []
    given = 0
    started = time.perf_counter()
    for _ in range(closes):
        now += 0.05
        chat = rng.choice(list(router.holder))
        t0 = time.perf_counter()
        made = router.left(chat, now)
        latencies.append(time.perf_counter() - t0)
        given += len(made)
        arrive()
    elapsed = time.perf_counter() - started
    latencies.sort()
    p50 = latencies[len(latencies) // 2] * 1e6
    p99 = latencies[int(len(latencies) * 0.99)] * 1e6
    return closes / elapsed, p50, p99, given


def memory_per_waiting(seed: int) -> float:
    rng = random.Random(seed)
    router = ChatRouter({s: QueueConfig(s, s, steps=STEPS) for s in SKILLS})
    entries = [Entry(f"c{n}", rng.choice(SKILLS), float(n), 0, None, None) for n in range(OPEN)]
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for entry in entries:
        router.arrived(entry, 0.0)
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    return grown / OPEN


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--closes", type=int, default=20_000)
    args = parser.parse_args()
    rates, p50s, p99s = [], [], []
    for seed in range(args.runs):
        rate, p50, p99, given = run(args.closes, seed)
        rates.append(rate)
        p50s.append(p50)
        p99s.append(p99)
        print(
            f"run {seed + 1}: {rate:,.0f} closes/s, {given:,} given, "
            f"close → decision p50 {p50:.0f} µs p99 {p99:.0f} µs"
        )
    print(
        f"median of {args.runs}: {statistics.median(rates):,.0f} closes/s, "
        f"p50 {statistics.median(p50s):.0f} µs, p99 {statistics.median(p99s):.0f} µs "
        f"(floor: assigned within 1 s, i.e. {1e6 / statistics.median(p99s):,.0f}× under it for the decision)"
    )
    print(f"router memory per waiting conversation: {memory_per_waiting(0):.0f} bytes")


if __name__ == "__main__":
    main()
