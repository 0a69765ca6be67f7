"""Agent presence (R1) as a lifecycle (`core.lifecycle`): the table of transitions is data, pure
(no database, no clock but the `at` given).

    logged_out ──login──▶ not_ready ◀──── not_ready(reason) ─────┐
        ▲                   │ ready  ▲ missed (offer not taken)   │
      logout                ▼        │                            │
        └───────────────  ready ──offer──▶ ringing ──answer──▶ on_call ──hung_up──▶ wrap_up
                            ▲          withdrawn │                ⟲ take_over          │
                            └────────────────────┴──────────── wrap_over / ready ──────┘
    ready, not_ready, wrap_up ──dial──▶ on_call (a call out)
    ringing, on_call ──reconcile──▶ not_ready (the call no longer exists)

`logout` is open from every state but ringing and on a call; `ready` and `not_ready` from ready,
not ready and wrap-up (a new reason, or ready again). A missed offer makes the agent not ready
(`Presence(missed_offer_not_ready=False)`: ready again; the table is built for each choice), and
`hung_up` with no wrap-up time goes on to ready at once (hung_up, then wrap_over).

Rules that need more than the table, checked in `Presence.apply` after the table: an offer, a
call out or a take-over names a call, and no other agent is on that call (`CallTaken`); an
answer is refused if another agent answered the same call first (ring-all); `reconcile` clears
only a call that no longer exists (`CallStillLive`). Every refusal is an `InvalidTransition`
(409) and changes nothing; every change returns the `AgentChange` to append to the event log.
Presence is driven by the process itself (the queue runner, the API through it), so it acts as
`SYSTEM`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum

from hotline.core.errors import InvalidTransition
from hotline.core.lifecycle import Lifecycle, transition


class AgentState(StrEnum):
    LOGGED_OUT = "logged_out"
    NOT_READY = "not_ready"
    READY = "ready"
    RINGING = "ringing"
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"


OUT, NOT_READY, READY, RINGING, ON_CALL, WRAP_UP = tuple(AgentState)
BUSY = frozenset({RINGING, ON_CALL})
"""States that hold a call (the agent's `call_id` is set exactly then)."""


def lifecycle(*, missed_offer_not_ready: bool = True) -> Lifecycle[AgentState]:
    """The presence table; a missed offer leads to not ready, or (when configured) ready."""
    return Lifecycle(
        "agent",
        tuple(AgentState),
        (
            transition("login", {OUT}, NOT_READY),
            transition("logout", {OUT, NOT_READY, READY, WRAP_UP}, OUT),
            transition("ready", {NOT_READY, READY, WRAP_UP}, READY),
            transition("not_ready", {NOT_READY, READY, WRAP_UP}, NOT_READY),
            transition("offer", {READY}, RINGING),
            transition("answer", {RINGING}, ON_CALL),
            transition("dial", {NOT_READY, READY, WRAP_UP}, ON_CALL),
            transition("take_over", {ON_CALL}, ON_CALL),
            transition("missed", {RINGING}, NOT_READY if missed_offer_not_ready else READY),
            transition("withdrawn", {RINGING}, READY),
            transition("hung_up", {ON_CALL}, WRAP_UP),
            transition("wrap_over", {WRAP_UP}, READY),
            transition("reconcile", BUSY, NOT_READY),
        ),
        labels={s.value: s.value.replace("_", " ") for s in AgentState},
    )


PRESENCE = lifecycle()
LENIENT = lifecycle(missed_offer_not_ready=False)
VERBS = {
    "login": "log in", "logout": "log out", "ready": "become ready", "not_ready": "become not ready",
    "offer": "be offered a call", "answer": "answer", "dial": "call out", "take_over": "take a call over",
    "missed": "miss an offer", "withdrawn": "have an offer withdrawn", "hung_up": "end a call",
    "wrap_over": "finish wrap-up", "reconcile": "have a call cleared",
}  # fmt: skip


class CallTaken(InvalidTransition):
    """The call an offer, a call out or a take-over names is with another agent already."""


class CallStillLive(InvalidTransition):
    """`reconcile` clears only calls that no longer exist."""


@dataclass(frozen=True)
class Agent:
    agent_id: int
    state: AgentState = AgentState.LOGGED_OUT
    reason: str = ""  # why not ready (break, meeting, missed offer, …)
    call_id: str | None = None
    since: float = 0.0  # when the current state began
    wrap_until: float | None = None
    queues: frozenset[str] = frozenset()


@dataclass(frozen=True)
class AgentChange:
    """One line of the agent event log."""

    agent_id: int
    at: float
    before: AgentState
    after: AgentState
    event: str
    reason: str = ""
    call_id: str | None = None


def _seconds(detail: dict[str, object]) -> float:
    value = detail.get("wrap_seconds")
    return float(value) if isinstance(value, int | float) else 0.0


def _entered(agent: Agent, state: AgentState, at: float, detail: dict[str, object]) -> Agent:
    """The agent in `state`, with what that state keeps (a reason, a call, a wrap-up deadline)."""
    if state is OUT:
        return Agent(agent.agent_id)
    if state is NOT_READY:
        reason = str(detail.get("reason") or "not ready")
        return replace(agent, state=state, reason=reason, call_id=None, wrap_until=None)
    if state is WRAP_UP:
        return replace(agent, state=state, call_id=None, wrap_until=at + _seconds(detail))
    call_id = agent.call_id if state in BUSY else None
    reason = agent.reason if state is ON_CALL and agent.state is ON_CALL else ""
    return replace(agent, state=state, reason=reason, call_id=call_id, wrap_until=None)


@dataclass
class Presence:
    """The agents of a node, and the rules for changing their state."""

    missed_offer_not_ready: bool = True
    """A missed offer puts the agent in not-ready (so the next call does not ring an empty desk)."""
    agents: dict[int, Agent] = field(default_factory=dict)

    @property
    def lifecycle(self) -> Lifecycle[AgentState]:
        return PRESENCE if self.missed_offer_not_ready else LENIENT

    def agent(self, agent_id: int) -> Agent:
        return self.agents.get(agent_id) or Agent(agent_id)

    def restore(self, agent: Agent) -> None:
        """An agent's state as the event log last recorded it (a restart): taken as it is."""
        self.agents[agent.agent_id] = agent

    def holding(self, call_id: str) -> list[int]:
        """Agents on this call (ringing agents of a ring-all queue are not on it yet)."""
        return [a.agent_id for a in self.agents.values() if a.call_id == call_id and a.state is ON_CALL]

    def allowed(self, agent_id: int) -> list[str]:
        """The events the agent's state allows now (the table; the call rules come on top)."""
        return self.lifecycle.allowed(self.agent(agent_id).state)

    def apply(self, agent_id: int, event: str, at: float, **detail: object) -> AgentChange:
        """Apply a presence event; raises `InvalidTransition` (nothing changes) when the table or
        the call rules refuse it."""
        current = self.agent(agent_id)
        try:
            step = self.lifecycle.apply(current.state, event)
        except InvalidTransition as exc:
            verb = VERBS.get(event, event)
            raise InvalidTransition(
                f"agent {agent_id} is {current.state.value}: cannot {verb}",
                **exc.extra,
                reason="agent-cannot",
                params={"agent_id": agent_id, "value": current.state.value, "verb": verb},
            ) from exc
        self._check_call(current, event, detail)
        after = AgentState(step.after)
        updated = _entered(current, after, at, detail)
        if event == "login":
            queues = detail.get("queues")
            chosen = (
                frozenset(str(q) for q in queues)
                if isinstance(queues, frozenset | set | list | tuple)
                else frozenset()
            )
            updated = replace(updated, reason="logged in", queues=chosen)
        elif event in ("offer", "dial", "take_over"):
            updated = replace(updated, call_id=str(detail["call_id"]))
        elif event == "missed" and after is NOT_READY:
            updated = replace(updated, reason="missed offer")
        elif event == "reconcile":
            updated = replace(updated, reason="cleared: call no longer exists")
        elif event == "hung_up" and _seconds(detail) <= 0:  # no wrap-up: on to ready at once
            updated = _entered(updated, AgentState(self.lifecycle.apply(after, "wrap_over").after), at, {})
        if updated.state is not current.state or updated.reason != current.reason:
            updated = replace(updated, since=at)
        self.agents[agent_id] = updated
        return AgentChange(
            agent_id,
            at,
            current.state,
            updated.state,
            event,
            updated.reason,
            updated.call_id or current.call_id,
        )

    def _check_call(self, agent: Agent, event: str, detail: dict[str, object]) -> None:
        """The rules about the call that the table cannot say."""
        if event in ("offer", "dial", "take_over"):
            call_id = str(detail.get("call_id") or "")
            if not call_id or self.holding(call_id):
                raise CallTaken(
                    f"call {call_id!r} is already with an agent",
                    rule="call",
                    reason="call-already-agent",
                    params={"call_id": repr(call_id)},
                )
        elif event == "answer" and agent.call_id is not None and self.holding(agent.call_id):
            raise CallTaken(
                f"call {agent.call_id!r} was answered by another agent",
                rule="call",
                reason="call-was-answered-another-agent",
                params={"call_id": repr(agent.call_id)},
            )
        elif event == "reconcile":
            live = detail.get("live_calls")
            if isinstance(live, frozenset | set) and agent.call_id in live:
                raise CallStillLive(
                    f"call {agent.call_id!r} still exists",
                    rule="call",
                    reason="call-still-exists",
                    params={"call_id": repr(agent.call_id)},
                )

    def reconcile(self, agent_id: int, at: float, live_calls: frozenset[str]) -> AgentChange | None:
        """Clear a ringing or on-call state whose call is gone (a lost BYE, a crashed node), and
        say so in the change; None when there is nothing to clear."""
        agent = self.agent(agent_id)
        if agent.state not in BUSY or agent.call_id in live_calls:
            return None
        return self.apply(agent_id, "reconcile", at, live_calls=live_calls)
