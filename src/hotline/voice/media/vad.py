"""Speech in one channel of a call: WebRTC's voice activity detector, its decisions smoothed.

The detector (webrtcvad-wheels: the GMM detector of the WebRTC project, as used in browsers and
phones; docs/decisions/0005-recording-vad.md says why this one) classifies each 10 ms frame. Its
raw decisions flicker inside a word (a stop consonant, the pause at a comma), so they are smoothed
into spans of speech in two steps:

1. **Hangover**: a voiced run carries on through a following unvoiced gap shorter than
   `HANGOVER_FRAMES` (300 ms): a speaker's pause between words or phrases is still their talk,
   not a silence of the call. The span ends at the last voiced frame, not 300 ms after it, so
   talk time is not inflated by the hangover.
2. **Minimum length**: a run shorter than `MIN_SPEECH_FRAMES` (100 ms) after that is a click or a
   burst of line noise, not speech — the shortest back-channel (嗯) lasts longer.

Spans are half-open `(start, end)` frame numbers; frame i covers [i·10 ms, (i+1)·10 ms).
"""

from __future__ import annotations

import numpy as np
import webrtcvad

RATE = 8000
FRAME_MS = 10
FRAME_SAMPLES = RATE * FRAME_MS // 1000
FRAMES_PER_SECOND = 1000 // FRAME_MS
AGGRESSIVENESS = 3  # the detector's mode 0–3: 3 lets the least line noise through as speech
HANGOVER_FRAMES = 30
MIN_SPEECH_FRAMES = 10

Spans = list[tuple[int, int]]


def voiced_frames(pcm: bytes) -> np.ndarray:
    """The detector's decision for each whole 10 ms frame of 8 kHz 16-bit little-endian PCM."""
    vad = webrtcvad.Vad(AGGRESSIVENESS)
    size = FRAME_SAMPLES * 2
    count = len(pcm) // size
    view = memoryview(pcm)
    return np.fromiter(
        (vad.is_speech(view[i * size : (i + 1) * size], RATE) for i in range(count)), dtype=bool, count=count
    )


def runs(flags: np.ndarray) -> Spans:
    """The runs of True in `flags` as half-open (start, end) index pairs."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], flags.view(np.int8), [0]))))
    return [(int(start), int(end)) for start, end in zip(edges[::2], edges[1::2], strict=True)]


def smooth(raw: Spans, *, hangover: int = HANGOVER_FRAMES, shortest: int = MIN_SPEECH_FRAMES) -> Spans:
    """Voiced runs → speech spans: gaps shorter than `hangover` bridged, then short runs dropped."""
    bridged: Spans = []
    for start, end in raw:
        if bridged and start - bridged[-1][1] < hangover:
            bridged[-1] = (bridged[-1][0], end)
        else:
            bridged.append((start, end))
    return [(start, end) for start, end in bridged if end - start >= shortest]


def speech_spans(pcm: bytes) -> Spans:
    """Where someone speaks in one channel, as smoothed (start, end) frame spans."""
    return smooth(runs(voiced_frames(pcm)))
