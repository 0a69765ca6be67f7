"""Conversations as tasks of the ACD (issue 24): which waiting chat, SMS or WeChat conversation goes
to which agent now, under the same queues, skills, priorities and routing steps as calls.

Pure and synchronous, like acd.py: conversations and agents' seats in, decisions out.

- **One capacity model per agent**: a seat takes up to `capacity` conversations at a time, and only
  while `available` (the desk says when: ready in presence, not on a call, logged into the queue).
  Whether a call may come while an agent chats is the desk's business (the seat's profile); a seat
  is never given more than its capacity, whatever happens.
- **Strict oldest first within a priority**: waiting conversations are served by priority (VIP
  tiers), then entry time, then arrival — across every queue an agent serves. A conversation
  that cannot go to any agent with room (its step allows nobody) does not hold back newer ones
  that can: that is the calls' rule too (a sticky caller waits for their agent, the others go on).
- **Routing steps with expiry**, as calls: 0–20 s only the customer's last agent (sticky), then
  agents of level ≥ 3, then anyone with the skill. `next_change` says when a waiting conversation's
  step widens, for the desk to call `fill` again then.
- Among the agents a step allows, the one with the fewest open conversations goes first, then the
  longest since their last one: for chats an agent's load matters more than who was idle longest
  (the queue's strategy is about ringing phones).

Every change (`arrived`, `left`, `seat`) fills at once: the decisions come back from
the call that freed the capacity, so assignment is driven by events, not by polling.
"""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass, field

from hotline.contact.queues.acd import (
    Decision,
    Entry,
    FreeAgent,
    QueueConfig,
    Step,
    _reason,
    _step_of,
    _window,
)
from hotline.contact.queues.reasons import Param


@dataclass
class ChatSeat:
    """An agent as chat routing sees them."""

    agent_id: int
    label: str
    skills: dict[str, int]
    capacity: int
    available: bool = False
    since: float = 0.0
    """When they last got a conversation or became available: the tie-break, longest first."""
    chats: set[str] = field(default_factory=set)

    @property
    def room(self) -> int:
        return self.capacity - len(self.chats) if self.available else 0


@dataclass
class ChatRouter:
    queues: dict[str, QueueConfig]
    waiting: dict[str, Entry] = field(default_factory=dict)
    seats: dict[int, ChatSeat] = field(default_factory=dict)
    holder: dict[str, int] = field(default_factory=dict)
    """Conversation → the agent who has it."""

    def __post_init__(self) -> None:
        self._order: dict[str, tuple[int, float, int]] = {}
        self._line: list[tuple[tuple[int, float, int], str]] = []
        """Every waiting conversation in order (priority, entry time, arrival): kept sorted."""
        self._spare: dict[int, ChatSeat] = {}
        """The seats with room now."""
        self._arrivals = itertools.count()

    def _note(self, seat: ChatSeat | None) -> None:
        if seat is None:
            return
        if seat.room > 0 and self.seats.get(seat.agent_id) is seat:
            self._spare[seat.agent_id] = seat
        else:
            self._spare.pop(seat.agent_id, None)

    # ---------------------------------------------------------------- conversations

    def arrived(self, entry: Entry, now: float) -> list[Decision]:
        """A conversation waits for an agent (new, transferred to a queue, or its agent left it)."""
        if entry.call_id in self.holder:
            raise ValueError(f"{entry.call_id} is with agent {self.holder[entry.call_id]}")
        self.waiting[entry.call_id] = entry
        order = (-entry.priority, entry.entered_at, next(self._arrivals))
        self._order[entry.call_id] = order
        bisect.insort(self._line, (order, entry.call_id))
        return self.fill(now)

    def _unqueue(self, chat_id: str) -> None:
        self.waiting.pop(chat_id, None)
        order = self._order.pop(chat_id, None)
        if order is not None:
            del self._line[bisect.bisect_left(self._line, (order, chat_id))]

    def left(self, chat_id: str, now: float) -> list[Decision]:
        """Closed, or gone from this router: forgotten wherever it was; its agent's room is free."""
        self._unqueue(chat_id)
        agent_id = self.holder.pop(chat_id, None)
        if agent_id is None:
            return []
        seat = self.seats.get(agent_id)
        if seat is not None:
            seat.chats.discard(chat_id)
            self._note(seat)
        return self.fill(now)

    def given(self, chat_id: str, agent_id: int) -> None:
        """The conversation is with this agent already (restored at start, or transferred to them
        by name): it counts against their capacity."""
        self._unqueue(chat_id)
        previous = self.holder.get(chat_id)
        if previous is not None and previous in self.seats:
            self.seats[previous].chats.discard(chat_id)
            self._note(self.seats[previous])
        self.holder[chat_id] = agent_id
        seat = self.seats.get(agent_id)
        if seat is not None:
            seat.chats.add(chat_id)
            self._note(seat)

    # ---------------------------------------------------------------- agents

    def seat(self, seat: ChatSeat, now: float) -> list[Decision]:
        """An agent's seat as it is now (logged in, available or not, capacity or skills changed);
        the conversations they hold stay theirs."""
        old = self.seats.get(seat.agent_id)
        seat.chats = (
            old.chats if old is not None else {c for c, a in self.holder.items() if a == seat.agent_id}
        )
        if old is not None and seat.available and old.available:
            seat.since = old.since
        self.seats[seat.agent_id] = seat
        self._note(seat)
        return self.fill(now)

    def unavailable(self, agent_id: int) -> None:
        seat = self.seats.get(agent_id)
        if seat is not None:
            seat.available = False
            self._note(seat)

    # ---------------------------------------------------------------- the decision

    def fill(self, now: float) -> list[Decision]:
        """Give every waiting conversation that some agent with room may take now to the best such
        agent, oldest first within a priority."""
        spare = self._spare
        decisions: list[Decision] = []
        if not spare or not self.waiting:
            return decisions
        skills = {skill for seat in spare.values() for skill in seat.skills}  # what those with room serve
        stuck: set[tuple[str, int]] = set()
        """(queue, step) found nobody: every other conversation there finds nobody either, as the
        seats with room only get fewer during a fill (sticky steps depend on the customer: not kept)."""
        for _, chat_id in list(self._line):
            entry = self.waiting[chat_id]
            config = self.queues.get(entry.queue)
            if config is None or config.skill not in skills:
                continue
            number, step = _step_of(config, now - entry.entered_at, entry)
            if (entry.queue, number) in stuck:
                continue
            seat = self._best(spare, config, step, entry)
            if seat is None:
                if not step.sticky:
                    stuck.add((entry.queue, number))
                continue
            decisions.append(self._give(entry, seat, config, number, step, now))
            if seat.agent_id not in spare:
                if not spare:
                    break
                skills = {skill for other in spare.values() for skill in other.skills}
        return decisions

    def _best(
        self, spare: dict[int, ChatSeat], config: QueueConfig, step: Step, entry: Entry
    ) -> ChatSeat | None:
        if step.sticky:
            seat = spare.get(entry.last_agent) if entry.last_agent is not None else None
            allowed = [seat] if seat is not None else []
        else:
            allowed = list(spare.values())
        allowed = [s for s in allowed if s.skills.get(config.skill, 0) >= step.min_level]
        if not allowed:
            return None
        return min(allowed, key=lambda s: (len(s.chats), s.since, s.agent_id))

    def _give(
        self, entry: Entry, seat: ChatSeat, config: QueueConfig, number: int, step: Step, now: float
    ) -> Decision:
        why: dict[str, Param] = {"pick": "fewest_chats", "chats": len(seat.chats)}
        agent = FreeAgent(seat.agent_id, seat.label, seat.skills, seat.since)
        reason = _reason(config, agent, why, number, step, entry, now)
        self._unqueue(entry.call_id)
        self.holder[entry.call_id] = seat.agent_id
        seat.chats.add(entry.call_id)
        seat.since = now
        self._note(seat)
        return Decision(entry.call_id, seat.agent_id, entry.queue, number, reason)

    def next_change(self, now: float) -> float | None:
        """When the earliest waiting conversation's routing step widens (None: none will)."""
        ends: list[float] = []
        for entry in self.waiting.values():
            config = self.queues.get(entry.queue)
            if config is None:
                continue
            number, _ = _step_of(config, now - entry.entered_at, entry)
            end = _window(config, number, entry)[1]
            if end is not None:
                ends.append(entry.entered_at + end)
        return min(ends, default=None)

    def position(self, chat_id: str) -> int | None:
        """The conversation's place among those waiting in its queue (1 = next)."""
        entry = self.waiting.get(chat_id)
        if entry is None:
            return None
        mine = self._order[chat_id]
        return 1 + sum(
            1
            for other in self.waiting.values()
            if other.queue == entry.queue and self._order[other.call_id] < mine
        )
