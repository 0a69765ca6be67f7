"""Bridges relayed by a real rtpengine (media_relay=rtpengine): two scripted SIP phones over loopback,
a caller from the trunk and agent 1001, re-INVITEd to rtpengine and back."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from hotline.voice.control import Bridge, Leg, LegState, MonitorMode, monitor_hearing
from hotline.voice.media.g711 import tone, ulaw_decode, ulaw_encode
from hotline.voice.rtp.packet import RtpPacket
from hotline.voice.rtpengine.bridge import RtpengineBridge
from hotline.voice.rtpengine.client import NgClient, NgError
from hotline.voice.sip_leg import SipLeg
from tests.voice.audio import tone_share, wav_samples
from tests.voice.rtpengine_daemon import Rtpengine, running_rtpengine
from tests.voice.softphone import Softphone
from tests.voice.test_engine import Harness

HOTLINE_RTP = (47800, 47999)


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Rtpengine]:
    low = random.randrange(47000, 47600, 200)  # the SQLite and PostgreSQL runs share the machine
    with running_rtpengine(tmp_path, (low, low + 199)) as running:
        yield running


@pytest.fixture
async def ng(daemon: Rtpengine) -> AsyncIterator[NgClient]:
    async with NgClient(daemon.ng, interval=0.2, attempts=25) as client:
        await client.ping()  # waits (re-sending) until rtpengine has started
        yield client


class Site:
    """A node whose media relay is rtpengine, the agent's phone registered, a caller ready to dial;
    the application answers, rings the agent and bridges them until told to stop (`release`),
    then plays a prompt to both."""

    def __init__(self, harness: Harness, daemon: Rtpengine, record_to: Path | None) -> None:
        self.harness, self.daemon, self.record_to = harness, daemon, record_to
        self.bridges: list[Bridge] = []
        self.legs: list[SipLeg] = []
        self.release = asyncio.Event()
        self.prompted = asyncio.Event()
        harness.application = self.connect

    async def connect(self, caller: Leg) -> None:
        engine = self.harness.sip.engine
        await caller.answer()
        agent = await engine.originate("1001", caller=caller.caller, ring_for=5)
        assert isinstance(caller, SipLeg) and isinstance(agent, SipLeg)
        self.legs[:] = [caller, agent]
        bridge = engine.bridge(caller, agent, record_to=self.record_to)
        self.bridges.append(bridge)
        try:
            waiting = asyncio.ensure_future(bridge.wait())
            await asyncio.wait(
                {waiting, asyncio.ensure_future(self.release.wait())}, return_when="FIRST_COMPLETED"
            )
            if not waiting.done():
                await bridge.stop()
                prompt = ulaw_encode(tone(800, 600))
                await asyncio.gather(caller.play(prompt), agent.play(prompt))
                self.prompted.set()
                await caller.ended.wait()
        finally:
            await bridge.stop()
            await agent.hang_up()

    @property
    def bridge(self) -> RtpengineBridge:
        bridge = self.bridges[0]
        assert isinstance(bridge, RtpengineBridge)
        return bridge

    def at_rtpengine(self, media: tuple[str, int] | None) -> bool:
        low, high = self.daemon.ports
        return media is not None and media[0] == "127.0.0.1" and low <= media[1] <= high

    async def call(self, agent: Softphone) -> Softphone:
        caller = await Softphone.open("13800138000", "", self.harness.sip.port)
        self.harness.phones.append(caller)
        assert (await caller.dial("4008001000")).status == 200
        await asyncio.wait_for(agent.answered.wait(), 3)
        for _ in range(100):
            if self.bridges:
                break
            await asyncio.sleep(0.02)
        return caller

    async def settled(self, seconds: float = 5) -> None:
        await asyncio.wait_for(self.bridge.settled.wait(), seconds)


@pytest.fixture
async def harness(daemon: Rtpengine, ng: NgClient) -> AsyncIterator[Harness]:
    harness = Harness(
        rtpengine_ng=f"{daemon.ng[0]}:{daemon.ng[1]}", rtpengine_recordings=daemon.recordings,
        rtp_ports=HOTLINE_RTP,
    )  # fmt: skip
    await harness.sip.start()
    yield harness
    await harness.sip.stop()
    for phone in harness.phones:
        phone.close()


def heard(phone: Softphone, since: int = 0) -> list[tuple[tuple[str, int] | None, RtpPacket]]:
    return [
        (source, packet) for source, (_, packet) in zip(phone.rtp.sources, phone.rtp.packets, strict=True)
    ][since:]


async def talk(caller: Softphone, agent: Softphone, milliseconds: int = 1000) -> tuple[int, int]:
    """Both phones speak at once (caller 1000 Hz, agent 600 Hz); returns where their received
    packets began."""
    marks = len(caller.rtp.packets), len(agent.rtp.packets)
    await asyncio.gather(caller.send_tone(1000, milliseconds), agent.send_tone(600, milliseconds))
    await asyncio.sleep(0.15)
    return marks


def share(packets: list[tuple[tuple[str, int] | None, RtpPacket]], frequency: float) -> float:
    return tone_share(ulaw_decode(b"".join(packet.payload for _, packet in packets)), frequency)


async def test_given_two_phones_bridged_then_rtpengine_relays_their_audio_records_it_and_forgets_the_call(
    harness: Harness, daemon: Rtpengine, ng: NgClient, tmp_path: Path
) -> None:
    site = Site(harness, daemon, tmp_path / "rec")
    agent = await harness.phone("1001")
    caller = await site.call(agent)
    await site.settled()

    assert site.bridge.anchored is not None and not site.bridge.refused
    assert site.at_rtpengine(caller.remote_media) and site.at_rtpengine(agent.remote_media)
    assert caller.remote_media != agent.remote_media
    assert [status for _, status in caller.reinvites] == [200] == [s for _, s in agent.reinvites]
    call_id = site.bridge.anchored
    assert call_id in await ng.list_calls()

    at_caller, at_agent = await talk(caller, agent)
    to_agent, to_caller = heard(agent, at_agent), heard(caller, at_caller)
    assert len(to_agent) >= 45 and len(to_caller) >= 45  # 50 frames each way
    assert all(site.at_rtpengine(source) for source, _ in to_agent + to_caller)  # not from Hotline
    assert share(to_agent, 1000) > 0.9 and share(to_caller, 600) > 0.9
    totals = (await ng.query(call_id))["totals"]["RTP"]
    assert totals["packets"] >= 90

    caller.send(caller.in_dialog("BYE", cseq=2))  # the caller hangs up while rtpengine relays
    await asyncio.wait_for(agent.hung_up.wait(), 5)
    for _ in range(100):
        if site.bridge.recording is not None:
            break
        await asyncio.sleep(0.05)
    with pytest.raises(NgError, match="Unknown call-id"):
        await ng.query(call_id)

    recording = site.bridge.recording
    assert recording is not None and recording.leg_a.parent == tmp_path / "rec"
    assert {path.name for path in (tmp_path / "rec").iterdir()} == {"a.wav", "b.wav", "mix.wav"}
    said_by_caller, _ = wav_samples(recording.leg_a)
    said_by_agent, _ = wav_samples(recording.leg_b)
    assert tone_share(said_by_caller, 1000) > 0.5 and tone_share(said_by_agent, 600) > 0.5
    assert len(said_by_caller) == len(said_by_agent) >= 8000  # a second of each, in place
    assert abs(len(said_by_caller) / 8000 - recording.seconds) < 0.01


async def test_given_the_bridge_stops_then_both_phones_come_back_to_the_node_and_hear_its_prompt(
    harness: Harness, daemon: Rtpengine, ng: NgClient
) -> None:
    site = Site(harness, daemon, None)
    agent = await harness.phone("1001")
    caller = await site.call(agent)
    await site.settled()
    call_id = site.bridge.anchored
    assert call_id is not None and site.at_rtpengine(caller.remote_media)

    marks = len(caller.rtp.packets), len(agent.rtp.packets)
    site.release.set()
    await asyncio.wait_for(site.prompted.wait(), 5)
    caller_leg, agent_leg = site.legs
    assert caller.remote_media == ("127.0.0.1", caller_leg.rtp.port)
    assert agent.remote_media == ("127.0.0.1", agent_leg.rtp.port)
    assert [s for _, s in caller.reinvites] == [200, 200] == [s for _, s in agent.reinvites]
    with pytest.raises(NgError, match="Unknown call-id"):
        await ng.query(call_id)
    for phone, leg, mark in ((caller, caller_leg, marks[0]), (agent, agent_leg, marks[1])):
        prompt = [
            (source, packet) for source, packet in heard(phone, mark) if source == ("127.0.0.1", leg.rtp.port)
        ]
        assert len(prompt) >= 25 and share(prompt, 800) > 0.9
    assert caller_leg.state is LegState.ANSWERED and agent_leg.state is LegState.ANSWERED


async def test_given_a_reinvite_answered_491_then_it_is_tried_again_and_the_call_moves(
    harness: Harness, daemon: Rtpengine
) -> None:
    site = Site(harness, daemon, None)
    agent = await harness.phone("1001")
    agent.reinvite_answers = [491]
    caller = await site.call(agent)
    await site.settled(seconds=10)

    statuses = [status for _, status in agent.reinvites]
    assert statuses == [491, 200] and site.bridge.anchored is not None
    first, again = (invite for invite, _ in agent.reinvites)
    assert again.cseq[0] > first.cseq[0]  # a new transaction, next CSeq
    assert site.at_rtpengine(caller.remote_media) and site.at_rtpengine(agent.remote_media)
    at_caller, at_agent = await talk(caller, agent, 400)
    assert share(heard(agent, at_agent), 1000) > 0.9 and share(heard(caller, at_caller), 600) > 0.9


@pytest.mark.parametrize("refusing", ["agent", "caller"])
async def test_given_a_phone_refuses_the_move_with_488_then_the_call_stays_on_the_node(
    harness: Harness, daemon: Rtpengine, ng: NgClient, refusing: str
) -> None:
    """The agent's phone (re-INVITEd first) or the caller's refuses: whoever had moved comes back."""
    site = Site(harness, daemon, None)
    agent = await harness.phone("1001")
    if refusing == "agent":
        agent.reinvite_answers = [488]
    caller = await Softphone.open("13800138000", "", harness.sip.port)
    harness.phones.append(caller)
    if refusing == "caller":
        caller.reinvite_answers = [488]
    assert (await caller.dial("4008001000")).status == 200
    await asyncio.wait_for(agent.answered.wait(), 3)
    for _ in range(100):
        if site.bridges:
            break
        await asyncio.sleep(0.02)
    await site.settled()

    assert site.bridge.refused and site.bridge.anchored is None
    caller_leg, agent_leg = site.legs
    expected = {"agent": ([], [488]), "caller": ([488], [200, 200])}[refusing]
    assert ([s for _, s in caller.reinvites], [s for _, s in agent.reinvites]) == expected
    assert caller.remote_media == ("127.0.0.1", caller_leg.rtp.port)
    assert agent.remote_media == ("127.0.0.1", agent_leg.rtp.port)
    assert await ng.list_calls() == []  # nothing left behind in rtpengine
    at_caller, at_agent = await talk(caller, agent, 400)
    to_agent, to_caller = heard(agent, at_agent), heard(caller, at_caller)
    assert {source for source, _ in to_agent} == {("127.0.0.1", agent_leg.rtp.port)}  # relayed by Hotline
    assert share(to_agent, 1000) > 0.9 and share(to_caller, 600) > 0.9
    assert caller_leg.state is LegState.ANSWERED and agent_leg.state is LegState.ANSWERED


async def test_given_a_muted_agent_then_rtpengine_stops_passing_their_voice_until_unmuted(
    harness: Harness, daemon: Rtpengine
) -> None:
    site = Site(harness, daemon, None)
    agent = await harness.phone("1001")
    caller = await site.call(agent)
    await site.settled()
    _, agent_leg = site.legs

    agent_leg.mute(True)
    await asyncio.sleep(0.2)  # (block media is one ng round trip)
    at_caller, at_agent = await talk(caller, agent, 400)
    assert share(heard(caller, at_caller), 600) < 0.1  # the caller does not hear the agent
    assert share(heard(agent, at_agent), 1000) > 0.9  # the agent still hears the caller
    agent_leg.mute(False)
    await asyncio.sleep(0.2)
    at_caller, _ = await talk(caller, agent, 400)
    assert share(heard(caller, at_caller), 600) > 0.9 and site.bridge.anchored is not None


async def test_given_a_supervisor_listens_then_the_call_is_mixed_on_the_node_and_goes_back_to_rtpengine_after(
    harness: Harness, daemon: Rtpengine, ng: NgClient
) -> None:
    """Listen, whisper and barge are the conference mixer's: the media comes back to the node
    (the bridge paused) while a supervisor is on, and moves to rtpengine again after."""
    site = Site(harness, daemon, None)
    agent = await harness.phone("1001")
    supervisor = await harness.phone("1002")
    caller = await site.call(agent)
    await site.settled()
    first = site.bridge.anchored
    caller_leg, agent_leg = site.legs
    engine = harness.sip.engine
    supervisor_leg = await engine.originate("1002", ring_for=5)

    site.bridge.pause(True)
    conference = engine.conference(monitor_hearing(caller_leg, agent_leg, supervisor_leg, MonitorMode.LISTEN))
    await site.settled()
    assert site.bridge.anchored is None
    assert caller.remote_media == ("127.0.0.1", caller_leg.rtp.port)
    assert agent.remote_media == ("127.0.0.1", agent_leg.rtp.port)
    with pytest.raises(NgError, match="Unknown call-id"):
        await ng.query(str(first))
    mark = len(supervisor.rtp.packets)
    at_caller, at_agent = await talk(caller, agent)
    listened = heard(supervisor, mark)
    assert share(listened, 1000) > 0.2 and share(listened, 600) > 0.2  # both, mixed
    assert share(heard(agent, at_agent), 1000) > 0.8 and share(heard(caller, at_caller), 600) > 0.8

    await conference.stop()
    site.bridge.pause(False)
    await site.settled()
    assert site.bridge.anchored not in (None, first)  # a new call in rtpengine
    assert site.at_rtpengine(caller.remote_media) and site.at_rtpengine(agent.remote_media)
    at_caller, at_agent = await talk(caller, agent, 400)
    assert all(site.at_rtpengine(source) for source, _ in heard(agent, at_agent))
    assert share(heard(agent, at_agent), 1000) > 0.9 and share(heard(caller, at_caller), 600) > 0.9
    await supervisor_leg.hang_up()
