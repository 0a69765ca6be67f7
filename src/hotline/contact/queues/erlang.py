"""Staffing maths (R6): Erlang C for a queue without abandonment, Erlang A with it.

Erlang C is computed through the Erlang B recursion (stable for hundreds of agents, no
factorials). Erlang A is the M/M/N+M birth-death chain (callers abandon after an exponential
patience) solved numerically, truncated where its tail no longer matters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def erlang_b(agents: int, traffic: float) -> float:
    blocking = 1.0
    for k in range(1, agents + 1):
        blocking = traffic * blocking / (k + traffic * blocking)
    return blocking


def erlang_c(agents: int, traffic: float) -> float:
    """Probability that a call waits (all N agents busy), for offered traffic A = λ·AHT < N."""
    if agents <= traffic:
        return 1.0
    blocking = erlang_b(agents, traffic)
    return agents * blocking / (agents - traffic * (1 - blocking))


@dataclass(frozen=True)
class Staffing:
    agents: int
    traffic: float
    wait_probability: float
    service_level: float | None  # share answered within the target time (None: not computed)
    average_speed_of_answer: float  # seconds, over all calls (answered ones, for Erlang A)
    occupancy: float
    abandon_rate: float  # 0 for Erlang C


def erlang_c_staffing(
    agents: int, calls_per_hour: float, handle_seconds: float, target_seconds: float
) -> Staffing:
    traffic = calls_per_hour * handle_seconds / 3600
    waits = erlang_c(agents, traffic)
    if agents <= traffic:
        return Staffing(agents, traffic, 1.0, 0.0, math.inf, 1.0, 0.0)
    level = 1 - waits * math.exp(-(agents - traffic) * target_seconds / handle_seconds)
    speed = waits * handle_seconds / (agents - traffic)
    return Staffing(agents, traffic, waits, level, speed, traffic / agents, 0.0)


def erlang_a_staffing(
    agents: int, calls_per_hour: float, handle_seconds: float, patience_seconds: float, target_seconds: float
) -> Staffing:
    """M/M/N+M: callers abandon after an exponential patience with the given mean."""
    rate, service, abandon = calls_per_hour / 3600, 1 / handle_seconds, 1 / patience_seconds
    probabilities = [1.0]
    total, n = 1.0, 0
    while True:  # unnormalised stationary probabilities, until the tail is negligible
        departures = min(n + 1, agents) * service + max(n + 1 - agents, 0) * abandon
        probabilities.append(probabilities[-1] * rate / departures)
        total += probabilities[-1]
        n += 1
        if n > agents and probabilities[-1] < total * 1e-12:
            break
        if n > agents + 100_000:
            break
    pi = [p / total for p in probabilities]
    waits = sum(pi[agents:])
    queue = sum((k - agents) * p for k, p in enumerate(pi) if k > agents)
    abandon_rate = abandon * queue / rate
    busy = sum(min(k, agents) * p for k, p in enumerate(pi))
    level = _erlang_a_service_level(pi, agents, service, abandon, target_seconds, rate)
    return Staffing(
        agents,
        calls_per_hour * handle_seconds / 3600,
        waits,
        level,
        queue / rate,
        busy / agents,
        abandon_rate,
    )


def _erlang_a_service_level(
    pi: list[float], agents: int, service: float, abandon: float, target: float, rate: float
) -> float:
    """Share of all callers answered within `target` s. A caller who finds k others waiting is
    answered once k+1 places ahead free up, each at rate N·μ + j·θ (j still queued ahead of it,
    itself included as it may leave); it is answered in time if that happens before `target` and
    before its own patience runs out. Computed by uniformising the little chain per k."""
    answered_in_time = sum(pi[:agents])  # found a free agent
    for k in range(0, len(pi) - agents):
        weight = pi[agents + k]
        if weight < 1e-12:
            continue
        answered_in_time += weight * _served_within(k, agents * service, abandon, target)
    return min(1.0, answered_in_time)


def _served_within(ahead: int, capacity: float, abandon: float, target: float) -> float:
    """P(reach an agent within `target`) for a caller with `ahead` callers in front of it."""
    # Phases: `ahead` callers in front (each leaves by service ahead or abandonment), then served.
    # The tagged caller abandons at rate θ in every phase; the front of the queue moves at rate
    # capacity + (callers ahead)·θ. Solve with a small matrix exponential by uniformisation.
    states = ahead + 1  # callers ahead: ahead, ahead-1, ..., 0 (then served)
    rates_out = [capacity + (ahead - i) * abandon for i in range(states)]  # advance
    total_rates = [r + abandon for r in rates_out]  # advance or tagged caller abandons
    uniform = max(total_rates)
    # Poisson(uniform·target) mixture of the jump chain.
    mean = uniform * target
    distribution = [1.0] + [0.0] * states  # last state = served (absorbing)
    served, term, step = 0.0, math.exp(-mean), 0  # after 0 jumps nobody is served yet
    cumulative = term
    while step < 10_000:
        step += 1
        moved = [0.0] * (states + 1)
        for i in range(states):
            p = distribution[i]
            if p == 0.0:
                continue
            moved[i + 1] += p * rates_out[i] / uniform
            moved[i] += p * (uniform - total_rates[i]) / uniform
        moved[-1] += distribution[-1]
        distribution = moved
        term *= mean / step
        cumulative += term
        served += term * distribution[-1]
        if cumulative > 1 - 1e-10 and step > mean:
            break
    return min(1.0, served)


def agents_needed(
    calls_per_hour: float,
    handle_seconds: float,
    *,
    service_level: float,
    target_seconds: float,
    patience_seconds: float | None = None,
    max_agents: int = 2000,
) -> Staffing:
    """The fewest agents that reach the service level (Erlang A when a patience is given)."""
    traffic = calls_per_hour * handle_seconds / 3600
    start = max(1, math.floor(traffic) + (1 if patience_seconds is None else 0))
    for agents in range(start, max_agents + 1):
        figures = (
            erlang_c_staffing(agents, calls_per_hour, handle_seconds, target_seconds)
            if patience_seconds is None
            else erlang_a_staffing(agents, calls_per_hour, handle_seconds, patience_seconds, target_seconds)
        )
        if figures.service_level is not None and figures.service_level >= service_level:
            return figures
    raise ValueError(f"more than {max_agents} agents would be needed")
