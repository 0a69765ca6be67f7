"""Mixing audio for three or more parties: supervisor listen / whisper / barge, and 3-way calls.

A bridge of two legs never decodes (raw relay). Only when a third party joins does audio get
decoded: every 20 ms the mixer takes one frame from each speaker's small jitter queue, and sends
each listener the sum of the speakers it may hear (never its own voice). Who hears whom is a
table, so the same mixer does listen (the supervisor hears both, nobody hears the supervisor),
whisper (the agent also hears the supervisor, the caller does not) and barge / conference
(everyone hears everyone).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable, Iterable

from hotline.voice.media.g711 import _ULAW_DECODE, _ulaw_encode_sample

FRAME = 160
MAX_QUEUED = 3  # 60 ms: absorbs jitter without adding noticeable delay
_SILENCE_FRAME = bytes([0xFF]) * FRAME
_ENCODE = bytes(_ulaw_encode_sample(value << 2) for value in range(-8192, 8192))
"""μ-law for every 14-bit linear value: one lookup per sample instead of the encoder's arithmetic."""


def _encode(samples: Iterable[int]) -> bytes:
    return bytes(_ENCODE[min(8191, max(-8192, value >> 2)) + 8192] for value in samples)


class Mixer:
    """Frames in per speaker, mixed frames out per listener, one tick every 20 ms."""

    def __init__(self) -> None:
        self.queues: dict[Hashable, deque[bytes]] = {}
        self.hears: dict[Hashable, set[Hashable]] = {}

    def set_hearing(self, hears: dict[Hashable, set[Hashable]]) -> None:
        self.hears = {listener: set(speakers) - {listener} for listener, speakers in hears.items()}
        for party in {*hears, *(s for speakers in hears.values() for s in speakers)}:
            self.queues.setdefault(party, deque(maxlen=MAX_QUEUED))

    def push(self, speaker: Hashable, frame: bytes) -> None:
        queue = self.queues.get(speaker)
        if queue is not None:
            queue.append(frame)

    def tick(self) -> dict[Hashable, bytes]:
        """The next 20 ms: what each listener hears, as μ-law frames."""
        raw: dict[Hashable, bytes] = {}
        for party, queue in self.queues.items():
            frame = queue.popleft() if queue else None
            if frame is not None and frame != _SILENCE_FRAME:
                raw[party] = frame[:FRAME].ljust(FRAME, b"\xff")
        decoded: dict[Hashable, list[int]] = {}
        out: dict[Hashable, bytes] = {}
        for listener, speakers in self.hears.items():
            talking = [s for s in speakers if s in raw]
            if not talking:
                out[listener] = _SILENCE_FRAME
            elif len(talking) == 1:
                out[listener] = raw[talking[0]]  # one voice: passed on as it came, not re-encoded
            else:
                for speaker in talking:
                    if speaker not in decoded:
                        decoded[speaker] = [_ULAW_DECODE[b] for b in raw[speaker]]
                voices = [decoded[s] for s in talking]
                out[listener] = _encode(map(sum, zip(*voices, strict=True)))
        return out
