"""The simulator against queueing theory (issue 4's benchmark), and a simulated day's wall time.

    uv run python benchmarks/simulator.py [--calls 250000]

With FIFO, one skill, N identical agents, Poisson arrivals, exponential handle times and nobody
giving up, the routing code on the simulated driver must reproduce Erlang C: the share of calls
that wait and the service level (answered within 20 s) within ±0.01 of the formula. Then a
simulated day under each strategy: 200 agents, 30,000 calls (3,000 an hour for 10 hours, 220 s
handle time + 20 s wrap-up = 200 Erlangs of work for 200 agents, 120 s mean patience),
timed on the wall clock.
"""

from __future__ import annotations

import argparse
import time

from hotline.contact.queues.acd import Strategy
from hotline.contact.queues.erlang import erlang_c_staffing
from hotline.contact.simulate import Scenario, simulate

POINTS = [(12, 10.0), (5, 4.0), (30, 24.0)]  # (agents, offered Erlangs)
HANDLE = 180.0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=250_000)
    parser.add_argument("--day-only", action="store_true", help="only the simulated days")
    args = parser.parse_args()
    print(
        "| agents | Erlangs | calls | P(wait) simulated | Erlang C | SL(20 s) simulated | Erlang C | wall s |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for agents, erlangs in [] if args.day_only else POINTS:
        calls_per_hour = erlangs * 3600 / HANDLE
        theory = erlang_c_staffing(agents, calls_per_hour, HANDLE, 20)
        started = time.perf_counter()
        outcome = simulate(Scenario(agents, calls_per_hour, HANDLE, args.calls, seed=agents))
        wall = time.perf_counter() - started
        level = outcome.metrics.service_level or 0.0
        print(
            f"| {agents} | {erlangs:g} | {args.calls:,} | {outcome.waited:.4f} "
            f"| {theory.wait_probability:.4f} | {level:.4f} | {theory.service_level:.4f} | {wall:.1f} |"
        )
    print("\n| simulated day: strategy | wall s | SL (20 s) | abandon | ASA s | occupancy |")
    print("|---|---:|---:|---:|---:|---:|")
    for strategy in (
        Strategy.LONGEST_IDLE,
        Strategy.ROUND_ROBIN,
        Strategy.FEWEST_CALLS,
        Strategy.SKILL_LEVEL_FIRST,
    ):
        started = time.perf_counter()
        day = simulate(
            Scenario(
                200, 3000, 220.0, 30_000, patience_seconds=120.0, wrap_seconds=20.0, seed=7, strategy=strategy
            )
        )
        wall = time.perf_counter() - started
        m = day.metrics
        print(
            f"| {strategy} | {wall:.1f} | {m.service_level or 0:.3f} | {m.abandon_rate or 0:.3f} "
            f"| {m.average_speed_of_answer or 0:.1f} | {m.occupancy or 0:.3f} |"
        )


if __name__ == "__main__":
    main()
