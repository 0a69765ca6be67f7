"""RTP sessions on asyncio: port allocation, symmetric RTP, paced sending, RFC 4733 digits.

Each session owns one UDP socket bound to the configured address only. What arrives is read and
relayed on the event loop; prompts and digits Hotline sends are paced by the media pacer, a
process of its own (`pacer.py`), on a 20 ms tick at absolute times, so timing errors do not
accumulate and nothing the node does makes a frame late.
"""

from __future__ import annotations

import asyncio
import random
import socket
import struct
import time
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
from typing import Any

import structlog

from hotline.voice.media.g711 import ALAW_TO_ULAW, ULAW_TO_ALAW
from hotline.voice.rtp.pacer import STOP_ANSWER_SECONDS, Frame, PacedStream, audio_frames, media_pacer
from hotline.voice.rtp.packet import DTMF_EVENTS, RtpPacket, TelephoneEvent
from hotline.voice.rtp.rtcp import FarEndReport, ReceiverStats, build_report, read_compound
from hotline.voice.sdp import Media

log = structlog.get_logger(__name__)

FRAME_MS = 20
SAMPLES_PER_FRAME = 160  # 8 kHz × 20 ms
PCMU, PCMA = 0, 8
_HEADER = struct.Struct("!BBHII")  # RTP fixed header: V/P/X/CC, M/PT, sequence, timestamp, SSRC


class NoFreePort(RuntimeError):
    """Every RTP port in the configured range is taken: the call gets 503."""


def allocate_port(host: str, low: int = 20000, high: int = 30000) -> tuple[socket.socket, socket.socket]:
    """Bind UDP sockets on a free even port in [low, high) for RTP and the odd port above it for
    RTCP. The bind is the reservation, so two sessions (or two processes) never share a port."""
    even = list(range(low + low % 2, high - 1, 2))
    start = random.randrange(len(even)) if even else 0  # noqa: S311 - spreading ports, not security
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for port in even[start:] + even[:start]:
        rtp, rtcp = socket.socket(family, socket.SOCK_DGRAM), socket.socket(family, socket.SOCK_DGRAM)
        try:
            rtp.bind((host, port))
            rtcp.bind((host, port + 1))
        except OSError:
            rtp.close()
            rtcp.close()
            continue
        rtp.setblocking(False)
        rtcp.setblocking(False)
        return rtp, rtcp
    raise NoFreePort(f"no free RTP port pair in {low}-{high} on {host}")


async def media_clock(interval: float = FRAME_MS / 1000) -> AsyncGenerator[int, None]:
    """Yield frame numbers 0, 1, 2… at start + n × interval on the loop's monotonic clock (the
    conference mixer's clock: mixing needs the loop; prompts and digits use the pacer)."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    frame = 0
    while True:
        delay = start + frame * interval - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        yield frame
        frame += 1


def _no_digit(digit: str) -> None:
    pass


def _no_failure(reason: str) -> None:
    pass


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


class _RtcpProtocol(asyncio.DatagramProtocol):
    def __init__(self, session: RtpSession) -> None:
        self.session = session

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.session.rtcp_received(data, addr)


REPORT_INTERVAL = 5.0


class RtpSession(asyncio.DatagramProtocol):
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
        self.host, self._remote = host, remote
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
        self.on_failure: Callable[[str], None] = lambda reason: None
        """Called when the media cannot be set up (a WebRTC leg's ICE or DTLS): the leg ends."""
        self.received_packets = 0
        self.sent_packets = 0
        self.sent_octets = 0
        self.stats = ReceiverStats()
        self.far_end = FarEndReport()
        self.cname = f"hotline@{host}"
        self._transport: asyncio.DatagramTransport | None = None
        self.raw_socket: socket.socket | None = None
        """The RTP socket itself, handed to the media pacer so prompts leave from this port."""
        self._streams: set[PacedStream] = set()
        self._rtcp: asyncio.DatagramTransport | None = None
        self._rtcp_remote: tuple[str, int] | None = None
        self._reporter: asyncio.TimerHandle | None = None
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
    def remote(self) -> tuple[str, int]:
        """Where this stream's packets go: the SDP's address, until RTP latches (`received`)."""
        return self._remote

    @remote.setter
    def remote(self, value: tuple[str, int]) -> None:
        self._remote = value
        for stream in self._streams:  # prompts playing now follow the phone too
            media_pacer().move(stream, value)

    @property
    def port(self) -> int:
        if self._transport is None:
            raise RuntimeError("RTP session not started")
        return int(self._transport.get_extra_info("sockname")[1])

    async def start(self) -> None:
        rtp, rtcp = allocate_port(self.host, *self.port_range)
        loop = asyncio.get_running_loop()
        try:
            self._transport, _ = await loop.create_datagram_endpoint(lambda: self, sock=rtp)
            self._rtcp, _ = await loop.create_datagram_endpoint(lambda: _RtcpProtocol(self), sock=rtcp)
        except BaseException:
            rtp.close()
            rtcp.close()
            raise
        self.raw_socket = rtp
        self._report_later()

    def close(self) -> None:
        for stream in list(self._streams):  # a prompt playing ends with the call
            media_pacer().stop(stream)
        self.raw_socket = None
        if self._reporter is not None:
            self._reporter.cancel()
            self._reporter = None
        # The leg's callbacks, the digit detector's and the relay hold this session (and through it
        # the leg) in reference cycles: let go of them, so an ended call is freed at once rather than
        # by the collector's full pass (at 200 calls a second thousands of ended calls waited for
        # it, and it then paused the loop 0.6 s to free them).
        self.on_digit = _no_digit
        self.on_failure = _no_failure
        self.dtmf.on_digit = _no_digit
        self.relay_to = None
        self.taps = []
        for transport in (self._transport, self._rtcp):
            if transport is not None:
                transport.close()

    def _report_later(self) -> None:
        """A compound SR/RR about every 5 s (randomised ±50 %, RFC 3550 §6.2). A timer, not a task
        cancelled at the end: a cancelled task's exception holds its frame, and with it this
        session, in a reference cycle — every ended call's session and sockets then waited for the
        collector's full pass, which grew to 0.7 s pauses at 200 calls a second."""
        delay = REPORT_INTERVAL * random.uniform(0.5, 1.5)  # noqa: S311
        self._reporter = asyncio.get_running_loop().call_later(delay, self._report_due)

    def _report_due(self) -> None:
        self.send_report()
        self._report_later()

    def send_report(self) -> None:
        sender = (self.sent_packets, self.sent_octets, self.timestamp) if self.sent_packets else None
        block = (
            self.stats.report_block(self.far_end.last_sr, self.far_end.last_sr_at)
            if self.stats.received
            else None
        )
        self.send_rtcp(build_report(self.ssrc, self.cname, sender=sender, block=block))

    def send_rtcp(self, packet: bytes) -> None:
        """An RTCP packet to the far end's RTCP port (the one it sends from, once heard)."""
        if self._rtcp is not None:
            self._rtcp.sendto(packet, self._rtcp_remote or (self.remote[0], self.remote[1] + 1))

    def send_packet(self, packet: bytes) -> None:
        """An RTP packet to the far end (a WebRTC session protects it first: webrtc.py)."""
        if self._transport is not None:
            self._transport.sendto(packet, self._remote)

    def pacer_terms(self) -> tuple[int, int, int, tuple[int, bytes] | None]:
        """What a stream handed to the media pacer starts from: SSRC, sequence number, timestamp,
        and the SRTP profile and key it is protected with (None: plain RTP). A plain session's
        prompts carry on its own stream, whose numbering comes back when they end."""
        return self.ssrc, self.sequence, self.timestamp, None

    def negotiate(self, media: Media) -> None:
        """Take the far end's offer or answer (a WebRTC session reads its ICE and DTLS terms)."""

    def arm(self) -> None:
        """Offer and answer are complete (a WebRTC session's ICE and DTLS must now finish)."""

    def describe(self, media: Media) -> None:
        """Fill in this session's own part of an SDP answer or offer: its port (a WebRTC session
        adds its ICE credentials, certificate fingerprint and candidate)."""
        media.port = self.port

    def rtcp_received(self, data: bytes, source: tuple[str, int]) -> None:
        if read_compound(data, self.ssrc, self.far_end) and self._rtcp_remote is None:
            self._rtcp_remote = (str(source[0]), int(source[1]))  # symmetric RTCP, as for RTP

    def quality(self) -> dict[str, float | int | None]:
        """Call-quality figures of this leg: what we received, and what the far end reports."""
        return {
            "packets_received": self.stats.received,
            "packets_lost": self.stats.lost,
            "jitter_ms": round(self.stats.jitter / 8, 2),
            "far_end_fraction_lost": round(self.far_end.fraction_lost, 4),
            "far_end_jitter_ms": round(self.far_end.jitter_ms, 2),
            "rtt_ms": None if self.far_end.rtt_ms is None else round(self.far_end.rtt_ms, 1),
        }

    def received(self, data: bytes, addr: tuple[Any, ...]) -> None:
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
        self.stats.packet(ssrc, sequence, timestamp, time.monotonic())
        if not self._latched:
            # Symmetric RTP: behind NAT the phone's media comes from another address than its SDP
            # says; send where it really comes from (only once, so a stray packet cannot hijack).
            self._latched = True
            if tuple(addr[:2]) != self.remote:
                self.remote = (str(addr[0]), int(addr[1]))
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

    datagram_received = received  # the session is its socket's protocol: one call less per packet

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
        self.send_packet(
            _HEADER.pack(
                0x80, payload_type | 0x80 if marker else payload_type, sequence, timestamp, self.ssrc
            )
            + payload
        )
        self.sent_packets += 1
        self.sent_octets += len(payload)
        self.sequence = (sequence + 1) & 0xFFFF
        self.timestamp = (timestamp + SAMPLES_PER_FRAME) & 0xFFFFFFFF

    def send_frame(self, payload: bytes, *, marker: bool = False) -> None:
        """Send one 20 ms μ-law frame from Hotline (a prompt, music on hold)."""
        self._relayed_source = None  # the next relayed packet starts a new source again
        if self.alaw:
            payload = payload.translate(ULAW_TO_ALAW)
        self.send_packet(
            bytes(RtpPacket(self.payload_type, self.sequence, self.timestamp, self.ssrc, payload, marker))
        )
        self.sent_packets += 1
        self.sent_octets += len(payload)
        self.sequence = (self.sequence + 1) & 0xFFFF
        self.timestamp = (self.timestamp + SAMPLES_PER_FRAME) & 0xFFFFFFFF

    async def play(
        self, audio: bytes, *, interrupt: tuple[asyncio.Event, ...] = (), loop: bool = False
    ) -> bool:
        """Send G.711 μ-law `audio` in 20 ms frames from the media pacer; False once any of the
        `interrupt` events is set. With `loop`, start again at the end until interrupted."""
        if not audio:
            return True
        if any(event.is_set() for event in interrupt):
            return False
        frames = audio_frames(audio, self.payload_type, ULAW_TO_ALAW if self.alaw else None)
        return await self._paced(frames, interrupt=interrupt, repeat=loop)

    async def _paced(
        self, frames: list[Frame], *, interrupt: tuple[asyncio.Event, ...] = (), repeat: bool = False
    ) -> bool:
        """Hand `frames` to the media pacer and wait until they are sent (True), or one of the
        `interrupt` events is set, the session closes or this is cancelled (False: the stream is
        stopped before its next frame). Sequence numbers and timestamps carry on from this
        session's and come back to it, so whatever it sends next continues the numbering."""
        pacer = media_pacer()
        stream = PacedStream(self, frames, repeat, asyncio.get_running_loop().create_future())
        watchers: list[asyncio.Future[Any]] = [asyncio.ensure_future(event.wait()) for event in interrupt]
        self._streams.add(stream)
        try:
            await pacer.play(stream)
            await asyncio.wait([stream.done, *watchers], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for watcher in watchers:
                watcher.cancel()
            pacer.stop(stream)
            try:  # the numbering comes back with the answer (even if we are cancelled again meanwhile)
                await asyncio.wait_for(asyncio.shield(stream.done), STOP_ANSWER_SECONDS)
            except TimeoutError:
                log.warning("the media pacer did not answer a stop in time", remote=self.remote)
            finally:
                self._streams.discard(stream)
        return stream.done.done() and stream.done.result()

    async def send_digits(self, digits: str, *, tone_ms: int = 100, gap_ms: int = 60) -> None:
        """RFC 4733 events paced like a phone: one packet per 20 ms with growing duration, the end
        packet three times, one timestamp per key; audio silence fills the gaps between keys."""
        if self.event_payload_type is None:
            raise ValueError("the far end did not offer telephone-event")
        events = [DTMF_EVENTS.index(digit.upper()) for digit in digits]
        silence = b"\xff".translate(ULAW_TO_ALAW) if self.alaw else b"\xff"
        steps = max(1, tone_ms // FRAME_MS)
        frames: list[Frame] = []
        for event in events:
            for step in range(1, steps + 4):
                body = bytes(TelephoneEvent(event, step >= steps, 10, min(step, steps) * SAMPLES_PER_FRAME))
                # The packets of one key share its timestamp; the last moves it past the key.
                advance = (steps + 3) * SAMPLES_PER_FRAME if step == steps + 3 else 0
                frames.append((self.event_payload_type | (0x80 if step == 1 else 0), body, advance))
            frames += [(self.payload_type, silence * SAMPLES_PER_FRAME, SAMPLES_PER_FRAME)] * max(
                1, gap_ms // FRAME_MS
            )
        await self._paced(frames)
