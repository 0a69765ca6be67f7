"""RTP sessions on asyncio: port allocation, symmetric RTP, paced sending, RFC 4733 digits.

Each session owns one UDP socket bound to the configured address only. The media clock sends
a 20 ms frame at absolute deadlines (start + n × 20 ms), so timing errors do not accumulate.
"""

from __future__ import annotations

import asyncio
import random
import socket
import struct
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field

from hotline.voice.media.g711 import ALAW_TO_ULAW, ULAW_TO_ALAW
from hotline.voice.rtp.packet import DTMF_EVENTS, RtpPacket, TelephoneEvent

FRAME_MS = 20
SAMPLES_PER_FRAME = 160  # 8 kHz × 20 ms
PCMU, PCMA = 0, 8
_HEADER = struct.Struct("!BBHII")  # RTP fixed header: V/P/X/CC, M/PT, sequence, timestamp, SSRC


class NoFreePort(RuntimeError):
    """Every RTP port in the configured range is taken: the call gets 503."""


def allocate_port(host: str, low: int = 20000, high: int = 30000) -> socket.socket:
    """Bind a UDP socket on a free even port in [low, high). The bind is the reservation, so two
    sessions (or two processes) can never get the same port."""
    even = list(range(low + low % 2, high, 2))
    start = random.randrange(len(even))  # noqa: S311 - spreading ports, not security
    for port in even[start:] + even[:start]:
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind((host, port))
        except OSError:
            sock.close()
            continue
        sock.setblocking(False)
        return sock
    raise NoFreePort(f"no free RTP port in {low}-{high} on {host}")


async def media_clock(interval: float = FRAME_MS / 1000) -> AsyncGenerator[int, None]:
    """Yield frame numbers 0, 1, 2… at start + n × interval on the loop's monotonic clock."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    frame = 0
    while True:
        delay = start + frame * interval - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        yield frame
        frame += 1


@dataclass
class DtmfDetector:
    """Turns RFC 4733 packets into digits: one per event, however often its end is repeated."""

    on_digit: Callable[[str], None]
    _seen: set[int] = field(default_factory=set)

    def packet(self, packet: RtpPacket) -> None:
        try:
            event = TelephoneEvent.parse(packet.payload)
        except ValueError:
            return
        if event.digit is None or packet.timestamp in self._seen:
            return
        if event.end:  # an event is identified by its RTP timestamp (RFC 4733 §2.5.1.2)
            self._seen.add(packet.timestamp)
            if len(self._seen) > 64:
                self._seen = set(sorted(self._seen)[-32:])
            self.on_digit(event.digit)


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, session: RtpSession) -> None:
        self.session = session

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.session.received(data, addr)


class RtpSession:
    """One RTP stream: Hotline's end of a leg's media.

    What arrives goes to the DTMF detector (telephone-events), to the bridged session if any
    (`relay_to`, raw packets, never decoded) and to the taps (the recorder). What Hotline sends
    is G.711 μ-law internally, re-coded byte by byte to A-law when the leg chose PCMA.
    """

    def __init__(
        self,
        host: str,
        remote: tuple[str, int],
        *,
        payload_type: int = PCMU,
        event_payload_type: int | None = 101,
        port_range: tuple[int, int] = (20000, 30000),
    ) -> None:
        self.host, self.remote = host, remote
        self.payload_type, self.event_payload_type = payload_type, event_payload_type
        self.port_range = port_range
        self.ssrc = random.getrandbits(32)
        self.sequence = random.getrandbits(16)
        self.timestamp = random.getrandbits(32)
        self.on_digit: Callable[[str], None] = lambda digit: None
        self.dtmf = DtmfDetector(lambda digit: self.on_digit(digit))
        self.relay_to: RtpSession | None = None
        self.muted = False  # audio from the far end is not passed on (taps still see it)
        self.taps: list[Callable[[int, int, bytes], None]] = []
        """Called with (timestamp, ssrc, μ-law payload) of each audio packet (the recorder)."""
        self.received_packets = 0
        self.sent_packets = 0
        self._transport: asyncio.DatagramTransport | None = None
        self._latched = False
        self._relayed_source: int | None = None
        self._offsets = (0, 0)

    @property
    def payload_type(self) -> int:
        return self._payload_type

    @payload_type.setter
    def payload_type(self, value: int) -> None:
        self._payload_type = value
        self.alaw = value == PCMA  # a plain attribute: read for every packet

    @property
    def port(self) -> int:
        if self._transport is None:
            raise RuntimeError("RTP session not started")
        return int(self._transport.get_extra_info("sockname")[1])

    async def start(self) -> None:
        sock = allocate_port(self.host, *self.port_range)
        transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(
            lambda: _Protocol(self), sock=sock
        )
        self._transport = transport

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    def received(self, data: bytes, source: tuple[str, int]) -> None:
        """One datagram from the far end. The common case (RTP v2, no CSRC, extension or padding:
        first byte 0x80) is read in place, without building a packet object; it runs 50 times a
        second per leg, so its cost is what a bridged call costs."""
        if len(data) < 12 or data[0] & 0xC0 != 0x80:
            return
        if data[0] != 0x80:  # CSRCs, an extension or padding: take the general parser
            try:
                packet = RtpPacket.parse(data)
            except ValueError:
                return
            marker, sequence, timestamp, ssrc, payload = (
                packet.marker, packet.sequence, packet.timestamp, packet.ssrc, packet.payload,
            )  # fmt: skip
        else:
            _, second, sequence, timestamp, ssrc = _HEADER.unpack_from(data)
            marker, payload = second > 0x7F, data[12:]
        self.received_packets += 1
        if not self._latched:
            # Symmetric RTP: behind NAT the phone's media comes from another address than its SDP
            # says; send where it really comes from (only once, so a stray packet cannot hijack).
            self._latched = True
            if tuple(source[:2]) != self.remote:
                self.remote = (str(source[0]), int(source[1]))
        if data[1] & 0x7F == self.event_payload_type:
            self.dtmf.packet(RtpPacket(data[1] & 0x7F, sequence, timestamp, ssrc, payload, marker))
            if self.relay_to is not None:
                self.relay_to.relay(sequence, timestamp, ssrc, payload, marker, event=True)
            return
        if self.alaw:  # taps and bridges see μ-law, the engine's one internal format
            payload = payload.translate(ALAW_TO_ULAW)
        relay_to = self.relay_to
        if relay_to is not None and not self.muted:
            relay_to.relay(sequence, timestamp, ssrc, payload, marker)
        for tap in self.taps:
            tap(timestamp, ssrc, payload)

    def relay(
        self, sequence: int, timestamp: int, ssrc: int, payload: bytes, marker: bool, *, event: bool = False
    ) -> None:
        """Forward a packet from the bridged leg as part of this stream: our SSRC, and sequence
        numbers and timestamps that carry on from what this stream sent before (RFC 3550 §8.3
        would otherwise make the phone drop the new source). Gaps from loss are kept."""
        if ssrc != self._relayed_source:
            self._relayed_source = ssrc
            self._offsets = ((self.sequence - sequence) & 0xFFFF, self.timestamp - timestamp)
            marker = True
        sequence = (sequence + self._offsets[0]) & 0xFFFF
        timestamp = (timestamp + self._offsets[1]) & 0xFFFFFFFF
        if event:
            if self.event_payload_type is None:
                return
            payload_type = self.event_payload_type
        else:
            payload_type = self.payload_type
            if self.alaw:
                payload = payload.translate(ULAW_TO_ALAW)
        if self._transport is not None:
            header = _HEADER.pack(
                0x80, payload_type | 0x80 if marker else payload_type, sequence, timestamp, self.ssrc
            )
            self._transport.sendto(header + payload, self.remote)
        self.sent_packets += 1
        self.sequence = (sequence + 1) & 0xFFFF
        self.timestamp = (timestamp + SAMPLES_PER_FRAME) & 0xFFFFFFFF

    def send_frame(self, payload: bytes, *, marker: bool = False) -> None:
        """Send one 20 ms μ-law frame from Hotline (a prompt, music on hold)."""
        self._relayed_source = None  # the next relayed packet starts a new source again
        if self.alaw:
            payload = payload.translate(ULAW_TO_ALAW)
        packet = RtpPacket(self.payload_type, self.sequence, self.timestamp, self.ssrc, payload, marker)
        if self._transport is not None:
            self._transport.sendto(bytes(packet), self.remote)
        self.sent_packets += 1
        self.sequence = (self.sequence + 1) & 0xFFFF
        self.timestamp = (self.timestamp + SAMPLES_PER_FRAME) & 0xFFFFFFFF

    async def play(
        self, audio: bytes, *, interrupt: tuple[asyncio.Event, ...] = (), loop: bool = False
    ) -> bool:
        """Send G.711 μ-law `audio` in 20 ms frames on the media clock; False once any of the
        `interrupt` events is set. With `loop`, start again at the end until interrupted."""
        frames = [audio[i : i + SAMPLES_PER_FRAME] for i in range(0, len(audio), SAMPLES_PER_FRAME)]
        if frames and len(frames[-1]) < SAMPLES_PER_FRAME:
            frames[-1] = frames[-1].ljust(SAMPLES_PER_FRAME, b"\xff")  # μ-law silence
        if not frames:
            return True
        clock = media_clock()
        try:
            async for number in clock:
                if number >= len(frames) and not loop:
                    return True
                if any(event.is_set() for event in interrupt):
                    return False
                self.send_frame(frames[number % len(frames)], marker=number == 0)
        finally:
            await clock.aclose()
        return True

    async def send_digits(self, digits: str, *, tone_ms: int = 100, gap_ms: int = 60) -> None:
        """RFC 4733 events paced like a phone: one packet per 20 ms with growing duration, the end
        packet three times, one timestamp per key; audio silence fills the gaps between keys."""
        if self.event_payload_type is None:
            raise ValueError("the far end did not offer telephone-event")
        clock = media_clock()
        try:
            ticks = aiter(clock)
            for digit in digits:
                event = DTMF_EVENTS.index(digit.upper())
                start, steps = self.timestamp, max(1, tone_ms // FRAME_MS)
                for step in range(1, steps + 4):
                    await anext(ticks)
                    end = step >= steps
                    duration = min(step, steps) * SAMPLES_PER_FRAME
                    body = bytes(TelephoneEvent(event, end, 10, duration))
                    packet = RtpPacket(
                        self.event_payload_type, self.sequence, start, self.ssrc, body, step == 1
                    )
                    if self._transport is not None:
                        self._transport.sendto(bytes(packet), self.remote)
                    self.sequence = (self.sequence + 1) & 0xFFFF
                self.timestamp = (start + (steps + 3) * SAMPLES_PER_FRAME) & 0xFFFFFFFF
                for _ in range(max(1, gap_ms // FRAME_MS)):
                    await anext(ticks)
                    self.send_frame(b"\xff" * SAMPLES_PER_FRAME)
        finally:
            await clock.aclose()
