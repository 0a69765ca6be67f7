"""A live call driven through any sequence of the softphone's operations, on the simulated voice
driver in virtual time: each operation either takes the step its mode allows (and the call is in
the mode the table says) or is refused and changes nothing; the consultation, the three-way mix
and the agent on the call always agree with the mode; and no call ever has two agents on it."""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.contact.agents.presence import AgentState
from hotline.contact.calls import state
from hotline.contact.calls.live import LiveCall
from hotline.contact.calls.state import CALL, Mode
from hotline.contact.events import CallOffered
from hotline.contact.queues.acd import QueueConfig
from hotline.contact.queues.floor import QueueRules, Seat
from hotline.contact.queues.runner import QueueRunner
from hotline.contact.schemas import ConsultActionIn, RoutingReasonOut, TransferIn
from hotline.core.errors import HotlineError, InvalidTransition
from hotline.core.events import InProcessBus
from hotline.voice.control import EndReason, Leg
from hotline.voice.simulated import SimPhone, SimulatedVoice, run_virtual

TO_002 = TransferIn(to="agent", target="002", mode="consult")
TO_003 = TransferIn(to="agent", target="003", mode="consult")  # never answers
NUMBER = "13912345678"
OPERATIONS: list[tuple[str, Any, str | None]] = [
    # (what, argument, the table's action it takes, None: decided by the operation)
    ("hold", True, "hold"),
    ("hold", False, "resume"),
    ("mute", True, "mute"),
    ("keys", "12", "keys"),
    ("hang_up", None, "hang_up"),
    ("transfer", TO_002, "consult"),
    ("transfer", TO_003, "consult"),
    ("transfer", TransferIn(to="number", target=NUMBER, mode="consult"), "consult"),
    ("transfer", TransferIn(to="agent", target="002"), "transfer"),
    ("transfer", TransferIn(to="queue", target="hotel"), "transfer"),
    ("transfer", TransferIn(to="number", target=NUMBER), "transfer"),
    ("consult", ConsultActionIn(action="cancel"), "cancel"),
    ("consult", ConsultActionIn(action="complete"), "complete"),
    ("consult", ConsultActionIn(action="conference"), "conference"),
]


class Lines:
    """The event log a node keeps, as lines in memory."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def call(self, call_id: str, kind: str, **detail: Any) -> None:
        self.lines.append((call_id, kind))


class Node:
    """What a live call needs of its node (`CallHost`), on the simulated driver."""

    def __init__(self, voice: SimulatedVoice, runner: QueueRunner) -> None:
        self.voice, self.runner = voice, runner
        self.ctx = type("Ctx", (), {"bus": InProcessBus()})()
        self.journal = Lines()
        self.record_to = None
        self.live: dict[str, LiveCall] = {}
        self.tasks: set[asyncio.Future[None]] = set()

    def spawn(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def offer_for(self, call_id: str, agent_id: int, queue: str, reason: str) -> CallOffered:
        return CallOffered(
            audience=[agent_id], call_id=call_id, queue=queue, caller="", caller_class="unknown",
            waited=0, reason=RoutingReasonOut.of(reason),
        )  # fmt: skip

    async def hold_music(self, queue: str) -> bytes:
        return b"\xff" * 8000

    async def hold_caller(self, leg: Leg, queue: str, variables: dict[str, Any]) -> None:
        await leg.play(b"\xff" * 8000, loop=True)


def consistent(call: LiveCall, runner: QueueRunner) -> None:
    assert (call.consult is not None) == (call.mode in (Mode.CONSULTING, Mode.THREE_WAY))
    assert (call.three_way is not None) == (call.mode is Mode.THREE_WAY)
    if call.mode is Mode.TRANSFERRING:
        assert call.seat is None  # the agent who passed the caller on is free
    if call.mode in (Mode.TALKING, Mode.HELD, Mode.CONSULTING, Mode.THREE_WAY):
        assert call.partner is not None
    assert call.out().mode == call.mode.value
    on_call: dict[str, int] = {}
    for agent in runner.presence.agents.values():
        if agent.state is AgentState.ON_CALL:
            assert agent.call_id not in on_call  # never two agents on one call
            on_call[agent.call_id or ""] = agent.agent_id


async def drive(steps: list[tuple[int, float]]) -> list[str]:
    runner: QueueRunner
    done: list[str] = []

    async def caller_flow(leg: Leg) -> None:
        await leg.answer()
        answered = await runner.wait_for_agent(leg, "hotel")
        call = LiveCall(
            node, call_id=leg.id, caller=leg, partner=answered.agent_leg, seat=answered.seat, queue="hotel"
        )
        await call.run()

    phones = {
        "1001": SimPhone(answer_after=1),
        "1002": SimPhone(answer_after=2),
        "1003": SimPhone(answer_after=None),
        NUMBER: SimPhone(answer_after=3),
    }
    voice = SimulatedVoice(caller_flow, phones=phones)
    runner = QueueRunner(
        voice, {"hotel": QueueConfig("hotel", "hotel")}, {"hotel": QueueRules(ring_seconds=8, wrap_seconds=0)}
    )
    runner.seats = {
        n: Seat(n, f"100{n}", f"100{n} (00{n})", {"hotel": 3}, work_number=f"00{n}", name=f"坐席{n}")
        for n in (1, 2, 3)
    }
    node = Node(voice, runner)
    for agent in (1, 2, 3):
        runner.agent(agent, "login")
        runner.agent(agent, "ready")
    caller = voice.call_in("13800138000", "4008001000")
    await asyncio.sleep(2)  # agent 1 (the longest idle) answers after a second
    (call,) = node.live.values()
    for index, pause in steps:
        if node.live.get(call.call_id) is not call:
            break  # the call is over: nothing left to control
        what, argument, action = OPERATIONS[index]
        before = call.mode
        try:
            if what == "hold":
                await call.hold(argument)
            elif what == "mute":
                call.mute(argument)
            elif what == "keys":
                await call.keys(argument)
            elif what == "hang_up":
                await call.hang_up()
            elif what == "transfer":
                await call.transfer(argument)
            else:
                await call.finish_consult(argument)
        except InvalidTransition:
            assert call.mode is before  # refused: nothing changed
            if action in CALL.allowed(before):  # the table allowed it: a rule about the target refused
                assert what in ("transfer", "consult")  # not ready, not answered yet, no consultation
            done.append(f"{what}: refused in {before.value}")
        except HotlineError:  # a target that cannot be (oneself, a number nothing rings)
            assert call.mode is before
            done.append(f"{what}: not possible")
        else:
            if what == "hold" and (before is Mode.HELD) is argument:
                assert call.mode is before  # already so: nothing to do
            elif what == "hang_up":
                assert "hang_up" in CALL.allowed(before)
                if before is Mode.THREE_WAY:
                    assert call.mode is Mode.TALKING  # the other two talk on
            elif action is not None:
                assert action in CALL.allowed(before)  # the table allowed what was done
                assert call.mode is state.after(before, action)
            done.append(f"{what}: {before.value} → {call.mode.value}")
        consistent(call, runner)
        await asyncio.sleep(pause)
        if node.live.get(call.call_id) is call:
            consistent(call, runner)
    caller.mark_ended(EndReason.CALLER_HUNG_UP)
    await asyncio.sleep(60)  # everything the call started ends: colleagues' phones, music, timers
    await voice.stop()
    for task in list(node.tasks) + list(runner._tasks):
        task.cancel()
    await asyncio.gather(*node.tasks, *runner._tasks, return_exceptions=True)
    return done


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, len(OPERATIONS) - 1), st.sampled_from([0.0, 1.0, 4.0, 12.0])), max_size=10
    )
)
def test_any_sequence_of_operations_keeps_a_live_call_in_the_mode_the_table_says(
    steps: list[tuple[int, float]],
) -> None:
    run_virtual(drive(steps))


def test_a_consultation_completed_hands_the_caller_to_the_colleague() -> None:
    done = run_virtual(drive([(5, 4.0), (12, 1.0)]))  # consult 002, who answers; complete
    assert done == ["transfer: talking → consulting", "consult: consulting → talking"]
