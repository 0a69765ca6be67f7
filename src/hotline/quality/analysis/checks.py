"""The checks of a call from where each side speaks: talk, silence, overtalk, ratio, monologue.

Pure arithmetic on spans of 10 ms frames (`vad.py` finds them in the audio), so every rule here is
tested on spans written by hand as well as on audio.

- **Silence**: both sides quiet for longer than the silence threshold, anywhere in the recording —
  also at its start (nobody greets the caller) and its end.
- **Overtalk**: both sides speaking at once for longer than the overtalk threshold.
- **Talk ratio**: the agent's share of all talk, `agent / (agent + caller)`, from 0 to 1 (0.5 is
  an even conversation; above 0.7 the agent does most of the talking). A share rather than
  agent ÷ caller, so it stays finite when the caller never speaks and sorts and filters simply.
- **Monologue**: one side holding the floor. The other side may answer with short back-channels
  ("嗯", "对", "好的") without ending it: its utterances shorter than `BACKCHANNEL_FRAMES` (1 s)
  are ignored; a longer one takes the floor and ends the monologue. The speaker's own pauses of
  less than `PAUSE_FRAMES` (2 s) keep it going when the other side does not take the floor in
  them. A monologue runs from the start of its first utterance to the end of its last.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from hotline.voice.media.vad import FRAMES_PER_SECOND, Spans

SEGMENT_CAP = 200
"""The most spans of one kind a recording's `checks` keeps (the longest, in time order): a call of
a thousand short silences must not make a huge row and response. The counts and totals are of
every span, and `segment_counts` says how many each list had before the cap."""
BACKCHANNEL_FRAMES = 1 * FRAMES_PER_SECOND
PAUSE_FRAMES = 2 * FRAMES_PER_SECOND
Side = Literal["caller", "agent"]


@dataclass(frozen=True)
class Span:
    """A stretch of the recording, in seconds from its start."""

    start: float
    end: float

    @property
    def seconds(self) -> float:
        return round(self.end - self.start, 2)

    def pair(self) -> list[float]:
        return [self.start, self.end]


@dataclass(frozen=True)
class Monologue:
    side: Side
    span: Span


@dataclass(frozen=True)
class CallChecks:
    """What a call's audio says without words; `as_dict()` is what the recording's `checks` holds."""

    duration: float
    caller: tuple[Span, ...]
    agent: tuple[Span, ...]
    silences: tuple[Span, ...]
    overtalk: tuple[Span, ...]
    monologue: Monologue | None
    hold_seconds: float
    silence_threshold: float
    overtalk_threshold: float
    version: int = field(default=1)

    @property
    def caller_talk(self) -> float:
        return _total(self.caller)

    @property
    def agent_talk(self) -> float:
        return _total(self.agent)

    @property
    def talk_ratio(self) -> float | None:
        talk = self.caller_talk + self.agent_talk
        return round(self.agent_talk / talk, 3) if talk else None

    def as_dict(self) -> dict[str, Any]:
        """JSON for the recording's `checks`: the figures, the thresholds used, and the spans to draw."""
        return {
            "version": self.version,
            "duration": self.duration,
            "caller_talk": self.caller_talk,
            "agent_talk": self.agent_talk,
            "talk_ratio": self.talk_ratio,
            "silence_count": len(self.silences),
            "silence_total": _total(self.silences),
            "longest_silence": _longest(self.silences),
            "overtalk_count": len(self.overtalk),
            "overtalk_seconds": _total(self.overtalk),
            "longest_overtalk": _longest(self.overtalk),
            "longest_monologue": self.monologue.span.seconds if self.monologue else 0.0,
            "monologue_side": self.monologue.side if self.monologue else None,
            "hold_seconds": self.hold_seconds,
            "thresholds": {
                "silence_seconds": self.silence_threshold,
                "overtalk_seconds": self.overtalk_threshold,
            },
            "segments": {
                "caller": _capped(self.caller),
                "agent": _capped(self.agent),
                "silences": _capped(self.silences),
                "overtalk": _capped(self.overtalk),
                "monologue": self.monologue.span.pair() if self.monologue else None,
            },
            "segment_counts": {
                "caller": len(self.caller),
                "agent": len(self.agent),
                "silences": len(self.silences),
                "overtalk": len(self.overtalk),
            },
        }


def check_call(
    caller: Spans,
    agent: Spans,
    frames: int,
    *,
    silence_frames: int,
    overtalk_frames: int,
    hold_seconds: float,
) -> CallChecks:
    """The checks of a recording `frames` long in which each side speaks in the given spans."""
    quiet = complement(union(caller, agent), frames)
    both = intersection(caller, agent)
    sides: tuple[tuple[Side, Spans, Spans], ...] = (("caller", caller, agent), ("agent", agent, caller))
    longest: tuple[int, Side, tuple[int, int]] | None = None
    for side, talker, other in sides:
        for start, end in monologues(talker, other):
            if longest is None or end - start > longest[0]:
                longest = (end - start, side, (start, end))
    return CallChecks(
        duration=_seconds(frames),
        caller=_spans(caller),
        agent=_spans(agent),
        silences=_spans(s for s in quiet if s[1] - s[0] > silence_frames),
        overtalk=_spans(s for s in both if s[1] - s[0] > overtalk_frames),
        monologue=Monologue(longest[1], _spans([longest[2]])[0]) if longest else None,
        hold_seconds=hold_seconds,
        silence_threshold=_seconds(silence_frames),
        overtalk_threshold=_seconds(overtalk_frames),
    )


def union(a: Spans, b: Spans) -> Spans:
    merged: Spans = []
    for start, end in sorted(a + b):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def intersection(a: Spans, b: Spans) -> Spans:
    found: Spans = []
    i = j = 0
    while i < len(a) and j < len(b):
        start, end = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if start < end:
            found.append((start, end))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return found


def complement(spans: Spans, frames: int) -> Spans:
    gaps: Spans = []
    at = 0
    for start, end in spans:
        if start > at:
            gaps.append((at, min(start, frames)))
        at = max(at, end)
    if at < frames:
        gaps.append((at, frames))
    return [(s, e) for s, e in gaps if s < e]


def subtract(a: Spans, b: Spans) -> Spans:
    return intersection(a, complement(b, max([e for _, e in a + b], default=0)))


def monologues(talker: Spans, other: Spans) -> Spans:
    """The stretches in which `talker` holds the floor (rules in the module's docstring)."""
    floor = [s for s in other if s[1] - s[0] >= BACKCHANNEL_FRAMES]
    found: Spans = []
    for start, end in subtract(talker, floor):
        if found and start - found[-1][1] < PAUSE_FRAMES and not intersection([(found[-1][1], start)], floor):
            found[-1] = (found[-1][0], end)
        else:
            found.append((start, end))
    return found


def _seconds(frames: int) -> float:
    return round(frames / FRAMES_PER_SECOND, 2)


def _spans(spans: Iterable[tuple[int, int]]) -> tuple[Span, ...]:
    return tuple(Span(_seconds(start), _seconds(end)) for start, end in spans)


def _capped(spans: tuple[Span, ...]) -> list[list[float]]:
    """At most `SEGMENT_CAP` spans, the longest (the earlier of equals), back in time order."""
    if len(spans) > SEGMENT_CAP:
        longest = sorted(range(len(spans)), key=lambda i: (-(spans[i].end - spans[i].start), i))
        spans = tuple(spans[i] for i in sorted(longest[:SEGMENT_CAP]))
    return [s.pair() for s in spans]


def _total(spans: tuple[Span, ...]) -> float:
    return round(sum(s.end - s.start for s in spans), 2)


def _longest(spans: tuple[Span, ...]) -> float:
    return max((s.seconds for s in spans), default=0.0)
