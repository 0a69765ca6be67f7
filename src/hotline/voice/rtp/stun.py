"""STUN messages (RFC 5389) as ICE uses them (RFC 8445 §7): what an ICE-lite agent needs to read a
browser's connectivity checks and answer them.

A message is a 20-byte header (type, length, the magic cookie, a 96-bit transaction id) and
type-length-value attributes padded to 4 bytes. Two attributes protect the others:
MESSAGE-INTEGRITY, an HMAC-SHA1 keyed with the receiver's ICE password over everything before it
(the header's length counting up to and including it), and FINGERPRINT, a CRC-32 over everything
before it, which also tells STUN apart from the media sharing the port.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import struct
import zlib
from dataclasses import dataclass, field

MAGIC_COOKIE = 0x2112A442
BINDING_REQUEST = 0x0001
BINDING_SUCCESS = 0x0101
BINDING_INDICATION = 0x0011

USERNAME = 0x0006
MESSAGE_INTEGRITY = 0x0008
XOR_MAPPED_ADDRESS = 0x0020
PRIORITY = 0x0024
USE_CANDIDATE = 0x0025
FINGERPRINT = 0x8028
ICE_CONTROLLED = 0x8029
ICE_CONTROLLING = 0x802A

_HEADER = struct.Struct("!HHI12s")
_FINGERPRINT_XOR = 0x5354554E  # "STUN"


def _padded(length: int) -> int:
    return (length + 3) & ~3


@dataclass
class StunMessage:
    """One STUN message; `attributes` in wire order (type, value). A parsed message keeps its
    bytes (`raw`) and where MESSAGE-INTEGRITY and FINGERPRINT sit, to check them."""

    type: int
    transaction_id: bytes
    attributes: list[tuple[int, bytes]] = field(default_factory=list)
    raw: bytes = b""
    _integrity_at: int | None = None
    _fingerprint_at: int | None = None

    def get(self, kind: int) -> bytes | None:
        return next((value for key, value in self.attributes if key == kind), None)

    def has(self, kind: int) -> bool:
        return any(key == kind for key, _ in self.attributes)

    @property
    def username(self) -> str | None:
        value = self.get(USERNAME)
        return None if value is None else value.decode("utf-8", "replace")

    @classmethod
    def parse(cls, data: bytes) -> StunMessage:
        if len(data) < 20:
            raise ValueError(f"STUN message too short: {len(data)} bytes")
        kind, length, cookie, transaction_id = _HEADER.unpack_from(data)
        if kind & 0xC000:
            raise ValueError("not a STUN message: the first two bits are not zero")
        if cookie != MAGIC_COOKIE:
            raise ValueError(f"STUN magic cookie {cookie:#010x}, expected {MAGIC_COOKIE:#010x}")
        if length % 4 or 20 + length != len(data):
            raise ValueError(
                f"STUN length {length} does not match the {len(data) - 20} bytes after the header"
            )
        message = cls(kind, transaction_id, raw=bytes(data))
        offset = 20
        while offset < len(data):
            if offset + 4 > len(data):
                raise ValueError(f"truncated STUN attribute header at byte {offset}")
            attribute, size = struct.unpack_from("!HH", data, offset)
            if offset + 4 + size > len(data):
                raise ValueError(f"STUN attribute {attribute:#06x} of {size} bytes overruns the message")
            if message._fingerprint_at is not None:
                raise ValueError("STUN attribute after FINGERPRINT")
            if attribute == MESSAGE_INTEGRITY:
                if size != 20:
                    raise ValueError(f"MESSAGE-INTEGRITY of {size} bytes, expected 20")
                message._integrity_at = offset
            elif attribute == FINGERPRINT:
                if size != 4:
                    raise ValueError(f"FINGERPRINT of {size} bytes, expected 4")
                message._fingerprint_at = offset
            elif message._integrity_at is not None:
                raise ValueError("STUN attribute other than FINGERPRINT after MESSAGE-INTEGRITY")
            message.attributes.append((attribute, bytes(data[offset + 4 : offset + 4 + size])))
            offset += 4 + _padded(size)
        if offset != len(data):
            raise ValueError("STUN attribute padding overruns the message")
        return message

    def integrity_ok(self, key: bytes) -> bool:
        """MESSAGE-INTEGRITY is present and right for `key` (the receiver's ICE password)."""
        at = self._integrity_at
        if at is None:
            return False
        expected = _integrity(self.raw[:at], key)
        return hmac.compare_digest(expected, self.raw[at + 4 : at + 24])

    def fingerprint_ok(self) -> bool:
        at = self._fingerprint_at
        if at is None:
            return False
        return struct.pack("!I", _crc(self.raw[:at])) == self.raw[at + 4 : at + 8]

    def encode(self, *, integrity_key: bytes | None = None, fingerprint: bool = True) -> bytes:
        """The message on the wire, with MESSAGE-INTEGRITY (when keyed) and FINGERPRINT added."""
        body = b"".join(
            struct.pack("!HH", kind, len(value)) + value + b"\0" * (_padded(len(value)) - len(value))
            for kind, value in self.attributes
        )
        data = _HEADER.pack(self.type, len(body), MAGIC_COOKIE, self.transaction_id) + body
        if integrity_key is not None:
            data = (
                _with_length(data, 24)
                + struct.pack("!HH", MESSAGE_INTEGRITY, 20)
                + _integrity(data, integrity_key)
            )
        if fingerprint:
            data = _with_length(data, 8) + struct.pack("!HHI", FINGERPRINT, 4, _crc(data))
        return data


def _with_length(data: bytes, extra: int) -> bytes:
    """`data` with the header's length set as if `extra` more bytes of attributes followed."""
    return data[:2] + struct.pack("!H", len(data) - 20 + extra) + data[4:]


def _integrity(before: bytes, key: bytes) -> bytes:
    return hmac.new(key, _with_length(before, 24), hashlib.sha1).digest()


def _crc(before: bytes) -> int:
    return (zlib.crc32(_with_length(before, 8)) ^ _FINGERPRINT_XOR) & 0xFFFFFFFF


def xor_address(address: tuple[str, int], transaction_id: bytes) -> bytes:
    """XOR-MAPPED-ADDRESS (RFC 5389 §15.2): the address a request came from, XORed with the cookie
    (and the transaction id for IPv6), so NATs rewriting addresses in payloads leave it alone."""
    ip = ipaddress.ip_address(address[0])
    port = address[1] ^ (MAGIC_COOKIE >> 16)
    key = struct.pack("!I", MAGIC_COOKIE) + (transaction_id if ip.version == 6 else b"")
    packed = bytes(a ^ b for a, b in zip(ip.packed, key, strict=True))
    return struct.pack("!BBH", 0, 1 if ip.version == 4 else 2, port) + packed


def read_xor_address(value: bytes, transaction_id: bytes) -> tuple[str, int]:
    if len(value) not in (8, 20) or value[1] not in (1, 2):
        raise ValueError("malformed XOR-MAPPED-ADDRESS")
    port = struct.unpack_from("!H", value, 2)[0] ^ (MAGIC_COOKIE >> 16)
    key = struct.pack("!I", MAGIC_COOKIE) + (transaction_id if value[1] == 2 else b"")
    packed = bytes(a ^ b for a, b in zip(value[4:], key, strict=True))
    return str(ipaddress.ip_address(packed)), port


def binding_success(request: StunMessage, source: tuple[str, int], password: str) -> bytes:
    """The answer to a connectivity check: where it came from, keyed with our own password."""
    response = StunMessage(
        BINDING_SUCCESS,
        request.transaction_id,
        [(XOR_MAPPED_ADDRESS, xor_address(source, request.transaction_id))],
    )
    return response.encode(integrity_key=password.encode())
