"""The travel order's lifecycle (SPEC O2, seed 001 小灵呼订单工作流) as a table (core/lifecycle.py).

    enquiry ──assign_planner──▶ following ──hand_to_front_desk──▶ signing ──sign──▶ signed
       │  (team lead; a planner       │ follow_up (planner, any number)                │
       │   for a walk-in)             │                                                review (finance)
       │                                                                                ▼
       └──────────── void (planner / team lead, reason) ◀──────────────────────── reviewed
                                                                                        │ return_visit_due
                                                                                        ▼ (a job)
                                                    closed ◀──close (agent, summary)── return_visit

Each action names the states it starts from, the state it leads to and the roles that may take
it; anything else is refused with the rule it breaks. Work that leaves the state as it is — a
follow-up, editing the items, a receipt — is in the same table with no target. The order's items
can change only before `signed`; after `closed` only finance adjustments with a reason are
recorded. Admins take any step people may; the system's jobs take any step.
"""

from __future__ import annotations

from enum import StrEnum

from hotline.core.context import Actor
from hotline.core.lifecycle import SYSTEM, Lifecycle, Who, WrongRole, transition
from hotline.core.permissions import Role


class State(StrEnum):
    ENQUIRY = "enquiry"
    FOLLOWING = "following"
    SIGNING = "signing"
    SIGNED = "signed"
    REVIEWED = "reviewed"
    RETURN_VISIT = "return_visit"
    CLOSED = "closed"
    VOID = "void"


LABELS = {
    State.ENQUIRY: "待分配", State.FOLLOWING: "计调跟单", State.SIGNING: "待签约",
    State.SIGNED: "已签约待审核",
    State.REVIEWED: "财务已审核", State.RETURN_VISIT: "待回访", State.CLOSED: "已关闭", State.VOID: "已作废",
}  # fmt: skip
"""How a state is said to staff and spoken to a caller (D5: where the request stands)."""
DEPARTMENT = {
    State.ENQUIRY: "座席组长", State.FOLLOWING: "计调部", State.SIGNING: "门市前台", State.SIGNED: "财务部",
    State.REVIEWED: "计调部", State.RETURN_VISIT: "客服中心", State.CLOSED: "", State.VOID: "",
}  # fmt: skip
EDITABLE_ITEMS = frozenset({State.ENQUIRY, State.FOLLOWING, State.SIGNING})
CONTRACTABLE = frozenset({State.SIGNING, State.SIGNED, State.REVIEWED, State.RETURN_VISIT, State.CLOSED})
"""States in which the contract is drawn up (from the hand-over for signing on)."""
OPEN = frozenset(State) - {State.CLOSED, State.VOID}
ROLE_NAMES = {
    Role.AGENT: "an agent", Role.TEAM_LEAD: "a team lead", Role.PLANNER: "a planner",
    Role.FRONT_DESK: "the front desk", Role.FINANCE: "finance", Role.SUPERVISOR: "a supervisor",
}  # fmt: skip

S, R = State, Role
OFFICE = {R.AGENT, R.TEAM_LEAD, R.PLANNER, R.FRONT_DESK, R.SUPERVISOR}
ORDER: Lifecycle[str] = Lifecycle(
    "order",
    tuple(State),
    (
        # the steps
        transition("assign_planner", {S.ENQUIRY, S.FOLLOWING}, S.FOLLOWING,
                   roles={R.TEAM_LEAD, R.SUPERVISOR, R.PLANNER}, label="分配计调"),
        transition("hand_to_front_desk", {S.FOLLOWING}, S.SIGNING, roles={R.PLANNER}, label="分配前台签约"),
        transition("sign", {S.SIGNING}, S.SIGNED, roles={R.FRONT_DESK}, label="签约"),
        transition("review", {S.SIGNED}, S.REVIEWED, roles={R.FINANCE}, label="财务审核"),
        transition("return_visit_due", {S.REVIEWED}, S.RETURN_VISIT, by="system", label="回访到期"),
        transition("close", {S.REVIEWED, S.RETURN_VISIT}, S.CLOSED,
                   roles={R.AGENT, R.TEAM_LEAD, R.SUPERVISOR}, label="回访关闭"),
        transition("void", {S.ENQUIRY, S.FOLLOWING, S.SIGNING, S.SIGNED, S.REVIEWED}, S.VOID,
                   roles={R.PLANNER, R.TEAM_LEAD, R.SUPERVISOR}, label="作废"),
        # work that leaves the state as it is
        transition("follow_up", {S.FOLLOWING, S.SIGNING}, None, roles={R.PLANNER}, label="跟单"),
        transition("request_planner", {S.ENQUIRY}, None, roles={R.FRONT_DESK}, label="请计调分配"),
        transition("edit_items", EDITABLE_ITEMS, None, roles=OFFICE, label="修改项目"),
        transition("update", OPEN, None, roles=OFFICE | {R.FINANCE}, label="修改订单"),
        transition("receipt", {S.REVIEWED, S.RETURN_VISIT}, None, roles={R.FINANCE}, label="登记收款"),
        transition("cost", {S.SIGNED, S.REVIEWED, S.RETURN_VISIT}, None, roles={R.PLANNER, R.FINANCE},
                   label="登记成本"),
        transition("adjust", {S.CLOSED}, None, roles={R.FINANCE}, label="财务调整"),
    ),
    labels={state.value: label for state, label in LABELS.items()},
    role_names={role.value: name for role, name in ROLE_NAMES.items()},
)  # fmt: skip

__all__ = ["DEPARTMENT", "EDITABLE_ITEMS", "LABELS", "OPEN", "ORDER", "State", "WrongRole", "who"]


def who(actor: Actor) -> Who:
    """The lifecycle's view of an actor: the system's jobs, or a person with roles."""
    return SYSTEM if actor.via == "system" else Who.person(actor.roles, actor.user_id)


def step(state: str, action: str, actor: Actor) -> State:
    """The state `action` leads to from `state` for the actor; or the error naming the rule."""
    return State(ORDER.apply(state, action, who(actor)).after)


def check(state: str, action: str, actor: Actor) -> None:
    """Work on the order (no change of state) is open to the actor now; or the error naming why."""
    ORDER.check(state, action, who(actor))


def actions(state: str, actor: Actor) -> list[str]:
    """The steps and the work the actor may take on now (the order page shows these buttons)."""
    return ORDER.allowed(state, who(actor))
