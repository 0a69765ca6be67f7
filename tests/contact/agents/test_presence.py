"""Agent presence as a lifecycle, driven by hypothesis with any sequence of events: no agent is ever
in two states, no call is with two agents, a refused event changes nothing, what the table allows
is what `apply` accepts (but for the call rules, which refuse with their own errors), and the
reconciler clears states whose call is gone."""

from __future__ import annotations

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from hotline.contact.agents.presence import LENIENT, PRESENCE, AgentState, CallStillLive, CallTaken, Presence
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
    "reconcile",
]


class PresenceMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.presence = Presence()
        self.clock = 0.0
        self.log: list[object] = []

    @rule(
        agent=AGENTS,
        event=st.sampled_from(EVENTS),
        call=CALLS,
        wrap=st.sampled_from([0.0, 30.0]),
        live=st.frozensets(CALLS),
    )
    def act(self, agent: int, event: str, call: str, wrap: float, live: frozenset[str]) -> None:
        self.clock += 1
        before = dict(self.presence.agents)
        allowed = event in self.presence.allowed(agent)
        detail: dict[str, object] = {}
        if event in ("offer", "dial", "take_over"):
            detail["call_id"] = call
        if event == "hung_up":
            detail["wrap_seconds"] = wrap
        if event == "reconcile":
            detail["live_calls"] = live
        try:
            change = self.presence.apply(agent, event, self.clock, **detail)
        except (CallTaken, CallStillLive):
            assert allowed  # the table allowed it; a rule about the call refused it
            assert self.presence.agents == before  # refused: nothing changed
            return
        except InvalidTransition:
            assert not allowed
            assert self.presence.agents == before
            return
        assert allowed
        self.log.append(change)
        assert change.after is self.presence.agent(agent).state

    @rule(live=st.frozensets(CALLS))
    def reconcile(self, live: frozenset[str]) -> None:
        self.clock += 1
        for agent_id in list(self.presence.agents):
            self.presence.reconcile(agent_id, self.clock, live)
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


def test_the_table_reaches_every_state_from_logged_out_and_a_missed_offer_follows_the_setting() -> None:
    assert PRESENCE.reachable(AgentState.LOGGED_OUT) == frozenset(AgentState)
    assert PRESENCE.apply(AgentState.RINGING, "missed").after == "not_ready"
    assert LENIENT.apply(AgentState.RINGING, "missed").after == "ready"
    assert "logout" not in PRESENCE.allowed(AgentState.ON_CALL)  # finish the call first


def test_a_call_rule_refuses_a_second_agent_on_a_call_and_clearing_a_live_call() -> None:
    presence = Presence()
    for agent in (1, 2):
        presence.apply(agent, "login", 0.0)
        presence.apply(agent, "ready", 0.0)
    presence.apply(1, "offer", 1.0, call_id="c1")
    presence.apply(2, "offer", 1.0, call_id="c1")  # ring-all: both ring
    presence.apply(1, "answer", 2.0)
    with pytest.raises(CallTaken):
        presence.apply(2, "answer", 2.0)  # agent 1 took it first
    assert presence.agent(2).state is AgentState.RINGING
    with pytest.raises(CallStillLive):
        presence.apply(1, "reconcile", 3.0, live_calls=frozenset({"c1"}))
    assert presence.reconcile(1, 3.0, frozenset({"c1"})) is None
    cleared = presence.reconcile(1, 4.0, frozenset())
    assert cleared is not None and cleared.after is AgentState.NOT_READY
    assert cleared.reason == "cleared: call no longer exists"
