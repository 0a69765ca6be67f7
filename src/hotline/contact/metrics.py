"""Call-center metrics from the one event log (docs/metrics.md gives each definition in words).

Every figure — the wallboard, reports, the simulator's results — is computed here from the same
events, so a number means the same thing everywhere. The functions are pure: events in, figures
out; where the events come from (the database, a simulation) does not matter.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

SHORT_ABANDON_SECONDS = 5.0
"""Callers who hang up sooner than this were probably misdials: not counted as abandoned."""


@dataclass(frozen=True)
class CallEvent:
    """One line of the call side of the event log."""

    at: float
    call_id: str
    kind: str  # queued | offered | missed | answered | overflowed | callback | abandoned | refused | ended …
    queue: str = ""
    agent_id: int | None = None
    detail: str = ""  # words for people: the routing reason, the IVR node, why it ended
    caller: str = ""  # the caller's number, on the lines that leave a call unanswered (callback tasks)
    state: str = ""  # an IVR line: the node's kind


@dataclass(frozen=True)
class AgentEvent:
    """One line of the agent side: the state the agent entered at `at`."""

    at: float
    agent_id: int
    state: str  # logged_out | not_ready | ready | ringing | on_call | wrap_up
    reason: str = ""
    call_id: str | None = None
    queues: str = ""  # the queues the agent is logged in to, comma-separated (empty: all)


@dataclass
class Metrics:
    offered: int = 0
    answered: int = 0
    answered_in_time: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    callbacks: int = 0
    service_level: float | None = None
    abandon_rate: float | None = None
    average_speed_of_answer: float | None = None
    average_handle_time: float | None = None
    occupancy: float | None = None
    waits: list[float] = field(default_factory=list, repr=False)


HANDLING = frozenset({"ringing", "on_call", "wrap_up"})
AVAILABLE = HANDLING | {"ready"}


def compute(
    calls: Iterable[CallEvent],
    agents: Iterable[AgentEvent] = (),
    *,
    service_seconds: float = 20.0,
    short_abandon_seconds: float = SHORT_ABANDON_SECONDS,
    until: float | None = None,
) -> Metrics:
    """The figures of docs/metrics.md over the given events (one queue's, or all)."""
    metrics = Metrics()
    queued: dict[str, float] = {}
    answered_at: dict[str, tuple[float, int | None]] = {}
    handle: list[float] = []
    wraps: dict[int, float] = {}
    for event in sorted(calls, key=lambda e: e.at):
        if event.kind == "queued" and event.call_id not in queued:
            queued[event.call_id] = event.at
            metrics.offered += 1
        elif event.kind == "answered" and event.call_id in queued and event.call_id not in answered_at:
            wait = event.at - queued[event.call_id]
            answered_at[event.call_id] = (event.at, event.agent_id)
            metrics.answered += 1
            metrics.waits.append(wait)
            metrics.answered_in_time += wait <= service_seconds
        elif event.kind == "callback" and event.call_id in queued:
            metrics.callbacks += 1  # keeps its place and entry time: not an abandon
        elif event.kind == "abandoned" and event.call_id in queued and event.call_id not in answered_at:
            if event.at - queued[event.call_id] < short_abandon_seconds:
                metrics.short_abandoned += 1
            else:
                metrics.abandoned += 1
        elif event.kind == "ended" and event.call_id in answered_at:
            handle.append(event.at - answered_at[event.call_id][0])
    # wrap-up time belongs to handling: add each agent's wrap-up periods to its calls' total
    totals = _time_in_states(agents, until)
    for agent_id, spent in totals.items():
        wraps[agent_id] = spent.get("wrap_up", 0.0)
    counted = metrics.offered - metrics.short_abandoned - metrics.callbacks
    if counted > 0:
        metrics.service_level = metrics.answered_in_time / counted
        metrics.abandon_rate = metrics.abandoned / counted
    if metrics.waits:
        metrics.average_speed_of_answer = sum(metrics.waits) / len(metrics.waits)
    if handle:
        metrics.average_handle_time = (sum(handle) + sum(wraps.values())) / len(handle)
    busy = sum(t for spent in totals.values() for state, t in spent.items() if state in HANDLING)
    available = sum(t for spent in totals.values() for state, t in spent.items() if state in AVAILABLE)
    if available > 0:
        metrics.occupancy = busy / available
    return metrics


def _time_in_states(events: Iterable[AgentEvent], until: float | None) -> dict[int, dict[str, float]]:
    """Seconds each agent spent in each state (the last state runs until `until`, if given)."""
    spent: dict[int, dict[str, float]] = {}
    last: dict[int, AgentEvent] = {}
    for event in sorted(events, key=lambda e: e.at):
        previous = last.get(event.agent_id)
        if previous is not None:
            bucket = spent.setdefault(event.agent_id, {})
            bucket[previous.state] = bucket.get(previous.state, 0.0) + event.at - previous.at
        last[event.agent_id] = event
    if until is not None:
        for agent_id, previous in last.items():
            bucket = spent.setdefault(agent_id, {})
            bucket[previous.state] = bucket.get(previous.state, 0.0) + max(0.0, until - previous.at)
    return spent
