"""The built-in engine through the call-control interface, with scripted phones over loopback:
ringing agents (answer, busy, no answer, forking), bridging with recording, CANCEL, REFER."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from hotline.voice.control import (
    Bridge,
    EndReason,
    Leg,
    LegEvent,
    LegState,
    MonitorMode,
    OriginateFailed,
    monitor_hearing,
    settle,
)
from hotline.voice.media.g711 import ulaw_decode
from hotline.voice.sip.digest import hashed
from hotline.voice.sip.server import SipServer
from tests.voice.audio import tone_share, wav_samples
from tests.voice.softphone import TEST_TRUNK, Softphone

PASSWORDS = {"1001": "sip1001", "1002": "sip1002"}


class Harness:
    def __init__(self, **options: Any) -> None:
        self.events: list[LegEvent] = []
        self.application: Callable[[Leg], Awaitable[None]] = self._idle
        self.phones: list[Softphone] = []
        self.sip = SipServer(
            "127.0.0.1", 0, "hotline", hashed(PASSWORDS), trunks=[TEST_TRUNK],
            application=lambda leg: self.application(leg), **options,
        )  # fmt: skip
        self.sip.engine.listeners.append(self.events.append)

    @staticmethod
    async def _idle(leg: Leg) -> None:
        await leg.answer()
        await leg.ended.wait()

    async def phone(self, extension: str, *, mode: str = "answer", register: bool = True) -> Softphone:
        phone = await Softphone.open(extension, PASSWORDS.get(extension, "x"), self.sip.port, mode=mode)
        self.phones.append(phone)
        if register:
            assert await phone.register() == 200
        return phone

    def kinds(self, leg: Leg) -> list[str]:
        return [event.kind for event in self.events if event.leg_id == leg.id]


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    harness = Harness()
    await harness.sip.start()
    yield harness
    await harness.sip.stop()
    for phone in harness.phones:
        phone.close()


async def test_an_agent_phone_rings_answers_and_gets_a_bye_when_hotline_hangs_up(harness: Harness) -> None:
    phone = await harness.phone("1001")
    leg = await harness.sip.engine.originate("1001", caller="13800138000", ring_for=5)
    assert leg.state is LegState.ANSWERED and phone.answered.is_set()
    await asyncio.sleep(0.05)
    assert phone.ack_count == 1  # the 200 was confirmed once
    await leg.hang_up()
    await asyncio.wait_for(phone.hung_up.wait(), 2)
    assert harness.kinds(leg) == ["ringing", "answered", "ended"]
    cdr = leg.cdr
    assert cdr.ringing_at and cdr.answered_at and cdr.ended_at
    assert cdr.ringing_at <= cdr.answered_at <= cdr.ended_at and cdr.end_reason is EndReason.HOTLINE_HUNG_UP
    assert harness.sip.engine.legs == {}


async def test_busy_unanswered_and_unregistered_agents_fail_with_their_reason(harness: Harness) -> None:
    await harness.phone("1001", mode="busy")
    with pytest.raises(OriginateFailed) as busy:
        await harness.sip.engine.originate("1001", ring_for=5)
    assert busy.value.reason is EndReason.BUSY

    ringing = await harness.phone("1002", mode="ring")
    with pytest.raises(OriginateFailed) as unanswered:
        await harness.sip.engine.originate("1002", ring_for=0.5)
    assert unanswered.value.reason is EndReason.NO_ANSWER
    await asyncio.wait_for(ringing.cancelled.wait(), 3)  # the phone stopped ringing: CANCEL
    await asyncio.sleep(0.1)
    assert ringing.ack_count == 1  # and its 487 was acknowledged

    with pytest.raises(OriginateFailed) as nobody:
        await harness.sip.engine.originate("1003", ring_for=5)
    assert nobody.value.reason is EndReason.UNREACHABLE
    await asyncio.sleep(0.1)
    assert harness.sip.engine.legs == {}


async def test_an_extension_on_two_phones_rings_both_and_the_loser_is_cancelled(harness: Harness) -> None:
    desk = await harness.phone("1001", mode="ring")
    mobile = await harness.phone("1001", mode="answer")
    assert len(harness.sip.registrar.contacts("1001")) == 2
    leg = await harness.sip.engine.originate("1001", ring_for=5)
    assert leg.state is LegState.ANSWERED and mobile.answered.is_set()
    await asyncio.wait_for(desk.cancelled.wait(), 3)
    await leg.hang_up()
    await asyncio.wait_for(mobile.hung_up.wait(), 2)


async def test_a_bridged_call_carries_audio_both_ways_and_is_recorded_at_its_real_length(
    harness: Harness, tmp_path: Path
) -> None:
    """Caller (trunk) → Hotline → agent 1001. Every 10th caller packet is lost on the way."""
    agent = await harness.phone("1001")
    bridges: list[Bridge] = []

    async def connect(caller: Leg) -> None:
        await caller.answer()
        agent_leg = await harness.sip.engine.originate("1001", caller=caller.caller, ring_for=5)
        bridge = harness.sip.engine.bridge(caller, agent_leg, record_to=tmp_path / "rec")
        bridges.append(bridge)
        try:
            await bridge.wait()
        finally:  # the caller hanging up cancels the application: clean up here
            await bridge.stop()
            await agent_leg.hang_up()

    harness.application = connect
    caller = await Softphone.open("13800138000", "", harness.sip.port)
    harness.phones.append(caller)
    assert (await caller.dial("4008001000")).status == 200
    await asyncio.wait_for(agent.answered.wait(), 3)
    await asyncio.sleep(0.1)
    await asyncio.gather(caller.send_tone(1000, 1000, drop_every=10), agent.send_tone(600, 1000))
    await asyncio.sleep(0.1)
    caller.send(caller.in_dialog("BYE", cseq=2))
    await asyncio.wait_for(agent.hung_up.wait(), 3)  # the caller left: Hotline hangs up the agent
    for _ in range(50):
        if bridges and bridges[0].recording is not None:
            break
        await asyncio.sleep(0.05)

    heard = [packet for _, packet in agent.rtp.packets]
    assert len(heard) == 45  # 50 frames sent, every 10th lost
    assert len({packet.ssrc for packet in heard}) == 1  # one stream, Hotline's SSRC
    steps = [
        ((b.sequence - a.sequence) & 0xFFFF, (b.timestamp - a.timestamp) & 0xFFFFFFFF)
        for a, b in pairwise(heard)
    ]
    assert sorted(set(steps)) == [(1, 160), (2, 320)] and steps.count((2, 320)) == 4  # losses stay visible
    assert tone_share(ulaw_decode(b"".join(p.payload for p in heard)), 1000) > 0.9
    assert tone_share(ulaw_decode(b"".join(p.payload for _, p in caller.rtp.packets)), 600) > 0.9

    recording = bridges[0].recording
    assert recording is not None
    said_by_caller, _ = wav_samples(recording.leg_a)
    said_by_agent, _ = wav_samples(recording.leg_b)
    assert tone_share(said_by_caller, 1000) > 0.5 and tone_share(said_by_agent, 600) > 0.5
    assert len(said_by_caller) == len(said_by_agent) >= 8000  # losses left silence, not a shorter file
    assert abs(len(said_by_caller) / 8000 - recording.seconds) < 0.01
    left, channels = wav_samples(recording.mix, 0)
    right, _ = wav_samples(recording.mix, 1)
    assert channels == 2 and left == said_by_caller and right == said_by_agent


async def test_a_caller_who_hangs_up_before_answer_is_cancelled_cleanly(harness: Harness) -> None:
    offered: list[Leg] = []

    async def never_answer(leg: Leg) -> None:
        offered.append(leg)
        await asyncio.sleep(30)

    harness.application = never_answer
    caller = await Softphone.open("13800138000", "", harness.sip.port)
    harness.phones.append(caller)
    dialling = asyncio.create_task(caller.dial("4008001000"))
    for _ in range(40):
        if offered:
            break
        await asyncio.sleep(0.05)
    cancel = caller.in_dialog("CANCEL", cseq=1)
    assert caller.invite is not None
    cancel.headers.set("Via", caller.invite.headers.get("Via") or "")
    caller.send(cancel)
    final = await dialling
    assert final.status in (200, 487)
    responses = [final] + [caller.responses.get_nowait() for _ in range(caller.responses.qsize())]
    assert {r.status for r in responses if r.cseq[1] == "INVITE"} == {487}
    leg = offered[0]
    assert leg.cdr.end_reason is EndReason.CANCELLED and leg.cdr.answered_at is None
    assert harness.kinds(leg) == ["offered", "ended"] and harness.sip.engine.legs == {}


async def test_a_phone_asking_to_transfer_gets_202_and_the_router_hears_the_target(harness: Harness) -> None:
    caller = await Softphone.open("13800138000", "", harness.sip.port)
    harness.phones.append(caller)
    assert (await caller.dial("4008001000")).status == 200
    refer = caller.in_dialog("REFER", cseq=2)
    refer.headers.add("Refer-To", "<sip:1002@127.0.0.1>")
    caller.send(refer)
    reply = await asyncio.wait_for(caller.responses.get(), 2)
    assert reply.status == 202
    transfers = [event for event in harness.events if event.kind == "transfer"]
    assert [event.detail["target"] for event in transfers] == ["1002"]


async def test_a_supervisor_listens_then_whispers_and_the_caller_never_hears_the_supervisor(
    harness: Harness,
) -> None:
    agent = await harness.phone("1001")
    supervisor = await harness.phone("1002")
    legs: dict[str, Leg] = {}

    async def connect(caller: Leg) -> None:
        await caller.answer()
        agent_leg = await harness.sip.engine.originate("1001", ring_for=5)
        bridge = harness.sip.engine.bridge(caller, agent_leg)
        legs.update(caller=caller, agent=agent_leg)
        try:
            await bridge.wait()
        finally:
            await bridge.stop()
            await agent_leg.hang_up()

    harness.application = connect
    caller = await Softphone.open("13800138000", "", harness.sip.port)
    harness.phones.append(caller)
    assert (await caller.dial("4008001000")).status == 200
    await asyncio.wait_for(agent.answered.wait(), 3)
    watching = await harness.sip.engine.originate("1002", ring_for=5)
    phones = {"caller": caller, "agent": agent, "supervisor": supervisor}

    async def talk() -> dict[str, list[int]]:
        marks = {name: len(phone.rtp.packets) for name, phone in phones.items()}
        await asyncio.gather(
            caller.send_tone(1000, 800), agent.send_tone(600, 800), supervisor.send_tone(400, 800)
        )
        await asyncio.sleep(0.1)
        return {
            name: ulaw_decode(b"".join(p.payload for _, p in phone.rtp.packets[marks[name] :]))
            for name, phone in phones.items()
        }

    conference = harness.sip.engine.conference(
        monitor_hearing(legs["caller"], legs["agent"], watching, MonitorMode.LISTEN)
    )
    listening = await talk()
    conference.set_hearing(monitor_hearing(legs["caller"], legs["agent"], watching, MonitorMode.WHISPER))
    whispering = await talk()
    await conference.stop()
    await watching.hang_up()

    assert tone_share(listening["supervisor"], 1000) > 0.2 and tone_share(listening["supervisor"], 600) > 0.2
    assert tone_share(listening["caller"], 600) > 0.8 and tone_share(listening["agent"], 1000) > 0.8
    assert tone_share(whispering["agent"], 400) > 0.2 and tone_share(whispering["agent"], 1000) > 0.2
    for heard in (listening["caller"], listening["agent"], whispering["caller"]):
        assert tone_share(heard, 400) < 0.02  # the supervisor is heard only where allowed


async def test_a_voicemail_message_records_what_the_caller_says(harness: Harness, tmp_path: Path) -> None:
    """One leg recorded on its own (the IVR's voicemail node): the caller's tone, one second long."""
    kept: list[tuple[Path, float] | None] = []

    async def voicemail(caller: Leg) -> None:
        await caller.answer()
        recording = caller.record(tmp_path / "vm" / "voicemail.wav")

        async def keep() -> None:
            kept.append(await recording.stop())

        try:
            await caller.ended.wait()
        finally:  # the hang-up cancels the application: settle lets the file be written and kept
            await settle(keep())

    harness.application = voicemail
    caller = await Softphone.open("13800138000", "", harness.sip.port)
    harness.phones.append(caller)
    assert (await caller.dial("4008001000")).status == 200
    await caller.send_tone(1000, 1000)
    caller.send(caller.in_dialog("BYE", cseq=2))
    for _ in range(50):
        if kept:
            break
        await asyncio.sleep(0.05)
    ((path, seconds),) = [k for k in kept if k is not None]
    assert path == tmp_path / "vm" / "voicemail.wav" and 0.9 < seconds < 2.0
    samples, channels = wav_samples(path)
    assert channels == 1 and tone_share(samples, 1000) > 0.8


async def test_an_ended_call_is_freed_at_once_not_left_for_the_cyclic_collector(
    harness: Harness, tmp_path: Path
) -> None:
    """A bridged, recorded call with a key pressed, ended: nothing of it (legs, RTP sessions) is
    kept alive only by reference cycles. At 200 calls a second such leftovers piled up between
    the collector's full passes, and freeing thousands at once paused the node 0.6 s."""
    import gc

    from hotline.voice.rtp.session import RtpSession
    from hotline.voice.sip_leg import SipLeg

    agent = await harness.phone("1001")
    pressed: list[str] = []

    async def connect(caller: Leg) -> None:
        await caller.answer()
        agent_leg = await harness.sip.engine.originate("1001", caller=caller.caller, ring_for=5)
        bridge = harness.sip.engine.bridge(caller, agent_leg, record_to=tmp_path / "rec")
        try:
            pressed.append(await asyncio.wait_for(caller.digits.get(), 3))
            await bridge.wait()
        finally:
            await bridge.stop()
            await agent_leg.hang_up()

    gc.collect()
    gc.disable()
    try:
        harness.application = connect
        caller = await Softphone.open("13800138000", "", harness.sip.port)
        harness.phones.append(caller)
        assert (await caller.dial("4008001000")).status == 200
        await asyncio.wait_for(agent.answered.wait(), 3)
        await caller.send_keys("5")
        await asyncio.sleep(0.2)
        caller.send(caller.in_dialog("BYE", cseq=3))
        await asyncio.wait_for(agent.hung_up.wait(), 3)
        await asyncio.sleep(0.3)  # the recording written, the sockets closed
        assert pressed == ["5"]
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        left = [type(o).__name__ for o in gc.garbage if isinstance(o, (RtpSession, SipLeg))]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert left == []
