"""RTP packets (RFC 3550 §5.1) and RFC 4733 telephone-event payloads, as parse()/bytes() values."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

RTP_VERSION = 2
HEADER = struct.Struct("!BBHII")
EVENT = struct.Struct("!BBH")
DTMF_EVENTS = "0123456789*#ABCD"


@dataclass
class RtpPacket:
    payload_type: int
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes = b""
    marker: bool = False
    csrc: list[int] = field(default_factory=list)
    extension: tuple[int, bytes] | None = None

    @classmethod
    def parse(cls, data: bytes) -> RtpPacket:
        if len(data) < HEADER.size:
            raise ValueError(f"RTP packet too short ({len(data)} bytes)")
        first, second, sequence, timestamp, ssrc = HEADER.unpack_from(data)
        if first >> 6 != RTP_VERSION:
            raise ValueError(f"RTP version {first >> 6} is not 2")
        offset = HEADER.size
        csrc_count = first & 0x0F
        if len(data) < offset + 4 * csrc_count:
            raise ValueError("RTP packet truncated in its CSRC list")
        csrc = list(struct.unpack_from(f"!{csrc_count}I", data, offset))
        offset += 4 * csrc_count
        extension = None
        if first & 0x10:
            if len(data) < offset + 4:
                raise ValueError("RTP packet truncated in its extension header")
            profile, words = struct.unpack_from("!HH", data, offset)
            end = offset + 4 + 4 * words
            if len(data) < end:
                raise ValueError("RTP packet truncated in its extension")
            extension = (profile, data[offset + 4 : end])
            offset = end
        end = len(data)
        if first & 0x20:
            padding = data[-1]
            if padding == 0 or offset + padding > len(data):
                raise ValueError("RTP padding length is wrong")
            end -= padding
        return cls(
            second & 0x7F, sequence, timestamp, ssrc, data[offset:end], bool(second & 0x80), csrc, extension
        )

    def __bytes__(self) -> bytes:
        first = (RTP_VERSION << 6) | (0x10 if self.extension else 0) | len(self.csrc)
        second = (0x80 if self.marker else 0) | self.payload_type
        out = HEADER.pack(first, second, self.sequence & 0xFFFF, self.timestamp & 0xFFFFFFFF, self.ssrc)
        out += struct.pack(f"!{len(self.csrc)}I", *self.csrc)
        if self.extension:
            profile, body = self.extension
            if len(body) % 4:
                raise ValueError("RTP extension length must be a multiple of 4 bytes")
            out += struct.pack("!HH", profile, len(body) // 4) + body
        return out + self.payload


@dataclass(frozen=True)
class TelephoneEvent:
    """One RFC 4733 event payload: which key, whether it ended, volume (dBm0, negated), duration."""

    event: int
    end: bool
    volume: int
    duration: int

    @classmethod
    def parse(cls, data: bytes) -> TelephoneEvent:
        if len(data) < EVENT.size:
            raise ValueError(f"telephone-event payload too short ({len(data)} bytes)")
        event, flags, duration = EVENT.unpack_from(data)
        return cls(event, bool(flags & 0x80), flags & 0x3F, duration)

    def __bytes__(self) -> bytes:
        if not 0 <= self.volume <= 63:
            raise ValueError("volume must be 0-63")
        return EVENT.pack(self.event, (0x80 if self.end else 0) | self.volume, self.duration & 0xFFFF)

    @property
    def digit(self) -> str | None:
        return DTMF_EVENTS[self.event] if self.event < len(DTMF_EVENTS) else None
