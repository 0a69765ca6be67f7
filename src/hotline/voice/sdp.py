"""SDP (RFC 4566) for audio calls, and the offer/answer rules of RFC 3264 that Hotline needs.

Hotline speaks G.711 (PCMU, PCMA) and RFC 4733 telephone-events; it answers an offer with
the first of the caller's codecs it supports, keeps the caller's payload type numbers, and
mirrors the direction for hold (sendonly → recvonly, inactive → inactive).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum


class SdpError(ValueError):
    """Malformed SDP, or an offer Hotline cannot answer (the call gets 488)."""


class Direction(StrEnum):
    SENDRECV = "sendrecv"
    SENDONLY = "sendonly"
    RECVONLY = "recvonly"
    INACTIVE = "inactive"

    def answer(self) -> Direction:
        return {
            Direction.SENDONLY: Direction.RECVONLY,
            Direction.RECVONLY: Direction.SENDONLY,
        }.get(self, self)


STATIC_PAYLOADS = {0: ("PCMU", 8000), 8: ("PCMA", 8000)}
SUPPORTED = ("PCMU", "PCMA")
_RTPMAP = re.compile(r"^([0-9]{1,3}) ([A-Za-z0-9_.-]+)/([0-9]{1,10})(?:/([0-9]{1,3}))?$")


@dataclass
class Media:
    kind: str
    port: int
    protocol: str
    formats: list[int]
    address: str | None = None
    rtpmap: dict[int, tuple[str, int]] = field(default_factory=dict)
    fmtp: dict[int, str] = field(default_factory=dict)
    direction: Direction = Direction.SENDRECV
    ptime: int | None = None
    other: list[str] = field(default_factory=list)

    def codec(self, payload_type: int) -> tuple[str, int] | None:
        return self.rtpmap.get(payload_type) or STATIC_PAYLOADS.get(payload_type)


@dataclass
class SessionDescription:
    origin: str
    address: str
    media: list[Media]
    name: str = "-"
    other: list[str] = field(default_factory=list)

    @property
    def audio(self) -> Media:
        for media in self.media:
            if media.kind == "audio" and media.port:
                return media
        raise SdpError("no active audio stream")

    @classmethod
    def parse(cls, data: bytes | str) -> SessionDescription:
        text = data.decode("utf-8", "strict") if isinstance(data, bytes) else data
        origin = address = None
        name = "-"
        media: list[Media] = []
        other: list[str] = []
        for number, raw in enumerate(text.replace("\r\n", "\n").split("\n"), start=1):
            line = raw.strip()
            if not line:
                continue
            if len(line) < 2 or line[1] != "=":
                raise SdpError(f"line {number}: expected <type>=<value>, got {line!r}")
            kind, value = line[0], line[2:]
            current = media[-1] if media else None
            if kind == "v" and value != "0":
                raise SdpError(f"line {number}: unsupported SDP version {value!r}")
            elif kind == "o":
                origin = value
            elif kind == "s":
                name = value
            elif kind == "c":
                parts = value.split()
                if len(parts) != 3 or parts[0] != "IN" or parts[1] not in ("IP4", "IP6"):
                    raise SdpError(f"line {number}: malformed connection {value!r}")
                if current is None:
                    address = parts[2]
                else:
                    current.address = parts[2]
            elif kind == "m":
                media.append(_parse_media(value, number))
            elif kind == "a" and current is not None:
                _parse_attribute(current, value, number)
            elif kind != "v":
                (current.other if current is not None else other).append(line)
        if origin is None:
            raise SdpError("missing o= line")
        if address is None and not all(m.address for m in media):
            raise SdpError("missing c= line")
        return cls(origin, address or "", media, name, other)

    def __str__(self) -> str:
        lines = ["v=0", f"o={self.origin}", f"s={self.name}", f"c=IN {_family(self.address)} {self.address}"]
        lines += [line for line in self.other if not line.startswith(("v=", "o=", "s=", "c="))]
        if not any(line.startswith("t=") for line in self.other):
            lines.append("t=0 0")
        for media in self.media:
            lines.append(f"m={media.kind} {media.port} {media.protocol} {' '.join(map(str, media.formats))}")
            if media.address and media.address != self.address:
                lines.append(f"c=IN {_family(media.address)} {media.address}")
            for pt in media.formats:
                if pt in media.rtpmap:
                    encoding, rate = media.rtpmap[pt]
                    lines.append(f"a=rtpmap:{pt} {encoding}/{rate}")
                if pt in media.fmtp:
                    lines.append(f"a=fmtp:{pt} {media.fmtp[pt]}")
            if media.ptime:
                lines.append(f"a=ptime:{media.ptime}")
            lines += media.other
            lines.append(f"a={media.direction.value}")
        return "\r\n".join(lines) + "\r\n"

    def __bytes__(self) -> bytes:
        return str(self).encode()


def _family(address: str) -> str:
    return "IP6" if ":" in address else "IP4"


def _digits(text: str) -> bool:
    """Up to 10 ASCII digits: `str.isdigit()` alone also takes "²" (which `int()` refuses) and
    "٣", and `int()` of thousands of digits raises ValueError of its own."""
    return 0 < len(text) <= 10 and text.isascii() and text.isdigit()


def _parse_media(value: str, number: int) -> Media:
    parts = value.split()
    if len(parts) < 4 or not _digits(parts[1].split("/")[0]):
        raise SdpError(f"line {number}: malformed media {value!r}")
    port = int(parts[1].split("/")[0])
    if port > 65535:
        raise SdpError(f"line {number}: port {port} out of range")
    formats = []
    for fmt in parts[3:]:
        if not _digits(fmt) or int(fmt) > 127:
            if parts[0] == "audio" and parts[2].startswith("RTP/"):
                raise SdpError(f"line {number}: bad payload type {fmt!r}")
            continue
        formats.append(int(fmt))
    return Media(parts[0], port, parts[2], formats)


def _parse_attribute(media: Media, value: str, number: int) -> None:
    name, _, rest = value.partition(":")
    if name == "rtpmap":
        match = _RTPMAP.match(rest.strip())
        if match is None:
            raise SdpError(f"line {number}: malformed rtpmap {rest!r}")
        media.rtpmap[int(match.group(1))] = (match.group(2), int(match.group(3)))
    elif name == "fmtp":
        pt, _, params = rest.partition(" ")
        if not _digits(pt):
            raise SdpError(f"line {number}: malformed fmtp {rest!r}")
        media.fmtp[int(pt)] = params.strip()
    elif name == "ptime" and _digits(rest.strip()):
        media.ptime = int(rest.strip())
    elif name in Direction.__members__.values():
        media.direction = Direction(name)
    else:
        media.other.append(f"a={value}")


def answer(offer: SessionDescription, *, address: str, port: int, session_id: int) -> SessionDescription:
    """Hotline's answer to an audio offer; raises SdpError when there is no common codec."""
    media = offer.audio
    codec = next((pt for pt in media.formats if (media.codec(pt) or ("", 0))[0].upper() in SUPPORTED), None)
    if codec is None:
        raise SdpError("no common codec: Hotline speaks PCMU and PCMA")
    events = next(
        (pt for pt in media.formats if (media.codec(pt) or ("", 0))[0].lower() == "telephone-event"), None
    )
    formats = [codec] + ([events] if events is not None else [])
    name, rate = media.codec(codec) or STATIC_PAYLOADS[codec]
    rtpmap = {codec: (name, rate)}
    fmtp = {}
    if events is not None:
        rtpmap[events] = ("telephone-event", 8000)
        fmtp[events] = "0-16"
    chosen = Media("audio", port, "RTP/AVP", formats, None, rtpmap, fmtp, media.direction.answer(), 20)
    return SessionDescription(
        f"hotline {session_id} {session_id} IN {_family(address)} {address}", address, [chosen], "Hotline"
    )


def offer(*, address: str, port: int, session_id: int) -> SessionDescription:
    """Hotline's offer when it calls out: PCMU, PCMA and telephone-event 101."""
    media = Media(
        "audio", port, "RTP/AVP", [0, 8, 101], None,
        {0: ("PCMU", 8000), 8: ("PCMA", 8000), 101: ("telephone-event", 8000)}, {101: "0-16"},
        Direction.SENDRECV, 20,
    )  # fmt: skip
    return SessionDescription(
        f"hotline {session_id} {session_id} IN {_family(address)} {address}", address, [media], "Hotline"
    )
