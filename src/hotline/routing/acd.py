"""The ACD's decision: which waiting call goes to which free agent now, and why.

Pure and synchronous: waiting entries and agents in, decisions out, each with the reason in words
("offered to 1003 (003): last agent of this customer, idle 42 s"). The queue runner (next) calls
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

from dataclasses import dataclass
from enum import StrEnum


class Strategy(StrEnum):
    LONGEST_IDLE = "longest-idle"
    ROUND_ROBIN = "round-robin"
    FEWEST_CALLS = "fewest-calls"
    SKILL_LEVEL_FIRST = "skill-level-first"


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
    reason: str


def _step_of(config: QueueConfig, waited: float) -> tuple[int, Step]:
    for number, step in enumerate(config.steps, 1):
        if step.until is None or waited < step.until:
            return number, step
    return len(config.steps), config.steps[-1]


def _window(config: QueueConfig, number: int) -> str:
    start = config.steps[number - 2].until if number > 1 else 0
    end = config.steps[number - 1].until
    return f"{start:g}–{end:g} s" if end is not None else f"after {start:g} s"


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
        number, step = _step_of(config, waited)
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
        if step.sticky:
            why = f"last agent of this customer, {why}"
        elif step.min_level > 1:
            why = f"skill {config.skill} ≥ {step.min_level}, {why}"
        where = f"step {number}, {_window(config, number)}, waited {waited:.0f} s"
        reason = f"offered to {agent.label}: {why} ({where})"
        decisions.append(Decision(entry.call_id, agent.agent_id, entry.queue, number, reason))
        del free[agent.agent_id]
    return decisions


def _pick(config: QueueConfig, candidates: list[FreeAgent], now: float) -> tuple[FreeAgent, str]:
    if config.strategy is Strategy.FEWEST_CALLS:
        agent = min(candidates, key=lambda a: (a.calls_taken, a.idle_since, a.agent_id))
        return agent, f"fewest calls ({agent.calls_taken})"
    if config.strategy is Strategy.SKILL_LEVEL_FIRST:
        agent = min(candidates, key=lambda a: (-a.skills[config.skill], a.idle_since, a.agent_id))
        return agent, f"highest {config.skill} level ({agent.skills[config.skill]})"
    if config.strategy is Strategy.ROUND_ROBIN:
        ordered = sorted(candidates, key=lambda a: a.agent_id)
        agent = next((a for a in ordered if a.agent_id > config.rotation), ordered[0])
        config.rotation = agent.agent_id
        return agent, "next in turn"
    agent = min(candidates, key=lambda a: (a.idle_since, a.agent_id))
    return agent, f"idle {now - agent.idle_since:.0f} s"
