"""Phrase rules matched against a transcript, pure: utterances and rules in, hits and what is
missing out.

A queue's rules say what its agents must say — the greeting, the 工号 announcement, the closing —
and what nobody may say (禁用语: 不知道, 没办法, 你自己看 …). Each rule has alternatives (any one
will do), the side that says it (the agent, the caller or either) and optionally a window: within
the first or the last N seconds of the recording.

- Text is compared as `normalise.plain` makes it (no width, case, punctuation or spaces), or by
  pinyin without tones when the rule asks (`pinyin=True`: 公号 counts as 工号, which is what a speech
  engine writes now and then).
- A hit's moment is where in its utterance the phrase starts, interpolated by character position
  between the utterance's start and end (engines give times per utterance, not per character).
- A required rule is met by its first hit in the window; a forbidden rule reports every hit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from hotline.quality.speech.normalise import plain, sounds

Channel = Literal["caller", "agent"]
Side = Literal["agent", "caller", "any"]
RuleKind = Literal["required", "forbidden"]
Within = Literal["first", "last"]


@dataclass(frozen=True)
class PhraseRule:
    key: str
    kind: RuleKind
    phrases: tuple[str, ...]
    side: Side = "agent"
    within: Within | None = None
    seconds: float | None = None
    """The window's length when `within` is set."""
    pinyin: bool = False


@dataclass(frozen=True)
class Line:
    """An utterance of a transcript: `index` is its place in the stored transcript."""

    index: int
    channel: Channel
    start: float
    end: float
    text: str


@dataclass(frozen=True)
class Hit:
    rule: str
    kind: RuleKind
    phrase: str
    """The alternative that matched, as the rule writes it."""
    channel: Channel
    at: float
    utterance: int


@dataclass(frozen=True)
class Findings:
    hits: tuple[Hit, ...]
    missing: tuple[str, ...]
    """Keys of the required rules with no hit."""

    @property
    def forbidden(self) -> tuple[Hit, ...]:
        return tuple(h for h in self.hits if h.kind == "forbidden")


def positions(text: str, phrase: str, *, pinyin: bool = False) -> list[int]:
    """Where `phrase` starts in `text`, as character offsets into `plain(text)`."""
    if pinyin:
        haystack, needle = sounds(text), sounds(phrase)
    else:
        haystack, needle = tuple(plain(text)), tuple(plain(phrase))
    if not needle:
        return []
    size = len(needle)
    return [i for i in range(len(haystack) - size + 1) if haystack[i : i + size] == needle]


def _moment(line: Line, offset: int) -> float:
    length = len(plain(line.text))
    return round(line.start + (line.end - line.start) * offset / length, 2) if length else line.start


def _in_window(rule: PhraseRule, at: float, duration: float) -> bool:
    if rule.within is None or rule.seconds is None:
        return True
    if rule.within == "first":
        return at <= rule.seconds
    return at >= duration - rule.seconds


def _hits(rule: PhraseRule, lines: Sequence[Line], duration: float) -> Iterable[Hit]:
    for line in lines:
        if rule.side != "any" and line.channel != rule.side:
            continue
        for phrase in rule.phrases:
            for offset in positions(line.text, phrase, pinyin=rule.pinyin):
                at = _moment(line, offset)
                if _in_window(rule, at, duration):
                    yield Hit(rule.key, rule.kind, phrase, line.channel, at, line.index)


def match(lines: Iterable[Line], rules: Iterable[PhraseRule], duration: float) -> Findings:
    """Every rule against a recording `duration` seconds long (rules in the module's docstring)."""
    ordered = sorted(lines, key=lambda line: (line.start, line.index))
    hits: list[Hit] = []
    missing: list[str] = []
    for rule in rules:
        found = sorted(_hits(rule, ordered, duration), key=lambda h: (h.at, h.utterance))
        if rule.kind == "required":
            if found:
                hits.append(found[0])
            else:
                missing.append(rule.key)
        else:
            hits.extend(dict.fromkeys(found))  # two alternatives at one place (不知道, 知道) count once each
    return Findings(tuple(sorted(hits, key=lambda h: (h.at, h.rule))), tuple(missing))
