"""Agent presence as a state machine, driven by hypothesis with any sequence of events: no agent
is ever in two states, no call is with two agents, a refused event changes nothing, and the
reconciler clears states whose call is gone."""

from __future__ import annotations

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from hotline.contact.agents.presence import AgentState, Presence
from hotline.core.errors import InvalidTransition

AGENTS = st.integers(1, 4)
CALLS = st.sampled_from(["c1", "c2", "c3"])
EVENTS = [
    "login",
    "logout",
    "ready",
    "not_ready",
    "offer",
    "answer",
    "missed",
    "withdrawn",
    "hung_up",
    "wrap_over",
    "dial",
    "take_over",
]


class PresenceMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.presence = Presence()
        self.clock = 0.0
        self.log: list[object] = []

    @rule(agent=AGENTS, event=st.sampled_from(EVENTS), call=CALLS, wrap=st.sampled_from([0.0, 30.0]))
    def act(self, agent: int, event: str, call: str, wrap: float) -> None:
        self.clock += 1
        before = dict(self.presence.agents)
        detail: dict[str, object] = {}
        if event in ("offer", "dial", "take_over"):
            detail["call_id"] = call
        if event == "hung_up":
            detail["wrap_seconds"] = wrap
        try:
            change = self.presence.apply(agent, event, self.clock, **detail)
        except InvalidTransition:
            assert self.presence.agents == before  # refused: nothing changed
            return
        self.log.append(change)
        assert change.after is self.presence.agent(agent).state

    @rule(live=st.frozensets(CALLS))
    def reconcile(self, live: frozenset[str]) -> None:
        self.clock += 1
        for agent_id in list(self.presence.agents):
            self.presence.apply(agent_id, "reconcile", self.clock, live_calls=live)
            agent = self.presence.agent(agent_id)
            assert agent.call_id is None or agent.call_id in live

    @invariant()
    def one_state_one_call(self) -> None:
        holders: dict[str, int] = {}
        for agent in self.presence.agents.values():
            busy = agent.state in (AgentState.RINGING, AgentState.ON_CALL)
            assert busy == (agent.call_id is not None)  # a call exactly when ringing or talking
            if agent.state is AgentState.ON_CALL:
                assert agent.call_id not in holders  # never two agents on one call (several may ring)
                holders[agent.call_id or ""] = agent.agent_id
            if agent.state is AgentState.LOGGED_OUT:
                assert not agent.queues and agent.reason == ""
            assert (agent.state is AgentState.WRAP_UP) == (agent.wrap_until is not None)


PresenceMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
test_presence_state_machine = PresenceMachine.TestCase


def test_a_day_of_an_agent_is_logged_with_each_change() -> None:
    presence = Presence()
    steps: list[tuple[str, dict[str, object]]] = [
        ("login", {}), ("ready", {}), ("offer", {"call_id": "c1"}), ("answer", {}),
        ("hung_up", {"wrap_seconds": 30}), ("wrap_over", {}), ("offer", {"call_id": "c2"}), ("missed", {}),
        ("ready", {}), ("logout", {}),
    ]  # fmt: skip
    changes = [presence.apply(7, event, float(n), **detail) for n, (event, detail) in enumerate(steps)]
    expected = "not_ready ready ringing on_call wrap_up ready ringing not_ready ready logged_out"
    assert [c.after.value for c in changes] == expected.split()
    assert changes[7].reason == "missed offer" and changes[2].call_id == "c1"
    with pytest.raises(InvalidTransition):
        presence.apply(7, "offer", 99.0, call_id="c3")  # logged out: cannot be offered a call
