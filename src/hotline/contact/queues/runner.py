"""Queues on the call-control interface: callers wait, the router picks agents, agents are rung.

`QueueRunner.wait_for_agent()` is what a flow's transfer-to-queue does: it enters the caller in
the queue, waits for the router's decision (re-checked whenever a routing step expires), rings
the chosen agent and returns the answered agent leg.

- Agents' states live in `Presence` (agents/presence.py), their side of each call in `Floor`
  (floor.py); every change and every call step goes to the event log through `sink` (the
  database in production, lists in the simulator), with the routing reason of each offer.
- A missed offer puts the agent in not-ready (configurable) and the caller back in line with its
  original entry; a caller hanging up while an agent's phone rings withdraws the offer (the agent
  stays ready). A ready agent whose phone is not registered is not offered calls until it is.
- Max wait: the call moves to the overflow queue keeping its entry time, or the flow's fail
  branch takes it. A queue with nobody logged in refuses callers unless it lets them join empty,
  and sends them on if everybody leaves while they wait.
- "Press 1 for a callback": the entry stays in the queue with its place and entry time; when its
  turn comes the agent is rung first, then the customer is called back and the two are bridged.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import structlog

from hotline.contact.agents.presence import AgentState, Presence
from hotline.contact.metrics import SHORT_ABANDON_SECONDS
from hotline.contact.ports import VoiceNode
from hotline.contact.queues.acd import Decision, Entry, FreeAgent, QueueConfig, Router, Strategy
from hotline.contact.queues.floor import DESK_CLOSED, Floor, QueueRules, Seat, Sink
from hotline.contact.queues.reasons import RoutingReason
from hotline.voice.control import EndReason, Leg, LegState, OriginateFailed

log = structlog.get_logger(__name__)

MAX_OVERFLOWS = 3
__all__ = ["Answered", "NoAgent", "QueueRules", "QueueRunner", "Seat", "Waiting"]


class NoAgent(Exception):
    """Nobody will take this call here: the queue is empty, or the caller waited too long."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Answered:
    agent_leg: Leg
    seat: Seat
    queue: str
    decision: Decision


@dataclass(frozen=True)
class Waiting:
    queue: str
    entered_at: float  # on the event loop's clock
    callback: bool


@dataclass
class _Wait:
    entry: Entry
    future: asyncio.Future[Decision]
    caller: str
    leg: Leg | None = None
    """The caller's leg: agents are rung from its voice node (None in the simulator's batch)."""
    callback: bool = False
    overflows: int = 0
    timers: list[asyncio.TimerHandle] = field(default_factory=list)

    def cancel_timers(self) -> None:
        for timer in self.timers:
            timer.cancel()
        self.timers.clear()


@dataclass
class QueueRunner(Floor):
    voice: VoiceNode
    queues: dict[str, QueueConfig]
    rules: dict[str, QueueRules] = field(default_factory=dict)
    seats: dict[int, Seat] = field(default_factory=dict)
    sink: Sink | None = None
    keep_log: bool = True
    """Keep every event in `call_log`/`agent_log` (the simulator and tests read them)."""
    missed_offer_not_ready: bool = True

    def __post_init__(self) -> None:
        self.router = Router(self.queues)
        self.presence = Presence(missed_offer_not_ready=self.missed_offer_not_ready)
        self.call_log = []
        self.agent_log = []
        self.active = {}
        self.unreachable = set()
        self._waits: dict[str, _Wait] = {}
        self._handled = {}  # recent handle times per queue
        self._answered_at = {}
        self._not_ready_after = {}
        self._ringing = {}
        self.wrap_pending = {}
        self._tasks = set()
        self.watchers = []
        self.holds_calls: Callable[[int], bool] = lambda agent_id: False
        """Whether an agent's conversations keep calls from them now (the chat desk says)."""

    def waits(self) -> list[Waiting]:
        """Who waits now, per queue (the wallboard's view): callers and kept callbacks."""
        return [Waiting(w.entry.queue, w.entry.entered_at, w.callback) for w in self._waits.values()]

    # ---------------------------------------------------------------- agents

    def _busy(self, agent_id: int) -> None:
        self.router.agent_busy(agent_id)

    def _waiting_calls(self) -> set[str]:
        return set(self._waits)

    def is_callback(self, call_id: str) -> bool:
        wait = self._waits.get(call_id)
        return wait is not None and wait.callback

    def _ready(self, agent_id: int, now: float) -> None:
        seat = self.seats.get(agent_id)
        if seat is None:
            return
        if self.holds_calls(agent_id):
            self.router.agent_busy(agent_id)  # chatting, and taking no calls while chatting
            return
        if not self.voice.reachable(seat.extension):
            self.unreachable.add(agent_id)  # ready, but the phone is not registered: wait for it
            self.router.agent_busy(agent_id)
            return
        self.unreachable.discard(agent_id)
        state = self.presence.agent(agent_id)
        skills = seat.skills
        if state.queues:
            allowed = {self.queues[q].skill for q in state.queues if q in self.queues}
            skills = {s: level for s, level in seat.skills.items() if s in allowed}
        free = FreeAgent(agent_id, seat.label, skills, idle_since=state.since, calls_taken=seat.calls_taken)
        decision = self.router.agent_free(free, now)
        if decision is not None:
            self._decided(decision)

    def offer_if_ready(self, agent_id: int) -> None:
        """Offer a ready agent the best waiting call now (their last conversation just ended)."""
        if self.presence.agent(agent_id).state is AgentState.READY:
            self._ready(agent_id, self._now())

    def tick(self) -> None:
        """Offer calls to ready agents whose phones have registered since."""
        now = self._now()
        for agent_id in list(self.unreachable):
            if self.presence.agent(agent_id).state is AgentState.READY:
                self._ready(agent_id, now)
            else:
                self.unreachable.discard(agent_id)
        for wait in list(self._waits.values()):
            rules = self.rules.get(wait.entry.queue, QueueRules())
            if rules.leave_when_empty and not wait.callback and not self.staffed(wait.entry.queue):
                self._leave(wait, "everybody left the queue")

    def _decided(self, decision: Decision) -> None:
        wait = self._waits.get(decision.call_id)
        if wait is None or wait.future.done():  # cannot happen: the router forgot it first
            self._ready(decision.agent_id, self._now())
            return
        self.agent(decision.agent_id, "offer", call_id=decision.call_id)
        self._call(decision.call_id, "offered", decision.queue, decision.agent_id, decision.reason.encode())
        wait.future.set_result(decision)

    # ---------------------------------------------------------------- callers

    def position(self, call_id: str) -> tuple[int, float] | None:
        """The caller's place in line (1 = next) and the estimated wait in seconds."""
        wait = self._waits.get(call_id)
        if wait is None:
            return None
        me = wait.entry
        ahead = sum(
            1
            for other in self._waits.values()
            if other.entry.queue == me.queue
            and other is not wait
            and not other.future.done()
            and (-other.entry.priority, other.entry.entered_at) < (-me.priority, me.entered_at)
        )
        handled = self._handled.get(me.queue)
        handle = sum(handled) / len(handled) if handled else 180.0
        skill = self.queues[me.queue].skill
        serving = sum(
            1
            for a in self.presence.agents.values()
            if a.state is not AgentState.LOGGED_OUT and skill in self.seats.get(a.agent_id, _NOBODY).skills
        )
        return ahead + 1, (ahead + 1) * handle / max(1, serving)

    def waiting(self, queue: str | None = None) -> list[Entry]:
        return [w.entry for w in self._waits.values() if queue is None or w.entry.queue == queue]

    async def wait_for_agent(
        self,
        caller: Leg,
        queue: str,
        *,
        priority: int = 0,
        last_agent: int | None = None,
        customer: str | None = None,
    ) -> Answered:
        """Wait in `queue` until an agent answers. Raises NoAgent (the flow's fail branch) when
        the queue is empty or the caller waited too long with nowhere to overflow."""
        now = self._now()
        if queue not in self.queues:
            raise NoAgent(f"no queue {queue!r}")
        rules = self.rules.get(queue, QueueRules())
        if not rules.join_when_empty and not self.staffed(queue):
            self._call(
                caller.id, "refused", queue, detail="nobody is logged in to the queue", caller=caller.caller
            )
            raise NoAgent("empty")
        entry = Entry(caller.id, queue, now, priority, customer, last_agent)
        wait = _Wait(entry, asyncio.get_running_loop().create_future(), caller.caller, caller)
        self._waits[caller.id] = wait
        self._call(caller.id, "queued", queue, detail=f"priority {priority}" if priority else "")
        self._enter(wait)
        handed_over = False
        try:
            answered = await self._until_answered(wait, caller.caller)
            self.active[caller.id] = answered.seat.agent_id
            return answered
        except asyncio.CancelledError:
            if wait.callback:
                handed_over = True
                if wait.future.cancelled():  # it was cancelled with the caller's task: still queued
                    wait.future = asyncio.get_running_loop().create_future()
                elif wait.future.done():  # an agent was being rung for the leaving caller: back in line
                    wait.future = asyncio.get_running_loop().create_future()
                    self._enter(wait, again=True)
                self._spawn(self._call_back(wait))
            else:
                waited = self._now() - wait.entry.entered_at
                ring_back = wait.caller if waited >= SHORT_ABANDON_SECONDS else ""  # not a misdial
                self._call(
                    caller.id, "abandoned", wait.entry.queue, detail=f"after {waited:.0f} s", caller=ring_back
                )
            raise
        finally:
            if not handed_over:
                self._forget(wait)

    def _forget(self, wait: _Wait) -> None:
        wait.cancel_timers()
        self._waits.pop(wait.entry.call_id, None)
        self.router.call_left(wait.entry.call_id)

    async def _until_answered(self, wait: _Wait, caller: str) -> Answered:
        while True:
            decision = await wait.future
            seats = [self.seats[decision.agent_id]]
            if self.queues[wait.entry.queue].strategy is Strategy.RING_ALL:
                seats += self._ring_all_others(wait, decision)
            rules = self.rules.get(wait.entry.queue, QueueRules())
            answered = await self._ring(wait, seats, caller, rules.ring_seconds)
            if answered is None:  # nobody answered: back in line with the original entry
                wait.future = asyncio.get_running_loop().create_future()
                self._enter(wait, again=True)
                continue
            agent_leg, seat = answered
            seat.calls_taken += 1
            self._answered_at[wait.entry.call_id] = self._now()
            self._agent_if(seat.agent_id, "answer")
            self._call(wait.entry.call_id, "answered", wait.entry.queue, seat.agent_id)
            return Answered(agent_leg, seat, wait.entry.queue, decision)

    def _ring_all_others(self, wait: _Wait, decision: Decision) -> list[Seat]:
        others = []
        for free in self.router.also_allowed(wait.entry, self._now()):
            self.agent(free.agent_id, "offer", call_id=wait.entry.call_id)
            with_whom = self.seats[decision.agent_id].label
            reason = RoutingReason("ring_all", {"agent": free.label, "with_agent": with_whom})
            self._call(wait.entry.call_id, "offered", wait.entry.queue, free.agent_id, reason.encode())
            others.append(self.seats[free.agent_id])
        return others

    async def _ring(
        self, wait: _Wait, seats: list[Seat], caller: str, ring_for: float
    ) -> tuple[Leg, Seat] | None:
        """Ring the agents' phones at once; the first to answer takes the call, the others stop
        ringing (their offer withdrawn). Each that could not be reached missed its offer."""
        near = wait.leg if wait.leg is not None and wait.leg.state is not LegState.ENDED else None
        calls = {
            asyncio.ensure_future(
                self.voice.originate(
                    seat.extension, caller=caller, ring_for=ring_for, phone=seat.phone, near=near
                )
            ): seat
            for seat in seats
        }
        pending = set(calls)
        for task, seat in calls.items():
            self._ringing[seat.agent_id] = task
        winner: tuple[Leg, Seat] | None = None
        try:
            while pending and winner is None:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    seat = calls[task]
                    self._ringing.pop(seat.agent_id, None)
                    if task.cancelled():  # the agent's desktop closed while it rang
                        self._call(wait.entry.call_id, "missed", wait.entry.queue, seat.agent_id, DESK_CLOSED)
                        self._agent_if(seat.agent_id, "missed")
                        self._agent_if(seat.agent_id, "not_ready", reason=DESK_CLOSED)
                        continue
                    failure = task.exception()
                    if failure is None and winner is None:
                        winner = (task.result(), seat)
                    elif failure is None:  # answered a moment too late
                        with contextlib.suppress(Exception):
                            await task.result().hang_up()
                        self._agent_if(seat.agent_id, "withdrawn")
                    else:
                        reason = (
                            failure.reason.value if isinstance(failure, OriginateFailed) else repr(failure)
                        )
                        self._call(wait.entry.call_id, "missed", wait.entry.queue, seat.agent_id, reason)
                        self._agent_if(seat.agent_id, "missed")
        finally:  # answered elsewhere, or the caller hung up (cancelled): stop the others ringing
            for seat in calls.values():
                self._ringing.pop(seat.agent_id, None)
            for task in pending:
                task.cancel()
            for task in pending:
                with contextlib.suppress(BaseException):
                    await task
                self._agent_if(calls[task].agent_id, "withdrawn")
        return winner

    def _enter(self, wait: _Wait, *, again: bool = False) -> None:
        """Put the entry in the router (its original place if it is back) and set its timers."""
        now = self._now()
        decision = self.router.call_arrived(wait.entry, now)
        if decision is not None:
            self._decided(decision)
        if again:
            return
        wait.cancel_timers()
        loop = asyncio.get_running_loop()
        config = self.queues[wait.entry.queue]
        for step in config.steps:  # when the next routing step begins, look at free agents again
            if step.until is not None and wait.entry.entered_at + step.until > now:
                wait.timers.append(loop.call_at(wait.entry.entered_at + step.until, self._recheck, wait))
        rules = self.rules.get(wait.entry.queue, QueueRules())
        if rules.max_wait is not None:
            wait.timers.append(loop.call_later(rules.max_wait, self._waited_too_long, wait))

    def _recheck(self, wait: _Wait) -> None:
        if wait.future.done():
            return
        decision = self.router.recheck(wait.entry.call_id, self._now())
        if decision is not None:
            self._decided(decision)

    def _waited_too_long(self, wait: _Wait) -> None:
        if wait.future.done() or self._waits.get(wait.entry.call_id) is not wait:
            return
        rules = self.rules.get(wait.entry.queue, QueueRules())
        if rules.overflow_to in self.queues and wait.overflows < MAX_OVERFLOWS:
            self.router.call_left(wait.entry.call_id)
            self._call(wait.entry.call_id, "overflowed", wait.entry.queue, detail=f"to {rules.overflow_to}")
            wait.entry = replace(wait.entry, queue=rules.overflow_to)  # keeps its entry time
            wait.overflows += 1
            self._enter(wait)
            return
        self._leave(wait, "waited too long")

    def _leave(self, wait: _Wait, why: str) -> None:
        self.router.call_left(wait.entry.call_id)
        self._call(wait.entry.call_id, "timed_out", wait.entry.queue, detail=why, caller=wait.caller)
        wait.future.set_exception(NoAgent(why))

    def request_callback(self, call_id: str) -> bool:
        """The caller pressed 1 for a callback: keep the entry (place, entry time) and call them
        back when it is their turn. The caller's leg may hang up now; it is not an abandon."""
        wait = self._waits.get(call_id)
        if wait is None or wait.future.done() or wait.callback:
            return False
        wait.callback = True
        self._call(call_id, "callback", wait.entry.queue, detail=wait.caller)
        return True

    async def _call_back(self, wait: _Wait) -> None:
        """The callback keeps waiting as the same entry; then agent first, then the customer."""
        call_id, queue = wait.entry.call_id, wait.entry.queue
        try:
            with contextlib.suppress(NoAgent):
                answered = await self._until_answered(wait, wait.caller)
                self.active[call_id] = answered.seat.agent_id
                try:
                    customer = await self.voice.originate(wait.caller, ring_for=30.0, near=answered.agent_leg)
                except OriginateFailed as exc:
                    self._call(
                        call_id,
                        "callback_failed",
                        queue,
                        answered.seat.agent_id,
                        exc.reason.value,
                        wait.caller,
                    )
                    await answered.agent_leg.hang_up()
                    self.call_ended(call_id, answered.seat, queue)
                    return
                bridge = self.voice.bridge(customer, answered.agent_leg)
                try:
                    await bridge.wait()
                finally:
                    await bridge.stop()
                    for leg in (customer, answered.agent_leg):
                        with contextlib.suppress(Exception):
                            await leg.hang_up(EndReason.HOTLINE_HUNG_UP)
                    self.call_ended(call_id, answered.seat, queue)
        finally:
            self._forget(wait)


_NOBODY = Seat(0, "", "", {})
