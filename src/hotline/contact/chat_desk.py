"""The chat desk of a voice node (issue 24): conversations — web chat, customers' SMS replies,
WeChat — routed by the same ACD as calls, on the same node, with the same agents' presence.

- A conversation that comes in (notify's `ConversationChanged`) enters a queue that takes its
  channel (`queues.chat_channels`; a web chat the queue named by its pre-chat topic when that
  queue takes web chats), with its customer's tier as priority and last agent as sticky agent,
  and keeps its place in line (`queued_at`) across transfers and restarts.
- `ChatRouter` (queues/chats.py) decides; this desk tells it who may take conversations now —
  agents ready in presence, with `chat_capacity` > 0, for the queues they are logged into — and
  writes each decision through notify (`tasks.assign`, conditional: never twice).
- One capacity model per agent: an agent on a call, ringing or in wrap-up gets no conversation; an
  agent holding conversations gets calls only if their profile says `calls_while_chatting`, and is
  offered the best waiting call as soon as their last conversation ends.
- Assignment is driven by events: a conversation closed, handed over or given up, an agent ready,
  a routing step expiring (a timer at `next_change`) — each fills at once. An agent who logs out
  hands their conversations back to their queues, in their places.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import Coroutine
from typing import Any

import structlog

from hotline.contact.agents.presence import AgentState
from hotline.contact.queues.acd import Decision, Entry, QueueConfig
from hotline.contact.queues.chats import ChatRouter, ChatSeat
from hotline.contact.queues.runner import QueueRunner
from hotline.contact.schemas import ChatLoadOut
from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.crm import service as crm
from hotline.notify import tasks
from hotline.notify.events import ConversationChanged

log = structlog.get_logger(__name__)


class ChatDesk:
    def __init__(self, ctx: Context, runner: QueueRunner) -> None:
        self.ctx = ctx
        self.runner = runner
        self.router = ChatRouter({})
        self.channels: dict[str, list[str]] = {}
        self.queue_of: dict[str, str] = {}
        self._writes: asyncio.Queue[Decision] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._routing: set[str] = set()
        self._moved: set[str] = set()
        """Conversations an event or a decision touched since the reconciler last read the rows"""
        self._unwritten: collections.Counter[str] = collections.Counter()
        """Conversations given to an agent whose write is still queued (how many writes)"""
        runner.watchers.append(self._presence)
        runner.holds_calls = self.holds_calls

    @staticmethod
    def _now() -> float:
        return asyncio.get_running_loop().time()

    # ---------------------------------------------------------------- set-up

    def configure(self, queues: dict[str, QueueConfig], channels: dict[str, list[str]]) -> None:
        """The queues and which take conversations (at start and on every change); every seat again."""
        self.router.queues = queues
        self.channels = channels
        self.reseat()

    def reseat(self) -> None:
        now = self._now()
        for agent_id in self.runner.seats:
            self._apply(self.router.seat(self._seat(agent_id), now))

    async def start(self) -> None:
        """Route the open conversations again, each with its place in line and its agent."""
        now, wall = self._now(), utcnow()
        for task in await tasks.open_tasks(self.ctx):
            key = str(task.id)
            if task.assigned_to is not None:
                self.router.given(key, task.assigned_to)
                self.queue_of[key] = task.queue or ""
            elif task.queue is not None and task.queued_at is not None and task.queue in self.router.queues:
                entered = now - (wall - task.queued_at).total_seconds()
                last = (await crm.routing_of(self.ctx, task.customer_id))[1] if task.customer_id else None
                self.queue_of[key] = task.queue
                self._apply(
                    self.router.arrived(Entry(key, task.queue, entered, task.priority, None, last), now)
                )
            else:
                await self._route(task)
        self.reseat()
        self._worker = asyncio.create_task(self._write(), name="chat-desk")

    async def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker

    # ---------------------------------------------------------------- what others ask

    def held(self, agent_id: int) -> int:
        seat = self.router.seats.get(agent_id)
        return len(seat.chats) if seat is not None else 0

    def room(self, agent_id: int) -> int:
        """How many more conversations the agent may be given by name now (0: none)."""
        seat = self.router.seats.get(agent_id)
        return max(0, seat.capacity - len(seat.chats)) if seat is not None else 0

    def holds_calls(self, agent_id: int) -> bool:
        seat = self.runner.seats.get(agent_id)
        return seat is not None and not seat.calls_while_chatting and self.held(agent_id) > 0

    def load(self, queue: str) -> ChatLoadOut:
        """A queue's conversations now, for the wallboard and the queues page."""
        now = self._now()
        waiting = [e for e in self.router.waiting.values() if e.queue == queue]
        active = sum(1 for chat in self.router.holder if self.queue_of.get(chat) == queue)
        oldest = max((now - e.entered_at for e in waiting), default=0.0)
        return ChatLoadOut(waiting=len(waiting), active=active, longest_wait=round(oldest, 1))

    def queues_for(self, channel: str) -> list[str]:
        return list(self.channels.get(channel, ()))

    async def reconcile(self) -> None:
        """What events may have missed (a node restarted, the database was away): the rows of the
        open conversations against what the router believes — one it does not know is routed, one
        that closed is let go, one the rows give to another agent (or to nobody) is corrected.
        A conversation that moved while the rows were read is left alone: its event is newer than
        the read (acting on the read once gave an agent a closed chat, or took a held one away)."""
        self._moved.clear()
        rows = await tasks.holders(self.ctx)
        known = set(self.router.waiting) | set(self.router.holder)
        settled = self._moved | set(self._unwritten) | self._routing
        for key in known - settled:
            if int(key) not in rows:
                self._left(key)
        for cid, agent_id in rows.items():
            key = str(cid)
            if key in settled or (key in known and self.router.holder.get(key) == agent_id):
                continue
            if agent_id is not None and key in known:  # the rows say who has it: they are the truth
                previous = self.router.holder.get(key)
                self.router.given(key, agent_id)
                if previous is not None:
                    self._freed(previous)
                continue
            task = await tasks.task(self.ctx, cid)  # unknown, or held here but nobody's in the rows
            if task is not None and task.open and str(task.id) not in self._moved:
                await self._route(task)

    # ---------------------------------------------------------------- events

    async def changed(self, event: ConversationChanged) -> None:
        """A conversation moved (notify's event, on every node)."""
        key = str(event.conversation_id)
        self._moved.add(key)
        if event.action == "closed":
            self._left(key)
        elif event.action == "transferred" or (
            event.action == "received" and key not in self.router.waiting and key not in self.router.holder
        ):
            task = await tasks.task(self.ctx, event.conversation_id)
            if task is None or not task.open:
                self._left(key)
            else:
                await self._route(task)

    async def _route(self, task: tasks.Task) -> None:
        """One routing of a conversation at a time: an event and the reconciler may both find it
        unknown, and each awaits the database before the router hears of it."""
        key = str(task.id)
        if key in self._routing:
            return
        self._routing.add(key)
        try:
            await self._route_one(task)
        finally:
            self._routing.discard(key)

    async def _route_one(self, task: tasks.Task) -> None:
        key, now = str(task.id), self._now()
        if task.assigned_to is not None:
            previous = self.router.holder.get(key)
            self.router.given(key, task.assigned_to)
            self.queue_of[key] = task.queue or self.queue_of.get(key, "")
            if previous is not None and previous != task.assigned_to:
                self._freed(previous)
            return
        if key in self.router.holder:  # handed back to a queue: the agent's room is free
            previous = self.router.holder[key]
            self._apply(self.router.left(key, now))
            self._freed(previous)
        queue = self._queue(task)
        if queue is None:
            return  # no queue takes this channel: it stays in the shared list, for anyone
        priority, last = await crm.routing_of(self.ctx, task.customer_id) if task.customer_id else (0, None)
        entered_at = await tasks.enter(self.ctx, task.id, queue, priority)
        if entered_at is None or key in self.router.waiting or key in self.router.holder:
            return
        now = self._now()
        entered = now - max(0.0, (utcnow() - entered_at).total_seconds())
        self.queue_of[key] = queue
        self._apply(self.router.arrived(Entry(key, queue, entered, priority, None, last), now))

    def _queue(self, task: tasks.Task) -> str | None:
        takers = [q for q in self.channels.get(task.channel, ()) if q in self.router.queues]
        if task.queue in takers:
            return task.queue
        if task.topic in takers:
            return task.topic
        return takers[0] if takers else None

    def _left(self, key: str) -> None:
        agent_id = self.router.holder.get(key)
        self._apply(self.router.left(key, self._now()))
        self.queue_of.pop(key, None)
        if agent_id is not None:
            self._freed(agent_id)

    def _freed(self, agent_id: int) -> None:
        if self.held(agent_id) == 0:
            self.runner.offer_if_ready(agent_id)  # the last conversation ended: calls may come

    def _presence(self, agent_id: int, state: AgentState) -> None:
        self._apply(self.router.seat(self._seat(agent_id), self._now()))
        if state is AgentState.LOGGED_OUT and self.held(agent_id):
            self._spawn(self._hand_back(agent_id))

    def _seat(self, agent_id: int) -> ChatSeat:
        seat = self.runner.seats.get(agent_id)
        agent = self.runner.presence.agent(agent_id)
        if seat is None:
            return ChatSeat(agent_id, str(agent_id), {}, 0)
        skills = seat.skills
        if agent.queues:
            allowed = {self.router.queues[q].skill for q in agent.queues if q in self.router.queues}
            skills = {s: level for s, level in seat.skills.items() if s in allowed}
        available = agent.state is AgentState.READY and seat.chat_capacity > 0
        return ChatSeat(agent_id, seat.label, skills, seat.chat_capacity, available, since=self._now())

    async def _hand_back(self, agent_id: int) -> None:
        for key in [c for c, a in self.router.holder.items() if a == agent_id]:
            await tasks.hand_over(self.ctx, int(key), from_agent=agent_id, to_agent=None, queue=None)

    # ---------------------------------------------------------------- decisions

    def _apply(self, decisions: list[Decision]) -> None:
        for decision in decisions:
            self.queue_of[decision.call_id] = decision.queue
            self._moved.add(decision.call_id)
            self._unwritten[decision.call_id] += 1
            if self.holds_calls(decision.agent_id):
                self.runner.router.agent_busy(decision.agent_id)
            self._writes.put_nowait(decision)
        self._schedule()

    def _schedule(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        now = self._now()
        change = self.router.next_change(now)
        if change is not None:
            self._timer = asyncio.get_running_loop().call_later(max(0.0, change - now) + 0.01, self._expired)

    def _expired(self) -> None:
        self._timer = None
        self._apply(self.router.fill(self._now()))

    async def _write(self) -> None:
        while True:
            decision = await self._writes.get()
            try:
                given = await tasks.assign(self.ctx, int(decision.call_id), decision.agent_id, decision.queue)
            except Exception as exc:  # the database is away: the upkeep routes it again
                log.error(
                    "a conversation's assignment failed", error=repr(exc), conversation=decision.call_id
                )
                given = False
            finally:
                self._unwritten[decision.call_id] -= 1
                if self._unwritten[decision.call_id] <= 0:
                    del self._unwritten[decision.call_id]
            if not given:
                self._left(decision.call_id)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
