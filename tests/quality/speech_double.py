"""The tests' speech engine: it recognises the espeak-ng Mandarin clips of tests/quality/speech.py
(and the few more phrases below) by their waveform, and nothing else.

Each known clip is looked for in the channel by cross-correlation (through the FFT); where the
match holds at least 80 % of the clip's own energy, the clip was placed there, and its text is
returned for its voiced span. A real engine (sherpa-onnx) hears words; this one only knows the
clips the tests place, so a test can say exactly what the transcript must be.

Select it with `HOTLINE_SPEECH_ENGINE=tests.quality.speech_double:KnownPhrases`.
"""

from __future__ import annotations

import numpy as np

from hotline.quality.speech.engines import EngineConfig, Utterance
from tests.quality.speech import ASK_NAME, GREETING, REQUEST, WAIT, clip

JOB_NUMBER = "我是八号坐席，工号一零零八"
CLOSING = "请问还有什么可以帮您"
BRUSH_OFF = "这个我也不知道，你自己看吧"
KNOWN = (GREETING, REQUEST, ASK_NAME, WAIT, JOB_NUMBER, CLOSING, BRUSH_OFF)


class KnownPhrases:
    def __init__(self, config: EngineConfig) -> None:
        self.config = config

    def transcribe(self, pcm: bytes, rate: int) -> list[Utterance]:
        line = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
        found = []
        for text in KNOWN:
            c = clip(text)
            template = c.samples.astype(np.float64)
            energy = float(template @ template)
            size = 1 << int(len(line) + len(template)).bit_length()
            score = np.fft.irfft(np.fft.rfft(line, size) * np.conj(np.fft.rfft(template, size)), size)[
                : len(line)
            ]
            at = 0
            while at < len(score):
                best = at + int(np.argmax(score[at : at + len(template)]))
                if (
                    score[best] >= 0.8 * energy
                    and score[best] >= score[max(0, best - len(template)) : best + 1].max()
                ):
                    start = best / rate
                    found.append(Utterance(float(start + c.voiced[0]), float(start + c.voiced[1]), text))
                    at = best + len(template)
                else:
                    at += len(template)
        return sorted(found, key=lambda u: u.start)
