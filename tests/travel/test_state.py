"""The travel order's lifecycle as a table (travel/state.py): the actions the page shows are
exactly those `check` lets through for the reader's roles, a refusal names who may, and every
sequence of steps stays among the states the diagram draws."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.core.context import Actor
from hotline.core.errors import HotlineError, InvalidTransition
from hotline.core.lifecycle import WrongRole
from hotline.core.permissions import Role
from hotline.travel import state

PEOPLE = [Actor(n, role.value, frozenset({role.value})) for n, role in enumerate(Role, start=1)]
JOB = Actor.system("travel")


@given(st.lists(st.tuples(st.sampled_from([*state.ORDER.actions, "fly"]), st.sampled_from([*PEOPLE, JOB])),
                max_size=20))  # fmt: skip
def test_the_actions_shown_are_exactly_the_steps_taken(moves: list[tuple[str, Actor]]) -> None:
    current = state.State.ENQUIRY.value
    for action, actor in moves:
        shown = state.actions(current, actor)
        try:
            after = state.step(current, action, actor)
        except HotlineError:
            assert action not in shown
            continue
        assert action in shown
        assert after in state.ORDER.reachable(current) | {current}
        if current == state.State.CLOSED:
            assert action == "adjust" and after == current  # after close, only finance's adjustments
        current = after.value


def test_a_refusal_names_who_may_and_the_state_it_needs() -> None:
    planner = PEOPLE[[r for r in Role].index(Role.PLANNER)]
    with pytest.raises(WrongRole, match="Only an agent, a team lead or a supervisor may take the step close"):
        state.step("return_visit", "close", planner)
    agent = PEOPLE[[r for r in Role].index(Role.AGENT)]
    with pytest.raises(InvalidTransition, match="待分配"):
        state.step("enquiry", "close", agent)
    assert state.step("reviewed", "return_visit_due", JOB) == state.State.RETURN_VISIT
    assert "return_visit_due" not in state.actions("reviewed", agent)  # the job's, not a button
