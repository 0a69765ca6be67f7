"""Mandarin speech for the recording-check tests: espeak-ng clips placed at known moments.

Clips are rendered once (espeak-ng, then sox to 8 kHz 16-bit) and cached on disk by their text, so
property tests that place them many times do not wait for speech synthesis. A clip's `voiced`
span is where its samples first and last pass 2 % of its peak: espeak's own leading and trailing
silence trimmed, the truth the detector is held to.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
import wave
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

RATE = 8000
CACHE = Path(tempfile.gettempdir()) / "hotline-test-speech"
GREETING = "您好，欢迎致电英冠酒店"
REQUEST = "我想预订明天晚上的一间大床房"
ASK_NAME = "好的，请问您贵姓"
WAIT = "请稍等，我帮您查一下"
POLICY = "我们的会员可以享受八五折优惠，早餐从七点开始供应，退房时间是中午十二点"
HM = "嗯"
PHRASES = (GREETING, REQUEST, ASK_NAME, WAIT, HM)


@dataclass(frozen=True)
class Clip:
    samples: np.ndarray
    voiced: tuple[float, float]  # seconds from the clip's start


@cache
def clip(text: str) -> Clip:
    path = CACHE / f"{hashlib.sha256(text.encode()).hexdigest()[:16]}.raw"
    if not path.is_file():
        wav = subprocess.run(
            ["espeak-ng", "-v", "cmn", "-s", "150", "--stdout", text], capture_output=True, check=True
        ).stdout
        raw = subprocess.run(
            ["sox", "-t", "wav", "-", "-r", str(RATE), "-c", "1", "-b", "16", "-e", "signed-integer",
             "-t", "raw", "-"],
            input=wav, capture_output=True, check=True,
        ).stdout  # fmt: skip
        CACHE.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(raw)
        partial.replace(path)
    samples = np.frombuffer(path.read_bytes(), dtype="<i2")
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > 0.02 * np.abs(samples.astype(np.int32)).max())
    return Clip(samples, (loud[0] / RATE, (loud[-1] + 1) / RATE))


def channel(
    seconds: float, placed: list[tuple[float, str]], *, noise: float = 30.0, seed: int = 0
) -> np.ndarray:
    """`seconds` of a phone line with a faint hiss, the phrases said from the given moments."""
    rng = np.random.default_rng(seed)
    line = rng.normal(0.0, noise, int(seconds * RATE))
    for at, text in placed:
        samples = clip(text).samples
        start = int(at * RATE)
        line[start : start + len(samples)] += samples[: len(line) - start]
    return np.clip(line, -32768, 32767).astype("<i2")


def truth(placed: list[tuple[float, str]]) -> list[tuple[float, float]]:
    """When the phrases placed on one channel are heard."""
    return sorted((at + clip(text).voiced[0], at + clip(text).voiced[1]) for at, text in placed)


def write_wav(
    path: Path, samples: np.ndarray, *, rate: int = RATE, width: int = 2, channels: int = 1
) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(width)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())
    return path
