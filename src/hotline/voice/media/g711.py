"""G.711 μ-law and A-law (ITU-T G.711), 16-bit linear PCM in and out."""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable

_BIAS, _CLIP = 0x84, 32635


def _ulaw_encode_sample(sample: int) -> int:
    sign = 0x80 if sample < 0 else 0
    magnitude = min(abs(sample), _CLIP) + _BIAS
    exponent = max(0, magnitude.bit_length() - 8)
    exponent = min(exponent, 7)
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


def _ulaw_decode_byte(byte: int) -> int:
    byte = ~byte & 0xFF
    magnitude = (((byte & 0x0F) << 3) + _BIAS) << ((byte >> 4) & 0x07)
    return (_BIAS - magnitude) if byte & 0x80 else (magnitude - _BIAS)


_ULAW_DECODE = [_ulaw_decode_byte(b) for b in range(256)]


def ulaw_encode(samples: Iterable[int]) -> bytes:
    return bytes(_ulaw_encode_sample(s) for s in samples)


def ulaw_decode(data: bytes) -> list[int]:
    return [_ULAW_DECODE[b] for b in data]


def pcm16_to_samples(data: bytes) -> list[int]:
    return list(struct.unpack(f"<{len(data) // 2}h", data[: len(data) // 2 * 2]))


def tone(frequency: float, milliseconds: int, *, rate: int = 8000, amplitude: int = 8000) -> list[int]:
    """A sine tone as 16-bit samples (test signals, ring-back, beeps)."""
    count = rate * milliseconds // 1000
    return [round(amplitude * math.sin(2 * math.pi * frequency * n / rate)) for n in range(count)]


def _alaw_encode_sample(sample: int) -> int:
    sign = 0x80 if sample >= 0 else 0
    magnitude = min(abs(sample), 32767) >> 3  # A-law works on 13-bit magnitudes
    if magnitude < 32:
        code = magnitude >> 1
    else:
        exponent = magnitude.bit_length() - 5
        code = (exponent << 4) | ((magnitude >> exponent) & 0x0F)
    return (sign | code) ^ 0x55


def _alaw_decode_byte(byte: int) -> int:
    byte ^= 0x55
    exponent, mantissa = (byte >> 4) & 0x07, byte & 0x0F
    magnitude = (mantissa << 4) + 8 if exponent == 0 else ((mantissa << 4) + 0x108) << (exponent - 1)
    return magnitude if byte & 0x80 else -magnitude


_ALAW_DECODE = [_alaw_decode_byte(b) for b in range(256)]

ULAW_TO_ALAW = bytes(_alaw_encode_sample(_ULAW_DECODE[b]) for b in range(256))
"""`payload.translate(ULAW_TO_ALAW)` re-codes a frame byte by byte, without decoding to PCM."""
ALAW_TO_ULAW = bytes(_ulaw_encode_sample(_ALAW_DECODE[b]) for b in range(256))
ULAW_SILENCE = 0xFF


def alaw_decode(data: bytes) -> list[int]:
    return [_ALAW_DECODE[b] for b in data]


_LOW = bytes(_ULAW_DECODE[b] & 0xFF for b in range(256))
_HIGH = bytes((_ULAW_DECODE[b] >> 8) & 0xFF for b in range(256))


def ulaw_to_pcm16(*channels: bytes) -> bytes:
    """Decode μ-law channels of equal length to interleaved 16-bit little-endian PCM, in C speed:
    two `translate` tables give each sample's low and high byte, strided slices interleave them."""
    width = 2 * len(channels)
    out = bytearray(width * len(channels[0]))
    for index, channel in enumerate(channels):
        out[2 * index :: width] = channel.translate(_LOW)
        out[2 * index + 1 :: width] = channel.translate(_HIGH)
    return bytes(out)


def ulaw_to_wav(audio: bytes, rate: int = 8000) -> bytes:
    """μ-law samples as a 16-bit mono WAV file (what browsers and players take)."""
    import io
    import wave

    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(ulaw_to_pcm16(audio))
    return buffer.getvalue()
