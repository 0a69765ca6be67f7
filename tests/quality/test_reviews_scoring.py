"""A scorecard's score as a QA evaluator expects it: weights count, a not-applicable item leaves
the denominator, a "no" on an auto-fail item (禁用语) makes the whole evaluation 0."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.quality.reviews.errors import AnswersInvalid
from hotline.quality.reviews.scoring import Answer, Item, check, score, so_far

yes_no = st.builds(
    Item, key=st.just(""), kind=st.just("yes_no"), weight=st.integers(1, 100), max=st.just(1),
    auto_fail=st.booleans(), allow_na=st.booleans(),
)  # fmt: skip
scale = st.builds(
    Item, key=st.just(""), kind=st.just("scale"), weight=st.integers(1, 100), max=st.integers(1, 10),
    auto_fail=st.just(False), allow_na=st.booleans(),
)  # fmt: skip


@st.composite
def forms(draw: st.DrawFn) -> tuple[list[Item], dict[str, Answer]]:
    items = [
        Item(f"i{n}", i.kind, i.weight, i.max, i.auto_fail, i.allow_na)
        for n, i in enumerate(draw(st.lists(st.one_of(yes_no, scale), min_size=1, max_size=12)))
    ]
    answers = {}
    for item in items:
        if item.allow_na and draw(st.booleans()):
            answers[item.key] = Answer(na=True)
        else:
            answers[item.key] = Answer(draw(st.integers(0, item.max)))
    if all(a.na for a in answers.values()):
        first = items[0]
        answers[first.key] = Answer(first.max)
    return items, answers


def expected(items: list[Item], answers: dict[str, Answer]) -> Fraction:
    scored = [(i, answers[i.key]) for i in items if not answers[i.key].na]
    return (
        sum((Fraction(i.weight * (a.value or 0), i.max) for i, a in scored), Fraction(0))
        * 100
        / sum(i.weight for i, _ in scored)
    )


@given(forms())
def test_the_score_is_the_weighted_share_of_the_applicable_items(
    form: tuple[list[Item], dict[str, Answer]],
) -> None:
    items, answers = form
    result = score(items, answers)
    if any(i.auto_fail and answers[i.key].value == 0 for i in items):
        assert result.score == 0 and result.auto_failed
    else:
        assert abs(result.score - Decimal(float(expected(items, answers)))) <= Decimal("0.005")
        assert not result.auto_failed
    assert Decimal(0) <= result.score <= Decimal(100)


@given(forms(), st.integers(1, 100))
def test_a_not_applicable_item_changes_nothing_whatever_its_weight(
    form: tuple[list[Item], dict[str, Answer]], weight: int
) -> None:
    items, answers = form
    extra = Item("extra", "scale", weight, 5, allow_na=True)
    assert score([*items, extra], {**answers, "extra": Answer(na=True)}).score == score(items, answers).score


@given(forms())
def test_a_no_on_an_auto_fail_item_makes_it_zero(form: tuple[list[Item], dict[str, Answer]]) -> None:
    items, answers = form
    banned = Item("banned", "yes_no", 1, auto_fail=True)
    assert score([*items, banned], {**answers, "banned": Answer(0)}).score == 0
    clean = score([*items, banned], {**answers, "banned": Answer(1)})
    assert clean.failed_items == tuple(i.key for i in items if i.auto_fail and answers[i.key].value == 0)


def test_the_demo_scorecards_arithmetic() -> None:
    items = [
        Item("greeting", "yes_no", 10),
        Item("solution", "scale", 30, max=5),
        Item("verify", "yes_no", 20, allow_na=True),
    ]
    # 10·1 + 30·3/5 = 28 of 40 (identity check not applicable) → 70
    assert score(
        items, {"greeting": Answer(1), "solution": Answer(3), "verify": Answer(na=True)}
    ).score == Decimal("70.00")
    # 1/3 of 100 rounds half up to the hundredth
    thirds = [Item("a", "yes_no", 1), Item("b", "yes_no", 2)]
    assert score(thirds, {"a": Answer(1), "b": Answer(0)}).score == Decimal("33.33")


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        ({"a": Answer(1), "zzz": Answer(1)}, "body.answers.zzz"),
        ({"a": Answer(2)}, "body.answers.a"),
        ({"a": Answer(na=True)}, "body.answers.a"),
        ({}, "body.answers.a"),
    ],
)
def test_answers_that_do_not_fit_are_refused_naming_the_item(answers: dict[str, Answer], field: str) -> None:
    with pytest.raises(AnswersInvalid) as refused:
        check([Item("a", "yes_no", 1)], answers, complete=True)
    assert refused.value.field == field


def test_every_wrong_item_is_named_at_once_not_only_the_first() -> None:
    items = [
        Item("greeting", "yes_no", 10),
        Item("verify", "yes_no", 10),
        Item("needs", "scale", 20, max=5),
        Item("closing", "yes_no", 10),
    ]
    answers = {"greeting": Answer(na=True), "needs": Answer(7), "extra": Answer(1)}
    with pytest.raises(AnswersInvalid) as refused:
        check(items, answers, complete=True)
    errors = refused.value.extra["errors"]
    assert {(e["field"], e["type"]) for e in errors} == {
        ("body.answers.extra", "scorecard-no-item"),
        ("body.answers.greeting", "item-always-applies"),
        ("body.answers.verify", "answer-every-item"),
        ("body.answers.needs", "item-value-range"),
        ("body.answers.closing", "answer-every-item"),
    }
    with pytest.raises(AnswersInvalid) as draft:  # a draft may leave items open, not answer wrongly
        check(items, answers, complete=False)
    assert {e["field"] for e in draft.value.extra["errors"]} == {
        "body.answers.extra",
        "body.answers.greeting",
        "body.answers.needs",
    }


def test_a_draft_may_leave_items_open_but_not_all_not_applicable() -> None:
    check([Item("a", "yes_no", 1), Item("b", "yes_no", 1)], {"a": Answer(1)}, complete=False)
    with pytest.raises(AnswersInvalid, match="not applicable"):
        score([Item("a", "yes_no", 1, allow_na=True)], {"a": Answer(na=True)})


@given(forms())
def test_the_score_so_far_of_complete_answers_is_the_score(
    form: tuple[list[Item], dict[str, Answer]],
) -> None:
    items, answers = form
    assert so_far(items, answers) == score(items, answers)


def test_the_score_so_far_counts_only_the_answered_items_and_an_auto_fail_already_shows() -> None:
    items = [
        Item("greeting", "yes_no", 10),
        Item("needs", "scale", 20, max=5),
        Item("bad", "yes_no", 1, auto_fail=True),
    ]
    assert so_far(items, {}) is None
    assert so_far(items, {"greeting": Answer(None)}) is None  # nothing scored yet
    halfway = so_far(items, {"greeting": Answer(1), "needs": Answer(2)})
    assert halfway is not None and halfway.score == Decimal("60.00")  # (10 + 8) of 30
    assert so_far(items, {"needs": Answer(9)}) is None  # out of range: left out, not refused
    failed = so_far(items, {"greeting": Answer(1), "bad": Answer(0)})
    assert failed is not None and failed.score == 0 and failed.auto_failed
