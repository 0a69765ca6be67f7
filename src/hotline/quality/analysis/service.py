"""The checks of a recorded call from its two channel files; `analyse_files` runs in the compute pool.

The recorder (voice/media/recorder.py) writes a bridge's two legs apart: `a.wav` is what the
caller's leg sent (the customer), `b.wav` what the agent's leg sent. Both are 8 kHz 16-bit mono
and of the same length; a shorter one is taken as silent after its end.
"""

from __future__ import annotations

import wave
from pathlib import Path
from typing import Any

from hotline.quality.analysis.checks import CallChecks, check_call
from hotline.quality.analysis.errors import CheckOutOfRange, UnusableRecording
from hotline.voice.media.vad import FRAME_SAMPLES, FRAMES_PER_SECOND, RATE, speech_spans

MAX_SECONDS = 4 * 3600  # as the recorder's own limit: a longer file is not a call it wrote
LIMITS = {  # seconds: the thresholds a QA lead may set, and the hold time a call's log may report
    "silence_seconds": (0.5, 3600.0),
    "overtalk_seconds": (0.1, 3600.0),
    "hold_seconds": (0.0, float(MAX_SECONDS)),
}


def analyse_files(
    caller: str,
    agent: str,
    *,
    silence_seconds: float = 5.0,
    overtalk_seconds: float = 2.0,
    hold_seconds: float = 0.0,
) -> dict[str, Any]:
    """The checks of a call as JSON (`CallChecks.as_dict`), from its caller's and agent's WAV files.

    Hold time is not in the audio (on hold the caller hears music the recorder does not take):
    it comes from the call's log. CPU-bound (about 0.1 s per minute of call): run it through
    `ctx.compute(analyse_files, ...)`, never on the event loop.
    """
    return analyse(
        read_channel(Path(caller), "caller"),
        read_channel(Path(agent), "agent"),
        silence_seconds=silence_seconds,
        overtalk_seconds=overtalk_seconds,
        hold_seconds=hold_seconds,
    ).as_dict()


def analyse(
    caller: bytes,
    agent: bytes,
    *,
    silence_seconds: float = 5.0,
    overtalk_seconds: float = 2.0,
    hold_seconds: float = 0.0,
) -> CallChecks:
    """The checks of a call from its two channels as 8 kHz 16-bit little-endian PCM."""
    given = {
        "silence_seconds": silence_seconds,
        "overtalk_seconds": overtalk_seconds,
        "hold_seconds": hold_seconds,
    }
    for name, value in given.items():
        low, high = LIMITS[name]
        if not low <= value <= high:  # also refuses NaN
            raise CheckOutOfRange(
                f"{name} must be between {low:g} and {high:g} seconds",
                field=name,
                reason="check-threshold-out-of-range",
                params={"name": name, "low": low, "high": high},
            )
    frames = max(len(caller), len(agent)) // (2 * FRAME_SAMPLES)
    return check_call(
        speech_spans(caller),
        speech_spans(agent),
        frames,
        silence_frames=round(silence_seconds * FRAMES_PER_SECOND),
        overtalk_frames=round(overtalk_seconds * FRAMES_PER_SECOND),
        hold_seconds=round(hold_seconds, 2),
    )


def read_channel(path: Path, side: str) -> bytes:
    """One channel's samples, after checking it is a recording as the recorder writes them."""
    try:
        with wave.open(str(path), "rb") as wav:
            rate, width, channels, count = (
                wav.getframerate(),
                wav.getsampwidth(),
                wav.getnchannels(),
                wav.getnframes(),
            )
            if (rate, width, channels) != (RATE, 2, 1):
                raise UnusableRecording(
                    f"The {side} recording is {rate} Hz, {width * 8}-bit, {channels} channel(s): "
                    "8000 Hz 16-bit mono is expected",
                    field=side,
                    reason="recording-wrong-format",
                    params={"side": side, "rate": rate, "bits": width * 8, "channels": channels},
                )
            if count > MAX_SECONDS * RATE:
                raise UnusableRecording(
                    f"The {side} recording lasts {count // RATE} s: at most {MAX_SECONDS} s are analysed",
                    field=side,
                    reason="recording-too-long",
                    params={"side": side, "seconds": count // RATE, "limit": MAX_SECONDS},
                )
            return wav.readframes(count)
    except FileNotFoundError as exc:
        raise UnusableRecording(
            f"The {side} recording is missing", field=side, reason="recording-missing", params={"side": side}
        ) from exc
    except (wave.Error, EOFError) as exc:
        raise UnusableRecording(
            f"The {side} recording is not a WAV file: {exc}",
            field=side,
            reason="recording-not-wav",
            params={"side": side, "exc": exc},
        ) from exc
