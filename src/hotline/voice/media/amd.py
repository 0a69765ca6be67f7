"""Answering-machine detection: a person or a machine, from the first seconds of what the called
party says (docs/outbound.md, "Answering machines").

A person picks up and says something short — 喂 / 喂，你好 / 哪位 — then waits for an answer; a
voicemail greeting or an operator's announcement talks on for several seconds. The detector
follows the called party's audio as it arrives (μ-law, any packet size), classifies each 10 ms
frame with WebRTC's voice activity detector (`vad.py`, the detector the QA analysis uses), and
decides as soon as the cadence tells:

* **machine** — one stretch of speech (pauses under 300 ms bridged, as in `vad.py`) longer than
  `long_greeting` (1.5 s), or more than `max_words` separate stretches before a silence long
  enough to be a person waiting;
* **person** — a stretch no longer than `long_greeting`, then `after_greeting` (0.7 s) of
  silence: the greeting is over and they wait for us;
* **unsure** — `initial_silence` (2.5 s) without a word, or nothing decided within `total`
  (4 s): treated as a person by the dialer (never drop a person for a guess).

Pure and synchronous: the caller feeds packets (`feed`) and reads `verdict`; the time a verdict
took is counted in audio, so a test or a benchmark on recorded audio decides as a call would.
`benchmarks/amd.py` measures accuracy on a labelled set spoken by espeak-ng.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import webrtcvad

from hotline.voice.media.g711 import ulaw_decode
from hotline.voice.media.vad import AGGRESSIVENESS, FRAME_MS, FRAME_SAMPLES, HANGOVER_FRAMES, RATE

_ULAW_TO_PCM = np.array(ulaw_decode(bytes(range(256))), dtype="<i2")


class Verdict(StrEnum):
    PERSON = "person"
    MACHINE = "machine"
    UNSURE = "unsure"


@dataclass(frozen=True)
class AmdSettings:
    initial_silence: float = 2.5
    long_greeting: float = 2.0
    after_greeting: float = 0.8
    max_words: int = 3
    total: float = 4.0
    min_word: float = 0.1  # a voiced stretch shorter than this is a click, not a word


class Detector:
    def __init__(self, settings: AmdSettings | None = None) -> None:
        self.s = settings or AmdSettings()
        self._vad = webrtcvad.Vad(AGGRESSIVENESS)
        self._pending = bytearray()
        self.frames = 0  # 10 ms frames heard
        self.verdict: Verdict | None = None
        self.why = ""
        self._words = 0
        self._run_start: int | None = None  # the current stretch of speech (frame numbers)
        self._last_voiced = -1

    @staticmethod
    def _frame(seconds: float) -> int:
        return round(seconds * 1000 / FRAME_MS)

    @property
    def decided_after(self) -> float:
        """Seconds of audio heard when the verdict came (or so far)."""
        return self.frames * FRAME_MS / 1000

    def feed(self, ulaw: bytes) -> Verdict | None:
        """More of the called party's audio; the verdict once there is one."""
        if self.verdict is not None:
            return self.verdict
        self._pending.extend(ulaw)
        size = FRAME_SAMPLES
        while len(self._pending) >= size and self.verdict is None:
            pcm = _ULAW_TO_PCM[np.frombuffer(bytes(self._pending[:size]), dtype=np.uint8)].tobytes()
            del self._pending[:size]
            self.frame(self._vad.is_speech(pcm, RATE))
        return self.verdict

    def finish(self) -> Verdict:
        """No more audio (the call ended, or the caller stops listening): unsure if undecided."""
        if self.verdict is None:
            self._decide(Verdict.UNSURE, "ended")
        assert self.verdict is not None  # noqa: S101
        return self.verdict

    def frame(self, voiced: bool) -> None:
        """One 10 ms frame, speech or not (the VAD's decision): the rules above, frame by frame."""
        n, f = self.frames, self._frame
        self.frames += 1
        if voiced:
            if self._run_start is not None and n - self._last_voiced > HANGOVER_FRAMES:
                self._count(self._run_start, self._last_voiced)  # a pause: the next word
                self._run_start = None
            if self._run_start is None:
                self._run_start = n
            self._last_voiced = n
            if n - self._run_start + 1 > f(self.s.long_greeting):
                self._decide(Verdict.MACHINE, "long-greeting")
        elif self._run_start is not None and n - self._last_voiced >= f(self.s.after_greeting):
            self._count(self._run_start, self._last_voiced)  # the greeting is over
            self._run_start = None
            if self._words:
                self._decide(Verdict.PERSON, "greeting-then-silence")
        elif self._run_start is None and not self._words and n + 1 >= f(self.s.initial_silence):
            self._decide(Verdict.UNSURE, "initial-silence")
        if n + 1 >= f(self.s.total):
            self._decide(Verdict.UNSURE, "too-long")

    def _count(self, start: int, end: int) -> None:
        """A stretch of speech ended: a word, unless it was only a click."""
        if end - start + 1 >= self._frame(self.s.min_word):
            self._words += 1
            if self._words > self.s.max_words:
                self._decide(Verdict.MACHINE, "many-words")

    def _decide(self, verdict: Verdict, why: str) -> None:
        if self.verdict is None:
            self.verdict, self.why = verdict, why


class EndOfGreeting:
    """When a machine's greeting is over (to leave a message after it): `quiet` seconds without
    speech after some speech, or `longest` seconds in all."""

    def __init__(self, quiet: float = 1.0, longest: float = 30.0) -> None:
        self._vad = webrtcvad.Vad(AGGRESSIVENESS)
        self._pending = bytearray()
        self._quiet_frames = round(quiet * 1000 / FRAME_MS)
        self._longest = round(longest * 1000 / FRAME_MS)
        self._frames = 0
        self._silent = 0
        self.over = False

    def feed(self, ulaw: bytes) -> bool:
        self._pending.extend(ulaw)
        while not self.over and len(self._pending) >= FRAME_SAMPLES:
            pcm = _ULAW_TO_PCM[np.frombuffer(bytes(self._pending[:FRAME_SAMPLES]), dtype=np.uint8)].tobytes()
            del self._pending[:FRAME_SAMPLES]
            self._frames += 1
            self._silent = 0 if self._vad.is_speech(pcm, RATE) else self._silent + 1
            self.over = self._silent >= self._quiet_frames or self._frames >= self._longest
        return self.over
