"""RTCP (RFC 3550 §6): receiver statistics, sender/receiver reports, and what the far end reports.

Each RTP session keeps `ReceiverStats` for the stream it receives (packets, loss, interarrival
jitter, per appendix A.1 and A.8), sends a compound SR or RR with an SDES CNAME about every
5 seconds on the odd port above its RTP port, and reads the far end's reports: how much of *our*
stream it lost, its jitter, and the round-trip time from LSR/DLSR. Together they are the call's
quality figures (loss, jitter, RTT) for call records and the supervisor's view.
"""

from __future__ import annotations

import struct
import time
from dataclasses import dataclass

RATE = 8000
_NTP_EPOCH = 2_208_988_800  # seconds from 1900 to 1970
SR, RR, SDES = 200, 201, 202


def ntp_now() -> tuple[int, int]:
    now = time.time() + _NTP_EPOCH
    seconds = int(now)
    return seconds, int((now - seconds) * 2**32) & 0xFFFFFFFF


class ReceiverStats:
    """Appendix A.1 sequence accounting and A.8 jitter for one received stream."""

    __slots__ = ("base_seq", "cycles", "expected_prior", "jitter", "max_seq", "received", "received_prior",
                 "ssrc", "transit")  # fmt: skip

    def __init__(self) -> None:
        self.ssrc: int | None = None
        self.received = 0
        self.base_seq = self.max_seq = self.cycles = 0
        self.expected_prior = self.received_prior = 0
        self.jitter = 0.0
        self.transit: int | None = None

    def packet(self, ssrc: int, sequence: int, timestamp: int, arrival: float) -> None:
        if ssrc != self.ssrc:  # a new source (e.g. the far end restarted): start over
            self.__init__()  # type: ignore[misc]
            self.ssrc, self.base_seq, self.max_seq = ssrc, sequence, sequence
        elif sequence < self.max_seq and self.max_seq - sequence > 0x8000:
            self.cycles += 0x10000  # the 16-bit sequence number wrapped
            self.max_seq = sequence
        elif sequence > self.max_seq:
            self.max_seq = sequence
        self.received += 1
        transit = int(arrival * RATE) - timestamp
        if self.transit is not None:
            delta = abs(transit - self.transit)
            if delta < 0x80000000:  # ignore timestamp jumps (a new talk spurt after a source change)
                self.jitter += (delta - self.jitter) / 16
        self.transit = transit

    @property
    def expected(self) -> int:
        return self.cycles + self.max_seq - self.base_seq + 1 if self.ssrc is not None else 0

    @property
    def lost(self) -> int:
        return max(0, self.expected - self.received)

    def report_block(self, last_sr: int, last_sr_at: float | None) -> bytes:
        """One RFC 3550 §6.4.1 report block about this stream; resets the interval counters."""
        expected, received = self.expected, self.received
        interval_expected = expected - self.expected_prior
        interval_lost = interval_expected - (received - self.received_prior)
        self.expected_prior, self.received_prior = expected, received
        fraction = (
            (interval_lost << 8) // interval_expected if interval_expected > 0 and interval_lost > 0 else 0
        )
        lost = min(self.lost, 0x7FFFFF)
        dlsr = int((time.monotonic() - last_sr_at) * 65536) if last_sr_at is not None else 0
        return struct.pack(
            "!IB3sIIII", self.ssrc or 0, min(fraction, 255), lost.to_bytes(3, "big"),
            (self.cycles + self.max_seq) & 0xFFFFFFFF, int(self.jitter), last_sr, dlsr & 0xFFFFFFFF,
        )  # fmt: skip


def build_report(ssrc: int, cname: str, *, sender: tuple[int, int, int] | None, block: bytes | None) -> bytes:
    """A compound RTCP packet: SR (when we sent media: packets, octets, RTP timestamp) or RR, with
    at most one report block, then SDES with our CNAME."""
    count = 1 if block else 0
    if sender is not None:
        seconds, fraction = ntp_now()
        body = struct.pack("!IIIIII", ssrc, seconds, fraction, sender[2], sender[0], sender[1]) + (
            block or b""
        )
        first = struct.pack("!BBH", 0x80 | count, SR, len(body) // 4)
    else:
        body = struct.pack("!I", ssrc) + (block or b"")
        first = struct.pack("!BBH", 0x80 | count, RR, len(body) // 4)
    name = cname.encode()[:255]
    chunk = struct.pack("!IBB", ssrc, 1, len(name)) + name + b"\x00"
    chunk += b"\x00" * (-len(chunk) % 4)
    sdes = struct.pack("!BBH", 0x81, SDES, len(chunk) // 4) + chunk
    return first + body + sdes


@dataclass
class FarEndReport:
    """What the far end last told us about our stream, and when it last sent a report."""

    last_sr: int = 0  # middle 32 bits of the NTP timestamp of its last SR (for our LSR field)
    last_sr_at: float | None = None
    fraction_lost: float = 0.0
    cumulative_lost: int = 0
    jitter_ms: float = 0.0
    rtt_ms: float | None = None
    reports: int = 0


def read_compound(data: bytes, our_ssrc: int, far: FarEndReport) -> bool:
    """Update `far` from a compound RTCP packet; False when the packet is not valid RTCP."""
    offset, seen = 0, False
    while offset + 4 <= len(data):
        first, kind, words = struct.unpack_from("!BBH", data, offset)
        end = offset + 4 * (words + 1)
        if first >> 6 != 2 or end > len(data):
            return seen
        count, blocks = first & 0x1F, offset + 8
        if kind == SR and end - offset >= 28:
            seconds, fraction = struct.unpack_from("!II", data, offset + 8)
            far.last_sr = ((seconds & 0xFFFF) << 16) | (fraction >> 16)
            far.last_sr_at = time.monotonic()
            blocks = offset + 28
        if kind in (SR, RR):
            seen = True
            far.reports += 1
            for n in range(count):
                position = blocks + 24 * n
                if position + 24 > end:
                    break
                ssrc, fraction_lost, lost, _, jitter, lsr, dlsr = struct.unpack_from(
                    "!IB3sIIII", data, position
                )
                if ssrc != our_ssrc:
                    continue
                far.fraction_lost = fraction_lost / 256
                far.cumulative_lost = int.from_bytes(lost, "big")
                far.jitter_ms = jitter / RATE * 1000
                if lsr:
                    seconds, fraction = ntp_now()
                    now = ((seconds & 0xFFFF) << 16) | (fraction >> 16)
                    far.rtt_ms = max(0.0, ((now - lsr - dlsr) & 0xFFFFFFFF) / 65536 * 1000)
        offset = end
    return seen
