"""Queues on the call-control interface: callers wait, the router picks agents, agents are rung.

`QueueRunner.wait_for_agent()` is what a flow's transfer-to-queue does: it enters the caller in
the queue, waits for the router's decision (re-checked when a routing step expires), rings the
chosen agent and returns the answered agent leg; a missed offer puts the agent in not-ready and
the caller back in line with its original entry. The caller hanging up cancels the wait and
leaves the queue (an abandon). Every step is appended to the in-memory event log the metrics
read (docs/metrics.md); the stored event log comes next.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from hotline.routing.acd import Decision, Entry, FreeAgent, QueueConfig, Router
from hotline.routing.metrics import AgentEvent, CallEvent
from hotline.voice.control import CallControl, Leg, OriginateFailed


@dataclass
class Seat:
    agent_id: int
    extension: str
    label: str
    skills: dict[str, int]
    calls_taken: int = 0
    ready: bool = False


@dataclass
class QueueRunner:
    control: CallControl
    queues: dict[str, QueueConfig]
    seats: dict[int, Seat] = field(default_factory=dict)
    ring_for: float = 15.0
    call_log: list[CallEvent] = field(default_factory=list)
    agent_log: list[AgentEvent] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.router = Router(self.queues)
        self._waiting: dict[str, asyncio.Future[Decision]] = {}
        self._timers: dict[str, asyncio.TimerHandle] = {}

    @staticmethod
    def _now() -> float:
        return asyncio.get_running_loop().time()

    # ---------------------------------------------------------------- agents

    def agent_ready(self, agent_id: int) -> None:
        seat = self.seats[agent_id]
        seat.ready = True
        now = self._now()
        self.agent_log.append(AgentEvent(now, agent_id, "ready"))
        free = FreeAgent(agent_id, seat.label, seat.skills, idle_since=now, calls_taken=seat.calls_taken)
        decision = self.router.agent_free(free, now)
        if decision is not None:
            self._decided(decision)

    def agent_not_ready(self, agent_id: int, reason: str = "") -> None:
        self.seats[agent_id].ready = False
        self.router.agent_busy(agent_id)
        self.agent_log.append(AgentEvent(self._now(), agent_id, "not_ready"))

    def _decided(self, decision: Decision) -> None:
        self.seats[decision.agent_id].ready = False
        self.agent_log.append(AgentEvent(self._now(), decision.agent_id, "ringing"))
        waiting = self._waiting.get(decision.call_id)
        if waiting is not None and not waiting.done():
            waiting.set_result(decision)

    # ---------------------------------------------------------------- callers

    async def wait_for_agent(
        self, caller: Leg, queue: str, *, priority: int = 0, last_agent: int | None = None
    ) -> tuple[Leg, Seat]:
        now = self._now()
        entry = Entry(caller.id, queue, now, priority, last_agent=last_agent)
        self.call_log.append(CallEvent(now, caller.id, "queued", queue))
        decision = self.router.call_arrived(entry, now)
        if decision is not None:
            self._decided(decision)
        self._schedule_rechecks(entry)
        try:
            while True:
                if decision is None:
                    waiting = asyncio.get_running_loop().create_future()
                    self._waiting[caller.id] = waiting
                    decision = await waiting
                seat = self.seats[decision.agent_id]
                try:
                    agent_leg = await self.control.originate(
                        seat.extension, caller=caller.caller, ring_for=self.ring_for
                    )
                except OriginateFailed:
                    self.agent_not_ready(seat.agent_id, "missed offer")  # and the caller keeps its place:
                    decision = self.router.call_arrived(entry, self._now())
                    if decision is not None:
                        self._decided(decision)
                    continue
                seat.calls_taken += 1
                self.call_log.append(CallEvent(self._now(), caller.id, "answered", queue, seat.agent_id))
                self.agent_log.append(AgentEvent(self._now(), seat.agent_id, "on_call"))
                return agent_leg, seat
        except asyncio.CancelledError:
            self.call_log.append(CallEvent(self._now(), caller.id, "abandoned", queue))
            raise
        finally:
            self._waiting.pop(caller.id, None)
            self.router.call_left(caller.id)
            timer = self._timers.pop(caller.id, None)
            if timer is not None:
                timer.cancel()

    def _schedule_rechecks(self, entry: Entry) -> None:
        """When the entry's next routing step begins, look at the free agents again."""
        config = self.queues[entry.queue]
        ends = [step.until for step in config.steps if step.until is not None]
        if not ends:
            return
        loop = asyncio.get_running_loop()

        def recheck(index: int) -> None:
            decision = self.router.recheck(entry.call_id, self._now())
            if decision is not None:
                self._decided(decision)
            if index + 1 < len(ends):
                self._timers[entry.call_id] = loop.call_at(
                    entry.entered_at + ends[index + 1], recheck, index + 1
                )

        self._timers[entry.call_id] = loop.call_at(entry.entered_at + ends[0], recheck, 0)

    def call_ended(self, caller: Leg, seat: Seat, *, wrap_seconds: float = 0.0) -> None:
        """The agent's call is over: wrap-up, then ready for the next."""
        now = self._now()
        self.call_log.append(CallEvent(now, caller.id, "ended"))
        if wrap_seconds > 0:
            self.agent_log.append(AgentEvent(now, seat.agent_id, "wrap_up"))
            asyncio.get_running_loop().call_later(wrap_seconds, self.agent_ready, seat.agent_id)
        else:
            self.agent_ready(seat.agent_id)
