"""How many calls the dialer places now: preview, progressive and the model-based predictive pacer.

Pure code: no I/O, no clock, no asyncio. The caller (the campaign's dialer loop, or
benchmarks/dialer.py in virtual time) hands a `Snapshot` to `Policy.dial_count` every second or
so and reports what happened to the calls (`observe_*`). Times are seconds on one clock the caller
owns (epoch seconds in production, virtual seconds in the benchmark).

The predictive pacer (docs/outbound.md, "The predictive pacer"):

* learns online, exponentially weighted from sane priors, the connect rate (answered / dialled),
  the ring time until answer and until the network gives up (1-second histograms), and the handle
  time (talk + wrap-up, a log-normal fitted on the logs' mean and variance);
* for each busy agent, the chance that their call ends within a horizon given how long it has
  lasted already (the handle-time distribution conditioned on the elapsed time); for each ringing
  call the chance it is answered within the horizon given how long it has rung;
* dials the n-th new call only when the chance that it is answered while no agent is free (the
  answers expected by then exceed the agents expected free two seconds later, normal
  approximation, averaged over three quantiles of the answer time) is at most a risk that is
  itself steered, answer by answer, so that abandons / answers tends to `target_rate` (2.75 %);
* never lets the calls that could be answered without an agent guaranteed for them
  (ringing + waiting + new - idle) exceed the abandons both windows can still absorb
  (`AbandonWindows.headroom`), and dials progressively while either window's observed rate is at
  or near the cap.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Protocol

DAY = 86_400.0
MONTH = 30 * DAY
REDIAL_BLOCK = 72 * 3_600.0
DEFAULT_CAP = Fraction(3, 100)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What the dialer sees at one decision.

    `busy_elapsed`: per agent on a call or in wrap-up, the seconds since the call reached them.
    `ringing_elapsed`: per call dialled and not yet answered nor given up, the seconds it has rung.
    `waiting`: answered calls waiting (at most the grace time) for an agent.
    """

    now: float
    idle_agents: int
    busy_elapsed: Sequence[float] = ()
    ringing_elapsed: Sequence[float] = ()
    waiting: int = 0


class Policy(Protocol):
    """A dialing mode: how many new calls to place now."""

    name: str

    def dial_count(self, snap: Snapshot) -> int: ...


class PreviewPolicy:
    """The agent sees the record, then clicks to dial: one call per click, never more."""

    name = "preview"

    def __init__(self) -> None:
        self._clicks = 0

    def click(self) -> None:
        self._clicks += 1

    def dial_count(self, snap: Snapshot) -> int:
        count, self._clicks = min(self._clicks, snap.idle_agents), 0
        return count


class ProgressivePolicy:
    """One call per free agent: never more calls in the air than idle agents, so none is abandoned."""

    name = "progressive"

    def dial_count(self, snap: Snapshot) -> int:
        return progressive_count(snap)


def progressive_count(snap: Snapshot) -> int:
    return max(0, snap.idle_agents - len(snap.ringing_elapsed) - snap.waiting)


class AbandonWindows:
    """A campaign's live answers and abandoned answered calls, over a rolling 24 h and 30-day window.

    An abandoned answered call is also a live answer (it counts in both numbers). Counts are exact:
    every event keeps its timestamp until it has left the longest window. The 72-hour no-redial rule
    reads the same store (`abandoned_recently`).
    """

    def __init__(self, cap: Fraction = DEFAULT_CAP, windows: tuple[float, ...] = (DAY, MONTH)) -> None:
        if not 0 < cap < 1:
            raise ValueError("cap must be between 0 and 1")
        self.cap = cap
        self.windows = windows
        self._answers: list[float] = []
        self._abandons: list[float] = []
        self._last_abandon: dict[str, float] = {}

    def record_answer(self, at: float) -> None:
        self._answers.append(at)
        self._trim(at)

    def record_answers(self, at: float, count: int) -> None:
        """`count` live answers at `at` (a campaign's history loaded minute by minute: its start,
        so they leave the windows early — which only lowers the headroom)."""
        self._answers.extend([at] * count)
        self._trim(at)

    def record_abandon(self, at: float, number: str | None = None) -> None:
        self._answers.append(at)
        self._abandons.append(at)
        if number is not None:
            self._last_abandon[number] = at
        self._trim(at)

    def counts(self, now: float, window: float, *, answers_from: float | None = None) -> tuple[int, int]:
        """(live answers, abandons) in (now - window, now]; answers only after `answers_from` if given."""
        start = now - window
        first = start if answers_from is None else max(answers_from, start)
        answers = _count_in(self._answers, first, now)
        abandons = _count_in(self._abandons, start, now)
        return answers, abandons

    def rate(self, now: float, window: float) -> float:
        answers, abandons = self.counts(now, window)
        return abandons / answers if answers else 0.0

    def headroom(self, now: float, horizon: float = 0.0) -> int:
        """How many more abandons, happening at any time in [now, now + horizon], every window can
        absorb: for each window, the largest k with (D + k) <= cap * (A + k), where D counts the
        abandons in the window now and A only the answers still inside it at now + horizon. Each
        abandon adds one to both, hence k <= (cap*A - D) / (1 - cap). Negative when over the cap."""
        num, den = self.cap.numerator, self.cap.denominator
        best: int | None = None
        for window in self.windows:
            answers, _ = self.counts(now, window, answers_from=now + horizon - window)
            _, abandons = self.counts(now, window)
            k = (num * answers - den * abandons) // (den - num)
            best = k if best is None else min(best, k)
        return best if best is not None else 0

    def abandoned_recently(self, number: str, now: float, within: float = REDIAL_BLOCK) -> bool:
        """True when a call to `number` was abandoned less than 72 h (`within`) before `now`."""
        at = self._last_abandon.get(number)
        return at is not None and now - at < within

    def _trim(self, now: float) -> None:
        horizon = now - max(self.windows)
        for times in (self._answers, self._abandons):
            if len(times) > 4096 and times[len(times) // 4] <= horizon:
                del times[: bisect_left(times, horizon)]
        if len(self._last_abandon) > 4096:
            self._last_abandon = {n: t for n, t in self._last_abandon.items() if now - t < REDIAL_BLOCK}


def _count_in(times: list[float], start: float, end: float) -> int:
    """Events in (start, end]."""
    return bisect_right(times, end) - bisect_right(times, start)


@dataclass(frozen=True, slots=True)
class PacerSettings:
    """The predictive pacer's knobs and priors (the defaults are what benchmarks/dialer.py tuned)."""

    marginal_risk: float = 0.02  # at first, dial the n-th call while its chance of abandon is at most this
    target_rate: float = 0.0275  # the risk above moves so that abandons / answers tends to this
    risk_step: float = 0.02  # how fast it moves: x e^(step*target) per answer, x e^(-step) per abandon
    grace: float = 2.0  # an answered call waits this long for an agent, then it is abandoned
    max_ring: float = 30.0  # the dialer hangs up a call not answered by then
    near_cap: float = 0.97  # progressive while a window's rate is at least this share of the cap
    max_lines_per_agent: float = 3.0
    weight: float = 0.002  # weight of each new observation in the moving estimates
    refresh: float = 300.0  # seconds between rebuilds of the conditional tables
    prior_connect: float = 0.25
    prior_handle_mean: float = 180.0
    prior_handle_sigma: float = 0.6  # of the handle time's log
    prior_answer_ring: tuple[float, float] = (4.0, 20.0)  # answers spread evenly over this range


_QUANTILES = (1 / 6, 1 / 2, 5 / 6)
_HANDLE_BINS = 3_600  # elapsed handle times tabled second by second up to an hour


class _Histogram:
    """A 1-second histogram whose bins decay exponentially: each observation weighs `weight` of the
    total. O(1) per observation (the increment grows instead of the bins shrinking)."""

    def __init__(self, bins: int, weight: float) -> None:
        self.counts = [0.0] * bins
        self._keep = 1.0 - weight
        self._weight = weight
        self._inc = weight

    def add(self, value: float) -> None:
        self.counts[min(max(int(value), 0), len(self.counts) - 1)] += self._inc
        self._inc /= self._keep
        if self._inc > 1e200:
            self.counts = [c / self._inc for c in self.counts]
            self._inc = 1.0

    def cdf(self) -> list[float]:
        """cdf[e] = share of the mass below e (e = 0 .. bins)."""
        total = sum(self.counts)
        out, run = [0.0], 0.0
        for c in self.counts:
            run += c
            out.append(run / total if total else 0.0)
        return out


def _phi(z: float) -> float:
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


class PredictivePolicy:
    """The model-based predictive pacer for one campaign (see the module's docstring)."""

    name = "predictive"

    def __init__(self, windows: AbandonWindows | None = None, settings: PacerSettings | None = None) -> None:
        self.windows = windows if windows is not None else AbandonWindows()
        self.s = settings if settings is not None else PacerSettings()
        s = self.s
        self.connect_rate = s.prior_connect
        self.log_mean = math.log(s.prior_handle_mean) - s.prior_handle_sigma**2 / 2
        self.log_var = s.prior_handle_sigma**2
        ring_bins = int(s.max_ring) + 1
        self._answer_ring = _Histogram(ring_bins, s.weight)
        self._give_up_ring = _Histogram(ring_bins, s.weight)
        low, high = s.prior_answer_ring
        for i in range(int(low), int(high) + 1):
            self._answer_ring.counts[i] = 1.0 / (int(high) - int(low) + 1)
        self._give_up_ring.counts[-1] = 1.0
        self.risk = s.marginal_risk
        self._built_at: float | None = None
        self._build()

    # -- learning --------------------------------------------------------------------------------
    def observe_dial(self, ring_seconds: float, *, answered: bool) -> None:
        """A dialled call ended its ringing: answered after `ring_seconds`, or given up then."""
        self.connect_rate += self.s.weight * ((1.0 if answered else 0.0) - self.connect_rate)
        (self._answer_ring if answered else self._give_up_ring).add(ring_seconds)

    def observe_handle(self, handle_seconds: float) -> None:
        """An agent finished a call and its wrap-up after `handle_seconds` in all."""
        d = math.log(max(handle_seconds, 1.0)) - self.log_mean
        self.log_mean += self.s.weight * d
        self.log_var = (1.0 - self.s.weight) * (self.log_var + self.s.weight * d * d)

    def observe_answer(self, at: float) -> None:
        """A live answer reached an agent."""
        self.windows.record_answer(at)
        self._steer(self.s.target_rate)

    def observe_abandon(self, at: float, number: str | None = None) -> None:
        """An answered call found no agent within the grace time (it heard the recorded message)."""
        self.windows.record_abandon(at, number)
        self._steer(self.s.target_rate - 1.0)

    def _steer(self, step: float) -> None:
        # Stochastic approximation: at equilibrium abandons / answers = target_rate.
        self.risk = min(0.5, max(1e-4, self.risk * math.exp(self.s.risk_step * step)))

    # -- deciding --------------------------------------------------------------------------------
    def dial_count(self, snap: Snapshot) -> int:
        if self._built_at is None or snap.now - self._built_at >= self.s.refresh:
            self._build(snap.now)
        progressive = progressive_count(snap)
        ringing = len(snap.ringing_elapsed)
        # The hard cap: calls that may be answered with no agent kept for them never outnumber the
        # abandons the windows can absorb until every one of them has rung out.
        headroom = max(0, self.windows.headroom(snap.now, self.s.max_ring + self.s.grace))
        by_cap = headroom - (ringing + snap.waiting - snap.idle_agents)
        agents = snap.idle_agents + len(snap.busy_elapsed)
        by_lines = int(self.s.max_lines_per_agent * agents) - ringing - snap.waiting
        limit = min(by_cap, by_lines)
        if limit <= progressive or self.near_cap(snap.now):
            return progressive
        return max(progressive, self._model_count(snap, limit))

    def near_cap(self, now: float) -> bool:
        """Either window's observed abandon rate is at or near the cap."""
        bound = float(self.windows.cap) * self.s.near_cap
        return any(self.windows.rate(now, w) >= bound for w in self.windows.windows)

    def _model_count(self, snap: Snapshot, limit: int) -> int:
        last = _HANDLE_BINS - 1
        busy = [e if e < last else last for e in map(int, snap.busy_elapsed)]
        top = len(self._ring_answer[0]) - 1
        ringing = [e if e < top else top for e in map(int, snap.ringing_elapsed)]
        base: list[tuple[float, float, float]] = []
        for k in range(len(_QUANTILES)):
            free = snap.idle_agents + sum(map(self._free[k].__getitem__, busy))
            var = sum(map(self._free_var[k].__getitem__, busy))
            answers = snap.waiting + sum(map(self._ring_answer[k].__getitem__, ringing))
            var += sum(map(self._ring_answer_var[k].__getitem__, ringing))
            base.append((answers - free + 0.5, var + 0.25, self._new_answer[k]))
        risk_cap = self.risk * len(base)
        n = 0
        while n < limit:
            risk = 0.0
            for mean, var, q in base:
                risk += _phi((mean + n * q) / math.sqrt(var + n * q * (1.0 - q)))
            if risk > risk_cap:
                break
            n += 1
        return n

    def _build(self, now: float | None = None) -> None:
        """Rebuild the conditional tables from the current estimates."""
        self._built_at = now
        p = self.connect_rate
        answer_cdf = self._answer_ring.cdf()
        give_up_cdf = self._give_up_ring.cdf()
        top = len(answer_cdf) - 1
        horizons = [next((e for e, c in enumerate(answer_cdf) if c >= q), top) for q in _QUANTILES]
        self._new_answer = [p * answer_cdf[h] for h in horizons]
        self._ring_answer, self._ring_answer_var = [], []
        for h in horizons:
            row = []
            for e in range(top + 1):
                alive = p * (1.0 - answer_cdf[e]) + (1.0 - p) * (1.0 - give_up_cdf[e])
                gain = p * (answer_cdf[min(e + h, top)] - answer_cdf[e])
                row.append(min(1.0, gain / alive) if alive > 1e-12 else 0.0)
            self._ring_answer.append(row)
            self._ring_answer_var.append([x * (1.0 - x) for x in row])
        sigma = math.sqrt(max(self.log_var, 1e-6))

        def cdf(x: float) -> float:
            return _phi((math.log(x) - self.log_mean) / sigma) if x > 0 else 0.0

        reach = max(horizons) + math.ceil(self.s.grace) + 1
        survival = [1.0 - cdf(e) for e in range(_HANDLE_BINS + reach)]
        self._free, self._free_var = [], []
        for h in horizons:
            d = h + math.ceil(self.s.grace)
            row, prev = [], 1.0
            for e in range(_HANDLE_BINS):
                alive = survival[e]
                prev = (alive - survival[e + d]) / alive if alive > 1e-12 else prev
                row.append(prev)
            self._free.append(row)
            self._free_var.append([x * (1.0 - x) for x in row])
