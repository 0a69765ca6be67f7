"""Call recording: each leg's received audio placed by RTP timestamp, written as WAV, mixed to stereo.

The recorder is a tap on a leg's RTP stream: it copies μ-law payloads into a buffer at the
offset their timestamp gives, so lost or late packets leave silence of the right length and
the recording keeps the call's real duration. Decoding to 16-bit PCM happens once, when the
files are written after the call (off the event loop).
"""

from __future__ import annotations

import asyncio
import time
import wave
from pathlib import Path

from hotline.voice.media.g711 import ULAW_SILENCE, ulaw_to_pcm16

RATE = 8000
MAX_SECONDS = 4 * 3600  # a runaway timestamp must not allocate gigabytes
_SILENCE = bytes([ULAW_SILENCE])
_GROW = 60 * RATE


class LegRecorder:
    """What one leg said, as μ-law samples from the moment the recording began."""

    def __init__(self, clock: float) -> None:
        self.started = clock
        self.buffer = bytearray()
        self.length = 0  # samples recorded so far; the buffer grows ahead of it a minute at a time
        self._source: int | None = None
        self._base = 0  # RTP timestamp that corresponds to sample 0 of the buffer

    def packet(self, timestamp: int, ssrc: int, payload: bytes, at: float | None = None) -> None:
        """A frame heard now, or at `at` (monotonic clock: a frame from rtpengine's capture)."""
        if ssrc != self._source:  # a new source: place it by its arrival time
            self._source = ssrc
            arrived = int(((time.monotonic() if at is None else at) - self.started) * RATE)
            self._base = (timestamp - max(0, arrived)) & 0xFFFFFFFF
        offset = (timestamp - self._base) & 0xFFFFFFFF
        if offset >= MAX_SECONDS * RATE:
            return
        end = offset + len(payload)
        if end > self.length:
            if end > len(self.buffer):  # grow in large steps: no reallocation every packet
                self.buffer.extend(_SILENCE * max(end - len(self.buffer), _GROW))
            self.length = end
        self.buffer[offset:end] = payload

    def samples(self, length: int) -> bytes:
        data = bytes(self.buffer[: min(length, self.length)])
        return data + bytes([ULAW_SILENCE]) * (length - len(data))


class CallRecorder:
    """Records two legs (a and b) of a bridge into a folder: a.wav, b.wav and mix.wav (a left)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.started = time.monotonic()
        self.a, self.b = LegRecorder(self.started), LegRecorder(self.started)

    async def finish(self) -> tuple[Path, Path, Path, float]:
        seconds = time.monotonic() - self.started
        length = max(int(seconds * RATE), self.a.length, self.b.length)
        a, b = self.a.samples(length), self.b.samples(length)
        paths = await asyncio.to_thread(_write, self.folder, a, b)
        return (*paths, length / RATE)


def _write(folder: Path, a: bytes, b: bytes) -> tuple[Path, Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = folder / "a.wav", folder / "b.wav", folder / "mix.wav"
    _wav(paths[0], 1, ulaw_to_pcm16(a))
    _wav(paths[1], 1, ulaw_to_pcm16(b))
    _wav(paths[2], 2, ulaw_to_pcm16(a, b))
    return paths


def _wav(path: Path, channels: int, frames: bytes) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(frames)


class MessageRecorder:
    """Records what one leg says (a voicemail) into `path` as 8 kHz mono WAV."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.started = time.monotonic()
        self.leg = LegRecorder(self.started)

    async def finish(self) -> tuple[Path, float]:
        seconds = time.monotonic() - self.started
        length = max(int(seconds * RATE), self.leg.length)
        samples = self.leg.samples(length)

        def write() -> Path:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            _wav(self.path, 1, ulaw_to_pcm16(samples))
            return self.path

        return await asyncio.to_thread(write), length / RATE
