"""Hotline's ng client against a real rtpengine (Debian's `rtpengine-daemon`, userspace forwarding):
two UDP sockets stand for the two parties of a call whose media rtpengine anchors."""

from __future__ import annotations

import asyncio
import io
import random
import re
import socket
import struct
import wave
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from hotline.voice.rtpengine.client import NgClient, NgError, NgTimeout
from tests.voice.rtpengine_daemon import Rtpengine, free_port, running_rtpengine

PORTS = 200


@pytest.fixture
def rtpengine(tmp_path: Path) -> Iterator[Rtpengine]:
    low = random.randrange(41000, 59000, PORTS)  # the SQLite and PostgreSQL runs share the machine
    with running_rtpengine(tmp_path, (low, low + PORTS - 1)) as daemon:
        yield daemon


@pytest.fixture
async def ng(rtpengine: Rtpengine) -> AsyncIterator[NgClient]:
    async with NgClient(rtpengine.ng, interval=0.2, attempts=25) as client:
        await client.ping()  # waits (re-sending) until rtpengine has started
        yield client


class Party:
    """One side of a call: an RTP socket on loopback that sends μ-law frames and counts arrivals."""

    def __init__(self, ssrc: int) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.socket.setblocking(False)
        self.ssrc, self.sequence = ssrc, 0
        self.port = int(self.socket.getsockname()[1])

    def sdp(self) -> str:
        return (
            f"v=0\r\no=- {self.ssrc} 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
            f"m=audio {self.port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
            "a=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n"
        )

    async def talk(self, to: int, frames: int = 25, fill: bytes = b"\x55") -> None:
        for _ in range(frames):
            header = struct.pack("!BBHII", 0x80, 0, self.sequence, self.sequence * 160, self.ssrc)
            self.socket.sendto(header + fill * 160, ("127.0.0.1", to))
            self.sequence += 1
            await asyncio.sleep(0.02)

    def heard(self) -> list[bytes]:
        packets = []
        while True:
            try:
                packets.append(self.socket.recv(2048))
            except BlockingIOError:
                return packets


def media_port(sdp: str) -> int:
    return int(re.search(r"^m=audio (\d+) ", sdp, re.MULTILINE).group(1))  # type: ignore[union-attr]


@pytest.fixture
def parties() -> Iterator[tuple[Party, Party]]:
    caller, callee = Party(0x1111), Party(0x2222)
    yield caller, callee
    caller.socket.close()
    callee.socket.close()


async def anchor(ng: NgClient, call_id: str, caller: Party, callee: Party) -> tuple[int, int]:
    """Offer and answer through rtpengine: the ports each party must send to."""
    offer = await ng.offer(call_id, "caller", caller.sdp())
    answer = await ng.answer(call_id, "caller", "callee", callee.sdp())
    return media_port(answer), media_port(offer)


async def test_given_an_offer_and_answer_then_both_sdps_point_at_rtpengine(
    ng: NgClient, rtpengine: Rtpengine, parties: tuple[Party, Party]
) -> None:
    caller, callee = parties
    offer = await ng.offer("sdp-1", "caller", caller.sdp())
    answer = await ng.answer("sdp-1", "caller", "callee", callee.sdp())
    low, high = rtpengine.ports
    for sdp, own in ((offer, caller.port), (answer, callee.port)):
        assert "c=IN IP4 127.0.0.1" in sdp
        assert low <= media_port(sdp) <= high and media_port(sdp) != own
        assert "a=rtpmap:0 PCMU/8000" in sdp  # the codecs are passed through
    assert media_port(offer) != media_port(answer)


async def test_given_an_anchored_call_then_rtp_flows_both_ways_through_rtpengine(
    ng: NgClient, parties: tuple[Party, Party]
) -> None:
    caller, callee = parties
    to_caller_side, to_callee_side = await anchor(ng, "flow-1", caller, callee)
    await asyncio.gather(caller.talk(to_caller_side, fill=b"\x11"), callee.talk(to_callee_side, fill=b"\x22"))
    await asyncio.sleep(0.1)
    at_callee, at_caller = callee.heard(), caller.heard()
    assert len(at_callee) == 25 and len(at_caller) == 25
    assert {packet[12:] for packet in at_callee} == {b"\x11" * 160}
    assert {packet[12:] for packet in at_caller} == {b"\x22" * 160}
    totals = (await ng.query("flow-1"))["totals"]["RTP"]
    assert totals["packets"] == 50 and totals["errors"] == 0


async def test_given_recording_started_then_rtpengine_writes_the_calls_packets_to_a_pcap(
    ng: NgClient, rtpengine: Rtpengine, parties: tuple[Party, Party]
) -> None:
    caller, callee = parties
    to_caller_side, to_callee_side = await anchor(ng, "rec-1", caller, callee)
    await ng.start_recording("rec-1")
    await asyncio.gather(caller.talk(to_caller_side), callee.talk(to_callee_side))
    await ng.stop_recording("rec-1")
    await ng.delete("rec-1")
    pcaps = list((rtpengine.recordings / "pcaps").glob("rec-1-*.pcap"))
    assert len(pcaps) == 1
    data = pcaps[0].read_bytes()
    assert data[:4] in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4")  # a pcap file
    assert data.count(b"\x55" * 160) == 50  # every frame of both directions
    metadata = list((rtpengine.recordings / "metadata").glob("*rec-1-*"))
    assert metadata and "rec-1" in metadata[0].read_text(errors="replace")


def wav(seconds: float) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(8000)
        writer.writeframes(struct.pack("<h", 3000) * int(8000 * seconds))
    return out.getvalue()


async def test_given_media_played_to_the_caller_then_it_reaches_the_callers_socket(
    ng: NgClient, parties: tuple[Party, Party]
) -> None:
    caller, callee = parties
    to_caller_side, to_callee_side = await anchor(ng, "play-1", caller, callee)
    await asyncio.gather(caller.talk(to_caller_side, frames=5), callee.talk(to_callee_side, frames=5))
    caller.heard(), callee.heard()
    assert await ng.play_media("play-1", "caller", blob=wav(1.0)) == 1000
    await asyncio.sleep(0.6)
    prompt = caller.heard()
    assert len(prompt) >= 20  # ~25 frames of 20 ms in 0.6 s, paced by rtpengine
    assert {packet[1] & 0x7F for packet in prompt} == {0}  # μ-law, the call's codec
    assert callee.heard() == []  # played to the caller only
    await ng.stop_media("play-1", "caller")


async def test_given_a_blocked_party_then_the_other_hears_nothing_until_unblocked(
    ng: NgClient, parties: tuple[Party, Party]
) -> None:
    caller, callee = parties
    to_caller_side, _ = await anchor(ng, "block-1", caller, callee)
    await ng.block_media("block-1", "caller")
    await caller.talk(to_caller_side, frames=10)
    await asyncio.sleep(0.1)
    assert callee.heard() == []
    await ng.unblock_media("block-1", "caller")
    await caller.talk(to_caller_side, frames=10)
    await asyncio.sleep(0.1)
    assert len(callee.heard()) == 10


async def test_given_a_subscriber_then_it_hears_the_party_it_listens_to(
    ng: NgClient, parties: tuple[Party, Party]
) -> None:
    caller, callee = parties
    to_caller_side, _ = await anchor(ng, "listen-1", caller, callee)
    supervisor = Party(0x3333)
    try:
        offer, to_tag = await ng.subscribe_request("listen-1", ["caller"])
        await ng.subscribe_answer("listen-1", to_tag, supervisor.sdp().replace("sendrecv", "recvonly"))
        assert "127.0.0.1" in offer
        await caller.talk(to_caller_side, frames=10, fill=b"\x33")
        await asyncio.sleep(0.1)
        assert len(callee.heard()) == 10
        assert [packet[12:] for packet in supervisor.heard()] == [b"\x33" * 160] * 10
    finally:
        supervisor.socket.close()


async def test_given_a_deleted_call_then_its_media_stops_and_it_is_unknown(
    ng: NgClient, parties: tuple[Party, Party]
) -> None:
    caller, callee = parties
    to_caller_side, _ = await anchor(ng, "del-1", caller, callee)
    await caller.talk(to_caller_side, frames=3)
    await asyncio.sleep(0.05)
    assert len(callee.heard()) == 3
    assert "del-1" in await ng.list_calls()
    await ng.delete("del-1")
    await caller.talk(to_caller_side, frames=3)
    await asyncio.sleep(0.05)
    assert callee.heard() == []
    assert "del-1" not in await ng.list_calls()
    with pytest.raises(NgError, match="Unknown call-id"):
        await ng.query("del-1")


async def test_given_an_unknown_call_id_then_each_command_names_rtpengines_reason(ng: NgClient) -> None:
    with pytest.raises(NgError) as refused:
        await ng.answer("nobody", "a", "b", Party(1).sdp())
    assert refused.value.command == "answer" and refused.value.reason == "Unknown call-id"
    with pytest.raises(NgError, match="refused 'start recording': Unknown call-id"):
        await ng.start_recording("nobody")


async def test_given_no_rtpengine_then_the_request_times_out_with_a_clear_error() -> None:
    async with NgClient(("127.0.0.1", free_port()), interval=0.05, attempts=3) as client:
        with pytest.raises(NgTimeout, match=r"no answer from 127\.0\.0\.1:\d+ after 3 sends"):
            await client.ping()


async def test_given_hundreds_of_commands_at_once_then_every_one_is_answered(
    rtpengine: Rtpengine, parties: tuple[Party, Party]
) -> None:
    """A node asks about all its calls together (400 at once overflowed rtpengine's control socket
    before the client kept at most 32 in flight; the lost ones timed out after their re-sends)."""
    async with NgClient(rtpengine.ng, interval=0.2, attempts=25) as starting:
        await starting.ping()
    caller, callee = parties
    async with NgClient(rtpengine.ng, interval=0.5, attempts=2) as ng:
        await anchor(ng, "many-1", caller, callee)
        answers = await asyncio.gather(*(ng.query("many-1") for _ in range(400)))
    assert len(answers) == 400 and all(sorted(answer["tags"]) == ["callee", "caller"] for answer in answers)
