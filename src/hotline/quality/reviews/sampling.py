"""Which calls a sampling plan picks for evaluation, pure: candidate call facts in, picks out.

A plan takes N calls per agent (per run, a week) spread over strata — the queue, the direction and
a duration band, as the plan chooses — in proportion to how many calls each stratum holds
(largest remainder, so the counts add up to exactly N), and *always* takes the calls its
"always" rules name: every complaint, every call over 15 minutes, every survey score ≤ 2, every
forbidden-phrase hit, and (when the plan sets them) every call the automatic checks found with a
long silence or much overtalk. Always-picks come on top of the N. Calls sampled by an earlier run are
passed as `taken` and never picked again. The random choice inside a stratum comes from a seeded
RNG per agent over the calls in a fixed order, so a run is repeatable: the same facts and seed give
the same picks whatever order the facts came in.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

DIMENSIONS = ("queue", "direction", "duration")


@dataclass(frozen=True)
class CallFacts:
    """What sampling knows of a call (contact's call log, or the recordings index)."""

    call_id: str
    agent_id: int
    queue: str
    direction: str
    seconds: int
    survey: int | None
    complaint: bool
    started_at: datetime
    forbidden_hit: bool = False
    longest_silence: float = 0.0
    """The longest silence in any recorded part (the automatic checks; 0 when not checked)."""
    overtalk: float = 0.0
    """Seconds both sides spoke at once, over the call's recorded parts."""


@dataclass(frozen=True)
class Always:
    complaint: bool = True
    long_seconds: int | None = 900
    """Every call longer than this (15 minutes: the monthly 超长录音 list)."""
    survey_at_most: int | None = 2
    forbidden_hit: bool = True
    silence_at_least: int | None = None
    """Every call with a silence this long (dead air: the agent left the caller waiting)."""
    overtalk_at_least: int | None = None
    """Every call where both sides spoke at once this long in all (interrupting the caller)."""


@dataclass(frozen=True)
class Rules:
    per_agent: int
    strata: tuple[str, ...] = DIMENSIONS
    bands: tuple[int, ...] = (60, 180, 600)
    """Duration band bounds in seconds: under 60 s, 60–180 s, 180–600 s, 600 s and over."""
    always: Always = field(default_factory=Always)
    queues: frozenset[str] = frozenset()
    """Only these queues' calls (empty: every queue)."""
    agents: frozenset[int] = frozenset()
    """Only these agents' calls (empty: every agent)."""


@dataclass(frozen=True)
class Pick:
    call: CallFacts
    reason: str
    """sample | complaint | long | survey | forbidden | silence | overtalk"""


def band(seconds: int, bounds: Sequence[int]) -> int:
    """The duration band a call falls in: the number of bounds it reaches."""
    return sum(1 for bound in bounds if seconds >= bound)


def stratum(call: CallFacts, rules: Rules) -> tuple[object, ...]:
    values = {"queue": call.queue, "direction": call.direction, "duration": band(call.seconds, rules.bands)}
    return tuple(values[d] for d in rules.strata)


def always_reason(call: CallFacts, always: Always) -> str | None:
    if always.complaint and call.complaint:
        return "complaint"
    if always.long_seconds is not None and call.seconds > always.long_seconds:
        return "long"
    if always.survey_at_most is not None and call.survey is not None and call.survey <= always.survey_at_most:
        return "survey"
    if always.forbidden_hit and call.forbidden_hit:
        return "forbidden"
    if always.silence_at_least is not None and call.longest_silence >= always.silence_at_least:
        return "silence"
    if always.overtalk_at_least is not None and call.overtalk >= always.overtalk_at_least:
        return "overtalk"
    return None


def allocate(sizes: dict[tuple[object, ...], int], n: int) -> dict[tuple[object, ...], int]:
    """N spread over strata in proportion to their sizes, adding up to min(N, total) exactly:
    each stratum its floor share, the rest to the largest remainders (ties by stratum order)."""
    total = sum(sizes.values())
    if total <= n:
        return dict(sizes)
    shares = {key: n * size // total for key, size in sizes.items()}
    left = n - sum(shares.values())
    by_remainder = sorted(sizes, key=lambda key: (-(n * sizes[key] % total), repr(key)))
    for key in by_remainder[:left]:
        shares[key] += 1
    return shares


def select(candidates: Iterable[CallFacts], rules: Rules, seed: int, taken: Iterable[str] = ()) -> list[Pick]:
    """The calls to evaluate (see the module docstring), always-picks first, then each agent's
    sample, agents in id order."""
    seen = set(taken)
    calls: dict[str, CallFacts] = {}
    for call in sorted(candidates, key=lambda c: c.call_id):
        if call.call_id in seen or call.call_id in calls:
            continue
        if rules.queues and call.queue not in rules.queues:
            continue
        if rules.agents and call.agent_id not in rules.agents:
            continue
        calls[call.call_id] = call
    picks: list[Pick] = []
    pool: dict[int, dict[tuple[object, ...], list[CallFacts]]] = defaultdict(lambda: defaultdict(list))
    for call in calls.values():
        reason = always_reason(call, rules.always)
        if reason is not None:
            picks.append(Pick(call, reason))
        else:
            pool[call.agent_id][stratum(call, rules)].append(call)
    for agent_id in sorted(pool):
        strata = pool[agent_id]
        rng = random.Random(f"{seed}:{agent_id}")  # noqa: S311 - repeatable sampling, not secrecy
        shares = allocate({key: len(found) for key, found in strata.items()}, rules.per_agent)
        for key in sorted(strata, key=repr):
            picks.extend(Pick(call, "sample") for call in rng.sample(strata[key], shares[key]))
    return picks
