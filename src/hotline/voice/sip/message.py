"""SIP messages as values: `parse(bytes)` and `bytes(message)`, round-trip safe.

Parsing is strict where a wrong guess would misroute a call (start line, CSeq, Via,
Content-Length) and lenient where RFC 3261 asks for it (header name case, compact
forms, folded lines, LWS). Every refusal is a `SipParseError` with a precise message;
the transport answers it with 400 when a response is possible.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field

MAX_MESSAGE_BYTES = 65_535

COMPACT = {
    "i": "Call-ID", "m": "Contact", "f": "From", "t": "To", "v": "Via", "l": "Content-Length",
    "c": "Content-Type", "k": "Supported", "s": "Subject", "e": "Content-Encoding", "o": "Event",
    "r": "Refer-To", "b": "Referred-By", "u": "Allow-Events", "x": "Session-Expires",
}  # fmt: skip
CANONICAL = {
    name.lower(): name
    for name in (
        "Via", "From", "To", "Call-ID", "CSeq", "Contact", "Max-Forwards", "Route", "Record-Route",
        "Content-Type", "Content-Length", "Expires", "Allow", "Supported", "Require", "User-Agent",
        "Server", "WWW-Authenticate", "Authorization", "Proxy-Authenticate", "Proxy-Authorization",
        "Refer-To", "Referred-By", "Event", "Subscription-State", "Retry-After", "Min-Expires",
        "Reason", "Accept", "Allow-Events", "Session-Expires", "P-Asserted-Identity", "Date",
        "Warning", "Unsupported", "Content-Disposition", "Timestamp", "Subject", "Priority",
    )
}  # fmt: skip
# Headers whose comma-separated values are separate entries (RFC 3261 §7.3.1).
MULTI_VALUED = frozenset({"via", "contact", "route", "record-route", "allow", "supported", "require"})

TOKEN = re.compile(r"^[A-Za-z0-9.!%*_+`'~-]+$")
STATUS_LINE = re.compile(r"^SIP/2\.0 ([1-6][0-9]{2}) ?(.*)$")
REQUEST_LINE = re.compile(r"^([A-Za-z0-9.!%*_+`'~-]+) (\S+) SIP/2\.0$")


class SipParseError(ValueError):
    """The bytes are not a SIP message we can act on."""


def canonical_name(name: str) -> str:
    lowered = name.lower()
    if lowered in COMPACT:
        return COMPACT[lowered]
    return CANONICAL.get(lowered, name)


def split_values(value: str) -> list[str]:
    """Split on commas that are not inside quotes or <...> (for Via, Contact, Route…)."""
    if "," not in value:  # nearly every header: no need to walk it character by character
        stripped = value.strip()
        return [stripped] if stripped else []
    parts, depth, quoted, start = [], 0, False, 0
    for i, char in enumerate(value):
        if char == '"' and (i == 0 or value[i - 1] != "\\"):
            quoted = not quoted
        elif not quoted and char == "<":
            depth += 1
        elif not quoted and char == ">":
            depth = max(0, depth - 1)
        elif char == "," and not quoted and depth == 0:
            parts.append(value[start:i].strip())
            start = i + 1
    parts.append(value[start:].strip())
    return [part for part in parts if part]


class Headers:
    """Ordered header fields; lookups ignore case and compact forms."""

    def __init__(self, items: list[tuple[str, str]] | None = None) -> None:
        self._items: list[tuple[str, str]] = [(canonical_name(k), v) for k, v in items or []]

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Headers) and self._items == other._items

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"

    def get(self, name: str, default: str | None = None) -> str | None:
        wanted = canonical_name(name).lower()
        for key, value in self._items:
            if key.lower() == wanted:
                return value
        return default

    def get_all(self, name: str) -> list[str]:
        """Every value of a header, with comma-joined values of list headers split apart."""
        wanted = canonical_name(name).lower()
        values: list[str] = []
        for key, value in self._items:
            if key.lower() == wanted:
                values.extend(split_values(value) if wanted in MULTI_VALUED else [value])
        return values

    def add(self, name: str, value: str) -> None:
        self._items.append((canonical_name(name), value))

    def prepend(self, name: str, value: str) -> None:
        self._items.insert(0, (canonical_name(name), value))

    def set(self, name: str, value: str) -> None:
        """Replace every value of `name` with one, kept at the first one's place."""
        wanted = canonical_name(name)
        index = next((i for i, (k, _) in enumerate(self._items) if k.lower() == wanted.lower()), None)
        self.remove(name)
        self._items.insert(len(self._items) if index is None else index, (wanted, value))

    def remove(self, name: str) -> None:
        wanted = canonical_name(name).lower()
        self._items = [(k, v) for k, v in self._items if k.lower() != wanted]

    def copy(self) -> Headers:
        return Headers(list(self._items))


@dataclass
class SipMessage:
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""

    @property
    def call_id(self) -> str:
        return self.headers.get("Call-ID") or ""

    @property
    def cseq(self) -> tuple[int, str]:
        return parse_cseq(self.headers.get("CSeq") or "")

    @property
    def vias(self) -> list[Via]:
        return [Via.parse(value) for value in self.headers.get_all("Via")]

    def _head(self) -> str:
        raise NotImplementedError

    def __bytes__(self) -> bytes:
        lines = [self._head()]
        lines += [f"{name}: {value}" for name, value in self.headers if name != "Content-Length"]
        lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + self.body


@dataclass
class SipRequest(SipMessage):
    method: str = "OPTIONS"
    uri: str = ""

    def _head(self) -> str:
        return f"{self.method} {self.uri} SIP/2.0"


@dataclass
class SipResponse(SipMessage):
    status: int = 200
    reason: str = "OK"

    def _head(self) -> str:
        return f"SIP/2.0 {self.status} {self.reason}".rstrip()


def decimal(value: str, what: str, *, digits: int = 10) -> int:
    """A number of ASCII digits. `str.isdigit()` alone also takes "²" and "٣", which `int()` then
    refuses or reads as 3, and `int()` of thousands of digits raises ValueError of its own."""
    text = value.strip()
    if not text or not text.isascii() or not text.isdigit():
        raise SipParseError(f"malformed {what} {value!r}")
    if len(text) > digits:
        raise SipParseError(f"{what} {text[:12]}… is too large")
    return int(text)


def parse_cseq(value: str) -> tuple[int, str]:
    parts = value.split()
    if len(parts) != 2 or not TOKEN.match(parts[1]):
        raise SipParseError(f"malformed CSeq {value!r}")
    number = decimal(parts[0], "CSeq")
    if number >= 2**31:
        raise SipParseError("CSeq number must be below 2**31")
    return number, parts[1].upper()


@dataclass
class Via:
    transport: str
    host: str
    port: int | None = None
    params: dict[str, str | None] = field(default_factory=dict)

    VIA = re.compile(
        r"^SIP\s*/\s*2\.0\s*/\s*([A-Za-z]+)\s+(\[[0-9A-Fa-f:.]+\]|[^\s:;]+)(?::([0-9]{1,5}))?\s*(;.*)?$"
    )

    @classmethod
    def parse(cls, value: str) -> Via:
        match = cls.VIA.match(value.strip())
        if match is None:
            raise SipParseError(f"malformed Via {value!r}")
        transport, host, port, params = match.groups()
        if port is not None and not 0 < int(port) < 65536:
            raise SipParseError(f"Via port out of range in {value!r}")
        return cls(transport.upper(), host, int(port) if port else None, parse_params(params or ""))

    @property
    def branch(self) -> str | None:
        return self.params.get("branch")

    def __str__(self) -> str:
        address = self.host if self.port is None else f"{self.host}:{self.port}"
        return f"SIP/2.0/{self.transport} {address}{format_params(self.params)}"


def parse_params(text: str) -> dict[str, str | None]:
    params: dict[str, str | None] = {}
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        name, sep, value = part.partition("=")
        if not TOKEN.match(name.strip()):
            raise SipParseError(f"malformed parameter {part!r}")
        params[name.strip().lower()] = value.strip() if sep else None
    return params


def format_params(params: dict[str, str | None]) -> str:
    return "".join(f";{k}" if v is None else f";{k}={v}" for k, v in params.items())


def parse(data: bytes) -> SipRequest | SipResponse:
    """Parse one complete datagram or framed stream message."""
    if len(data) > MAX_MESSAGE_BYTES:
        raise SipParseError("message too large")
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = data.partition(b"\n\n")
        if not sep:
            raise SipParseError("no blank line after the headers")
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SipParseError("headers are not UTF-8") from exc
    lines = text.replace("\r\n", "\n").split("\n")
    while lines and not lines[0].strip():  # keep-alive CRLFs before a message
        lines.pop(0)
    if not lines:
        raise SipParseError("empty message")
    start, header_lines = lines[0], lines[1:]
    headers = Headers(_header_fields(header_lines))

    message: SipRequest | SipResponse
    if start.startswith("SIP/"):
        status = STATUS_LINE.match(start)
        if status is None:
            raise SipParseError(f"malformed status line {start!r}")
        message = SipResponse(headers, b"", int(status.group(1)), status.group(2))
    else:
        request = REQUEST_LINE.match(start)
        if request is None:
            raise SipParseError(f"malformed request line {start!r}")
        method, uri = request.groups()
        if ":" not in uri:
            raise SipParseError(f"request URI {uri!r} has no scheme")
        message = SipRequest(headers, b"", method.upper(), uri)

    for required in ("Via", "From", "To", "Call-ID", "CSeq"):
        if not headers.get(required):
            raise SipParseError(f"missing {required} header")
    _, method = parse_cseq(headers.get("CSeq") or "")
    if isinstance(message, SipRequest) and method != message.method:
        raise SipParseError(f"CSeq method {method} does not match {message.method}")
    vias = headers.get_all("Via")
    if not vias:
        raise SipParseError("missing Via header")
    for value in vias:
        Via.parse(value)
    max_forwards = headers.get("Max-Forwards")
    if max_forwards is not None and decimal(max_forwards, "Max-Forwards") > 255:
        raise SipParseError(f"malformed Max-Forwards {max_forwards!r}")

    length = headers.get("Content-Length")
    if length is not None:
        wanted = decimal(length, "Content-Length")
        if wanted > len(body):
            raise SipParseError(f"Content-Length {wanted} but {len(body)} bytes of body")
        body = body[:wanted]
    # Content-Length describes the wire form only; serialising recomputes it from the body.
    headers.remove("Content-Length")
    message.body = body
    return message


def _header_fields(lines: list[str]) -> list[tuple[str, str]]:
    fields: list[tuple[str, str]] = []
    for line in lines:
        if line[:1] in (" ", "\t"):  # folded continuation (RFC 3261 §7.3.1)
            if not fields:
                raise SipParseError("continuation line before any header")
            name, value = fields[-1]
            fields[-1] = (name, f"{value} {line.strip()}".strip())  # a blank one adds nothing
            continue
        name, sep, value = line.partition(":")
        if not sep or not TOKEN.match(name.strip()):
            raise SipParseError(f"malformed header line {line!r}")
        fields.append((name.strip(), value.strip()))
    return fields


class StreamFramer:
    """Cuts a TCP byte stream into SIP messages using Content-Length (RFC 3261 §18.3)."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        self._buffer += data
        messages: list[bytes] = []
        while True:
            while self._buffer[:2] == b"\r\n":  # keep-alive
                del self._buffer[:2]
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self._buffer) > MAX_MESSAGE_BYTES:
                    raise SipParseError("headers too large")
                return messages
            head = bytes(self._buffer[:end]).decode("utf-8", "replace")
            match = re.search(r"^(?:content-length|l)[ \t]*:[ \t]*([0-9]{1,10})[ \t]*$", head, re.I | re.M)
            if match is None:
                raise SipParseError("stream message without Content-Length")
            total = end + 4 + int(match.group(1))
            if total > MAX_MESSAGE_BYTES:
                raise SipParseError("message too large")
            if len(self._buffer) < total:
                return messages
            messages.append(bytes(self._buffer[:total]))
            del self._buffer[:total]


_EXT_IN_URI = re.compile(r"sips?:([^@;>]+)@")


def response_to(request: SipRequest, status: int, reason: str, *, to_tag: str | None = None) -> SipResponse:
    """A response carrying the request's Via, From, To, Call-ID and CSeq (RFC 3261 §8.2.6)."""
    response = SipResponse(status=status, reason=reason)
    for name in ("Via", "From", "To", "Call-ID", "CSeq"):
        for value in request.headers.get_all(name) if name == "Via" else [request.headers.get(name) or ""]:
            response.headers.add(name, value)
    to = request.headers.get("To") or ""
    if status > 100 and ";tag=" not in to:
        response.headers.set("To", f"{to};tag={to_tag or secrets.token_hex(5)}")
    return response


def extension_of(header: str) -> str | None:
    """The user part of the URI in a To/From header: the extension being registered."""
    match = _EXT_IN_URI.search(header)
    return match.group(1) if match else None
