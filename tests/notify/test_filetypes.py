"""What a file sent in a web chat is, read from its bytes (notify/filetypes.py): real images made
by Pillow and a PDF made by reportlab are known with their size in pixels; random bytes, HTML, SVG,
a page appended to an image, a truncated image are never taken for one of ours."""

from __future__ import annotations

import contextlib
import io
import struct
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from reportlab.pdfgen import canvas

from hotline.notify.filetypes import PNG_SIGNATURE, sniff

SIGNATURES = (PNG_SIGNATURE, b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"RIFF", b"%PDF-")


def image(fmt: str, size: tuple[int, int] = (64, 48), **options: object) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 16, 46)).save(out, fmt, **options)
    return out.getvalue()


def pdf() -> bytes:
    out = io.BytesIO()
    page = canvas.Canvas(out)
    page.drawString(100, 700, "Booking 88000001")
    page.save()
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny, valid PNG whose header says it is width × height (a decompression bomb's shape)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return PNG_SIGNATURE + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0")) + chunk(b"IEND", b"")


@pytest.mark.parametrize(
    ("data", "media_type"),
    [
        (image("PNG"), "image/png"),
        (image("JPEG"), "image/jpeg"),
        (image("JPEG", progressive=True), "image/jpeg"),
        (image("GIF"), "image/gif"),
        (image("WEBP"), "image/webp"),
        (image("WEBP", lossless=True), "image/webp"),
    ],
)
def test_real_images_are_known_with_their_size_in_pixels(data: bytes, media_type: str) -> None:
    found = sniff(data)
    assert (found.kind, found.media_type, found.width, found.height) == ("image", media_type, 64, 48)


def test_an_animated_gif_and_webp_and_a_pdf_are_known() -> None:
    frames = [Image.new("RGB", (30, 20), (i * 40, 0, 0)) for i in range(3)]
    for fmt, media_type in (("GIF", "image/gif"), ("WEBP", "image/webp")):
        out = io.BytesIO()
        frames[0].save(out, fmt, save_all=True, append_images=frames[1:])
        assert sniff(out.getvalue()).media_type == media_type
    assert sniff(pdf()).kind == "pdf"


def test_a_header_claiming_a_huge_image_says_so_without_decoding_it() -> None:
    found = sniff(png_claiming(100_000, 100_000))
    assert found.pixels == 10_000_000_000


@pytest.mark.parametrize(
    ("data", "fault"),
    [
        (b"<html><script>alert(1)</script></html>", "Not a JPEG"),
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "Not a JPEG"),
        (b"<svg onload=alert(1)>", "Not a JPEG"),
        (image("PNG") + b"<script>alert(1)</script>", "after the PNG"),
        (image("JPEG") + b"<script>alert(1)</script>", "after the JPEG"),
        (image("GIF") + b"<html>", "after the GIF"),
        (image("PNG")[:-20], "PNG"),
        (image("JPEG")[:-20], "JPEG"),
        (image("WEBP")[:-3], "WebP"),
        (PNG_SIGNATURE + b"<html><body>hello</body></html>", "PNG"),
        (b"GIF89a<script>alert(1)</script>", "GIF"),
        (b"%PDF-1.4\n<html><script>alert(1)</script>", "%%EOF"),
        (png_claiming(0, 10), "no width"),
        (image("BMP"), "Not a JPEG"),
        (image("TIFF"), "Not a JPEG"),
    ],
)
def test_anything_else_is_refused_with_its_fault(data: bytes, fault: str) -> None:
    with pytest.raises(ValueError, match=fault):
        sniff(data)


@settings(max_examples=400)
@given(st.binary(max_size=600))
def test_random_bytes_are_never_a_file_of_ours(data: bytes) -> None:
    with pytest.raises(ValueError, match=r"\w"):
        sniff(data)


@settings(max_examples=400)
@given(st.sampled_from(SIGNATURES), st.binary(max_size=400))
def test_a_signature_followed_by_random_bytes_is_refused_or_parses(signature: bytes, rest: bytes) -> None:
    """Bytes that start like one of ours are taken only if they parse as it: never an exception
    other than ValueError, and what is taken has its type's signature and a size."""
    data = signature + rest
    try:
        found = sniff(data)
    except ValueError:
        return
    assert data.startswith(SIGNATURES)
    assert found.kind == "pdf" or found.pixels > 0


@settings(max_examples=200)
@given(st.sampled_from(["PNG", "JPEG", "GIF", "WEBP"]), st.data())
def test_a_real_image_with_any_byte_changed_never_crashes_the_sniffer(fmt: str, data: st.DataObject) -> None:
    original = bytearray(image(fmt, (16, 12)))
    at = data.draw(st.integers(0, len(original) - 1))
    original[at] = data.draw(st.integers(0, 255))
    with contextlib.suppress(ValueError):
        sniff(bytes(original))
