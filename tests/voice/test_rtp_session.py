"""RTP on loopback: paced prompts, RFC 4733 digits, symmetric RTP, port allocation, G.711."""

from __future__ import annotations

import asyncio
import socket
import statistics
import struct
import time
from collections.abc import AsyncIterator
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.voice.media.g711 import tone, ulaw_decode, ulaw_encode, ulaw_to_pcm16
from hotline.voice.rtp.packet import RtpPacket, TelephoneEvent
from hotline.voice.rtp.session import NoFreePort, RtpSession, allocate_port


class Peer(asyncio.DatagramProtocol):
    """The phone's side: records what arrives and when."""

    def __init__(self) -> None:
        self.arrivals: list[tuple[float, RtpPacket]] = []
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.arrivals.append((time.perf_counter(), RtpPacket.parse(data)))

    @property
    def address(self) -> tuple[str, int]:
        assert self.transport is not None
        host, port = self.transport.get_extra_info("sockname")[:2]
        return str(host), int(port)


async def open_peer() -> Peer:
    _, peer = await asyncio.get_running_loop().create_datagram_endpoint(Peer, local_addr=("127.0.0.1", 0))
    return peer


@pytest.fixture
async def call() -> AsyncIterator[tuple[RtpSession, Peer]]:
    peer = await open_peer()
    session = RtpSession("127.0.0.1", peer.address)
    await session.start()
    yield session, peer
    session.close()
    assert peer.transport is not None
    peer.transport.close()


async def test_a_prompt_is_sent_in_20_ms_frames_paced_by_the_media_clock(
    call: tuple[RtpSession, Peer],
) -> None:
    session, peer = call
    prompt = ulaw_encode(tone(440, 1000))
    assert await session.play(prompt) is True
    await asyncio.sleep(0.05)
    packets = [p for _, p in peer.arrivals]
    assert len(packets) == 50 and packets[0].marker and not any(p.marker for p in packets[1:])
    assert [(b.sequence - a.sequence) & 0xFFFF for a, b in pairwise(packets)] == [1] * 49
    assert {(b.timestamp - a.timestamp) & 0xFFFFFFFF for a, b in pairwise(packets)} == {160}
    gaps = [b - a for (a, _), (b, _) in pairwise(peer.arrivals)]
    assert abs(statistics.mean(gaps) - 0.020) < 0.001  # the pacing criterion: 20 ms ± 1 ms
    assert b"".join(p.payload for p in packets) == prompt


def dtmf_packets(digit: str, timestamp: int, sequence: int) -> list[bytes]:
    """How a phone sends one key: start, updates, then the end packet three times."""
    event = "0123456789*#".index(digit)
    packets = [TelephoneEvent(event, False, 10, d) for d in (160, 320, 480)]
    packets += [TelephoneEvent(event, True, 10, 640)] * 3
    return [
        bytes(RtpPacket(101, sequence + i, timestamp, 1234, bytes(e), marker=i == 0))
        for i, e in enumerate(packets)
    ]


async def test_each_key_is_detected_once(call: tuple[RtpSession, Peer]) -> None:
    session, peer = call
    assert peer.transport is not None
    keys: list[str] = []
    session.on_digit = keys.append
    for n, digit in enumerate("8800#9"):
        for wire in dtmf_packets(digit, 1000 + 800 * n, 10 * n):
            peer.transport.sendto(wire, ("127.0.0.1", session.port))
    await asyncio.sleep(0.2)
    assert "".join(keys) == "8800#9"  # each key once, however often its end packet came


async def test_media_is_sent_back_where_it_really_comes_from(call: tuple[RtpSession, Peer]) -> None:
    session, peer = call
    natted = await open_peer()  # the phone's media leaves from another port than its SDP said
    assert natted.transport is not None
    natted.transport.sendto(bytes(RtpPacket(0, 1, 160, 99, b"\xff" * 160)), ("127.0.0.1", session.port))
    await asyncio.sleep(0.05)
    session.send_frame(b"\xff" * 160)
    await asyncio.sleep(0.05)
    assert len(natted.arrivals) == 1 and peer.arrivals == []
    natted.transport.close()


async def test_a_prompt_stops_when_the_caller_presses_a_key(call: tuple[RtpSession, Peer]) -> None:
    session, _ = call
    pressed = asyncio.Event()
    asyncio.get_running_loop().call_later(0.1, pressed.set)
    assert await session.play(ulaw_encode(tone(440, 2000)), interrupt=(pressed,)) is False


def test_ports_are_even_distinct_and_run_out_cleanly() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        base = probe.getsockname()[1] // 2 * 2 + 1000
    first = allocate_port("127.0.0.1", base, base + 4)
    second = allocate_port("127.0.0.1", base, base + 4)
    ports = {sock.getsockname()[1] for pair in (first, second) for sock in pair}
    assert ports == {base, base + 1, base + 2, base + 3}  # even RTP ports, RTCP on the odd port above
    with pytest.raises(NoFreePort):
        allocate_port("127.0.0.1", base, base + 4)
    for sock in (*first, *second):
        sock.close()


@given(st.lists(st.integers(-32768, 32767), max_size=200))
def test_mu_law_round_trip_stays_within_its_quantisation_step(samples: list[int]) -> None:
    decoded = ulaw_decode(ulaw_encode(samples))
    assert all(abs(a - b) <= max(8, abs(a) // 16) for a, b in zip(samples, decoded, strict=True))


@given(st.binary(max_size=400), st.binary(max_size=400))
def test_fast_pcm_decoding_matches_the_reference_decoder(left: bytes, right: bytes) -> None:
    """Recordings are decoded with translate tables; they must agree with G.711 sample by sample."""
    right = (right * (len(left) // max(1, len(right)) + 1))[: len(left)] if right else bytes(len(left))
    stereo = struct.unpack(f"<{2 * len(left)}h", ulaw_to_pcm16(left, right))
    assert list(stereo[0::2]) == ulaw_decode(left) and list(stereo[1::2]) == ulaw_decode(right)
    assert struct.unpack(f"<{len(left)}h", ulaw_to_pcm16(left)) == tuple(ulaw_decode(left))


async def test_rtcp_reports_carry_loss_jitter_and_the_round_trip_time() -> None:
    """Hotline's two ends talk: one sends 50 paced frames losing every tenth, then each reports."""
    sender, receiver = RtpSession("127.0.0.1", ("127.0.0.1", 9)), RtpSession("127.0.0.1", ("127.0.0.1", 9))
    await sender.start()
    await receiver.start()
    try:
        sender.remote, receiver.remote = ("127.0.0.1", receiver.port), ("127.0.0.1", sender.port)
        for n in range(50):
            if n % 10 == 4:  # lost on the way
                sender.sequence, sender.timestamp = sender.sequence + 1, sender.timestamp + 160
            else:
                sender.send_frame(b"\xff" * 160)
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.05)
        sender.send_report()  # an SR: it sent media
        await asyncio.sleep(0.05)
        receiver.send_report()  # an RR about the sender's stream, echoing the SR's time
        await asyncio.sleep(0.05)
        assert (receiver.stats.received, receiver.stats.lost) == (45, 5)
        heard = receiver.quality()
        assert heard["packets_lost"] == 5 and heard["jitter_ms"] is not None and heard["jitter_ms"] < 5
        reported = sender.quality()
        assert reported["far_end_fraction_lost"] == round(25 / 256, 4)  # 5 of 50, in 1/256ths
        assert reported["rtt_ms"] is not None and 0 <= reported["rtt_ms"] < 200
    finally:
        sender.close()
        receiver.close()
