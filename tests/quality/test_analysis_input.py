"""Files the recording checks refuse, each with a reason and the side it concerns."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from hotline.core.messages import REASONS_ZH
from hotline.quality.analysis import analyse, analyse_files
from hotline.quality.analysis.errors import CheckOutOfRange, UnusableRecording
from tests.quality.speech import write_wav

SECOND = np.zeros(8000, dtype="<i2")


@pytest.fixture
def good(tmp_path: Path) -> str:
    return str(write_wav(tmp_path / "a.wav", SECOND))


def refused(caller: str, agent: str, **limits: float) -> UnusableRecording | CheckOutOfRange:
    with pytest.raises((UnusableRecording, CheckOutOfRange)) as raised:
        analyse_files(caller, agent, **limits)
    assert raised.value.reason in REASONS_ZH and raised.value.status == 422
    return raised.value


@pytest.mark.parametrize(
    ("rate", "width", "channels", "words"),
    [(16000, 2, 1, "16000 Hz, 16-bit, 1 channel"), (8000, 1, 1, "8000 Hz, 8-bit"), (8000, 2, 2, "2 channel")],
)
def test_a_channel_not_8khz_16bit_mono_is_refused_naming_what_it_is(
    tmp_path: Path, good: str, rate: int, width: int, channels: int, words: str
) -> None:
    samples = np.zeros(8000 * channels, dtype="<i2" if width == 2 else "u1")
    other = str(write_wav(tmp_path / "b.wav", samples, rate=rate, width=width, channels=channels))
    error = refused(good, other)
    assert (error.reason, error.field) == ("recording-wrong-format", "agent") and words in error.detail


def test_a_file_that_says_it_lasts_over_four_hours_is_refused_before_it_is_read(
    tmp_path: Path, good: str
) -> None:
    data = 4 * 3600 * 8000 * 2 + 2  # one sample too many, claimed by the header only
    header = (
        b"RIFF"
        + struct.pack("<I", 36 + data)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, 8000, 16000, 2, 16)
    )
    path = tmp_path / "long.wav"
    path.write_bytes(header + b"data" + struct.pack("<I", data) + bytes(1600))
    error = refused(str(path), good)
    assert (error.reason, error.field, error.params["seconds"]) == ("recording-too-long", "caller", 14400)


def test_a_missing_or_foreign_file_is_refused(tmp_path: Path, good: str) -> None:
    assert refused(str(tmp_path / "gone.wav"), good).reason == "recording-missing"
    text = tmp_path / "notes.wav"
    text.write_text("通话录音")
    error = refused(good, str(text))
    assert (error.reason, error.field) == ("recording-not-wav", "agent")


@pytest.mark.parametrize(
    ("limits", "field"),
    [
        ({"silence_seconds": 0.0}, "silence_seconds"),
        ({"silence_seconds": float("nan")}, "silence_seconds"),
        ({"overtalk_seconds": -1.0}, "overtalk_seconds"),
        ({"overtalk_seconds": 7200.0}, "overtalk_seconds"),
        ({"hold_seconds": -5.0}, "hold_seconds"),
        ({"hold_seconds": float("inf")}, "hold_seconds"),
    ],
)
def test_thresholds_outside_their_physical_bounds_are_refused(limits: dict[str, float], field: str) -> None:
    with pytest.raises(CheckOutOfRange) as raised:
        analyse(SECOND.tobytes(), SECOND.tobytes(), **limits)
    assert (raised.value.field, raised.value.reason) == (field, "check-threshold-out-of-range")


def test_channels_of_different_lengths_are_analysed_to_the_longer(tmp_path: Path, good: str) -> None:
    longer = str(write_wav(tmp_path / "b.wav", np.zeros(3 * 8000, dtype="<i2")))
    assert analyse_files(good, longer, silence_seconds=2.0)["segments"]["silences"] == [[0.0, 3.0]]
