"""Agent presence (R1) as an explicit state machine.

    logged out ──login──▶ not ready ◀──────────────┐
                             │ ready      ▲ not_ready(reason) / missed offer
                             ▼            │
                           ready ──offer──▶ ringing ──answer──▶ on call ──hang up──▶ wrap-up
                             ▲                │ missed          ▲ ⟲ take over          │
                             └────────────────┴───────────── wrap-up over ───────────┘
                      ready / not ready / wrap-up ──dial──▶ on call (a call out)

Every change goes through `Presence.apply`, which refuses what the current state does not allow
(`InvalidTransition`, nothing changes) and returns the `AgentChange` to append to the event log.
An agent holds at most one call and a call at most one agent (several may ring for it in a
ring-all queue, one answers); `reconcile` clears a ringing or on-call state whose call no
longer exists (a lost BYE, a crashed node) and says so in the change it records.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum

from hotline.core.errors import InvalidTransition


class AgentState(StrEnum):
    LOGGED_OUT = "logged_out"
    NOT_READY = "not_ready"
    READY = "ready"
    RINGING = "ringing"
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"


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


@dataclass
class Presence:
    """The agents of a node, and the rules for changing their state."""

    missed_offer_not_ready: bool = True
    """A missed offer puts the agent in not-ready (so the next call does not ring an empty desk)."""
    agents: dict[int, Agent] = field(default_factory=dict)

    def agent(self, agent_id: int) -> Agent:
        return self.agents.get(agent_id) or Agent(agent_id)

    def restore(self, agent: Agent) -> None:
        """An agent's state as the event log last recorded it (a restart): taken as it is."""
        self.agents[agent.agent_id] = agent

    def holding(self, call_id: str) -> list[int]:
        """Agents on this call (ringing agents of a ring-all queue are not on it yet)."""
        return [
            a.agent_id for a in self.agents.values() if a.call_id == call_id and a.state is AgentState.ON_CALL
        ]

    def apply(self, agent_id: int, event: str, at: float, **detail: object) -> AgentChange:
        current = self.agent(agent_id)
        handler = getattr(self, f"_{event}", None)
        if handler is None:
            raise InvalidTransition(f"unknown agent event {event!r}")
        updated: Agent = handler(current, at, **detail)
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

    @staticmethod
    def _refuse(agent: Agent, event: str) -> InvalidTransition:
        return InvalidTransition(f"agent {agent.agent_id} is {agent.state.value}: cannot {event}")

    # ---------------------------------------------------------------- transitions

    def _login(self, agent: Agent, at: float, queues: frozenset[str] = frozenset()) -> Agent:
        if agent.state is not AgentState.LOGGED_OUT:
            raise self._refuse(agent, "log in")
        return Agent(agent.agent_id, AgentState.NOT_READY, "logged in", queues=frozenset(queues))

    def _logout(self, agent: Agent, at: float) -> Agent:
        if agent.state in (AgentState.RINGING, AgentState.ON_CALL):
            raise self._refuse(agent, "log out during a call")
        return Agent(agent.agent_id)

    def _ready(self, agent: Agent, at: float) -> Agent:
        if agent.state not in (AgentState.NOT_READY, AgentState.WRAP_UP, AgentState.READY):
            raise self._refuse(agent, "become ready")
        return replace(agent, state=AgentState.READY, reason="", call_id=None, wrap_until=None)

    def _not_ready(self, agent: Agent, at: float, reason: str = "") -> Agent:
        if agent.state not in (AgentState.READY, AgentState.NOT_READY, AgentState.WRAP_UP):
            raise self._refuse(agent, "become not ready")
        return replace(
            agent, state=AgentState.NOT_READY, reason=reason or "not ready", call_id=None, wrap_until=None
        )

    def _offer(self, agent: Agent, at: float, call_id: str = "") -> Agent:
        if agent.state is not AgentState.READY:
            raise self._refuse(agent, "be offered a call")
        if not call_id or self.holding(call_id):
            raise InvalidTransition(f"call {call_id!r} is already with an agent")
        return replace(agent, state=AgentState.RINGING, call_id=call_id)  # several may ring (ring-all)

    def _answer(self, agent: Agent, at: float) -> Agent:
        if agent.state is not AgentState.RINGING:
            raise self._refuse(agent, "answer")
        if agent.call_id is not None and self.holding(agent.call_id):
            raise InvalidTransition(f"call {agent.call_id!r} was answered by another agent")
        return replace(agent, state=AgentState.ON_CALL)

    def _dial(self, agent: Agent, at: float, call_id: str = "") -> Agent:
        """The agent calls out from the desktop (click-to-dial): on that call until it ends."""
        if agent.state not in (AgentState.READY, AgentState.NOT_READY, AgentState.WRAP_UP):
            raise self._refuse(agent, "call out")
        if not call_id or self.holding(call_id):
            raise InvalidTransition(f"call {call_id!r} is already with an agent")
        return replace(agent, state=AgentState.ON_CALL, reason="", call_id=call_id, wrap_until=None)

    def _take_over(self, agent: Agent, at: float, call_id: str = "") -> Agent:
        """A consulted colleague takes the caller over (transfer completed): still on a call, now
        the caller's."""
        if agent.state is not AgentState.ON_CALL:
            raise self._refuse(agent, "take a call over")
        if not call_id or self.holding(call_id):
            raise InvalidTransition(f"call {call_id!r} is already with an agent")
        return replace(agent, call_id=call_id)

    def _missed(self, agent: Agent, at: float) -> Agent:
        if agent.state is not AgentState.RINGING:
            raise self._refuse(agent, "miss an offer")
        if self.missed_offer_not_ready:
            return replace(agent, state=AgentState.NOT_READY, reason="missed offer", call_id=None)
        return replace(agent, state=AgentState.READY, call_id=None)

    def _withdrawn(self, agent: Agent, at: float) -> Agent:
        """The caller hung up (or was served elsewhere) while this agent's phone rang: not the
        agent's fault, so back to ready."""
        if agent.state is not AgentState.RINGING:
            raise self._refuse(agent, "have an offer withdrawn")
        return replace(agent, state=AgentState.READY, call_id=None)

    def _hung_up(self, agent: Agent, at: float, wrap_seconds: float = 0.0) -> Agent:
        if agent.state is not AgentState.ON_CALL:
            raise self._refuse(agent, "end a call")
        if wrap_seconds > 0:
            return replace(agent, state=AgentState.WRAP_UP, call_id=None, wrap_until=at + wrap_seconds)
        return replace(agent, state=AgentState.READY, call_id=None)

    def _wrap_over(self, agent: Agent, at: float) -> Agent:
        if agent.state is not AgentState.WRAP_UP:
            raise self._refuse(agent, "finish wrap-up")
        return replace(agent, state=AgentState.READY, wrap_until=None)

    def _reconcile(self, agent: Agent, at: float, live_calls: frozenset[str] = frozenset()) -> Agent:
        """Clear a ringing/on-call state whose call is gone; anything else is left as it is."""
        if agent.state in (AgentState.RINGING, AgentState.ON_CALL) and agent.call_id not in live_calls:
            return replace(
                agent, state=AgentState.NOT_READY, reason="cleared: call no longer exists", call_id=None
            )
        return agent
