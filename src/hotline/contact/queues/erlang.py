"""Staffing maths (R6): Erlang C for a queue without abandonment, Erlang A with it.

Erlang C is computed through the Erlang B recursion (stable for hundreds of agents, no
factorials). Erlang A is the M/M/N+M birth-death chain (callers abandon after an exponential
patience) solved in logarithms, truncated where its tail no longer matters; its service level
has a closed form per queue position (see `served_within`).

Every function here finishes in bounded time on any finite input and refuses the rest with a
`ValueError` naming the argument: the API's schema is tighter still, but these functions are
also called from the CLI and from scripts, and they run in the compute pool, whose time limit
should be a safety net rather than the only thing between a typo and a busy core.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MAX_AGENTS = 10_000
"""More agents than any single queue has; every loop below is at most this long (or MAX_QUEUE)."""
MAX_QUEUE = 100_000
"""Callers waiting at most in the Erlang A chain; beyond it the tail is cut (and it is negligible
for any input the API accepts: there it ends within a few thousand states)."""
_SECONDS = (1e-6, 1e9)
"""What any time in seconds must lie within to be computed (a microsecond to 30 years)."""
_CALLS = (1e-9, 1e9)


class OutOfRange(ValueError):
    """An argument the maths cannot take; `argument` names it."""

    def __init__(self, argument: str, message: str) -> None:
        super().__init__(f"{argument}: {message}")
        self.argument = argument


def _finite(argument: str, value: float, low: float, high: float) -> float:
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise OutOfRange(argument, f"must be a finite number, not {value!r}")
    if not low <= value <= high:
        raise OutOfRange(argument, f"must lie between {low:g} and {high:g}, not {value:g}")
    return float(value)


def _agents(value: int) -> int:
    if not isinstance(value, int) or not 1 <= value <= MAX_AGENTS:
        raise OutOfRange("agents", f"must be a whole number from 1 to {MAX_AGENTS}, not {value!r}")
    return value


def _traffic(calls_per_hour: float, handle_seconds: float) -> float:
    calls = _finite("calls_per_hour", calls_per_hour, *_CALLS)
    handle = _finite("handle_seconds", handle_seconds, *_SECONDS)
    return calls * handle / 3600


def erlang_b(agents: int, traffic: float) -> float:
    _agents(agents)
    _finite("traffic", traffic, 0, _CALLS[1] * _SECONDS[1])
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
    traffic = _traffic(calls_per_hour, handle_seconds)
    target = _finite("target_seconds", target_seconds, 0, _SECONDS[1])
    waits = erlang_c(agents, traffic)
    if agents <= traffic:
        return Staffing(agents, traffic, 1.0, 0.0, math.inf, 1.0, 0.0)
    level = 1 - waits * math.exp(-(agents - traffic) * target / handle_seconds)
    speed = waits * handle_seconds / (agents - traffic)
    return Staffing(agents, traffic, waits, level, speed, traffic / agents, 0.0)


def _log_add(a: float, b: float) -> float:
    high, low = (a, b) if a >= b else (b, a)
    return high + math.log1p(math.exp(low - high))


def erlang_a_staffing(
    agents: int, calls_per_hour: float, handle_seconds: float, patience_seconds: float, target_seconds: float
) -> Staffing:
    """M/M/N+M: callers abandon after an exponential patience with the given mean."""
    traffic = _traffic(calls_per_hour, handle_seconds)
    _agents(agents)
    patience = _finite("patience_seconds", patience_seconds, *_SECONDS)
    target = _finite("target_seconds", target_seconds, 0, _SECONDS[1])
    rate, service, abandon = calls_per_hour / 3600, 1 / handle_seconds, 1 / patience
    # Unnormalised stationary probabilities in logarithms (A^N/N! overflows a float from about
    # 700 Erlangs), until the tail is negligible against the total or the chain is MAX_QUEUE long.
    log_rate = math.log(rate)
    logs = [0.0]
    log_total = 0.0
    for n in range(agents + MAX_QUEUE):
        departures = min(n + 1, agents) * service + max(n + 1 - agents, 0) * abandon
        logs.append(logs[-1] + log_rate - math.log(departures))
        log_total = _log_add(log_total, logs[-1])
        if n + 1 > agents and logs[-1] < log_total - 27.7:  # e^-27.7 ≈ 1e-12
            break
    pi = [math.exp(value - log_total) for value in logs]
    waits = math.fsum(pi[agents:])
    queue = math.fsum((k - agents) * p for k, p in enumerate(pi) if k > agents)
    busy = math.fsum(min(k, agents) * p for k, p in enumerate(pi))
    within = served_within(len(pi) - agents - 1, agents * service, abandon, target)
    level = math.fsum(pi[:agents]) + math.fsum(p * q for p, q in zip(pi[agents:], within, strict=True))
    return Staffing(  # sums of many terms may pass 1 by a rounding error
        agents, traffic, min(1.0, waits), min(1.0, level), queue / rate, min(1.0, busy / agents),
        abandon * queue / rate,
    )  # fmt: skip


def served_within(most_ahead: int, capacity: float, abandon: float, target: float) -> list[float]:
    """P(a caller reaches an agent within `target` s) for k = 0 … `most_ahead` callers ahead of it.

    With k ahead, the caller advances one place at rate N·μ + j·θ (j callers still ahead: an
    agent frees up or one of them hangs up) and hangs up itself at rate θ. Write c = N·μ/θ: in
    every place the total rate is θ(c + j + 1) and the chance that the move is forward rather than
    its own hang-up is (c + j)/(c + j + 1), independent of when it happens. So it gets through with
    probability c/(c + k + 1), after a time S that is the sum of exponentials of rates θ(c + 1) …
    θ(c + k + 1), for which e^(−θS) follows a Beta(c + 1, k + 1) law. Hence

        P(served within t) = c/(c + k + 1) · P(NB ≥ k + 1),

    NB negative binomial with b = c + 1 and success share x = 1 − e^(−θt): its terms are summed in
    logarithms, one per k, so all positions cost O(most_ahead). With θ → 0 this is Erlang C's
    Poisson(N·μ·t) ≥ k + 1.
    """
    c = capacity / abandon
    x = -math.expm1(-abandon * target)
    if x <= 0.0:
        return [0.0] * (most_ahead + 1)
    b, log_x = c + 1, math.log(x)
    log_term = b * math.log1p(-x) if x < 1.0 else -math.inf  # log P(NB = 0)
    below, out = 0.0, []
    for k in range(most_ahead + 1):
        below += math.exp(log_term)
        out.append(c / (c + k + 1) * max(0.0, 1.0 - below))
        log_term += log_x + math.log(k + b) - math.log(k + 1)
    return out


def agents_needed(
    calls_per_hour: float,
    handle_seconds: float,
    *,
    service_level: float,
    target_seconds: float,
    patience_seconds: float | None = None,
    max_agents: int = 2000,
) -> Staffing:
    """The fewest agents that reach the service level (Erlang A when a patience is given).

    More agents never serve worse, so the answer is found by doubling then halving: a few dozen
    evaluations at most, whatever the traffic."""
    traffic = _traffic(calls_per_hour, handle_seconds)
    _finite("service_level", service_level, 1e-9, 1 - 1e-9)
    max_agents = _agents(max_agents)

    def figures(agents: int) -> Staffing:
        if patience_seconds is None:
            return erlang_c_staffing(agents, calls_per_hour, handle_seconds, target_seconds)
        return erlang_a_staffing(agents, calls_per_hour, handle_seconds, patience_seconds, target_seconds)

    def enough(staffing: Staffing) -> bool:
        return staffing.service_level is not None and staffing.service_level >= service_level

    low = max(1, math.floor(traffic) + (1 if patience_seconds is None else 0))  # may not be enough
    if low > max_agents:
        raise OutOfRange("calls_per_hour", f"more than {max_agents} agents would be needed")
    step, high = 1, low
    best = figures(high)
    while not enough(best):
        low = high + 1
        if high == max_agents:
            raise OutOfRange("calls_per_hour", f"more than {max_agents} agents would be needed")
        high = min(max_agents, high + step)
        step *= 2
        best = figures(high)
    while low < high:  # enough at `high`, not below `low`
        middle = (low + high) // 2
        candidate = figures(middle)
        if enough(candidate):
            high, best = middle, candidate
        else:
            low = middle + 1
    return best
