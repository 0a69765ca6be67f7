"""The evaluation flow as QA and agents live it: no step is skipped, a final evaluation never
changes, one appeal per evaluation, the second review is someone else's."""

from __future__ import annotations

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from hotline.core.errors import HotlineError
from hotline.quality.reviews.state import ACTIONS, EVALUATION, Move, Snapshot, actions, apply, consistent

AGENT, EVALUATOR, REVIEWER, OTHER = 1, 2, 3, 4
PEOPLE = st.sampled_from([AGENT, EVALUATOR, REVIEWER, OTHER, None])
NEXT = {  # the only steps forward: nothing skips one
    "assigned": {"assigned", "in_progress"},
    "in_progress": {"in_progress", "assigned", "scored"},
    "scored": {"scored", "final", "appealed"},
    "appealed": {"appealed", "final"},
    "final": {"final"},
}


class EvaluationFlow(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.snapshot = Snapshot(agent_id=AGENT, evaluator_id=EVALUATOR)
        self.appeals = 0
        self.history: list[str] = ["assigned"]

    @rule(
        action=st.sampled_from(ACTIONS), actor=PEOPLE, manages=st.booleans(), evaluates=st.booleans(),
        reason=st.sampled_from(["", "评分有误：客户要求的不是退款"]),
        to=st.sampled_from([EVALUATOR, REVIEWER, AGENT]),
    )  # fmt: skip
    def step(
        self, action: str, actor: int | None, manages: bool, evaluates: bool, reason: str, to: int
    ) -> None:
        before = self.snapshot
        try:
            after, step = apply(before, Move(action, actor, manages, evaluates, reason, evaluator_id=to))
        except HotlineError:
            return
        assert after.status in NEXT[before.status], (before.status, action, after.status)
        assert before.status != "final", "a final evaluation changed"
        assert step.before == before.status and step.after == after.status
        if action == "appeal":
            self.appeals += 1
            assert actor == AGENT and reason
        if action in ("uphold", "change"):
            assert actor not in (before.evaluator_id, AGENT)
        self.snapshot = after
        self.history.append(after.status)

    @invariant()
    def holds(self) -> None:
        assert consistent(self.snapshot) == []
        assert self.appeals <= 1

    @invariant()
    def offered_actions_are_taken(self) -> None:
        for actor in (AGENT, EVALUATOR, REVIEWER, None):
            for action in actions(self.snapshot, actor, manages=True, evaluates=True):
                apply(self.snapshot, Move(action, actor, True, True, reason="因为", evaluator_id=REVIEWER))


TestEvaluationFlow = EvaluationFlow.TestCase


def walk(*moves: Move) -> Snapshot:
    snapshot = Snapshot(agent_id=AGENT, evaluator_id=EVALUATOR)
    for move in moves:
        snapshot, _ = apply(snapshot, move)
    return snapshot


def test_the_whole_flow_with_an_appeal_won() -> None:
    done = walk(
        Move("start", EVALUATOR), Move("submit", EVALUATOR), Move("appeal", AGENT, reason="我报了工号"),
        Move("change", REVIEWER, evaluates=True, reason="录音第5秒报了工号"),
    )  # fmt: skip
    assert (done.status, done.outcome, done.reviewer_id) == ("final", "changed", REVIEWER)


@pytest.mark.parametrize(
    ("moves", "reason"),
    [
        ([Move("submit", EVALUATOR)], "step-not-in-state"),  # skips "start"
        ([Move("start", OTHER)], "only-assigned-evaluator"),
        ([Move("start", EVALUATOR), Move("submit", EVALUATOR), Move("appeal", OTHER, reason="x")],
         "only-agent-evaluated"),
        ([Move("start", EVALUATOR), Move("submit", EVALUATOR), Move("appeal", AGENT)], "appeal-says-why"),
        ([Move("start", EVALUATOR), Move("submit", EVALUATOR), Move("appeal", AGENT, reason="x"),
          Move("uphold", EVALUATOR, evaluates=True)], "second-review-by-another"),
        ([Move("start", EVALUATOR), Move("submit", EVALUATOR), Move("acknowledge", AGENT),
          Move("appeal", AGENT, reason="x")], "step-not-in-state"),
        ([Move("close", EVALUATOR)], "step-system-only"),
        ([Move("reassign", OTHER, evaluator_id=REVIEWER)], "reassign-needs-manage"),
        ([Move("reassign", OTHER, manages=True, evaluator_id=AGENT)], "agent-not-own-evaluator"),
    ],
)  # fmt: skip
def test_steps_out_of_turn_are_refused_with_the_rule_they_break(moves: list[Move], reason: str) -> None:
    with pytest.raises(HotlineError) as refused:
        walk(*moves)
    assert refused.value.reason == reason


def test_each_side_sees_its_own_buttons() -> None:
    scored = walk(Move("start", EVALUATOR), Move("submit", EVALUATOR))
    assert actions(scored, AGENT, manages=False, evaluates=False) == ["acknowledge", "appeal"]
    assert actions(scored, EVALUATOR, manages=False, evaluates=True) == []
    assert actions(
        Snapshot(agent_id=AGENT, evaluator_id=EVALUATOR), EVALUATOR, manages=False, evaluates=True
    ) == ["start"]
    assert EVALUATION.reachable("final") == {"final"}
