"""An evaluation's lifecycle (SPEC Q2, seed 003's 质检部工作流程) as a table (core/lifecycle.py)
and its rules, pure: no database, no clock.

    assigned ──start──▶ in_progress ──submit──▶ scored ──acknowledge──▶ final (acknowledged)
       │ ▲               │  ▲ save             │ ├──close (system: deadline passed)──▶ final (closed)
       └─reassign        └──┘                  │ └──appeal (申诉)──▶ appealed ──uphold──▶ final (upheld)
                                                                        └──change──▶ final (changed)

The evaluator named on it starts, saves and submits; the agent evaluated acknowledges or appeals,
once, with a reason; a second reviewer who is not the first evaluator upholds or changes the
score; a final evaluation never changes again. `apply` takes a `Snapshot` and a `Move` and returns
the next snapshot and the `Step` to record, or raises a domain error and nothing changes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from hotline.core.lifecycle import SYSTEM, Lifecycle, Who, transition
from hotline.quality.reviews.errors import EvaluationRefused

STATUSES = ("assigned", "in_progress", "scored", "appealed", "final")
STATUS_NAMES = {
    "assigned": "待评分",
    "in_progress": "评分中",
    "scored": "待确认",
    "appealed": "申诉中",
    "final": "已完成",
}
OUTCOMES = ("acknowledged", "upheld", "changed", "closed")
"""How an evaluation became final: the agent agreed, an appeal was lost or won, or the agent let
the acknowledgement deadline pass."""
OPEN = frozenset({"assigned", "in_progress", "scored", "appealed"})
SCORED = frozenset({"scored", "appealed", "final"})
"""States in which the evaluation has a score (the agent sees it)."""

EVALUATION: Lifecycle[str] = Lifecycle(
    "evaluation",
    STATUSES,
    (
        transition("start", {"assigned"}, "in_progress", by="people", label="开始评分"),
        transition("save", {"in_progress"}, None, by="people", label="保存"),
        transition("submit", {"in_progress"}, "scored", by="people", label="提交评分"),
        transition("reassign", {"assigned", "in_progress"}, "assigned", by="people", label="改派"),
        transition("acknowledge", {"scored"}, "final", by="people", label="确认"),
        transition("appeal", {"scored"}, "appealed", by="people", label="申诉"),
        transition("uphold", {"appealed"}, "final", by="people", label="维持原评分"),
        transition("change", {"appealed"}, "final", by="people", label="改判"),
        transition("close", {"scored"}, "final", by="system", label="逾期自动确认"),
    ),
    refused=EvaluationRefused,
    labels=STATUS_NAMES,
)
ACTIONS = EVALUATION.actions
EVALUATOR_STEPS = frozenset({"start", "save", "submit"})
AGENT_STEPS = frozenset({"acknowledge", "appeal"})
REVIEW_STEPS = frozenset({"uphold", "change"})
MANAGER_STEPS = frozenset({"reassign"})
OUTCOME_OF = {"acknowledge": "acknowledged", "uphold": "upheld", "change": "changed", "close": "closed"}


@dataclass(frozen=True)
class Snapshot:
    status: str = "assigned"
    agent_id: int = 0
    evaluator_id: int | None = None
    reviewer_id: int | None = None
    appealed: bool = False
    outcome: str | None = None


@dataclass(frozen=True)
class Move:
    action: str
    actor_id: int | None
    """None: the system (a job)."""
    manages: bool = False
    """The actor holds qa.manage (may reassign, may review any appeal)."""
    evaluates: bool = False
    """The actor holds qa.evaluate (a second reviewer must)."""
    reason: str = ""
    evaluator_id: int | None = None
    """The evaluator a reassignment names."""


@dataclass(frozen=True)
class Step:
    action: str
    before: str
    after: str
    by: int | None
    note: str


def actions(evaluation: Snapshot, actor_id: int | None, *, manages: bool, evaluates: bool) -> list[str]:
    """What this actor may do to the evaluation now (the buttons a screen shows)."""
    who = SYSTEM if actor_id is None else Who.person((), actor_id)
    found = []
    for action in EVALUATION.allowed(evaluation.status, who):
        try:
            apply(evaluation, Move(action, actor_id, manages, evaluates, reason="-", evaluator_id=-1))
        except EvaluationRefused:
            continue
        found.append(action)
    return found


def apply(evaluation: Snapshot, move: Move) -> tuple[Snapshot, Step]:
    who = SYSTEM if move.actor_id is None else Who.person((), move.actor_id)
    t = EVALUATION.check(evaluation.status, move.action, who)
    after = t.target or evaluation.status
    action, me = move.action, move.actor_id
    nxt = replace(evaluation, status=after)
    if action in EVALUATOR_STEPS and me != evaluation.evaluator_id:
        raise EvaluationRefused(
            "Only the evaluator it is assigned to scores this evaluation",
            reason="only-assigned-evaluator",
        )
    if action in AGENT_STEPS and me != evaluation.agent_id:
        raise EvaluationRefused(
            "Only the agent evaluated acknowledges or appeals an evaluation",
            reason="only-agent-evaluated",
        )
    if action in MANAGER_STEPS:
        if not move.manages:
            raise EvaluationRefused(
                "Reassigning an evaluation needs the QA management permission",
                reason="reassign-needs-manage",
            )
        if move.evaluator_id is None:
            raise EvaluationRefused(
                "Name the evaluator to reassign to", field="body.evaluator_id", reason="name-evaluator"
            )
        if move.evaluator_id == evaluation.agent_id:
            raise EvaluationRefused(
                "An agent does not evaluate their own call",
                field="body.evaluator_id",
                reason="agent-not-own-evaluator",
            )
        nxt = replace(nxt, evaluator_id=move.evaluator_id)
    if action == "appeal":
        if evaluation.appealed:  # unreachable through the table (final never reopens); kept as the rule
            raise EvaluationRefused("An evaluation is appealed once", reason="appealed-once")
        if not move.reason.strip():
            raise EvaluationRefused(
                "An appeal (申诉) says why the score is wrong", field="body.reason", reason="appeal-says-why"
            )
        nxt = replace(nxt, appealed=True)
    if action in REVIEW_STEPS:
        if me is not None and me in (evaluation.evaluator_id, evaluation.agent_id):
            raise EvaluationRefused(
                "The second review is by another evaluator than the first (and not the agent)",
                reason="second-review-by-another",
            )
        if not (move.evaluates or move.manages):
            raise EvaluationRefused(
                "A second review needs the permission to evaluate", reason="second-review-needs-evaluator"
            )
        if action == "change" and not move.reason.strip():
            raise EvaluationRefused(
                "Changing a score says why", field="body.reason", reason="change-says-why"
            )
        nxt = replace(nxt, reviewer_id=me)
    if action in OUTCOME_OF:
        nxt = replace(nxt, outcome=OUTCOME_OF[action])
    return nxt, Step(action, evaluation.status, after, me, move.reason.strip())


def consistent(evaluation: Snapshot) -> list[str]:
    """What is wrong with a snapshot (empty: nothing); the property tests hold every reachable
    snapshot to this."""
    wrong = []
    if evaluation.status not in STATUSES:
        wrong.append("unknown status")
    if evaluation.evaluator_id is not None and evaluation.evaluator_id == evaluation.agent_id:
        wrong.append("evaluated by the agent")
    if evaluation.status == "final" and evaluation.outcome not in OUTCOMES:
        wrong.append("final without an outcome")
    if evaluation.status != "final" and evaluation.outcome is not None:
        wrong.append("an outcome before final")
    if evaluation.status == "appealed" and not evaluation.appealed:
        wrong.append("appealed without an appeal")
    if evaluation.outcome in ("upheld", "changed") and (
        not evaluation.appealed or evaluation.reviewer_id in (None, evaluation.evaluator_id)
    ):
        wrong.append("reviewed without an appeal or by the first evaluator")
    return wrong
