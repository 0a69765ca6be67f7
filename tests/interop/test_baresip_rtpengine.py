"""baresip (Debian's softphone) as the agent's phone on a node whose media relay is rtpengine: a
real phone takes the re-INVITE to rtpengine, the audio flows both ways through rtpengine, both
sides are recorded from rtpengine's capture, and hanging up forgets the call there."""

from __future__ import annotations

import asyncio
import random
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from hotline.voice.control import Bridge, Leg
from hotline.voice.media.g711 import ulaw_decode
from hotline.voice.rtpengine.bridge import RtpengineBridge
from hotline.voice.rtpengine.client import NgClient, NgError
from hotline.voice.sip.digest import hashed
from hotline.voice.sip.server import SipServer
from tests.interop.test_baresip import AGENT_TONE, CALLER_TONE, baresip, registered
from tests.voice.audio import tone_share, wav_samples
from tests.voice.rtpengine_daemon import Rtpengine, running_rtpengine
from tests.voice.softphone import TEST_TRUNK, Softphone

pytestmark = pytest.mark.skipif(shutil.which("baresip") is None, reason="baresip is installed by make test")


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Rtpengine]:
    low = random.randrange(47000, 47600, 200)
    with running_rtpengine(tmp_path, (low, low + 199)) as running:
        yield running


@pytest.fixture
async def sip(daemon: Rtpengine) -> AsyncIterator[SipServer]:
    async with NgClient(daemon.ng, interval=0.2, attempts=25) as ng:
        await ng.ping()  # rtpengine has started
    server = SipServer(
        "127.0.0.1", 0, "hotline", hashed({"1001": "sip1001"}), trunks=[TEST_TRUNK], rtp_ports=(47800, 47999),
        rtpengine_ng=f"{daemon.ng[0]}:{daemon.ng[1]}", rtpengine_recordings=daemon.recordings,
    )  # fmt: skip
    await server.start()
    yield server
    await server.stop()


async def test_a_caller_bridged_to_baresip_through_rtpengine_hears_it_and_both_sides_are_recorded(
    sip: SipServer, daemon: Rtpengine, tmp_path: Path
) -> None:
    bridges: list[Bridge] = []

    async def to_agent(caller: Leg) -> None:
        await caller.answer()
        agent = await sip.engine.originate("1001", caller=caller.caller, ring_for=10)
        bridge = sip.engine.bridge(caller, agent, record_to=tmp_path / "recording")
        bridges.append(bridge)
        try:
            await bridge.wait()
        finally:
            await bridge.stop()
            await agent.hang_up()

    sip.engine.application = to_agent
    low, high = daemon.ports
    async with (
        baresip(tmp_path / "baresip", sip.port, "sip1001") as folder,
        NgClient(daemon.ng, interval=0.2, attempts=5) as ng,
    ):
        assert await registered(sip, "1001", 10)
        caller = await Softphone.open("13800138000", "", sip.port)
        try:
            assert (await caller.dial("4008001000")).status == 200
            for _ in range(100):
                if bridges:
                    break
                await asyncio.sleep(0.05)
            bridge = bridges[0]
            assert isinstance(bridge, RtpengineBridge)
            await asyncio.wait_for(bridge.settled.wait(), 10)
            call_id = bridge.anchored
            assert call_id is not None, "baresip did not take the re-INVITE to rtpengine"
            assert caller.remote_media is not None and low <= caller.remote_media[1] <= high
            mark = len(caller.rtp.packets)
            await caller.send_tone(CALLER_TONE, 2000)
            caller.send(caller.in_dialog("BYE", cseq=2))
            for _ in range(100):
                if bridge.recording is not None:
                    break
                await asyncio.sleep(0.05)
            with pytest.raises(NgError, match="Unknown call-id"):
                await ng.query(call_id)
        finally:
            caller.close()
        await asyncio.sleep(0.5)  # baresip closes its dump files on BYE

    received = list(zip(caller.rtp.sources, caller.rtp.packets, strict=True))[mark:]
    from_rtpengine = [packet for source, (_, packet) in received if low <= source[1] <= high]
    heard_by_caller = ulaw_decode(b"".join(packet.payload for packet in from_rtpengine))
    assert len(heard_by_caller) > 8000 and tone_share(heard_by_caller, AGENT_TONE) > 0.8

    recording = bridge.recording
    assert recording is not None and recording.leg_a.parent == tmp_path / "recording"
    said_by_caller, _ = wav_samples(recording.leg_a)
    said_by_agent, _ = wav_samples(recording.leg_b)
    assert tone_share(said_by_caller, CALLER_TONE) > 0.5 and tone_share(said_by_agent, AGENT_TONE) > 0.5

    (heard_file,) = folder.glob("dump-*-dec.wav")
    import wave

    with wave.open(str(heard_file)) as wav:
        rate = wav.getframerate()
    heard_by_agent, _ = wav_samples(heard_file)
    assert tone_share(heard_by_agent, CALLER_TONE, rate) > 0.5
