"""Finding a tone in recorded or received audio (Goertzel), for tests that check what was heard."""

from __future__ import annotations

import math
import wave
from pathlib import Path

from hotline.voice.media.g711 import pcm16_to_samples


def tone_share(samples: list[int], frequency: float, rate: int = 8000) -> float:
    """How much of the signal's energy is at `frequency` (0…1); a pure tone gives about 1."""
    if not samples:
        return 0.0
    coefficient = 2 * math.cos(2 * math.pi * frequency / rate)
    previous = before = 0.0
    for sample in samples:
        previous, before = sample + coefficient * previous - before, previous
    power = previous**2 + before**2 - coefficient * previous * before
    energy = sum(s * s for s in samples)
    return 0.0 if energy == 0 else min(1.0, 2 * power / (len(samples) * energy))


def wav_samples(path: Path, channel: int = 0) -> tuple[list[int], int]:
    """The samples of one channel and the file's channel count."""
    with wave.open(str(path), "rb") as wav:
        channels, frames = wav.getnchannels(), wav.readframes(wav.getnframes())
    return pcm16_to_samples(frames)[channel::channels], channels
