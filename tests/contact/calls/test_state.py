"""A live call's mode as a lifecycle: any sequence of actions keeps it in a mode the table names,
what the table allows is exactly what `check` lets through (with the agent's words when not), and
nothing but `LiveCall._move` writes a call's mode."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.contact.calls import state
from hotline.contact.calls.state import CALL, Mode
from hotline.core.errors import InvalidTransition

ACTIONS = st.sampled_from(CALL.actions)


@given(st.lists(ACTIONS, max_size=40))
def test_any_sequence_of_actions_takes_only_the_steps_the_table_allows(actions: list[str]) -> None:
    mode = Mode.TALKING
    for action in actions:
        if action not in CALL.allowed(mode):
            with pytest.raises(InvalidTransition) as refused:
                state.after(mode, action)
            assert refused.value.extra["current"] == mode.value
            assert refused.value.extra["allowed"] == CALL.allowed(mode)
            continue
        after = state.after(mode, action)
        target = CALL.transitions[action].target
        assert after == (target if target is not None else mode)  # work that keeps the mode keeps it
        mode = after


def test_every_mode_is_reachable_and_a_transferring_call_leaves_only_by_being_connected() -> None:
    assert CALL.reachable(Mode.TALKING) == frozenset(Mode)
    leaving = {a for a, t in CALL.transitions.items() if Mode.TRANSFERRING in t.sources and t.target}
    assert {CALL.transitions[a].target for a in leaving} == {Mode.TALKING}
    assert CALL.allowed(Mode.TRANSFERRING) == ["requeue", "connected"]  # no hold, keys or hang-up


def test_a_refusal_says_what_to_do_in_the_agents_words() -> None:
    with pytest.raises(InvalidTransition, match="Complete or cancel the consultation first"):
        state.check(Mode.CONSULTING, "hang_up")
    with pytest.raises(InvalidTransition, match="being transferred"):
        state.check(Mode.TRANSFERRING, "mute")
    with pytest.raises(InvalidTransition, match="three-way call already"):
        state.check(Mode.THREE_WAY, "conference")
    with pytest.raises(InvalidTransition, match="keys go to a caller you talk to"):
        state.check(Mode.HELD, "keys")


def test_only_the_one_method_writes_a_calls_mode() -> None:
    """Every `self.mode = …` in the contact layer's call code is in `CallBase.__init__` or `_move`."""
    writers = []
    for path in sorted(Path(state.__file__).parent.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(function):
                targets = (
                    node.targets
                    if isinstance(node, ast.Assign)
                    else [node.target]
                    if isinstance(node, ast.AugAssign | ast.AnnAssign)
                    else []
                )
                for target in targets:
                    names = target.elts if isinstance(target, ast.Tuple) else [target]
                    if any(
                        isinstance(n, ast.Attribute)
                        and n.attr == "mode"
                        and isinstance(n.value, ast.Name)
                        and n.value.id == "self"
                        for n in names
                    ):
                        writers.append(f"{path.name}:{function.name}")
    assert sorted(writers) == ["base.py:__init__", "base.py:_move"]
