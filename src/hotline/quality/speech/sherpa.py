"""The sherpa-onnx engine: an offline Chinese model (SenseVoice or Paraformer) run locally.

sherpa-onnx is not one of Hotline's dependencies: the operator installs it (`uv pip install
sherpa-onnx`) and downloads a model folder (docs/qa.md says which and how). Each utterance the voice
activity detector finds is decoded alone; the models resample the 8 kHz line audio themselves.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from hotline.quality.speech.engines import EngineConfig, Utterance, cut, pieces
from hotline.quality.speech.errors import EngineUnavailable

MODEL_FILES = ("model.int8.onnx", "model.onnx")


class SherpaOnnx:
    def __init__(self, config: EngineConfig) -> None:
        try:
            import sherpa_onnx  # type: ignore[import-not-found, unused-ignore]
        except ImportError as exc:
            raise EngineUnavailable(
                "HOTLINE_SPEECH_ENGINE is sherpa-onnx but the package is not installed",
                field="speech_engine",
                reason="speech-engine-missing",
                params={"engine": "sherpa-onnx", "exc": exc},
            ) from exc
        folder = Path(config.model_dir)
        model = next((folder / name for name in MODEL_FILES if (folder / name).is_file()), None)
        tokens = folder / "tokens.txt"
        if model is None or not tokens.is_file():
            raise EngineUnavailable(
                f"No model.onnx (or model.int8.onnx) and tokens.txt in {folder}",
                field="speech_model_dir",
                reason="speech-model-missing",
                params={"folder": str(folder)},
            )
        make = sherpa_onnx.OfflineRecognizer
        self.recognizer: Any
        if config.model_kind == "paraformer":
            self.recognizer = make.from_paraformer(
                paraformer=str(model), tokens=str(tokens), num_threads=config.threads
            )
        else:
            self.recognizer = make.from_sense_voice(
                model=str(model), tokens=str(tokens), num_threads=config.threads, language="zh", use_itn=True
            )

    def transcribe(self, pcm: bytes, rate: int) -> list[Utterance]:
        out = []
        for start, end in pieces(pcm):
            samples = np.frombuffer(cut(pcm, start, end), dtype="<i2").astype(np.float32) / 32768.0
            stream = self.recognizer.create_stream()
            stream.accept_waveform(rate, samples)
            self.recognizer.decode_stream(stream)
            out.append(Utterance(start, end, str(stream.result.text)))
        return out
