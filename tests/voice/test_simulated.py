"""The simulated driver: the same applications run on virtual time, and every leg's life is
consistent however callers and phones behave (a property test of the leg state machine)."""

from __future__ import annotations

import asyncio
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.voice.apps import prompt_and_collect
from hotline.voice.control import EndReason, Leg, LegEvent, OriginateFailed
from hotline.voice.simulated import SimPhone, SimulatedVoice, run_virtual


def test_the_ivr_application_runs_unchanged_on_virtual_time() -> None:
    async def scenario() -> tuple[str, float]:
        voice = SimulatedVoice(prompt_and_collect())
        leg = voice.call_in("13800138000", "4008001000", keys="81#", key_after=2.0)
        await leg.ended.wait()
        return leg.variables["digits"], asyncio.get_running_loop().time()

    started = time.monotonic()
    digits, virtual_seconds = run_virtual(scenario())
    assert digits == "81"
    assert virtual_seconds >= 3.0  # keys from 2 s on, half a second apart
    assert time.monotonic() - started < 1.0


def test_ring_timeouts_expire_in_virtual_time() -> None:
    async def scenario() -> tuple[EndReason, float, int]:
        voice = SimulatedVoice(prompt_and_collect(), phones={"1001": SimPhone(answer_after=None)})
        loop = asyncio.get_running_loop()
        try:
            await voice.originate("1001", ring_for=30)
        except OriginateFailed as failed:
            return failed.reason, loop.time(), voice.phones["1001"].rung
        raise AssertionError("a phone that never answers was answered")

    started = time.monotonic()
    assert run_virtual(scenario()) == (EndReason.NO_ANSWER, 30.0, 1)
    assert time.monotonic() - started < 1.0


callers = st.lists(
    st.tuples(
        st.text("0123456789#", max_size=6),  # keys
        st.floats(0.0, 20.0),  # when they start pressing
        st.one_of(st.none(), st.floats(0.5, 60.0)),  # patience
        st.one_of(st.none(), st.floats(1.0, 120.0)),  # talk time once connected
    ),
    min_size=1,
    max_size=6,
)
phones = st.builds(
    SimPhone,
    answer_after=st.one_of(st.none(), st.floats(0.0, 40.0)),
    busy=st.booleans(),
    registered=st.booleans(),
)


@settings(max_examples=60, deadline=None)
@given(callers=callers, phone=phones)
def test_every_leg_ends_once_with_its_phases_in_order(
    callers: list[tuple[str, float, float | None, float | None]], phone: SimPhone
) -> None:
    async def to_agent(caller: Leg) -> None:
        await caller.answer()
        await caller.collect(max_digits=4, first_timeout=5, next_timeout=3)
        agent = await voice.originate("1001", caller=caller.caller, ring_for=15)
        bridge = voice.bridge(caller, agent)
        try:
            await bridge.wait()
        finally:
            await bridge.stop()
            await agent.hang_up()

    events: list[LegEvent] = []
    voice = SimulatedVoice(to_agent, phones={"1001": phone})
    voice.listeners.append(events.append)

    async def scenario() -> list[Leg]:
        legs = [
            voice.call_in(f"138{n:08d}", "4008001000", keys=keys, key_after=after, gives_up_after=patience,
                          talks_for=talk)
            for n, (keys, after, patience, talk) in enumerate(callers)
        ]  # fmt: skip
        await asyncio.sleep(3600)
        await voice.stop()
        return legs

    legs = run_virtual(scenario())
    ids = {event.leg_id for event in events}
    for leg_id in ids:
        kinds = [event.kind for event in events if event.leg_id == leg_id]
        assert kinds.count("ended") == 1 and kinds[-1] == "ended"
        assert kinds.count("answered") <= 1
        if "bridged" in kinds:
            assert kinds.index("answered") < kinds.index("bridged") if "answered" in kinds else False
    for leg in legs:
        cdr = leg.cdr
        assert cdr.ended_at is not None and cdr.end_reason is not None
        assert cdr.offered_at is not None and cdr.offered_at <= cdr.ended_at
        if cdr.answered_at is not None:
            assert cdr.offered_at <= cdr.answered_at <= cdr.ended_at
        if cdr.bridged_at is not None:
            assert cdr.answered_at is not None and cdr.answered_at <= cdr.bridged_at <= cdr.ended_at
    assert voice.legs == {}
