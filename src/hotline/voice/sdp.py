"""SDP (RFC 4566) for audio calls, and the offer/answer rules of RFC 3264 that Hotline needs.

Hotline speaks G.711 (PCMU, PCMA) and RFC 4733 telephone-events; it answers an offer with
the first of the caller's codecs it supports, keeps the caller's payload type numbers, and
mirrors the direction for hold (sendonly → recvonly, inactive → inactive).

A browser's offer is WebRTC (profile UDP/TLS/RTP/SAVPF): it also carries ICE credentials
(RFC 8839), the DTLS certificate's fingerprint and role (RFC 8122, 5763), rtcp-mux (RFC 5761)
and a BUNDLE group (RFC 9143). They are parsed into `Media` (session-level values are inherited by
the media), checked strictly (a malformed one is an SdpError: 488), and answered: Hotline is
ICE-lite and always the DTLS server (`a=setup:passive`); the RTP session fills in its own ICE
credentials, fingerprint and candidate (`WebRtcSession.describe`).
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
WEBRTC = "UDP/TLS/RTP/SAVPF"
"""The profile of a WebRTC audio stream: RTP over DTLS-SRTP with feedback (RFC 5764, 8827)."""
SETUP_ROLES = ("active", "passive", "actpass", "holdconn")
_RTPMAP = re.compile(r"^([0-9]{1,3}) ([A-Za-z0-9_.-]+)/([0-9]{1,10})(?:/([0-9]{1,3}))?$")
_ICE_CHARS = re.compile(r"^[A-Za-z0-9+/]+$")  # RFC 8839 §5.4: ice-char
_FINGERPRINT = re.compile(r"^([A-Za-z0-9-]{1,16}) ((?:[0-9A-Fa-f]{2}:){15,63}[0-9A-Fa-f]{2})$")
_CANDIDATE = re.compile(
    r"^([A-Za-z0-9+/]{1,32}) ([0-9]{1,3}) ([A-Za-z]{1,8}) ([0-9]{1,10}) (\S{1,255}) ([0-9]{1,5}) typ "
    r"(host|srflx|prflx|relay)(?: \S{1,255})*$"
)
_MID = re.compile(r"^[!-~]{1,32}$")


@dataclass(frozen=True)
class Candidate:
    """One ICE candidate line (RFC 8839 §5.1); only Hotline's own host candidate is used, the
    browser's are read (checked for form) and otherwise ignored: an ICE-lite agent answers checks,
    it does not make them."""

    foundation: str
    component: int
    transport: str
    priority: int
    address: str
    port: int
    kind: str = "host"
    extra: str = ""

    @classmethod
    def parse(cls, value: str) -> Candidate:
        match = _CANDIDATE.match(value)
        if match is None or int(match.group(6)) > 65535 or int(match.group(4)) > 0xFFFFFFFF:
            raise SdpError(f"malformed candidate {value!r}")
        tail = value[match.end(7) :].strip()
        return cls(
            match.group(1), int(match.group(2)), match.group(3), int(match.group(4)), match.group(5),
            int(match.group(6)), match.group(7), tail,
        )  # fmt: skip

    def __str__(self) -> str:
        line = (
            f"{self.foundation} {self.component} {self.transport} {self.priority} {self.address} "
            f"{self.port} typ {self.kind}"
        )
        return f"{line} {self.extra}" if self.extra else line


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
    # WebRTC transport (RFC 8839 ICE, RFC 8122/5763 DTLS, RFC 5761 rtcp-mux, RFC 9143 mid)
    ice_ufrag: str | None = None
    ice_pwd: str | None = None
    fingerprints: list[tuple[str, str]] = field(default_factory=list)
    """(hash function in lower case, hex pairs in upper case), e.g. ("sha-256", "AB:CD:…")."""
    setup: str | None = None
    mid: str | None = None
    rtcp_mux: bool = False
    candidates: list[Candidate] = field(default_factory=list)
    end_of_candidates: bool = False

    @property
    def webrtc(self) -> bool:
        return self.protocol == WEBRTC

    def codec(self, payload_type: int) -> tuple[str, int] | None:
        return self.rtpmap.get(payload_type) or STATIC_PAYLOADS.get(payload_type)


@dataclass
class SessionDescription:
    origin: str
    address: str
    media: list[Media]
    name: str = "-"
    other: list[str] = field(default_factory=list)
    ice_lite: bool = False
    groups: list[str] = field(default_factory=list)
    """a=group values, e.g. "BUNDLE 0"."""

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
        session = Media("", 0, "", [])  # session-level transport attributes, inherited below
        ice_lite, groups = False, []
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
            elif kind == "a" and value == "ice-lite":
                ice_lite = True
            elif kind == "a" and value.startswith("group:"):
                groups.append(value[6:].strip())
            elif kind == "a" and value.partition(":")[0] in _TRANSPORT_ATTRIBUTES:
                _parse_attribute(session, value, number)
            elif kind != "v":
                (current.other if current is not None else other).append(line)
        if origin is None:
            raise SdpError("missing o= line")
        if address is None and not all(m.address for m in media):
            raise SdpError("missing c= line")
        for each in media:
            each.ice_ufrag = each.ice_ufrag or session.ice_ufrag
            each.ice_pwd = each.ice_pwd or session.ice_pwd
            each.fingerprints = each.fingerprints or session.fingerprints
            each.setup = each.setup or session.setup
        return cls(origin, address or "", media, name, other, ice_lite, groups)

    def __str__(self) -> str:
        lines = ["v=0", f"o={self.origin}", f"s={self.name}"]
        if self.address:  # (a browser's SDP has c= lines only in its media)
            lines.append(f"c=IN {_family(self.address)} {self.address}")
        lines += [line for line in self.other if not line.startswith(("v=", "o=", "s=", "c="))]
        if not any(line.startswith("t=") for line in self.other):
            lines.append("t=0 0")
        if self.ice_lite:
            lines.append("a=ice-lite")
        lines += [f"a=group:{group}" for group in self.groups]
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
            lines += _transport_lines(media)
            lines += media.other
            lines.append(f"a={media.direction.value}")
        return "\r\n".join(lines) + "\r\n"

    def __bytes__(self) -> bytes:
        return str(self).encode()


def _is_events_8k(codec: tuple[str, int] | None) -> bool:
    return codec is not None and codec[0].lower() == "telephone-event" and codec[1] == 8000


_TRANSPORT_ATTRIBUTES = ("ice-ufrag", "ice-pwd", "fingerprint", "setup")


def _transport_lines(media: Media) -> list[str]:
    lines = []
    if media.ice_ufrag is not None and media.ice_pwd is not None:
        lines += [f"a=ice-ufrag:{media.ice_ufrag}", f"a=ice-pwd:{media.ice_pwd}"]
    lines += [f"a=fingerprint:{algorithm} {value}" for algorithm, value in media.fingerprints]
    if media.setup is not None:
        lines.append(f"a=setup:{media.setup}")
    if media.mid is not None:
        lines.append(f"a=mid:{media.mid}")
    if media.rtcp_mux:
        lines.append("a=rtcp-mux")
    lines += [f"a=candidate:{candidate}" for candidate in media.candidates]
    if media.end_of_candidates:
        lines.append("a=end-of-candidates")
    return lines


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
            if parts[0] == "audio" and (parts[2].startswith("RTP/") or parts[2] == WEBRTC):
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
    elif name in ("ice-ufrag", "ice-pwd"):
        text = rest.strip()
        shortest = 4 if name == "ice-ufrag" else 22
        if not shortest <= len(text) <= 256 or not _ICE_CHARS.match(text):
            raise SdpError(f"line {number}: malformed {name} {rest!r}")
        if name == "ice-ufrag":
            media.ice_ufrag = text
        else:
            media.ice_pwd = text
    elif name == "fingerprint":
        match = _FINGERPRINT.match(rest.strip())
        if match is None:
            raise SdpError(f"line {number}: malformed fingerprint {rest!r}")
        media.fingerprints.append((match.group(1).lower(), match.group(2).upper()))
    elif name == "setup":
        if rest.strip() not in SETUP_ROLES:
            raise SdpError(f"line {number}: malformed setup {rest!r}")
        media.setup = rest.strip()
    elif name == "mid":
        if not _MID.match(rest.strip()):
            raise SdpError(f"line {number}: malformed mid {rest!r}")
        media.mid = rest.strip()
    elif name == "rtcp-mux":
        media.rtcp_mux = True
    elif name == "candidate":
        try:
            media.candidates.append(Candidate.parse(rest.strip()))
        except SdpError as exc:
            raise SdpError(f"line {number}: {exc}") from None
    elif name == "end-of-candidates":
        media.end_of_candidates = True
    else:
        media.other.append(f"a={value}")


def answer(offer: SessionDescription, *, address: str, port: int, session_id: int) -> SessionDescription:
    """Hotline's answer to an audio offer; raises SdpError when there is no common codec."""
    media = offer.audio
    codec = next((pt for pt in media.formats if (media.codec(pt) or ("", 0))[0].upper() in SUPPORTED), None)
    if codec is None:
        raise SdpError("no common codec: Hotline speaks PCMU and PCMA")
    events = next(  # at G.711's clock: browsers also offer telephone-event/48000 (for opus), first
        (pt for pt in media.formats if _is_events_8k(media.codec(pt))), None
    )
    formats = [codec] + ([events] if events is not None else [])
    name, rate = media.codec(codec) or STATIC_PAYLOADS[codec]
    rtpmap = {codec: (name, rate)}
    fmtp = {}
    if events is not None:
        rtpmap[events] = ("telephone-event", 8000)
        fmtp[events] = "0-16"
    chosen = Media("audio", port, "RTP/AVP", formats, None, rtpmap, fmtp, media.direction.answer(), 20)
    reply = SessionDescription(
        f"hotline {session_id} {session_id} IN {_family(address)} {address}", address, [chosen], "Hotline"
    )
    if media.webrtc:
        _answer_webrtc(offer, reply)
    return reply


def check_webrtc(media: Media) -> None:
    """What Hotline needs of a browser's offer or answer; raises SdpError (the call gets 488)."""
    if media.ice_ufrag is None or media.ice_pwd is None:
        raise SdpError("WebRTC media without ICE credentials (a=ice-ufrag, a=ice-pwd)")
    if not any(algorithm in FINGERPRINT_HASHES for algorithm, _ in media.fingerprints):
        raise SdpError("WebRTC media without a sha-256, sha-384 or sha-512 a=fingerprint")
    if not media.rtcp_mux:
        raise SdpError("WebRTC media without a=rtcp-mux (Hotline multiplexes RTCP on the RTP port)")


FINGERPRINT_HASHES = ("sha-256", "sha-384", "sha-512")


def _answer_webrtc(offer: SessionDescription, reply: SessionDescription) -> None:
    """Hotline is ICE-lite and the DTLS server: it takes `passive` whatever the browser offers
    (actpass, as browsers do, or active); a browser that insists on passive cannot be answered."""
    media, chosen = offer.audio, reply.media[0]
    check_webrtc(media)
    if media.setup not in (None, "actpass", "active"):
        raise SdpError(f"a=setup:{media.setup}: Hotline is always the DTLS server (passive)")
    chosen.protocol, chosen.setup, chosen.rtcp_mux, chosen.mid = WEBRTC, "passive", True, media.mid
    reply.ice_lite = True
    if media.mid is not None and any(
        group.split()[:1] == ["BUNDLE"] and media.mid in group.split()[1:] for group in offer.groups
    ):
        reply.groups = [f"BUNDLE {media.mid}"]


def offer(*, address: str, port: int, session_id: int, webrtc: bool = False) -> SessionDescription:
    """Hotline's offer when it calls out: PCMU, PCMA and telephone-event 101. To a browser
    (`webrtc`): the same codecs as UDP/TLS/RTP/SAVPF with rtcp-mux, one bundled audio stream, and
    `a=setup:actpass` (RFC 5763 §5: the offerer must), which browsers answer with active, so
    Hotline is the DTLS server as on the calls it answers."""
    media = Media(
        "audio", port, WEBRTC if webrtc else "RTP/AVP", [0, 8, 101], None,
        {0: ("PCMU", 8000), 8: ("PCMA", 8000), 101: ("telephone-event", 8000)}, {101: "0-16"},
        Direction.SENDRECV, 20,
    )  # fmt: skip
    description = SessionDescription(
        f"hotline {session_id} {session_id} IN {_family(address)} {address}", address, [media], "Hotline"
    )
    if webrtc:
        media.setup, media.rtcp_mux, media.mid = "actpass", True, "0"
        description.ice_lite, description.groups = True, ["BUNDLE 0"]
    return description
