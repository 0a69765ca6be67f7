"""What a file sent in a web chat really is, read from its bytes (issue 24): JPEG, PNG, GIF, WebP
or PDF, nothing else. The name and Content-Type the browser declares are not believed; SVG, HTML
and everything else is refused, and so is a file that starts like one of ours but does not parse
to its end (a PNG with a page appended, a truncated JPEG): what is served later is exactly what
was read here.

Images are read far enough to learn their size in pixels without decoding them (a 50 KB PNG can
say 100,000 × 100,000: a decompression bomb for whoever shows it); the caller bounds it.

Pure functions: bytes in, `Sniffed` out, or `ValueError` with the exact fault.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from typing import Literal

Kind = Literal["image", "pdf"]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PDF_VERSIONS = (b"%PDF-1.0", b"%PDF-1.1", b"%PDF-1.2", b"%PDF-1.3", b"%PDF-1.4", b"%PDF-1.5",
                b"%PDF-1.6", b"%PDF-1.7", b"%PDF-2.0")  # fmt: skip
PDF_TAIL = 1024
"""Where `%%EOF` must be, from the end (the PDF spec's own allowance for readers)."""


@dataclass(frozen=True)
class Sniffed:
    kind: Kind
    media_type: str
    """image/jpeg, image/png, image/gif, image/webp or application/pdf"""
    extension: str
    width: int = 0
    height: int = 0

    @property
    def pixels(self) -> int:
        return self.width * self.height


def sniff(data: bytes) -> Sniffed:
    """The file's type and, for an image, its size in pixels; ValueError when it is none of ours
    or does not parse as the type it starts as."""
    if data.startswith(PNG_SIGNATURE):
        return _png(data)
    if data.startswith(b"\xff\xd8\xff"):
        return _jpeg(data)
    if data.startswith((b"GIF87a", b"GIF89a")):
        return _gif(data)
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return _webp(data)
    if data.startswith(b"%PDF-"):
        return _pdf(data)
    raise ValueError("Not a JPEG, PNG, GIF, WebP or PDF file")


def _dimensions(width: int, height: int, what: str) -> None:
    if width <= 0 or height <= 0:
        raise ValueError(f"{what} has no width or height")


def _png(data: bytes) -> Sniffed:
    at, first, width, height, seen_data = len(PNG_SIGNATURE), True, 0, 0, False
    while True:
        if at + 12 > len(data):
            raise ValueError("PNG ends inside a chunk")
        length, kind = struct.unpack(">I4s", data[at : at + 8])
        end = at + 8 + length + 4
        if length > 0x7FFFFFFF or end > len(data):
            raise ValueError("PNG chunk runs past the end")
        if not kind.isalpha() or not kind.isascii():
            raise ValueError("PNG chunk type is not four letters")
        body = data[at + 8 : at + 8 + length]
        (crc,) = struct.unpack(">I", data[end - 4 : end])
        if zlib.crc32(kind + body) != crc:
            raise ValueError("PNG chunk CRC does not match")
        if first:
            if kind != b"IHDR" or length != 13:
                raise ValueError("PNG does not start with IHDR")
            width, height = struct.unpack(">II", body[:8])
            _dimensions(width, height, "PNG")
            first = False
        elif kind == b"IHDR":
            raise ValueError("PNG has a second IHDR")
        seen_data |= kind == b"IDAT"
        at = end
        if kind == b"IEND":
            break
    if not seen_data:
        raise ValueError("PNG has no image data")
    if at != len(data):
        raise ValueError("Data after the PNG's end")
    return Sniffed("image", "image/png", "png", width, height)


_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_JPEG_BARE = {0x01, *range(0xD0, 0xD8)}
"""Markers without a length: TEM and the restart markers."""


def _jpeg(data: bytes) -> Sniffed:
    at, width, height, scanned = 2, 0, 0, False
    while True:
        if at >= len(data) or data[at] != 0xFF:
            raise ValueError("JPEG segment does not start with a marker")
        while at < len(data) and data[at] == 0xFF:  # fill bytes before a marker
            at += 1
        if at >= len(data):
            raise ValueError("JPEG ends inside a marker")
        marker = data[at]
        at += 1
        if marker == 0xD9:
            break
        if marker in _JPEG_BARE:
            continue
        if marker in (0x00, 0xD8):
            raise ValueError("JPEG has a stray marker")
        if at + 2 > len(data):
            raise ValueError("JPEG ends inside a segment")
        (length,) = struct.unpack(">H", data[at : at + 2])
        if length < 2 or at + length > len(data):
            raise ValueError("JPEG segment runs past the end")
        if marker in _JPEG_SOF:
            if length < 8 or width:
                raise ValueError("JPEG frame header is malformed")
            height, width = struct.unpack(">HH", data[at + 3 : at + 7])
            _dimensions(width, height, "JPEG")
        at += length
        if marker == 0xDA:  # entropy-coded data up to the next marker that is not a restart
            if not width:
                raise ValueError("JPEG scan before its frame header")
            scanned = True
            while True:
                at = data.find(b"\xff", at)
                if at < 0 or at + 1 >= len(data):
                    raise ValueError("JPEG ends inside a scan")
                following = data[at + 1]
                if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
                    at += 1 if following == 0xFF else 2
                    continue
                break
    if not scanned:
        raise ValueError("JPEG has no image data")
    if at != len(data):
        raise ValueError("Data after the JPEG's end")
    return Sniffed("image", "image/jpeg", "jpg", width, height)


def _gif_blocks(data: bytes, at: int) -> int:
    """Past a run of data sub-blocks (size byte, bytes) and its terminating zero."""
    while True:
        if at >= len(data):
            raise ValueError("GIF ends inside a block")
        size = data[at]
        at += 1 + size
        if size == 0:
            return at


def _gif(data: bytes) -> Sniffed:
    if len(data) < 13:
        raise ValueError("GIF ends inside its header")
    width, height, flags = struct.unpack("<HHB", data[6:11])
    _dimensions(width, height, "GIF")
    at, frames = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0), 0
    while True:
        if at >= len(data):
            raise ValueError("GIF has no trailer")
        block = data[at]
        if block == 0x3B:
            at += 1
            break
        if block == 0x21:
            at = _gif_blocks(data, at + 2)
        elif block == 0x2C:
            if at + 10 > len(data):
                raise ValueError("GIF ends inside an image descriptor")
            frame_width, frame_height, local = struct.unpack("<HHB", data[at + 5 : at + 10])
            _dimensions(frame_width, frame_height, "GIF frame")
            width, height = max(width, frame_width), max(height, frame_height)
            at += 10 + (3 << ((local & 7) + 1) if local & 0x80 else 0)
            at = _gif_blocks(data, at + 1)  # past the LZW code size
            frames += 1
        else:
            raise ValueError("GIF has an unknown block")
    if not frames:
        raise ValueError("GIF has no image")
    if at != len(data):
        raise ValueError("Data after the GIF's end")
    return Sniffed("image", "image/gif", "gif", width, height)


def _webp(data: bytes) -> Sniffed:
    (riff_size,) = struct.unpack("<I", data[4:8])
    if riff_size + 8 != len(data):
        raise ValueError("WebP's RIFF size is not the file's")
    at, width, height, image = 12, 0, 0, False
    while at < len(data):
        if at + 8 > len(data):
            raise ValueError("WebP ends inside a chunk")
        fourcc, size = data[at : at + 4], struct.unpack("<I", data[at + 4 : at + 8])[0]
        body = data[at + 8 : at + 8 + size]
        if len(body) != size or not fourcc.isascii():
            raise ValueError("WebP chunk runs past the end")
        if at == 12 and fourcc not in (b"VP8 ", b"VP8L", b"VP8X"):
            raise ValueError("WebP does not start with an image chunk")
        if fourcc == b"VP8X" and at == 12 and size >= 10:
            width = 1 + int.from_bytes(body[4:7], "little")
            height = 1 + int.from_bytes(body[7:10], "little")
        elif fourcc == b"VP8 " and size >= 10 and body[3:6] == b"\x9d\x01\x2a":
            w, h = struct.unpack("<HH", body[6:10])
            width, height = width or w & 0x3FFF, height or h & 0x3FFF
            image = True
        elif fourcc == b"VP8L" and size >= 5 and body[0] == 0x2F:
            bits = int.from_bytes(body[1:5], "little")
            width, height = width or 1 + (bits & 0x3FFF), height or 1 + ((bits >> 14) & 0x3FFF)
            image = True
        elif fourcc in (b"VP8 ", b"VP8L", b"VP8X"):
            raise ValueError("WebP image chunk is malformed")
        elif fourcc == b"ANMF":
            image = True
        at += 8 + size + (size & 1)
    if at != len(data):
        raise ValueError("WebP chunk runs past the end")
    if not image:
        raise ValueError("WebP has no image")
    _dimensions(width, height, "WebP")
    return Sniffed("image", "image/webp", "webp", width, height)


def _pdf(data: bytes) -> Sniffed:
    if not data.startswith(PDF_VERSIONS):
        raise ValueError("PDF version is not 1.0–2.0")
    tail = data[-PDF_TAIL:]
    end = tail.rfind(b"%%EOF")
    if end < 0 or tail[end + 5 :].strip(b"\r\n\t \x00"):
        raise ValueError("PDF does not end with %%EOF")
    if b"startxref" not in tail:
        raise ValueError("PDF has no cross-reference")
    return Sniffed("pdf", "application/pdf", "pdf")
