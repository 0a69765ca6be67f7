"""Speech engines behind one adapter: `Transcriber` turns one channel of a call into utterances.

The engine is the operator's choice (docs/qa.md, "Transcripts and phrase rules"):

- `none` (the default): no transcripts; the library and the checks work as before.
- `sherpa-onnx`: a local offline model (SenseVoice or Paraformer, Chinese) through the sherpa-onnx
  package, which the operator installs with the model folder; it is imported only when chosen.
- `package.module:factory`: any other engine, a callable taking the `EngineConfig` and giving a
  `Transcriber` (the tests' double is one).

Transcription runs in a worker of the compute pool (`transcribe_files`), where the engine is
loaded once per worker process and kept: a model takes seconds to load, a call less to decode.
"""

from __future__ import annotations

import importlib
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from hotline.quality.analysis.service import read_channel
from hotline.quality.speech.errors import EngineUnavailable
from hotline.voice.media.vad import FRAMES_PER_SECOND, RATE, speech_spans

MAX_UTTERANCE_SECONDS = 30.0
"""Longer stretches of speech are cut into pieces this long: offline models are trained on
utterances of seconds, and their memory grows with the input."""


@dataclass(frozen=True)
class Utterance:
    start: float
    end: float
    text: str


class Transcriber(Protocol):
    """One channel of a call (8 kHz 16-bit mono PCM) → what was said, with when."""

    def transcribe(self, pcm: bytes, rate: int) -> list[Utterance]: ...


@dataclass(frozen=True)
class EngineConfig:
    """What the settings say of the engine (HOTLINE_SPEECH_*); pickles into a worker."""

    engine: str = "none"
    model_dir: str = ""
    model_kind: str = "sense-voice"
    threads: int = 1


def pieces(pcm: bytes) -> list[tuple[float, float]]:
    """Where one side speaks, in seconds (the checks' voice activity detector), a long stretch cut
    into pieces of at most `MAX_UTTERANCE_SECONDS`: what an engine recognises one at a time."""
    out: list[tuple[float, float]] = []
    for start, end in speech_spans(pcm):
        at, stop = start / FRAMES_PER_SECOND, end / FRAMES_PER_SECOND
        while stop - at > MAX_UTTERANCE_SECONDS:
            out.append((at, at + MAX_UTTERANCE_SECONDS))
            at += MAX_UTTERANCE_SECONDS
        out.append((at, stop))
    return out


def cut(pcm: bytes, start: float, end: float) -> bytes:
    """The PCM of [start, end) seconds."""
    return pcm[2 * int(start * RATE) : 2 * int(end * RATE)]


_loaded: dict[EngineConfig, Transcriber] = {}


def load(config: EngineConfig) -> Transcriber:
    """The engine the config names, made once per process."""
    if config in _loaded:
        return _loaded[config]
    factory: Any
    if config.engine == "sherpa-onnx":
        from hotline.quality.speech.sherpa import SherpaOnnx

        factory = SherpaOnnx
    else:
        module, _, name = config.engine.partition(":")
        if not module or not name:
            raise EngineUnavailable(
                f"Unknown speech engine {config.engine!r}: none, sherpa-onnx or package.module:factory",
                field="speech_engine",
                reason="speech-engine-unknown",
                params={"engine": config.engine},
            )
        try:
            factory = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError) as exc:
            raise EngineUnavailable(
                f"The speech engine {config.engine!r} cannot be imported: {exc}",
                field="speech_engine",
                reason="speech-engine-missing",
                params={"engine": config.engine, "exc": exc},
            ) from exc
    engine: Transcriber = factory(config)
    _loaded[config] = engine
    return engine


def transcribe_files(config: EngineConfig, caller: str, agent: str | None) -> list[dict[str, Any]]:
    """Both channels of a call (or a voicemail's one) transcribed: `[{channel, start, end, text}]`
    in time order. The compute pool's entry point: CPU-bound, never on the event loop."""
    engine = load(config)
    out: list[dict[str, Any]] = []
    sides = [("caller", caller)] + ([("agent", agent)] if agent else [])
    for channel, path in sides:
        pcm = read_channel(Path(path), channel)
        for said in engine.transcribe(pcm, RATE):
            text = said.text.strip()
            if text:
                out.append({"channel": channel, "start": round(said.start, 2), "end": round(said.end, 2),
                            "text": text[:1000]})  # fmt: skip
    return sorted(out, key=lambda u: (u["start"], u["channel"]))


def seconds_of(path: Path) -> float:
    with wave.open(str(path), "rb") as wav:
        return wav.getnframes() / wav.getframerate()
