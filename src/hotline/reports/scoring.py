"""The monthly assessment's arithmetic (月度考核), pure: each component's score from its figure and
target, the weighted total, and the rank.

A component scores 0–100, capped: volume, quality, satisfaction and attendance as figure ÷ target
(more is better), handle time as target ÷ AHT (shorter is better; at or under the target scores
100). A component without data (no reviews, no surveys, no calls to time) is None and counts as
"—": the total is the weighted mean of the components that have a score, so the weights of the
others are rescaled to 100 (docs/reports.md, "Monthly assessment").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

COMPONENTS = ("volume", "handle_time", "quality", "satisfaction", "attendance")


@dataclass(frozen=True)
class Targets:
    calls: int
    """Calls handled in a whole month for a volume score of 100."""
    aht_seconds: int
    """Average handle time at or under which handle time scores 100."""
    quality: float
    """Average QA score (of 100) that scores 100."""
    satisfaction: float
    """Average survey score (of 5) that scores 100."""
    hours_per_workday: float
    """Signed-in hours expected per working day (China's calendar, make-up days included)."""


@dataclass(frozen=True)
class Raw:
    """An agent's figures for the month, as the domains count them."""

    calls: float
    """Calls handled, plus conversations handled at the scheme's weight (`volume`)"""
    aht: float | None
    quality: float | None
    satisfaction: float | None
    hours: float


def volume(calls: int, conversations: int, per_conversation: float) -> float:
    """What the volume counts: calls handled, and each conversation handled as `per_conversation`
    calls (the scheme's `conversation_weight`; 1 by default)."""
    return round(calls + conversations * per_conversation, 2)


def blended(survey: float | None, surveys: int, rating: float | None, ratings: int) -> float | None:
    """The satisfaction figure: the post-call surveys' average and the chat ratings' average (both
    of 5), each weighted by how many there were; None when there are neither."""
    parts = [(avg, n) for avg, n in ((survey, surveys), (rating, ratings)) if avg is not None and n > 0]
    count = sum(n for _, n in parts)
    return round(sum(avg * n for avg, n in parts) / count, 2) if count else None


def _capped(value: float) -> float:
    return round(max(0.0, min(100.0, value)), 2)


def scores(raw: Raw, targets: Targets, *, workdays: int, passed: int) -> dict[str, float | None]:
    """Each component's score. `workdays` are the month's working days, `passed` those of them up
    to today (all of them for a past month): the volume target shrinks in proportion, and the
    hours expected are `hours_per_workday` × `passed`."""
    passed = max(0, min(passed, workdays))
    calls_target = targets.calls * passed / workdays if workdays > 0 else 0.0
    hours_target = targets.hours_per_workday * passed
    return {
        "volume": _capped(100 * raw.calls / calls_target) if calls_target > 0 else None,
        "handle_time": None
        if raw.aht is None
        else (100.0 if raw.aht <= targets.aht_seconds else _capped(100 * targets.aht_seconds / raw.aht)),
        "quality": None if raw.quality is None else _capped(100 * raw.quality / targets.quality),
        "satisfaction": None
        if raw.satisfaction is None
        else _capped(100 * raw.satisfaction / targets.satisfaction),
        "attendance": _capped(100 * raw.hours / hours_target) if hours_target > 0 else None,
    }


def total(component_scores: Mapping[str, float | None], weights: Mapping[str, int]) -> float | None:
    """The weighted mean over the components that have a score (their weights rescaled to sum to
    100); None when none of the weighted components has one."""
    weight = sum(weights[c] for c in COMPONENTS if component_scores.get(c) is not None)
    if weight <= 0:
        return None
    earned = sum(
        weights[c] * (component_scores[c] or 0.0) for c in COMPONENTS if component_scores.get(c) is not None
    )
    return round(min(100.0, max(0.0, earned / weight)), 2)


def rescaled(component_scores: Mapping[str, float | None], weights: Mapping[str, int]) -> bool:
    """Whether a weighted component lacks data, so the others' weights were rescaled."""
    return any(weights[c] > 0 and component_scores.get(c) is None for c in COMPONENTS)


def ranks(totals: Sequence[float | None]) -> list[int | None]:
    """Competition ranking (1, 2, 2, 4) by total, highest first; no total, no rank."""
    ordered = sorted((t for t in totals if t is not None), reverse=True)
    first: dict[float, int] = {}
    for place, value in enumerate(ordered, start=1):
        first.setdefault(value, place)
    return [None if t is None else first[t] for t in totals]
