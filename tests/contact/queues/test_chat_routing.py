"""The chat ACD as a state machine, driven by hypothesis with any sequence of conversations arriving
and closing, agents coming and going, capacities changing and time passing:

- no agent is given a conversation beyond their capacity, nobody unavailable gets one, and no
  conversation is with two agents;
- a conversation in a sticky step goes only to the customer's last agent;
- strict oldest first within a priority: an agent given a conversation could not have taken an
  older one of the same or a higher priority still waiting;
- nothing waits that an agent with room may take (assignment comes with the event that frees the
  room, no polling);
- no starvation: once agents with every skill have room and time passes, everybody is served.
"""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from hotline.contact.queues.acd import Decision, Entry, QueueConfig, Step, _step_of
from hotline.contact.queues.chats import ChatRouter, ChatSeat

QUEUES = {
    "hotel": QueueConfig("hotel", "hotel", (Step(20, sticky=True), Step(60, min_level=3), Step(None))),
    "travel": QueueConfig("travel", "travel", (Step(None),)),
}
AGENTS = st.integers(1, 5)


def allowed(router: ChatRouter, entry: Entry, agent_id: int, now: float) -> bool:
    """Whether the entry's current step lets this agent take it (capacity aside)."""
    seat = router.seats[agent_id]
    config = router.queues[entry.queue]
    _, step = _step_of(config, now - entry.entered_at, entry)
    if step.sticky and entry.last_agent != agent_id:
        return False
    return seat.skills.get(config.skill, 0) >= step.min_level


class ChatRouting(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.router = ChatRouter(dict(QUEUES))
        self.now = 0.0
        self.numbers = iter(range(1, 10_000))
        self.decisions: list[Decision] = []

    def _check(self, made: list[Decision], before: dict[str, Entry]) -> None:
        for decision in made:
            entry = before[decision.call_id]
            seat = self.router.seats[decision.agent_id]
            assert seat.available
            assert len(seat.chats) <= seat.capacity, f"{seat.agent_id} over capacity"
            assert allowed(self.router, entry, decision.agent_id, self.now)
            mine = (-entry.priority, entry.entered_at)
            for other in self.router.waiting.values():
                if (-other.priority, other.entered_at) < mine:
                    assert not allowed(self.router, other, decision.agent_id, self.now), (
                        f"{other.call_id} is older and {decision.agent_id} could take it"
                    )
        self.decisions += made

    @rule(
        queue=st.sampled_from(sorted(QUEUES)),
        priority=st.sampled_from([0, 0, 10]),
        last=st.none() | AGENTS,
        back=st.floats(0, 90),
    )
    def arrive(self, queue: str, priority: int, last: int | None, back: float) -> None:
        chat = f"c{next(self.numbers)}"
        # a transferred conversation keeps its first entry time: it may enter older than others
        entry = Entry(chat, queue, self.now - back, priority, last_agent=last)
        before = dict(self.router.waiting) | {chat: entry}
        self._check(self.router.arrived(entry, self.now), before)

    @precondition(lambda self: self.router.holder)
    @rule(data=st.data())
    def close(self, data: st.DataObject) -> None:
        chat = data.draw(st.sampled_from(sorted(self.router.holder)))
        before = dict(self.router.waiting)
        self._check(self.router.left(chat, self.now), before)

    @precondition(lambda self: self.router.waiting)
    @rule(data=st.data())
    def give_up(self, data: st.DataObject) -> None:
        chat = data.draw(st.sampled_from(sorted(self.router.waiting)))
        assert self.router.left(chat, self.now) == []

    @rule(
        agent=AGENTS,
        hotel=st.integers(0, 5),
        travel=st.integers(0, 5),
        capacity=st.integers(0, 4),
        available=st.booleans(),
    )
    def seat(self, agent: int, hotel: int, travel: int, capacity: int, available: bool) -> None:
        skills = {k: v for k, v in {"hotel": hotel, "travel": travel}.items() if v}
        before = dict(self.router.waiting)
        made = self.router.seat(ChatSeat(agent, str(agent), skills, capacity, available, self.now), self.now)
        self._check(made, before)

    @rule(agent=AGENTS)
    def away(self, agent: int) -> None:
        self.router.unavailable(agent)

    @rule(seconds=st.sampled_from([1.0, 15.0, 30.0, 61.0]))
    def wait(self, seconds: float) -> None:
        change = self.router.next_change(self.now)
        self.now += seconds
        before = dict(self.router.waiting)
        made = self.router.fill(self.now)
        if change is None or change > self.now:
            assert made == [], "nothing widened, yet the fill found work the last event missed"
        self._check(made, before)

    @invariant()
    def one_agent_per_conversation(self) -> None:
        held = [c for s in self.router.seats.values() for c in s.chats]
        assert len(held) == len(set(held)), "a conversation with two agents"
        assert not set(held) & set(self.router.waiting)

    @invariant()
    def nothing_waits_that_someone_with_room_may_take(self) -> None:
        for entry in self.router.waiting.values():
            for seat in self.router.seats.values():
                if seat.room > 0:
                    assert not allowed(self.router, entry, seat.agent_id, self.now), (
                        f"{entry.call_id} waits while {seat.agent_id} has room"
                    )

    def teardown(self) -> None:
        """No starvation: agents with every skill come with room; everyone waiting is served as the
        held conversations close and time passes."""
        for agent in range(1, 6):
            self.router.seat(
                ChatSeat(agent, str(agent), {"hotel": 5, "travel": 5}, 2, True, self.now), self.now
            )
        for _ in range(len(self.router.waiting) + 2):
            self.now += 61
            for chat in list(self.router.holder):
                self.router.left(chat, self.now)
            self.router.fill(self.now)
        assert not self.router.waiting


ChatRouting.TestCase.settings = settings(max_examples=300, stateful_step_count=40, deadline=None)
TestChatRouting = ChatRouting.TestCase


def test_a_sticky_conversation_waits_for_its_agent_then_goes_to_another() -> None:
    router = ChatRouter(dict(QUEUES))
    router.seat(ChatSeat(1, "1001", {"hotel": 5}, 1, True), 0.0)
    router.seat(ChatSeat(2, "1002", {"hotel": 5}, 2, True), 0.0)
    router.arrived(Entry("first", "hotel", 0.0, last_agent=1), 0.0)  # agent 1 is full now
    assert router.holder == {"first": 1}
    assert router.arrived(Entry("again", "hotel", 1.0, last_agent=1), 1.0) == []  # waits for 1
    assert router.next_change(1.0) == 21.0
    assert router.fill(20.0) == []
    (late,) = router.fill(21.0)
    assert (late.call_id, late.agent_id, late.reason.params["sticky"]) == ("again", 2, False)
    # and when agent 1 frees before the step ends, they take the next one of theirs at once
    assert router.arrived(Entry("third", "hotel", 30.0, last_agent=1), 30.0) == []
    (mine,) = router.left("first", 35.0)
    assert (mine.call_id, mine.agent_id, mine.reason.params["sticky"]) == ("third", 1, True)
