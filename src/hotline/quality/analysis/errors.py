"""What the recording checks refuse: files that are not a call channel as the recorder writes it."""

from __future__ import annotations

from hotline.core.errors import InvalidInput


class UnusableRecording(InvalidInput):
    """A channel file that is missing, not WAV, not 8 kHz 16-bit mono, or longer than 4 hours."""

    code = "recording-unusable"
    title = "The recording cannot be analysed"


class CheckOutOfRange(InvalidInput):
    code = "check-out-of-range"
    title = "A threshold of the recording checks is out of range"
