"""The travel order's lifecycle (SPEC O2, seed 001 小灵呼订单工作流) as a table.

    enquiry ──assign_planner──▶ following ──hand_to_front_desk──▶ signing ──sign──▶ signed
       │  (team lead; a planner       │ follow_up (planner, any number)                │
       │   for a walk-in)             │                                                review (finance)
       │                                                                                ▼
       └──────────── void (planner / team lead, reason) ◀──────────────────────── reviewed
                                                                                        │ return_visit_due
                                                                                        ▼ (a job)
                                                    closed ◀──close (agent, summary)── return_visit

Each action names the states it starts from, the state it leads to and the roles that may take
it; anything else is refused with the rule it breaks. The order's items can change only before
`signed`; after `closed` only finance adjustments with a reason are recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from hotline.core.errors import HotlineError, InvalidTransition
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
OPEN = frozenset(State) - {State.CLOSED, State.VOID}


class WrongRole(HotlineError):
    code = "wrong-role"
    status = 403
    title = "Your role does not take this step of the order"


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[State]
    target: State
    roles: frozenset[Role]
    label: str


def _t(action: str, sources: set[State], target: State, roles: set[Role], label: str) -> Transition:
    return Transition(action, frozenset(sources), target, frozenset(roles | {Role.ADMIN}), label)


R = Role
TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        _t("assign_planner", {State.ENQUIRY, State.FOLLOWING}, State.FOLLOWING,
           {R.TEAM_LEAD, R.SUPERVISOR, R.PLANNER}, "分配计调"),
        _t("hand_to_front_desk", {State.FOLLOWING}, State.SIGNING, {R.PLANNER}, "分配前台签约"),
        _t("sign", {State.SIGNING}, State.SIGNED, {R.FRONT_DESK}, "签约"),
        _t("review", {State.SIGNED}, State.REVIEWED, {R.FINANCE}, "财务审核"),
        _t("return_visit_due", {State.REVIEWED}, State.RETURN_VISIT, set(), "回访到期"),
        _t("close", {State.REVIEWED, State.RETURN_VISIT}, State.CLOSED,
           {R.AGENT, R.TEAM_LEAD, R.SUPERVISOR}, "回访关闭"),
        _t("void", {State.ENQUIRY, State.FOLLOWING, State.SIGNING, State.SIGNED, State.REVIEWED}, State.VOID,
           {R.PLANNER, R.TEAM_LEAD, R.SUPERVISOR}, "作废"),
    )
}  # fmt: skip


@dataclass(frozen=True)
class Activity:
    """Work on an order that leaves its state as it is: who may do it, in which states."""

    action: str
    states: frozenset[State]
    roles: frozenset[Role]
    label: str


def _a(action: str, states: set[State] | frozenset[State], roles: set[Role], label: str) -> Activity:
    return Activity(action, frozenset(states), frozenset(roles | {Role.ADMIN}), label)


ACTIVITIES: dict[str, Activity] = {
    a.action: a
    for a in (
        _a("follow_up", {State.FOLLOWING, State.SIGNING}, {R.PLANNER}, "跟单"),
        _a("request_planner", {State.ENQUIRY}, {R.FRONT_DESK}, "请计调分配"),
        _a("edit_items", EDITABLE_ITEMS, {R.AGENT, R.TEAM_LEAD, R.PLANNER, R.FRONT_DESK, R.SUPERVISOR},
        "修改项目"),
        _a("update", OPEN, {R.AGENT, R.TEAM_LEAD, R.PLANNER, R.FRONT_DESK, R.SUPERVISOR, R.FINANCE},
        "修改订单"),
        _a("receipt", {State.REVIEWED, State.RETURN_VISIT}, {R.FINANCE}, "登记收款"),
        _a("cost", {State.SIGNED, State.REVIEWED, State.RETURN_VISIT}, {R.PLANNER, R.FINANCE}, "登记成本"),
        _a("adjust", {State.CLOSED}, {R.FINANCE}, "财务调整"),
    )
}  # fmt: skip
ROLE_NAMES = {
    R.AGENT: "an agent", R.TEAM_LEAD: "a team lead", R.PLANNER: "a planner", R.FRONT_DESK: "the front desk",
    R.FINANCE: "finance", R.SUPERVISOR: "a supervisor", R.ADMIN: "an admin",
}  # fmt: skip


def who(roles: frozenset[Role]) -> str:
    named = [ROLE_NAMES[r] for r in ROLE_NAMES if r in roles and r is not R.ADMIN]
    if not named:
        return "the system"
    return named[0] if len(named) == 1 else f"{', '.join(named[:-1])} or {named[-1]}"


def check_role(actor_roles: frozenset[str], via: str, roles: frozenset[Role], what: str) -> None:
    """The step is taken by one of `roles` (the system's own jobs take any)."""
    if via == "system" or any(role.value in actor_roles for role in roles):
        return
    raise WrongRole(f"Only {who(roles)} may {what}", rule="role", allowed=sorted(r.value for r in roles))


def transition(state: str, action: str, actor_roles: frozenset[str], via: str) -> State:
    """The state `action` leads to from `state`, for an actor with `actor_roles`; or the error."""
    step = TRANSITIONS[action]
    check_role(actor_roles, via, step.roles, f"take the step {action} ({step.label})")
    if State(state) not in step.sources:
        raise InvalidTransition(
            f"An order {LABELS[State(state)]} ({state}) cannot take the step {action}; "
            f"it needs one of: {', '.join(sorted(s.value for s in step.sources))}",
            rule="state", state=state,
        )  # fmt: skip
    return step.target


def allowed_actions(state: str, actor_roles: frozenset[str]) -> list[str]:
    """The steps and the work the actor may take on now (the order page shows these buttons)."""
    steps = [(t.action, t.sources, t.roles) for t in TRANSITIONS.values()]
    steps += [(a.action, a.states, a.roles) for a in ACTIVITIES.values()]
    admin = Role.ADMIN.value in actor_roles
    return [
        action for action, states, roles in steps
        if State(state) in states and action != "return_visit_due"
        and (admin or any(r.value in actor_roles for r in roles))
    ]  # fmt: skip


def check_activity(state: str, action: str, actor_roles: frozenset[str], via: str) -> None:
    """The activity is open to the actor's role in the order's state; or the error naming why."""
    activity = ACTIVITIES[action]
    check_role(actor_roles, via, activity.roles, f"do {action} ({activity.label})")
    if State(state) not in activity.states:
        raise InvalidTransition(
            f"An order {LABELS[State(state)]} ({state}) does not take {action}; "
            f"it needs one of: {', '.join(sorted(s.value for s in activity.states))}",
            rule="state", state=state,
        )  # fmt: skip
