"""RTP sessions on asyncio: port allocation, symmetric RTP, paced sending, RFC 4733 digits.

Each session owns one UDP socket bound to the configured address only. The media clock sends
a 20 ms frame at absolute deadlines (start + n × 20 ms), so timing errors do not accumulate.
"""

from __future__ import annotations

import asyncio
import random
import socket
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field

from hotline.voice.rtp.packet import RtpPacket, TelephoneEvent

FRAME_MS = 20
SAMPLES_PER_FRAME = 160  # 8 kHz × 20 ms
PCMU = 0


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
        self.session.received(data, (str(addr[0]), int(addr[1])))


class RtpSession:
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
        self.digits: asyncio.Queue[str] = asyncio.Queue()
        self.key_pressed = asyncio.Event()
        """Set at the first key; prompts given it as `interrupt` stop there (barge-in)."""
        self.dtmf = DtmfDetector(self._digit)
        self.on_audio: Callable[[RtpPacket], None] | None = None
        self.received_packets = 0
        self._transport: asyncio.DatagramTransport | None = None
        self._latched = False

    def _digit(self, digit: str) -> None:
        self.key_pressed.set()
        self.digits.put_nowait(digit)

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
        try:
            packet = RtpPacket.parse(data)
        except ValueError:
            return
        self.received_packets += 1
        if not self._latched and source != self.remote:
            # Symmetric RTP: behind NAT the phone's media comes from another address than its SDP
            # says; send where it really comes from (only once, so a stray packet cannot hijack).
            self.remote = source
        self._latched = True
        if packet.payload_type == self.event_payload_type:
            self.dtmf.packet(packet)
        elif self.on_audio is not None:
            self.on_audio(packet)

    def send_frame(self, payload: bytes, *, marker: bool = False) -> None:
        packet = RtpPacket(self.payload_type, self.sequence, self.timestamp, self.ssrc, payload, marker)
        if self._transport is not None:
            self._transport.sendto(bytes(packet), self.remote)
        self.sequence = (self.sequence + 1) & 0xFFFF
        self.timestamp = (self.timestamp + SAMPLES_PER_FRAME) & 0xFFFFFFFF

    async def play(self, audio: bytes, *, interrupt: asyncio.Event | None = None) -> bool:
        """Send G.711 `audio` in 20 ms frames on the media clock; False if interrupted."""
        frames = [audio[i : i + SAMPLES_PER_FRAME] for i in range(0, len(audio), SAMPLES_PER_FRAME)]
        if frames and len(frames[-1]) < SAMPLES_PER_FRAME:
            frames[-1] = frames[-1].ljust(SAMPLES_PER_FRAME, b"\xff")  # μ-law silence
        clock = media_clock()
        try:
            async for number in clock:
                if number >= len(frames):
                    return True
                if interrupt is not None and interrupt.is_set():
                    return False
                self.send_frame(frames[number], marker=number == 0)
        finally:
            await clock.aclose()
        return True

    async def collect(
        self, *, max_digits: int, terminator: str = "#", first_timeout: float = 5.0, next_timeout: float = 3.0
    ) -> str:
        """Digits until `max_digits`, the terminator (not included) or a timeout."""
        digits = ""
        while len(digits) < max_digits:
            try:
                digit = await asyncio.wait_for(
                    self.digits.get(), first_timeout if not digits else next_timeout
                )
            except TimeoutError:
                break
            if digit == terminator:
                break
            digits += digit
        return digits
