"""One shape for everything with states: reservations, travel orders, tickets, agents, live calls.

A `Lifecycle` is a table of `Transition`s declared as data: the action, the states it starts
from, the state it leads to, and who may take it. Three questions are asked of it, and only of it:

- `check(state, action, who)`: the transition, or the domain error naming the rule it breaks
  (an unknown action, the wrong state, the wrong role, a person taking a step only the system
  takes, or the reverse), and nothing changes;
- `allowed(state, who)`: the actions open now, in declaration order. The API sends these with
  every stateful thing, so no screen re-encodes a rule;
- `apply(state, action, who)`: the `Step` to record (before, after, by).

Rules that need more than the table (a note required, the processor who may not audit) stay in
the domain's `state.py`, checked after `check` and before the change is written. A domain keeps
its history in a table that mixes in `HistoryRow`, one row per `Step`.

`who` is a `Who`: the roles of the person acting, or `SYSTEM` for the process's own jobs.
Presence and live calls, which only the process itself drives, pass `SYSTEM`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, Generic, TypeVar

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from hotline.core.clock import utcnow
from hotline.core.errors import HotlineError, InvalidTransition, PermissionDenied
from hotline.core.messages import ROLES_ZH

S = TypeVar("S", bound=str)


class WrongRole(PermissionDenied):
    code = "wrong-role"
    title = "Your role does not take this step"


class UnknownAction(InvalidTransition):
    code = "unknown-action"
    status = 422
    title = "No such action"


@dataclass(frozen=True)
class Who:
    """Who takes a step: a person with roles, or the system (a job, the voice node)."""

    roles: frozenset[str] = frozenset()
    user_id: int | None = None
    system: bool = False

    @classmethod
    def person(cls, roles: Iterable[str], user_id: int | None = None) -> Who:
        return cls(frozenset(roles), user_id)


SYSTEM = Who(system=True)
ADMIN_ROLE = "admin"


@dataclass(frozen=True)
class Transition(Generic[S]):
    """One action of a lifecycle.

    `roles` empty: any person the route lets in (the route's permission decides). `by` says who
    may take it at all: "anyone", "people" (a person signs for it: the system may not) or
    "system" (a job or the voice node: people may not). Admins take any step people may.
    `target` None: work that leaves the state as it is (a follow-up on an order).
    """

    action: str
    sources: frozenset[S]
    target: S | None
    roles: frozenset[str] = frozenset()
    by: str = "anyone"
    label: str = ""

    def open_to(self, who: Who) -> bool:
        if who.system:
            return self.by != "people"
        if self.by == "system":
            return False
        return not self.roles or ADMIN_ROLE in who.roles or bool(self.roles & who.roles)


def transition(
    action: str,
    sources: Iterable[S],
    target: S | None,
    *,
    roles: Iterable[str] = (),
    by: str = "anyone",
    label: str = "",
) -> Transition[S]:
    if by not in ("anyone", "people", "system"):
        raise ValueError(f"by must be anyone, people or system, not {by!r}")
    return Transition(action, frozenset(sources), target, frozenset(roles), by, label)


@dataclass(frozen=True)
class Step(Generic[S]):
    """What a transition did: the row a history table records."""

    action: str
    before: S
    after: S
    by: int | None


class Lifecycle(Generic[S]):
    """A named table of transitions; see the module docstring."""

    def __init__(
        self,
        name: str,
        states: Iterable[S],
        transitions: Iterable[Transition[S]],
        *,
        refused: type[HotlineError] = InvalidTransition,
        labels: dict[str, str] | None = None,
        role_names: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.states: tuple[S, ...] = tuple(states)
        self.transitions: dict[str, Transition[S]] = {}
        for t in transitions:
            if t.action in self.transitions:
                raise ValueError(f"{name}: action {t.action!r} declared twice")
            unknown = (set(t.sources) | ({t.target} if t.target is not None else set())) - set(self.states)
            if unknown:
                raise ValueError(f"{name}: action {t.action!r} names unknown states {sorted(unknown)}")
            self.transitions[t.action] = t
        self.refused = refused
        self.labels = labels or {}
        self.role_names = role_names or {}
        """How a refusal names the roles that may take a step ("a planner"), in this order."""

    @property
    def actions(self) -> tuple[str, ...]:
        return tuple(self.transitions)

    def _said(self, state: str) -> str:
        label = self.labels.get(state)
        return f"{label} ({state})" if label else state

    def check(self, state: S, action: str, who: Who = SYSTEM) -> Transition[S]:
        t = self.transitions.get(action)
        if t is None:
            raise UnknownAction(
                f"A {self.name} has no action {action!r}",
                field="body.action",
                allowed=list(self.actions),
                reason="no-action",
                params={"name": self.name, "action": repr(action)},
            )
        if not t.open_to(who):
            roles_zh = "、".join(ROLES_ZH.get(r, r) for r in sorted(t.roles) if r != ADMIN_ROLE)
            params = {
                "action": t.label or action,
                "name": self.name,
                "who": self._who_may(t),
                "roles_zh": roles_zh,
            }
            if t.by == "system":
                detail, reason = (
                    f"Only the system takes the step {action} of a {self.name}",
                    "step-system-only",
                )
            elif who.system:
                detail = f"A person signs for the step {action} of a {self.name}, not the system"
                reason = "step-needs-person"
            elif t.roles and self.role_names:
                detail = f"Only {self._who_may(t)} may take the step {action}" + (
                    f" ({t.label})" if t.label else ""
                )
                reason = "step-other-roles"
            else:
                detail, reason = (
                    f"Your role does not take the step {action} of a {self.name}",
                    "step-not-your-role",
                )
            raise WrongRole(detail, rule="role", allowed=sorted(t.roles), reason=reason, params=params)
        if state not in t.sources:
            raise self.refused(
                f"A {self.name} that is {self._said(state)} cannot take the step {action}",
                field="body.action", rule="state", current=state, allowed=self.allowed(state, who),
                reason="step-not-in-state",
                params={"name": self.name, "state": self._said(state), "action": action},
            )  # fmt: skip
        return t

    def _who_may(self, t: Transition[S]) -> str:
        named = [name for role, name in self.role_names.items() if role in t.roles and role != ADMIN_ROLE]
        if not named:
            return "the system"
        return named[0] if len(named) == 1 else f"{', '.join(named[:-1])} or {named[-1]}"

    def allowed(self, state: S, who: Who = SYSTEM) -> list[str]:
        return [a for a, t in self.transitions.items() if state in t.sources and t.open_to(who)]

    def apply(self, state: S, action: str, who: Who = SYSTEM) -> Step[S]:
        t = self.check(state, action, who)
        return Step(action, state, t.target if t.target is not None else state, who.user_id)

    def reachable(self, start: S) -> frozenset[S]:
        """Every state some sequence of actions leads to from `start` (for property tests)."""
        seen, todo = {start}, [start]
        while todo:
            here = todo.pop()
            for t in self.transitions.values():
                if here in t.sources and t.target is not None and t.target not in seen:
                    seen.add(t.target)
                    todo.append(t.target)
        return frozenset(seen)


class HistoryRow:
    """Mixin for a lifecycle's history table: one row per `Step`, who and when.

    The table adds its foreign key to the thing that changed; `__note_length__` sets how long a
    note may be.
    """

    __note_length__: ClassVar[int] = 2000

    at: Mapped[datetime] = mapped_column(default=utcnow)
    action: Mapped[str] = mapped_column(String(30), default="")
    before: Mapped[str] = mapped_column(String(20), default="")
    after: Mapped[str] = mapped_column(String(20))

    @declared_attr
    def by(cls) -> Mapped[int | None]:  # noqa: N805 - SQLAlchemy passes the class
        return mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    @declared_attr
    def note(cls) -> Mapped[str]:  # noqa: N805
        return mapped_column(String(cls.__note_length__), default="")

    def record(self, step: Step[str], note: str = "") -> None:
        self.action, self.before, self.after, self.by, self.note = (
            step.action, step.before, step.after, step.by, note,
        )  # fmt: skip
