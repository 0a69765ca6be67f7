"""Bencode, the encoding of rtpengine's ng protocol (BEP 3): integers `i42e`, byte strings
`4:spam`, lists `l…e` and dictionaries `d…e`.

Encoding takes `int`, `bytes`, `str` (UTF-8), lists/tuples and dicts with `str` or `bytes` keys;
decoding gives `int`, `bytes`, `list` and `dict[bytes, …]`, strictly: no leading zeros, no `-0`,
no duplicate keys, nothing after the value. rtpengine does not sort its dictionaries' keys, so
neither the encoder nor the decoder requires order. Any malformed input raises `BencodeError` with
the offset where it went wrong, never another exception (nesting is bounded, so a deep input cannot
exhaust the stack).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeAlias, Union

__all__ = ["BencodeError", "Value", "decode", "encode"]

Value: TypeAlias = Union[int, bytes, list["Value"], dict[bytes, "Value"]]  # noqa: UP007 (a recursive alias)
MAX_DEPTH = 64
"""Deeper nesting is refused: ng messages are at most four levels deep."""


class BencodeError(ValueError):
    """The bytes are not one well-formed bencoded value (or a value cannot be encoded)."""


def encode(value: object) -> bytes:
    out: list[bytes] = []
    _encode(value, out, 0)
    return b"".join(out)


def _encode(value: object, out: list[bytes], depth: int) -> None:
    if depth > MAX_DEPTH:
        raise BencodeError(f"nesting deeper than {MAX_DEPTH}")
    if isinstance(value, bool):  # a bool is an int to Python, never meant as one here
        raise BencodeError("cannot encode a bool: use 1/0 or a flag string")
    if isinstance(value, int):
        out.append(b"i%de" % value)
    elif isinstance(value, bytes | bytearray | str):
        raw = value.encode() if isinstance(value, str) else bytes(value)
        out.append(b"%d:" % len(raw))
        out.append(raw)
    elif isinstance(value, Mapping):
        out.append(b"d")
        keys: set[bytes] = set()
        for key, item in value.items():
            if not isinstance(key, str | bytes):
                raise BencodeError(f"dictionary key {key!r} is not a string")
            raw_key = key.encode() if isinstance(key, str) else key
            if raw_key in keys:
                raise BencodeError(f"duplicate dictionary key {raw_key!r}")
            keys.add(raw_key)
            out.append(b"%d:" % len(raw_key))
            out.append(raw_key)
            _encode(item, out, depth + 1)
        out.append(b"e")
    elif isinstance(value, Sequence):
        out.append(b"l")
        for item in value:
            _encode(item, out, depth + 1)
        out.append(b"e")
    else:
        raise BencodeError(f"cannot encode a {type(value).__name__}")


def decode(data: bytes) -> Value:
    """The one value `data` holds."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise BencodeError(f"cannot decode a {type(data).__name__}: bytes expected")
    data = bytes(data)
    value, end = _decode(data, 0, 0)
    if end != len(data):
        raise BencodeError(f"unexpected data after the value at offset {end}")
    return value


def _decode(data: bytes, at: int, depth: int) -> tuple[Value, int]:
    if depth > MAX_DEPTH:
        raise BencodeError(f"nesting deeper than {MAX_DEPTH} at offset {at}")
    if at >= len(data):
        raise BencodeError(f"truncated at offset {at}")
    lead = data[at]
    if lead == 0x69:  # i
        end = data.find(b"e", at + 1)
        if end < 0:
            raise BencodeError(f"unterminated integer at offset {at}")
        return _integer(data[at + 1 : end], at), end + 1
    if 0x30 <= lead <= 0x39:  # a digit: a string's length
        return _string(data, at)
    if lead == 0x6C:  # l
        items: list[Value] = []
        at += 1
        while at < len(data) and data[at] != 0x65:
            item, at = _decode(data, at, depth + 1)
            items.append(item)
        if at >= len(data):
            raise BencodeError("unterminated list")
        return items, at + 1
    if lead == 0x64:  # d
        mapping: dict[bytes, Value] = {}
        at += 1
        while at < len(data) and data[at] != 0x65:
            if not 0x30 <= data[at] <= 0x39:
                raise BencodeError(f"dictionary key at offset {at} is not a string")
            key, at = _string(data, at)
            if key in mapping:
                raise BencodeError(f"duplicate dictionary key {key!r} at offset {at}")
            mapping[key], at = _decode(data, at, depth + 1)
        if at >= len(data):
            raise BencodeError("unterminated dictionary")
        return mapping, at + 1
    raise BencodeError(f"unexpected byte {data[at : at + 1]!r} at offset {at}")


def _integer(digits: bytes, at: int) -> int:
    body = digits[1:] if digits.startswith(b"-") else digits
    if not body or not body.isdigit() or not body.isascii():
        raise BencodeError(f"malformed integer {digits!r} at offset {at}")
    if (body.startswith(b"0") and len(body) > 1) or digits == b"-0":
        raise BencodeError(f"integer {digits!r} at offset {at} has a leading zero")
    if len(body) > 4300:  # Python's default limit for int(str)
        raise BencodeError(f"integer at offset {at} is too long")
    return int(digits)


def _string(data: bytes, at: int) -> tuple[bytes, int]:
    colon = data.find(b":", at, at + 21)
    if colon < 0:
        raise BencodeError(f"string length at offset {at} has no colon")
    digits = data[at:colon]
    if not digits.isdigit() or not digits.isascii() or (digits.startswith(b"0") and len(digits) > 1):
        raise BencodeError(f"malformed string length {digits!r} at offset {at}")
    start = colon + 1
    end = start + int(digits)
    if end > len(data):
        raise BencodeError(f"string at offset {at} runs past the end ({int(digits)} bytes announced)")
    return data[start:end], end
