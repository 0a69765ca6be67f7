"""The agents of a voice node as the queue runner sees them: seats, presence, and what happens to
an agent around each call (offered, answered, passed on, ended, wrap-up).

`Floor` is the agent side of `QueueRunner` (runner.py adds the callers: waiting, ringing, timers,
callbacks). Every presence change goes through the state machine (`agents/presence.py`), is
logged through `sink`, and a ready agent is offered the best waiting call at once (`_ready`,
which the runner provides).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, replace
from typing import Any

import structlog

from hotline.contact.agents.presence import Agent as PresenceAgent
from hotline.contact.agents.presence import AgentChange, AgentState, Presence
from hotline.contact.metrics import AgentEvent, CallEvent
from hotline.contact.queues.acd import QueueConfig
from hotline.core.errors import InvalidTransition
from hotline.voice.control import PhoneKind

log = structlog.get_logger(__name__)

Sink = Callable[[CallEvent | AgentEvent], None]
DESK_CLOSED = "desktop closed"


@dataclass
class Seat:
    """An agent as routing sees it: phone, how to name them in reasons, skills."""

    agent_id: int
    extension: str
    label: str  # "1003 (003)": extension and work number
    skills: dict[str, int]
    wrap_seconds: float | None = None  # overrides the queue's
    calls_taken: int = 0
    work_number: str = ""
    name: str = ""
    chat_capacity: int = 3  # conversations held at a time (chat_desk.py)
    calls_while_chatting: bool = True
    phone: PhoneKind = "desk"  # where they answer (agents.service.choose_phone); the engine rings that kind


@dataclass(frozen=True)
class QueueRules:
    """What the runner needs of a queue beyond the router's steps and strategy."""

    ring_seconds: float = 15.0
    wrap_seconds: float = 0.0
    max_wait: float | None = None
    overflow_to: str | None = None
    join_when_empty: bool = True
    leave_when_empty: bool = False
    wrap_required: bool = False
    """Agents stay in wrap-up until they write it (disposition and note), however long it takes."""


class Floor:
    """The agent side of the queue runner (see the module docstring)."""

    queues: dict[str, QueueConfig]
    rules: dict[str, QueueRules]
    seats: dict[int, Seat]
    sink: Sink | None
    keep_log: bool
    presence: Presence
    call_log: list[CallEvent]
    agent_log: list[AgentEvent]
    active: dict[str, int]
    """Calls now with an agent (caller leg id → agent id): what the reconciler checks against."""
    unreachable: set[int]
    wrap_pending: dict[int, str]
    """Agents in a wrap-up their queue requires them to write (agent id → call id)."""
    _handled: dict[str, deque[float]]
    _answered_at: dict[str, float]
    _not_ready_after: dict[int, str]
    _ringing: dict[int, asyncio.Task[Any]]
    _tasks: set[asyncio.Task[None]]
    watchers: list[Callable[[int, AgentState], None]]
    """Told of every presence change after it is applied (the chat desk: who may take chats)."""

    def _ready(self, agent_id: int, now: float) -> None:
        """The agent is ready: offer them the best waiting call (the runner's)."""
        raise NotImplementedError

    def _busy(self, agent_id: int) -> None:
        """The agent is not ready for a call from the queues (the runner's)."""
        raise NotImplementedError

    def _waiting_calls(self) -> set[str]:
        """Callers waiting in a queue now (the runner's)."""
        raise NotImplementedError

    @staticmethod
    def _now() -> float:
        return asyncio.get_running_loop().time()

    def _log(self, event: CallEvent | AgentEvent) -> None:
        if self.keep_log:
            if isinstance(event, CallEvent):
                self.call_log.append(event)
            else:
                self.agent_log.append(event)
        if self.sink is not None:
            self.sink(event)

    def _call(
        self,
        call_id: str,
        kind: str,
        queue: str = "",
        agent_id: int | None = None,
        detail: str = "",
        caller: str = "",
    ) -> None:
        self._log(CallEvent(self._now(), call_id, kind, queue, agent_id, detail, caller))

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ---------------------------------------------------------------- presence

    def agent(self, agent_id: int, event: str, **detail: object) -> AgentChange:
        """Apply a presence event (login, ready, not_ready, logout, …): the state machine decides,
        the change is logged, and a ready agent is offered the best waiting call at once.
        Raises InvalidTransition (nothing changes) when the state does not allow it."""
        now = self._now()
        change = self.presence.apply(agent_id, event, now, **detail)
        if change.after is not change.before or event in ("not_ready", "reconcile"):
            queues = ",".join(sorted(self.presence.agent(agent_id).queues))
            self._log(AgentEvent(now, agent_id, change.after.value, change.reason, change.call_id, queues))
        if change.after is AgentState.READY:
            self._ready(agent_id, now)
        else:
            self._busy(agent_id)
            self.unreachable.discard(agent_id)
        for watcher in self.watchers:
            watcher(agent_id, change.after)
        return change

    def _agent_if(self, agent_id: int, event: str, **detail: object) -> None:
        """A presence event the runner itself causes; if the agent changed state meanwhile (a
        supervisor logged them out), the state machine's refusal is logged and ignored."""
        try:
            self.agent(agent_id, event, **detail)
        except InvalidTransition as exc:
            log.info("agent event refused", agent=agent_id, event_name=event, reason=str(exc))

    def restore(self, agent: PresenceAgent) -> None:
        """An agent's state as the event log last recorded it (a restart); a ready agent is
        offered calls at once."""
        if agent.state is AgentState.READY:
            agent = replace(agent, reason="")
        self.presence.restore(agent)
        if agent.state is AgentState.READY:
            self._ready(agent.agent_id, self._now())

    def reconcile(self, live_calls: set[str] | None = None) -> list[AgentChange]:
        """Clear agents ringing or on a call that no longer exists (a lost hang-up, a restart);
        each clearing is logged with why."""
        live = set(self.active) | self._waiting_calls() if live_calls is None else live_calls
        changes = []
        for agent in list(self.presence.agents.values()):
            if agent.state in (AgentState.RINGING, AgentState.ON_CALL) and agent.call_id not in live:
                changes.append(self.agent(agent.agent_id, "reconcile", live_calls=frozenset(live)))
        return changes

    def staffed(self, queue: str) -> bool:
        """Is anybody logged in who could take this queue's calls?"""
        skill = self.queues[queue].skill
        for agent in self.presence.agents.values():
            seat = self.seats.get(agent.agent_id)
            if agent.state is AgentState.LOGGED_OUT or seat is None or skill not in seat.skills:
                continue
            if not agent.queues or queue in agent.queues:
                return True
        return False

    # ---------------------------------------------------------------- calls agents place or pass on

    def offer_directly(self, agent_id: int, call_id: str, queue: str, reason: str) -> Seat:
        """Ring an agent a person chose (a transfer or a consultation), not the router: offered
        as from a queue, so the ACD leaves them alone. Refused (nothing changes) unless ready."""
        seat = self.seats.get(agent_id)
        if seat is None:
            raise KeyError(agent_id)
        self.agent(agent_id, "offer", call_id=call_id)
        self.active[call_id] = agent_id
        self._call(call_id, "offered", queue, agent_id, reason)
        return seat

    def answered_directly(self, call_id: str, seat: Seat, queue: str) -> None:
        seat.calls_taken += 1
        self._answered_at[call_id] = self._now()
        self._agent_if(seat.agent_id, "answer")
        self._call(call_id, "answered", queue, seat.agent_id)

    def not_answered(self, call_id: str, seat: Seat, queue: str, why: str) -> None:
        """A colleague's phone did not answer a transfer: not their fault (they may be at the
        printer), so they stay ready."""
        if self.active.get(call_id) == seat.agent_id:
            del self.active[call_id]
        self._call(call_id, "missed", queue, seat.agent_id, why)
        self._agent_if(seat.agent_id, "withdrawn")

    def take_over(self, consult_id: str, call_id: str, seat: Seat, queue: str) -> None:
        """The consulted colleague now has the caller (a completed transfer)."""
        self.active.pop(consult_id, None)
        self._answered_at.pop(consult_id, None)
        self.agent(seat.agent_id, "take_over", call_id=call_id)
        self.active[call_id] = seat.agent_id
        self._answered_at[call_id] = self._now()
        self._call(call_id, "answered", queue, seat.agent_id, "transferred")

    def dialled(self, agent_id: int, call_id: str, detail: str, campaign: str = "") -> Seat:
        """The agent calls out from the desktop: on that call until it ends; afterwards back to
        ready only if they were ready (an agent making callbacks while not ready stays so).
        `campaign`: the outbound campaign the call is made for (its code, on the dialled line)."""
        seat = self.seats.get(agent_id)
        if seat is None:
            raise KeyError(agent_id)
        before = self.presence.agent(agent_id)
        self.agent(agent_id, "dial", call_id=call_id)
        if before.state is AgentState.NOT_READY:
            self._not_ready_after[agent_id] = before.reason
        self.active[call_id] = agent_id
        self._answered_at[call_id] = self._now()
        self._call(call_id, "dialled", campaign, agent_id, detail)
        return seat

    # ---------------------------------------------------------------- after the call

    def call_ended(self, call_id: str, seat: Seat, queue: str, *, wrap: bool = True) -> None:
        """The agent's call is over: wrap-up (the agent's own time, else the queue's), then ready.
        `wrap=False`: no wrap-up (a consultation, a call out that never connected)."""
        now = self._now()
        answered_at = self._answered_at.pop(call_id, None)
        self.active.pop(call_id, None)
        self._call(call_id, "ended", queue, seat.agent_id)
        if answered_at is not None:
            self._handled.setdefault(queue, deque(maxlen=50)).append(now - answered_at)
        rules = self.rules.get(queue, QueueRules()) if wrap else QueueRules()
        seconds = seat.wrap_seconds if seat.wrap_seconds is not None and wrap else rules.wrap_seconds
        agent = self.presence.agent(seat.agent_id)
        if agent.state is not AgentState.ON_CALL or agent.call_id != call_id:
            return  # the reconciler or a supervisor got there first, or the call was passed on
        if rules.wrap_required:
            self.wrap_pending[seat.agent_id] = call_id
            seconds = max(seconds, 1.0)  # the timer shows how long the wrap-up takes; it never ends it
        self.agent(seat.agent_id, "hung_up", wrap_seconds=seconds)
        if seconds > 0 and not rules.wrap_required:
            asyncio.get_running_loop().call_later(seconds, self._wrap_over, seat.agent_id)
        elif seconds <= 0:
            self._after_call(seat.agent_id)

    def desk_closed(self, agent_id: int) -> None:
        """The agent's desktop closed: a ready agent becomes not ready, and a call ringing them
        stops ringing and goes back in line with its place (as a missed offer)."""
        ringing = self._ringing.get(agent_id)
        if ringing is not None:
            ringing.cancel()
        elif self.presence.agent(agent_id).state is AgentState.READY:
            self.agent(agent_id, "not_ready", reason=DESK_CLOSED)

    def desk_opened(self, agent_id: int) -> None:
        """The agent is back at their desktop: if only its closing made them not ready, they are
        ready again (a long network drop heals itself; a break they chose stays a break)."""
        agent = self.presence.agent(agent_id)
        if agent.state is AgentState.NOT_READY and agent.reason == DESK_CLOSED:
            self.agent(agent_id, "ready")

    def _wrap_over(self, agent_id: int) -> None:
        if self.presence.agent(agent_id).state is AgentState.WRAP_UP:
            self.agent(agent_id, "wrap_over")
            self._after_call(agent_id)

    def wrapped(self, agent_id: int) -> None:
        """The agent wrote their wrap-up: ready at once (or back to not ready after a call out)."""
        self.wrap_pending.pop(agent_id, None)
        if self.presence.agent(agent_id).state is AgentState.WRAP_UP:
            self.agent(agent_id, "ready")
            self._after_call(agent_id)

    def _after_call(self, agent_id: int) -> None:
        reason = self._not_ready_after.pop(agent_id, None)
        if reason is not None and self.presence.agent(agent_id).state is AgentState.READY:
            self.agent(agent_id, "not_ready", reason=reason)
