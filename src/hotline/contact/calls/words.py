"""A call's log line in data the UI words: the `detail` of each kind of line, written for people in
English before lines were data, read back as a code and parameters (the file path of a recording
or a voicemail is not shown: it is the server's business). A line nobody parses keeps its words
as `text`; other domains' lines (a booking made on the call) keep their `detail`."""

from __future__ import annotations

import re
from typing import Literal

LineCode = Literal[
    "priority", "after", "overflow_to", "waited_too_long", "everybody_left", "nobody_logged_in",
    "desk_closed", "end_reason", "outcome", "to_queue", "caller_class", "recording", "voicemail",
    "monitor", "target", "text",
]  # fmt: skip

FIXED: dict[str, LineCode] = {
    "waited too long": "waited_too_long",
    "everybody left the queue": "everybody_left",
    "nobody is logged in to the queue": "nobody_logged_in",
    "desktop closed": "desk_closed",
}
PATTERNS: list[tuple[str, re.Pattern[str], LineCode]] = [
    ("queued", re.compile(r"^priority (?P<n>\d+)$"), "priority"),
    ("abandoned", re.compile(r"^after (?P<seconds>\d+) s$"), "after"),
    ("overflowed", re.compile(r"^to (?P<queue>.+)$"), "overflow_to"),
    ("voicemail", re.compile(r"^(?P<seconds>\d+) s: .*$"), "voicemail"),
    ("monitor", re.compile(r"^(?P<mode>listen|whisper|barge) by (?P<by>.+)$"), "monitor"),
    ("transferred", re.compile(r"^(?:blind )?to (?P<target>.+?)(?: \([a-z -]+\))?$"), "target"),
    ("transfer_failed", re.compile(r"^(?P<target>[^:]+): (?P<reason>.+)$"), "end_reason"),
]
OUTCOME_KINDS = ("finished", "dial_failed")
TARGET_KINDS = ("consulting", "consult_cancelled", "three_way", "requeued")


def line_words(kind: str, detail: str) -> tuple[LineCode, dict[str, str]] | None:
    """The code and parameters of a line's detail; None when it has none or is shown as is
    (an arrival's numbers, a callback's number, a survey's score, a wrap-up's note)."""
    if not detail or kind in ("arrived", "callback", "survey", "wrapped", "keys", "ivr", "offered"):
        return None
    if detail in FIXED:
        return FIXED[detail], {}
    if kind == "recorded":
        return "recording", {}
    if kind == "identified":
        return "caller_class", {"caller_class": detail}
    if kind in TARGET_KINDS:
        return "target", {"target": detail}
    if kind in OUTCOME_KINDS:
        if detail.startswith("transferred:queue:"):
            return "to_queue", {"queue": detail.removeprefix("transferred:queue:")}
        return "outcome", {"outcome": detail}
    if kind == "missed":
        return "end_reason", {"reason": detail}
    for of, pattern, code in PATTERNS:
        if kind == of and (match := pattern.match(detail)):
            return code, match.groupdict()
    # a line of ours in words no pattern knows; other domains' lines (a booking made) are shown as is
    return ("text", {"text": detail}) if kind in {of for of, _, _ in PATTERNS} else None
