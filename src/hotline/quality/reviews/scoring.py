"""A scorecard's arithmetic, pure: the score of a set of answers (SPEC Q2).

Each item has a weight; a yes/no item is worth 1 for yes and 0 for no, a scale item `value / max`.
An item answered "not applicable" leaves the denominator, so a call without the situation an item
checks is not punished for it. An auto-fail item answered "no" (a 禁用语 heard) makes the whole
evaluation 0 whatever the rest says. The score is out of 100, to the hundredth, rounded half up:
a Fraction until the end, so the same answers always give the same figure on every database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from hotline.core.errors import FieldProblems
from hotline.quality.reviews.errors import AnswersInvalid

HUNDREDTH = Decimal("0.01")


@dataclass(frozen=True)
class Item:
    key: str
    kind: str
    """yes_no | scale"""
    weight: int
    max: int = 1
    """The top of a scale (0..max); 1 for yes/no."""
    auto_fail: bool = False
    allow_na: bool = False


@dataclass(frozen=True)
class Answer:
    value: int | None = None
    na: bool = False


@dataclass(frozen=True)
class Result:
    score: Decimal
    auto_failed: bool
    """Which auto-fail items were answered no (their keys), empty when none."""
    failed_items: tuple[str, ...]
    per_item: dict[str, Decimal | None]
    """Each item's own score out of 100 (None when not applicable): for calibration spreads."""


def check(items: Iterable[Item], answers: Mapping[str, Answer], *, complete: bool) -> None:
    """Refuse answers that do not fit the items, naming every wrong item at once (one 422 whose
    `errors` has a `body.answers.<key>` entry each, so a form marks them all); `complete` also
    refuses a missing answer (a submitted evaluation answers every item)."""
    by_key = {item.key: item for item in items}
    problems = FieldProblems()
    for key in answers:
        if key not in by_key:
            problems.add(
                AnswersInvalid(
                    f"The scorecard has no item {key!r}",
                    field=f"body.answers.{key}",
                    reason="scorecard-no-item",
                    params={"key": key},
                )
            )
    for key, item in by_key.items():
        wrong = _wrong(key, item, answers.get(key), complete=complete)
        if wrong is not None:
            problems.add(wrong)
    problems.raise_any()


def _wrong(key: str, item: Item, answer: Answer | None, *, complete: bool) -> AnswersInvalid | None:
    """What is wrong with one item's answer, if anything."""
    if answer is None or (answer.value is None and not answer.na):
        if not complete:
            return None
        return AnswersInvalid(
            f"Answer the item {key!r} (or mark it not applicable where it allows)",
            field=f"body.answers.{key}",
            reason="answer-every-item",
            params={"key": key},
        )
    if answer.na:
        if not item.allow_na:
            return AnswersInvalid(
                f"The item {key!r} always applies: it cannot be marked not applicable",
                field=f"body.answers.{key}",
                reason="item-always-applies",
                params={"key": key},
            )
        if answer.value is not None:
            return AnswersInvalid(
                f"The item {key!r} is either not applicable or answered, not both",
                field=f"body.answers.{key}",
                reason="item-na-or-answered",
                params={"key": key},
            )
        return None
    top = item.max if item.kind == "scale" else 1
    if answer.value is None or not 0 <= answer.value <= top:
        return AnswersInvalid(
            f"The item {key!r} takes a value from 0 to {top}",
            field=f"body.answers.{key}",
            reason="item-value-range",
            params={"key": key, "top": top},
        )
    return None


def score(items: Iterable[Item], answers: Mapping[str, Answer]) -> Result:
    """The score of complete, checked answers (see the module docstring)."""
    items = list(items)
    check(items, answers, complete=True)
    earned, possible = Fraction(0), Fraction(0)
    per_item: dict[str, Decimal | None] = {}
    failed: list[str] = []
    for item in items:
        answer = answers[item.key]
        if answer.na or answer.value is None:
            per_item[item.key] = None
            continue
        part = Fraction(answer.value, item.max if item.kind == "scale" else 1)
        per_item[item.key] = _hundredths(part * 100)
        earned += item.weight * part
        possible += item.weight
        if item.auto_fail and answer.value == 0:
            failed.append(item.key)
    if possible == 0:
        raise AnswersInvalid(
            "Every item is marked not applicable: at least one must be scored",
            field="body.answers",
            reason="every-item-not-applicable",
        )
    total = Decimal(0) if failed else _hundredths(earned / possible * 100)
    return Result(total, bool(failed), tuple(failed), per_item)


def _hundredths(value: Fraction) -> Decimal:
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(HUNDREDTH, ROUND_HALF_UP)


def so_far(items: Iterable[Item], answers: Mapping[str, Answer]) -> Result | None:
    """The score of the items answered so far, as `score` would give it once the rest are answered
    the same way (a scorecard screen shows it while the evaluator works); None while no item is
    scored yet. Answers that do not fit the items are left out, not refused: a draft may be odd."""
    items = list(items)
    answered = {}
    for item in items:
        answer = answers.get(item.key)
        top = item.max if item.kind == "scale" else 1
        if answer is None or (answer.na and not item.allow_na):
            continue
        if answer.na or (answer.value is not None and 0 <= answer.value <= top):
            answered[item.key] = Answer(None if answer.na else answer.value, answer.na)
    scored = [item for item in items if item.key in answered]
    if not any(not answered[item.key].na for item in scored):
        return None
    return score(scored, answered)
