"""Prompts are paced by the media pacer process, not by the event loop: frames keep their 20 ms
cadence while the loop is held, stop within a frame when a key is pressed, the call hangs up or the
player is cancelled, hand the numbering back to the session, follow the phone when RTP latches,
and a pacer process that dies ends the prompts playing and is started again for the next."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import struct
import threading
import time
from collections.abc import AsyncIterator, Iterator
from itertools import pairwise

import pytest

from hotline.voice.media.g711 import ULAW_TO_ALAW, tone, ulaw_encode
from hotline.voice.rtp.pacer import media_pacer
from hotline.voice.rtp.packet import RtpPacket, TelephoneEvent
from hotline.voice.rtp.session import PCMA, RtpSession

SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)


class Phone:
    """The far end: a real UDP socket read by a thread of its own (so it keeps reading while the
    test holds the event loop), each packet with the kernel's arrival time."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.arrivals: list[tuple[float, RtpPacket]] = []
        self.heard = threading.Event()
        self._open = True
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.sock.getsockname()[:2]
        return str(host), int(port)

    @property
    def packets(self) -> list[RtpPacket]:
        return [packet for _, packet in list(self.arrivals)]

    def _read(self) -> None:
        while self._open:
            try:
                data, ancillary, _, _ = self.sock.recvmsg(2048, socket.CMSG_SPACE(16))
            except TimeoutError:
                continue
            except OSError:
                return
            arrival = time.time()
            for level, kind, value in ancillary:
                if (level, kind) == (socket.SOL_SOCKET, SO_TIMESTAMPNS):
                    seconds, nanoseconds = struct.unpack("qq", value[:16])
                    arrival = seconds + nanoseconds / 1e9
            self.arrivals.append((arrival, RtpPacket.parse(data)))
            self.heard.set()

    def close(self) -> None:
        self._open = False
        self._reader.join()
        self.sock.close()


@pytest.fixture
def phone() -> Iterator[Phone]:
    far_end = Phone()
    yield far_end
    far_end.close()


@pytest.fixture
async def session(phone: Phone) -> AsyncIterator[RtpSession]:
    ours = RtpSession("127.0.0.1", phone.address)
    await ours.start()
    yield ours
    ours.close()


async def first_frame(phone: Phone) -> None:
    """Until the prompt reaches the phone (the pacer process may be starting: it does with the
    first prompt of a node)."""
    assert await asyncio.to_thread(phone.heard.wait, 5)


def assert_one_stream(packets: list[RtpPacket], step: int = 160) -> None:
    assert [(b.sequence - a.sequence) & 0xFFFF for a, b in pairwise(packets)] == [1] * (len(packets) - 1)
    assert [(b.timestamp - a.timestamp) & 0xFFFFFFFF for a, b in pairwise(packets)] == [step] * (
        len(packets) - 1
    )


async def test_frames_keep_their_20_ms_pace_while_the_event_loop_is_held(
    session: RtpSession, phone: Phone
) -> None:
    prompt = ulaw_encode(tone(440, 1000))
    playing = asyncio.ensure_future(session.play(prompt))
    await first_frame(phone)
    await asyncio.sleep(0.2)
    held_from = time.time()
    time.sleep(0.2)  # the loop does nothing else for 10 frames: no timer of its own could fire  # noqa: ASYNC251
    held_until = time.time()
    assert await playing is True
    packets = phone.packets
    assert len(packets) == 50 and packets[0].marker and not any(p.marker for p in packets[1:])
    assert_one_stream(packets)
    assert b"".join(p.payload for p in packets) == prompt
    held = [(at, p) for at, p in phone.arrivals if held_from <= at <= held_until]
    assert len(held) >= 9  # they kept coming while the loop was held, not in a burst after
    first_at, first = phone.arrivals[0]
    # Each frame within a few milliseconds of its place on the 20 ms grid (no drift, no burst).
    lateness = [at - first_at - (p.sequence - first.sequence) * 0.020 for at, p in phone.arrivals]
    assert max(abs(late) for late in lateness) < 0.005, lateness


async def test_a_pressed_key_stops_the_prompt_within_a_frame_and_the_numbering_carries_on(
    session: RtpSession, phone: Phone
) -> None:
    pressed = asyncio.Event()
    playing = asyncio.ensure_future(session.play(ulaw_encode(tone(440, 2000)), interrupt=(pressed,)))
    await first_frame(phone)
    await asyncio.sleep(0.19)
    pressed.set()
    set_at = time.time()
    assert await playing is False
    await asyncio.sleep(0.06)
    after_press = [at - set_at for at, _ in phone.arrivals if at > set_at]
    assert all(late < 0.025 for late in after_press), after_press  # stopped within a frame
    assert 8 <= len(phone.packets) <= 14
    session.send_frame(b"\xff" * 160)  # e.g. the agent's voice relayed next: the same stream
    await asyncio.sleep(0.05)
    assert_one_stream(phone.packets)


async def test_cancelling_the_player_stops_music_on_hold_and_hands_the_numbering_back(
    session: RtpSession, phone: Phone
) -> None:
    music = asyncio.ensure_future(session.play(ulaw_encode(tone(330, 100)), loop=True))
    await first_frame(phone)
    await asyncio.sleep(0.49)
    music.cancel()
    with pytest.raises(asyncio.CancelledError):
        await music
    stopped = len(phone.packets)
    await asyncio.sleep(0.06)
    assert len(phone.packets) == stopped and 22 <= stopped <= 28  # 0.5 s of a 0.1 s loop: repeated
    packets = phone.packets
    assert packets[0].marker and not any(p.marker for p in packets[1:])  # a repeat is no new talkspurt
    assert [p.payload for p in packets[5:10]] == [p.payload for p in packets[:5]]
    assert await session.play(ulaw_encode(tone(440, 100))) is True  # the next prompt continues it
    await asyncio.sleep(0.03)
    packets = phone.packets
    assert len(packets) == stopped + 5 and packets[stopped].marker
    assert_one_stream(packets)
    assert media_pacer().streams == 0


async def test_hanging_up_stops_the_prompt(session: RtpSession, phone: Phone) -> None:
    playing = asyncio.ensure_future(session.play(ulaw_encode(tone(440, 2000))))
    await first_frame(phone)
    session.close()
    assert await playing is False
    sent = len(phone.packets)
    await asyncio.sleep(0.06)
    assert len(phone.packets) == sent


async def test_an_a_law_leg_hears_the_prompt_in_a_law(phone: Phone) -> None:
    session = RtpSession("127.0.0.1", phone.address, payload_type=PCMA)
    await session.start()
    try:
        prompt = ulaw_encode(tone(440, 200))
        assert await session.play(prompt) is True
        await asyncio.sleep(0.03)
    finally:
        session.close()
    packets = phone.packets
    assert {p.payload_type for p in packets} == {PCMA}
    assert b"".join(p.payload for p in packets) == prompt.translate(ULAW_TO_ALAW)


async def test_digits_are_sent_as_a_phone_sends_them(session: RtpSession, phone: Phone) -> None:
    """RFC 4733: 20 ms apart, one timestamp per key with growing durations, the end three times,
    silence between keys, and the audio timestamps carrying on past each key."""
    start = session.timestamp
    await session.send_digits("1#", tone_ms=100, gap_ms=60)
    await asyncio.sleep(0.03)
    packets = phone.packets
    assert [(b.sequence - a.sequence) & 0xFFFF for a, b in pairwise(packets)] == [1] * 21
    events = [(p.timestamp, TelephoneEvent.parse(p.payload)) for p in packets if p.payload_type == 101]
    assert [(ts - start, e.digit, e.end, e.duration) for ts, e in events[:8]] == [
        (0, "1", False, 160), (0, "1", False, 320), (0, "1", False, 480), (0, "1", False, 640),
        (0, "1", True, 800), (0, "1", True, 800), (0, "1", True, 800), (0, "1", True, 800),
    ]  # fmt: skip
    assert {ts - start for ts, e in events[8:]} == {8 * 160 + 3 * 160}  # the second key's own
    assert [p.marker for p in packets if p.payload_type == 101].count(True) == 2
    gaps = [b - a for (a, _), (b, _) in pairwise(phone.arrivals)]
    assert abs(sum(gaps) / len(gaps) - 0.020) < 0.002
    assert session.timestamp == (start + 2 * (8 + 3) * 160) & 0xFFFFFFFF


async def test_a_prompt_follows_the_phone_when_its_media_comes_from_elsewhere(
    session: RtpSession, phone: Phone
) -> None:
    natted = Phone()  # the phone's media leaves from another port than its SDP said
    try:
        playing = asyncio.ensure_future(session.play(ulaw_encode(tone(440, 600))))
        await first_frame(phone)
        await asyncio.sleep(0.09)
        natted.sock.sendto(bytes(RtpPacket(0, 1, 160, 99, b"\xff" * 160)), ("127.0.0.1", session.port))
        assert await playing is True
        await asyncio.sleep(0.03)
        before, after = phone.packets, natted.packets
        assert 5 <= len(before) <= 7 and len(before) + len(after) == 30
        assert_one_stream(before + after)
    finally:
        natted.close()


async def test_prompts_end_when_the_pacer_process_dies_and_the_next_one_starts_it_again(
    session: RtpSession, phone: Phone
) -> None:
    playing = asyncio.ensure_future(session.play(ulaw_encode(tone(440, 2000))))
    await first_frame(phone)
    pacer = media_pacer()
    assert pacer.pid is not None and pacer.streams == 1
    os.kill(pacer.pid, signal.SIGKILL)
    assert await playing is False  # the caller's flow goes on (no prompt is better than a stuck call)
    assert await session.play(ulaw_encode(tone(440, 100))) is True
    assert pacer.pid is not None and pacer.streams == 0
