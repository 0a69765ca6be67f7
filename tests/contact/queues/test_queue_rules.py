"""The queue runner's rules on the simulated driver (virtual time, real router and presence):
priorities, overflow, callbacks that keep their place, missed and withdrawn offers, empty queues,
the reconciler. Each scenario reads what happened from the event log, as the UI does."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from hotline.contact.agents.presence import AgentState
from hotline.contact.metrics import compute
from hotline.contact.queues.acd import QueueConfig, Step, Strategy
from hotline.contact.queues.runner import NoAgent, QueueRules, QueueRunner, Seat
from hotline.voice.control import EndReason, Leg
from hotline.voice.simulated import SimPhone, SimulatedVoice, run_virtual


@dataclass
class Floor:
    """A small contact center: queues, agents 1.. on extensions 1001.., and what callers got."""

    voice: SimulatedVoice
    runner: QueueRunner
    served: list[tuple[str, int, float]] = field(default_factory=list)  # caller, agent, when
    refused: list[tuple[str, str]] = field(default_factory=list)  # caller, why

    def events(self, call_id: str) -> list[str]:
        return [e.kind for e in self.runner.call_log if e.call_id == call_id]


Script = Callable[[Floor], Awaitable[None]]


def run_floor(
    queues: dict[str, QueueConfig],
    rules: dict[str, QueueRules],
    agents: dict[int, dict[str, int]],
    script: Script,
    *,
    phones: dict[str, SimPhone] | None = None,
    talk: float = 60.0,
    priority_of: Callable[[Leg], int] = lambda leg: 0,
) -> Floor:
    async def main() -> Floor:
        floor: Floor

        async def caller(leg: Leg) -> None:
            await leg.answer()
            try:
                got = await floor.runner.wait_for_agent(leg, leg.entry, priority=priority_of(leg))
            except NoAgent as exc:
                floor.refused.append((leg.caller, exc.reason))
                return
            floor.served.append((leg.caller, got.seat.agent_id, asyncio.get_running_loop().time()))
            bridge = floor.voice.bridge(leg, got.agent_leg)
            try:
                await bridge.wait()
            finally:
                await got.agent_leg.hang_up()
                floor.runner.call_ended(leg.id, got.seat, got.queue)

        all_phones = {f"{1000 + n}": SimPhone(answer_after=1.0) for n in agents}
        all_phones.update(phones or {})
        voice = SimulatedVoice(caller, phones=all_phones)
        runner = QueueRunner(voice, queues, rules)
        for n, skills in agents.items():
            runner.seats[n] = Seat(n, f"{1000 + n}", f"{1000 + n} (00{n})", skills)
            runner.agent(n, "login")
        floor = Floor(voice, runner)
        await script(floor)
        await asyncio.sleep(talk * 4)
        await voice.stop()
        return floor

    return run_virtual(main())


HOTEL = {"hotel": QueueConfig("hotel", "hotel")}


def test_a_vip_caller_who_arrived_later_is_answered_first() -> None:
    async def script(floor: Floor) -> None:
        floor.voice.call_in("13800000001", "4008001000", entry="hotel", talks_for=60)
        await asyncio.sleep(5)
        floor.voice.call_in("13900000002", "4008001000", entry="hotel", talks_for=60)  # VIP
        await asyncio.sleep(5)
        floor.runner.agent(1, "ready")

    floor = run_floor(
        HOTEL, {}, {1: {"hotel": 3}}, script, priority_of=lambda leg: 2 if leg.caller.startswith("139") else 0
    )
    assert [caller for caller, _, _ in floor.served] == ["13900000002", "13800000001"]


def test_a_caller_waiting_too_long_overflows_keeping_the_entry_time() -> None:
    """The hotel agent is busy; after 30 s the call moves to the travel queue, whose agent answers;
    its wait counts from when it first queued (31 s: 30 s, then a second of ringing)."""
    queues = {"hotel": QueueConfig("hotel", "hotel"), "travel": QueueConfig("travel", "travel")}
    rules = {"hotel": QueueRules(max_wait=30, overflow_to="travel"), "travel": QueueRules()}

    async def script(floor: Floor) -> None:
        floor.runner.agent(2, "ready")
        floor.voice.call_in("13800000001", "4008001000", entry="hotel", talks_for=60)

    floor = run_floor(queues, rules, {1: {"hotel": 5}, 2: {"travel": 5}}, script)
    assert [(caller, agent) for caller, agent, _ in floor.served] == [("13800000001", 2)]
    call_id = floor.runner.call_log[0].call_id
    assert floor.events(call_id) == ["queued", "overflowed", "offered", "answered", "ended"]
    metrics = compute([e for e in floor.runner.call_log])
    assert metrics.waits == [31.0]


def test_with_nowhere_to_overflow_the_flow_takes_the_call_back() -> None:
    async def script(floor: Floor) -> None:
        floor.voice.call_in("13800000001", "4008001000", entry="hotel")

    floor = run_floor(HOTEL, {"hotel": QueueRules(max_wait=45)}, {1: {"hotel": 5}}, script)
    assert floor.refused == [("13800000001", "waited too long")]


def test_a_queue_nobody_is_logged_in_to_refuses_callers_unless_it_lets_them_join() -> None:
    async def script(floor: Floor) -> None:
        floor.runner.agent(1, "logout")
        floor.voice.call_in("13800000001", "4008001000", entry="hotel")

    floor = run_floor(HOTEL, {"hotel": QueueRules(join_when_empty=False)}, {1: {"hotel": 5}}, script)
    assert floor.refused == [("13800000001", "empty")]
    assert floor.runner.call_log[0].kind == "refused"


def test_a_callback_keeps_its_place_and_entry_time_and_is_not_an_abandon() -> None:
    """A and B wait for the only agent; A asks for a callback and hangs up. When the agent is free,
    A's entry is served first: the agent's phone rings, then A is called back."""

    async def script(floor: Floor) -> None:
        a = floor.voice.call_in("13800000001", "4008001000", entry="hotel", talks_for=60)
        await asyncio.sleep(10)
        floor.voice.call_in("13800000002", "4008001000", entry="hotel", talks_for=60)
        await asyncio.sleep(10)
        assert floor.runner.position(a.id) == (1, 180.0)
        assert floor.runner.request_callback(a.id)
        a.mark_ended(EndReason.CALLER_HUNG_UP)
        await asyncio.sleep(30)
        floor.runner.agent(1, "ready")
        await asyncio.sleep(60)
        (called_back,) = [leg for leg in floor.voice.legs.values() if leg.number == "13800000001"]
        called_back.mark_ended(EndReason.CALLER_HUNG_UP)  # the customer hangs up after a minute

    customer = SimPhone(answer_after=3.0)
    floor = run_floor(HOTEL, {}, {1: {"hotel": 3}}, script, phones={"13800000001": customer})
    a_id = floor.runner.call_log[0].call_id
    assert customer.rung == 1
    assert floor.events(a_id) == ["queued", "callback", "offered", "answered", "ended"]
    assert [caller for caller, _, _ in floor.served] == ["13800000002"]  # B after A's callback
    b_offered = next(e for e in floor.runner.call_log if e.kind == "offered" and e.call_id != a_id)
    a_offered = next(e for e in floor.runner.call_log if e.kind == "offered" and e.call_id == a_id)
    assert a_offered.at < b_offered.at
    metrics = compute(floor.runner.call_log)
    assert (metrics.abandoned, metrics.callbacks) == (0, 1)


def test_a_missed_offer_sets_the_agent_not_ready_and_the_caller_keeps_its_place() -> None:
    """Agent 1's phone never answers: after the 15 s ring the agent is not ready (missed offer)
    and the caller goes to agent 2, still first in line."""

    async def script(floor: Floor) -> None:
        floor.runner.agent(1, "ready")
        await asyncio.sleep(1)
        floor.runner.agent(2, "ready")
        floor.runner.agent(2, "not_ready", reason="break")
        floor.voice.call_in("13800000001", "4008001000", entry="hotel", talks_for=60)
        await asyncio.sleep(5)
        floor.voice.call_in("13800000002", "4008001000", entry="hotel", talks_for=60)
        await asyncio.sleep(15)
        floor.runner.agent(2, "ready")

    floor = run_floor(
        HOTEL, {"hotel": QueueRules(ring_seconds=15)}, {1: {"hotel": 3}, 2: {"hotel": 3}}, script,
        phones={"1001": SimPhone(answer_after=None)},
    )  # fmt: skip
    assert floor.runner.presence.agent(1).state is AgentState.NOT_READY
    assert floor.runner.presence.agent(1).reason == "missed offer"
    assert floor.served[0][:2] == ("13800000001", 2)
    first = floor.runner.call_log[0].call_id
    assert floor.events(first)[:4] == ["queued", "offered", "missed", "offered"]


def test_a_caller_hanging_up_while_the_agent_rings_leaves_the_agent_ready() -> None:
    async def script(floor: Floor) -> None:
        floor.runner.agent(1, "ready")
        floor.voice.call_in("13800000001", "4008001000", entry="hotel", gives_up_after=3)

    floor = run_floor(HOTEL, {}, {1: {"hotel": 3}}, script, phones={"1001": SimPhone(answer_after=10)})
    assert floor.runner.presence.agent(1).state is AgentState.READY
    assert [e.state for e in floor.runner.agent_log][-2:] == ["ringing", "ready"]
    assert floor.events(floor.runner.call_log[0].call_id) == ["queued", "offered", "abandoned"]
    assert floor.runner.call_log[-1].caller == ""  # gone within 5 s: a misdial, nobody to ring back


def test_a_caller_who_gives_up_after_waiting_is_named_for_a_callback_task() -> None:
    async def script(floor: Floor) -> None:
        floor.voice.call_in("13800000001", "4008001000", entry="hotel", gives_up_after=40)

    floor = run_floor(HOTEL, {}, {1: {"hotel": 3}}, script)
    (abandoned,) = [e for e in floor.runner.call_log if e.kind == "abandoned"]
    assert (abandoned.caller, abandoned.detail) == ("13800000001", "after 40 s")


def test_the_reconciler_clears_an_agent_whose_call_is_gone_and_says_so() -> None:
    async def script(floor: Floor) -> None:
        floor.runner.agent(1, "ready")
        floor.runner.agent(1, "offer", call_id="leg-lost")
        floor.runner.agent(1, "answer")
        assert floor.runner.reconcile() != []

    floor = run_floor(HOTEL, {}, {1: {"hotel": 3}}, script)
    agent = floor.runner.presence.agent(1)
    assert agent.state is AgentState.NOT_READY and agent.call_id is None
    assert floor.runner.agent_log[-1].reason == "cleared: call no longer exists"


def test_wrap_up_uses_the_agents_own_time_over_the_queues() -> None:
    async def script(floor: Floor) -> None:
        floor.runner.seats[1].wrap_seconds = 5
        floor.runner.agent(1, "ready")
        floor.voice.call_in("13800000001", "4008001000", entry="hotel", talks_for=20)

    floor = run_floor(HOTEL, {"hotel": QueueRules(wrap_seconds=60)}, {1: {"hotel": 3}}, script)
    states = [(e.state, e.at) for e in floor.runner.agent_log if e.agent_id == 1]
    wrap = next(at for state, at in states if state == "wrap_up")
    ready_again = next(at for state, at in states if state == "ready" and at > wrap)
    assert ready_again - wrap == 5


def test_sticky_steps_apply_only_to_callers_with_a_last_agent() -> None:
    queues = {"hotel": QueueConfig("hotel", "hotel", steps=(Step(20, sticky=True), Step(None)))}

    async def script(floor: Floor) -> None:
        floor.runner.agent(1, "ready")
        floor.voice.call_in("13800000001", "4008001000", entry="hotel", talks_for=10)

    floor = run_floor(queues, {}, {1: {"hotel": 3}}, script)
    assert floor.served[0][2] < 2  # offered at once (then a second of ringing)


def test_ring_all_rings_every_allowed_agent_and_the_first_to_answer_takes_the_call() -> None:
    queues = {"hotel": QueueConfig("hotel", "hotel", strategy=Strategy.RING_ALL)}

    async def script(floor: Floor) -> None:
        for agent in (1, 2, 3):
            floor.runner.agent(agent, "ready")
        floor.voice.call_in("13800000001", "4008001000", entry="hotel", talks_for=30)

    phones = {
        "1001": SimPhone(answer_after=6),
        "1002": SimPhone(answer_after=2),
        "1003": SimPhone(answer_after=None),
    }
    floor = run_floor(queues, {}, {1: {"hotel": 3}, 2: {"hotel": 3}, 3: {"hotel": 3}}, script, phones=phones)
    assert [(caller, agent) for caller, agent, _ in floor.served] == [("13800000001", 2)]
    offered = [e.agent_id for e in floor.runner.call_log if e.kind == "offered"]
    assert sorted(offered) == [1, 2, 3]
    assert "missed" not in floor.events(floor.runner.call_log[0].call_id)  # the others stopped ringing
    assert floor.runner.presence.agent(1).state is AgentState.READY
    assert floor.runner.presence.agent(3).state is AgentState.READY


def test_a_callback_asked_for_just_as_an_agent_is_offered_the_call_still_happens() -> None:
    """The caller presses 1; while they hear the goodbye, an agent comes free and is rung for
    them; they hang up as planned. The offer is withdrawn and the callback keeps its entry: the
    agent is rung again and the customer called back."""

    async def script(floor: Floor) -> None:
        a = floor.voice.call_in("13800000001", "4008001000", entry="hotel")
        await asyncio.sleep(10)
        assert floor.runner.request_callback(a.id)
        floor.runner.agent(1, "ready")  # rung for the caller, who is still on the line
        await asyncio.sleep(1)
        a.mark_ended(EndReason.CALLER_HUNG_UP)
        await asyncio.sleep(30)
        (called_back,) = [leg for leg in floor.voice.legs.values() if leg.number == "13800000001"]
        called_back.mark_ended(EndReason.CALLER_HUNG_UP)

    customer = SimPhone(answer_after=2.0)
    phones = {"13800000001": customer, "1001": SimPhone(answer_after=3.0)}
    floor = run_floor(HOTEL, {}, {1: {"hotel": 3}}, script, phones=phones)
    a_id = floor.runner.call_log[0].call_id
    assert customer.rung == 1
    assert floor.events(a_id) == ["queued", "callback", "offered", "offered", "answered", "ended"]
    assert floor.runner.presence.agent(1).state is AgentState.READY


def test_an_agent_whose_desktop_closes_while_ringing_is_skipped_and_the_caller_keeps_its_place() -> None:
    """Agent 1's desktop closes while the call rings them: the ringing stops, they are not ready
    (desktop closed), and the caller goes to agent 2 at once, still first in line. A ready agent
    whose desktop closes gets no more calls."""

    async def script(floor: Floor) -> None:
        floor.runner.agent(1, "ready")
        floor.runner.agent(3, "ready")
        floor.runner.desk_closed(3)  # agent 3 closed the desktop while waiting for calls
        await asyncio.sleep(1)
        floor.voice.call_in("13800000001", "4008001000", entry="hotel", talks_for=30)
        await asyncio.sleep(2)  # ringing agent 1 (answers after 10 s)
        floor.runner.agent(2, "ready")
        floor.runner.desk_closed(1)

    floor = run_floor(
        HOTEL, {"hotel": QueueRules(ring_seconds=15)}, {1: {"hotel": 3}, 2: {"hotel": 3}, 3: {"hotel": 5}},
        script, phones={"1001": SimPhone(answer_after=10)},
    )  # fmt: skip
    assert (floor.runner.presence.agent(1).state, floor.runner.presence.agent(1).reason) == (
        AgentState.NOT_READY, "desktop closed")  # fmt: skip
    assert floor.runner.presence.agent(3).reason == "desktop closed"
    assert floor.served[0][:2] == ("13800000001", 2)
    call = floor.runner.call_log[0].call_id
    assert floor.events(call)[:4] == ["queued", "offered", "missed", "offered"]
    assert [e.detail for e in floor.runner.call_log if e.kind == "missed"] == ["desktop closed"]


def test_a_queue_that_requires_a_wrap_up_keeps_the_agent_in_wrap_up_until_it_is_written() -> None:
    """The complaints line requires a wrap-up: its 10 s wrap time passes and the agent is still in
    wrap-up (no new call rings them) until they write it; then ready and the next caller comes."""

    async def script(floor: Floor) -> None:
        floor.runner.agent(1, "ready")
        floor.voice.call_in("13800000001", "4008001000", entry="hotel", talks_for=20)
        await asyncio.sleep(5)
        floor.voice.call_in("13800000002", "4008001000", entry="hotel", talks_for=20)
        await asyncio.sleep(120)
        assert floor.runner.presence.agent(1).state is AgentState.WRAP_UP
        assert floor.runner.wrap_pending == {1: floor.runner.call_log[0].call_id}
        assert len(floor.served) == 1
        floor.runner.wrapped(1)

    floor = run_floor(
        HOTEL, {"hotel": QueueRules(wrap_seconds=10, wrap_required=True)}, {1: {"hotel": 3}}, script, talk=30
    )
    assert [who for who, _, _ in floor.served] == ["13800000001", "13800000002"]
    assert floor.served[1][2] > 120  # only after the wrap-up was written
