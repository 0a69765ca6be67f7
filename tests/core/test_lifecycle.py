"""The one lifecycle shape: what the table allows is exactly what `check` lets through."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.core.errors import HotlineError, InvalidTransition
from hotline.core.lifecycle import SYSTEM, Lifecycle, UnknownAction, Who, WrongRole, transition

STATES = ("draft", "open", "done", "void")
DOOR = Lifecycle(
    "door",
    STATES,
    (
        transition("open", {"draft"}, "open", roles={"agent"}),
        transition("note", {"draft", "open"}, None, roles={"agent", "planner"}),
        transition("finish", {"open"}, "done", by="people"),
        transition("expire", {"open"}, "void", by="system"),
        transition("void", {"draft", "open"}, "void", roles={"planner"}),
    ),
    labels={"open": "处理中"},
)
AGENT = Who.person({"agent"}, 7)
PLANNER = Who.person({"planner"}, 8)
ADMIN = Who.person({"admin"}, 1)
WHO = st.sampled_from([AGENT, PLANNER, ADMIN, SYSTEM, Who.person(set(), 9)])


def test_given_an_open_thing_when_a_person_finishes_it_then_the_step_says_who_and_what() -> None:
    step = DOOR.apply("open", "finish", AGENT)
    assert (step.before, step.after, step.by) == ("open", "done", 7)


def test_given_work_that_keeps_the_state_when_applied_then_the_state_stays() -> None:
    assert DOOR.apply("open", "note", PLANNER).after == "open"


def test_given_the_wrong_state_then_the_error_names_the_state_and_what_is_allowed() -> None:
    with pytest.raises(InvalidTransition) as refused:
        DOOR.check("done", "finish", AGENT)
    assert "处理中" not in refused.value.detail and "done" in refused.value.detail
    assert refused.value.extra["allowed"] == []
    assert refused.value.field == "body.action"


def test_given_roles_system_and_people_steps_then_each_is_open_to_its_own() -> None:
    with pytest.raises(WrongRole):
        DOOR.check("open", "finish", SYSTEM)  # a person signs for it
    with pytest.raises(WrongRole):
        DOOR.check("open", "expire", ADMIN)  # only the system's job
    with pytest.raises(WrongRole):
        DOOR.check("draft", "void", AGENT)
    assert DOOR.check("draft", "void", ADMIN).target == "void"  # admins take any people's step
    with pytest.raises(UnknownAction):
        DOOR.check("draft", "fly", ADMIN)


def test_given_a_table_naming_unknown_states_or_twice_the_same_action_then_it_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown states"):
        Lifecycle("x", ("a",), (transition("go", {"a"}, "b"),))
    with pytest.raises(ValueError, match="twice"):
        Lifecycle("x", ("a",), (transition("go", {"a"}, "a"), transition("go", {"a"}, "a")))


@given(st.lists(st.tuples(st.sampled_from([*DOOR.actions, "fly"]), WHO), max_size=12))
def test_allowed_is_exactly_what_check_lets_through(moves: list[tuple[str, Who]]) -> None:
    state = "draft"
    for action, who in moves:
        allowed = DOOR.allowed(state, who)
        try:
            step = DOOR.apply(state, action, who)
        except HotlineError:  # the wrong state, role or actor, or no such action
            assert action not in allowed
            continue
        assert action in allowed
        assert step.before == state and step.after in DOOR.reachable("draft")
        state = step.after
    assert state in STATES
