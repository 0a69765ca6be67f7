"""The ACD's decision: which waiting call goes to which free agent now, and why.

Pure and synchronous: waiting entries and agents in, decisions out, each with the reason as data
(queues/reasons.py: "offered" to 1003 (003), sticky, idle 42 s). The queue runner (next) calls
it whenever an agent becomes free or a call arrives or a routing step expires, rings the chosen
agent through the call-control interface and logs the decision with the call.

- Entries are served by priority (VIP tiers first), then by entry time. A callback keeps the
  entry it had: same place, same entry time, never a new higher-priority entry.
- Each queue routes in ordered steps with expiry, e.g. 0–20 s only the customer's last agent
  (sticky agent, R3), 20–60 s agents with skill level ≥ 3, then anyone with the skill.
- Among the agents a step allows, the queue's strategy picks: longest idle, round robin, fewest
  calls, or highest skill level first (ties: longest idle).
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from dataclasses import dataclass
from enum import StrEnum

from hotline.contact.queues.reasons import Param, RoutingReason


class Strategy(StrEnum):
    LONGEST_IDLE = "longest-idle"
    ROUND_ROBIN = "round-robin"
    FEWEST_CALLS = "fewest-calls"
    SKILL_LEVEL_FIRST = "skill-level-first"
    RING_ALL = "ring-all"
    """Every free agent the step allows rings at once; the first to answer takes the call (the
    router picks the longest idle, the queue runner rings the others with it)."""


@dataclass(frozen=True)
class Step:
    until: float | None  # seconds of waiting this step lasts (None: until answered)
    sticky: bool = False  # only the customer's last agent
    min_level: int = 1


@dataclass
class QueueConfig:
    name: str
    skill: str
    steps: tuple[Step, ...] = (Step(None),)
    strategy: Strategy = Strategy.LONGEST_IDLE
    rotation: int = 0  # round-robin position


@dataclass(frozen=True)
class Entry:
    call_id: str
    queue: str
    entered_at: float
    priority: int = 0  # higher first (VIP tiers)
    customer: str | None = None
    last_agent: int | None = None  # who served this customer last (sticky agent)


@dataclass
class FreeAgent:
    agent_id: int
    label: str  # extension and work number, for the decision's reason
    skills: dict[str, int]
    idle_since: float
    calls_taken: int = 0


@dataclass(frozen=True)
class Decision:
    call_id: str
    agent_id: int
    queue: str
    step: int
    reason: RoutingReason


def _step_of(config: QueueConfig, waited: float, entry: Entry) -> tuple[int, Step]:
    """The routing step the entry is in; a sticky step is skipped for a caller with no last agent."""
    for number, step in enumerate(config.steps, 1):
        if step.sticky and entry.last_agent is None:
            continue
        if step.until is None or waited < step.until:
            return number, step
    return len(config.steps), config.steps[-1]


def _window(config: QueueConfig, number: int, entry: Entry) -> tuple[float, float | None]:
    earlier = [s for s in config.steps[: number - 1] if not (s.sticky and entry.last_agent is None)]
    start = earlier[-1].until if earlier else 0  # a skipped sticky step takes no time
    return start or 0, config.steps[number - 1].until


def _reason(
    config: QueueConfig,
    agent: FreeAgent,
    why: dict[str, Param],
    number: int,
    step: Step,
    entry: Entry,
    now: float,
) -> RoutingReason:
    start, end = _window(config, number, entry)
    return RoutingReason(
        "offered",
        {
            "agent": agent.label, **why, "skill": config.skill, "min_level": step.min_level,
            "sticky": step.sticky, "step": number, "from_seconds": round(start),
            "to_seconds": None if end is None else round(end), "waited": round(now - entry.entered_at),
        },
    )  # fmt: skip


def dispatch(
    entries: list[Entry], agents: list[FreeAgent], queues: dict[str, QueueConfig], now: float
) -> list[Decision]:
    """Match waiting calls with free agents; each agent gets at most one call."""
    free = {agent.agent_id: agent for agent in agents}
    by_skill: dict[str, list[FreeAgent]] = {}
    for agent in agents:
        for skill in agent.skills:
            by_skill.setdefault(skill, []).append(agent)
    decisions: list[Decision] = []
    for entry in sorted(entries, key=lambda e: (-e.priority, e.entered_at)):
        if not free:
            break
        config = queues.get(entry.queue)
        if config is None:
            continue
        waited = now - entry.entered_at
        number, step = _step_of(config, waited, entry)
        candidates = [
            a
            for a in by_skill.get(config.skill, ())
            if a.agent_id in free and a.skills[config.skill] >= step.min_level
        ]
        if step.sticky:
            candidates = [a for a in candidates if a.agent_id == entry.last_agent]
        if not candidates:
            continue
        agent, why = _pick(config, candidates, now)
        reason = _reason(config, agent, why, number, step, entry, now)
        decisions.append(Decision(entry.call_id, agent.agent_id, entry.queue, number, reason))
        del free[agent.agent_id]
    return decisions


def _pick(
    config: QueueConfig, candidates: list[FreeAgent], now: float, *, commit: bool = True
) -> tuple[FreeAgent, dict[str, Param]]:
    if config.strategy is Strategy.FEWEST_CALLS:
        agent = min(candidates, key=lambda a: (a.calls_taken, a.idle_since, a.agent_id))
        return agent, {"pick": "fewest_calls", "calls": agent.calls_taken}
    if config.strategy is Strategy.SKILL_LEVEL_FIRST:
        agent = min(candidates, key=lambda a: (-a.skills[config.skill], a.idle_since, a.agent_id))
        return agent, {"pick": "highest_level", "level": agent.skills[config.skill]}
    if config.strategy is Strategy.ROUND_ROBIN:
        ordered = sorted(candidates, key=lambda a: a.agent_id)
        agent = next((a for a in ordered if a.agent_id > config.rotation), ordered[0])
        if commit:
            config.rotation = agent.agent_id
        return agent, {"pick": "next_in_turn"}
    agent = min(candidates, key=lambda a: (a.idle_since, a.agent_id))
    return agent, _idle(agent, now)


def _idle(agent: FreeAgent, now: float) -> dict[str, Param]:
    return {"pick": "idle", "idle_seconds": round(now - agent.idle_since)}


class Router:
    """The same rules as `dispatch`, kept incrementally for a busy center: a call arriving or an
    agent coming free costs a few index look-ups, not a scan of every waiting call.

    Waiting calls sit in FIFOs per queue, priority and whether the caller has a last agent (sticky
    steps apply only to those): within one FIFO an older call is never less eligible than a newer
    one (its steps only widen with time), so only each FIFO's head needs a look. Free agents sit in
    a per-skill heap by idle time (longest idle first), with stale items skipped lazily; the other
    strategies scan the free agents, who are few whenever calls wait.
    """

    def __init__(self, queues: dict[str, QueueConfig]) -> None:
        self.waiting: dict[str, dict[tuple[int, bool], deque[Entry]]] = {}
        """Per queue, a FIFO per (priority, has a last agent): within one, an older call is never
        less eligible than a newer one."""
        self.alive: dict[str, Entry] = {}
        self.sticky: dict[int, set[str]] = {}  # agent id → calls whose sticky step waits for them
        self.free: dict[int, FreeAgent] = {}
        self._heaps: dict[str, list[tuple[float, int]]] = {}
        self._arrival: dict[str, int] = {}
        self._arrivals = itertools.count()
        self.configure(queues)

    def configure(self, queues: dict[str, QueueConfig]) -> None:
        """New queue settings (an admin edited them); waiting calls keep their places."""
        self.queues = queues
        for name in queues:
            self.waiting.setdefault(name, {})
        self._by_skill: dict[str, list[str]] = {}
        for name, config in queues.items():
            self._by_skill.setdefault(config.skill, []).append(name)

    # ---------------------------------------------------------------- calls

    def call_arrived(self, entry: Entry, now: float) -> Decision | None:
        config = self.queues[entry.queue]
        number, step = _step_of(config, now - entry.entered_at, entry)
        agent = self._agent_for(entry, config, step)
        if agent is not None:
            return self._decide(entry, agent, config, number, step, now)
        self.alive[entry.call_id] = entry
        self._arrival[entry.call_id] = next(self._arrivals)  # ties on entry time: first come first
        fifo = self.waiting[entry.queue].setdefault((entry.priority, entry.last_agent is not None), deque())
        if fifo and fifo[-1].entered_at > entry.entered_at:
            # back after a missed offer or an overflow: its original place, not the end of the line
            place = next(i for i, other in enumerate(fifo) if other.entered_at > entry.entered_at)
            fifo.insert(place, entry)
        else:
            fifo.append(entry)
        if entry.last_agent is not None:
            self.sticky.setdefault(entry.last_agent, set()).add(entry.call_id)
        return None

    def call_left(self, call_id: str) -> None:
        """Answered elsewhere, abandoned or transferred: forget it (its FIFO slot is skipped)."""
        entry = self.alive.pop(call_id, None)
        self._arrival.pop(call_id, None)
        if entry is not None and entry.last_agent is not None:
            self.sticky.get(entry.last_agent, set()).discard(call_id)

    def _agent_for(self, entry: Entry, config: QueueConfig, step: Step) -> FreeAgent | None:
        if config.strategy not in (Strategy.LONGEST_IDLE, Strategy.RING_ALL) and not step.sticky:
            allowed = [
                a for a in self.free.values() if a.skills.get(config.skill, 0) >= step.min_level
            ]  # a scan of the free agents: few while calls wait, which is when it matters
            return _pick(config, allowed, 0.0, commit=False)[0] if allowed else None
        if step.sticky:
            agent = self.free.get(entry.last_agent) if entry.last_agent is not None else None
            return (
                agent if agent is not None and agent.skills.get(config.skill, 0) >= step.min_level else None
            )
        heap = self._heaps.get(config.skill, [])
        skipped: list[tuple[float, int]] = []
        found: FreeAgent | None = None
        while heap:
            key, agent_id = heap[0]
            agent = self.free.get(agent_id)
            if agent is None or key != agent.idle_since:
                heapq.heappop(heap)  # stale: busy now, or back with a newer idle time
                continue
            if agent.skills.get(config.skill, 0) >= step.min_level:
                found = agent
                break
            skipped.append(heapq.heappop(heap))
        for item in skipped:
            heapq.heappush(heap, item)
        return found

    # ---------------------------------------------------------------- agents

    def agent_free(self, agent: FreeAgent, now: float) -> Decision | None:
        """An agent is ready: the best call it may take now, else it waits in the free pool."""
        best: tuple[tuple[int, float, int], Entry, int, Step] | None = None
        for call_id in list(self.sticky.get(agent.agent_id, ())):
            entry = self.alive.get(call_id)
            if entry is None:
                continue
            number, step = _step_of(self.queues[entry.queue], now - entry.entered_at, entry)
            rank = (-entry.priority, entry.entered_at, self._arrival[entry.call_id])
            if step.sticky and (best is None or rank < best[0]):
                best = (rank, entry, number, step)
        for skill, level in agent.skills.items():
            for name in self._by_skill.get(skill, ()):
                config = self.queues[name]
                for (priority, _), fifo in self.waiting[name].items():
                    while fifo and fifo[0].call_id not in self.alive:
                        fifo.popleft()
                    if not fifo:
                        continue
                    head = fifo[0]
                    number, step = _step_of(config, now - head.entered_at, head)
                    if step.sticky or level < step.min_level:
                        continue  # the oldest of this priority cannot be ours yet: none newer can
                    rank = (-priority, head.entered_at, self._arrival[head.call_id])
                    if best is None or rank < best[0]:
                        best = (rank, head, number, step)
        if best is None:
            self.free[agent.agent_id] = agent
            for skill in agent.skills:
                heapq.heappush(self._heaps.setdefault(skill, []), (agent.idle_since, agent.agent_id))
            return None
        _, entry, number, step = best
        self.call_left(entry.call_id)
        return self._decide(entry, agent, self.queues[entry.queue], number, step, now)

    def agent_busy(self, agent_id: int) -> None:
        self.free.pop(agent_id, None)

    def _decide(
        self, entry: Entry, agent: FreeAgent, config: QueueConfig, number: int, step: Step, now: float
    ) -> Decision:
        self.free.pop(agent.agent_id, None)
        if config.strategy in (Strategy.LONGEST_IDLE, Strategy.RING_ALL) or step.sticky:
            why = _idle(agent, now)
        else:
            why = _pick(config, [agent], now)[1]
        reason = _reason(config, agent, why, number, step, entry, now)
        return Decision(entry.call_id, agent.agent_id, entry.queue, number, reason)

    def also_allowed(self, entry: Entry, now: float) -> list[FreeAgent]:
        """Ring-all: take every other free agent the entry's current step allows out of the free
        pool (they ring too; the first to answer takes the call)."""
        config = self.queues[entry.queue]
        _, step = _step_of(config, now - entry.entered_at, entry)
        if step.sticky:
            return []
        taken = [a for a in self.free.values() if a.skills.get(config.skill, 0) >= step.min_level]
        for agent in taken:
            del self.free[agent.agent_id]
        return taken

    def recheck(self, call_id: str, now: float) -> Decision | None:
        """A waiting call's routing step changed (e.g. its sticky step expired): try the free pool
        again with its original entry, so it keeps its place and entry time."""
        entry = self.alive.get(call_id)
        if entry is None:
            return None
        config = self.queues[entry.queue]
        number, step = _step_of(config, now - entry.entered_at, entry)
        agent = self._agent_for(entry, config, step)
        if agent is None:
            return None
        self.call_left(call_id)
        return self._decide(entry, agent, config, number, step, now)
