"""The context a service runs in: who acts, with which permissions, and the way to the data.

Services take a `Context` first. `ctx.write()` opens a transaction that records
its audit entries, and only after commit runs the reactions to its events (core/reactions.py)
and publishes them;
`ctx.read()` opens a read-only session.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar, TypeVarTuple

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core import durable, reactions
from hotline.core.audit import Origin, buffer_of, flush_audit
from hotline.core.compute import ComputePool
from hotline.core.config import Settings
from hotline.core.db import Database
from hotline.core.errors import PermissionDenied
from hotline.core.events import Event, EventBus
from hotline.core.permissions import Permission

T = TypeVar("T")
Ts = TypeVarTuple("Ts")


@dataclass(frozen=True)
class Actor:
    """A signed-in user (through a session or an API token) or the system itself."""

    user_id: int | None
    username: str
    roles: frozenset[str] = frozenset()
    permissions: frozenset[Permission] = frozenset()
    display_name: str = ""
    via: str = "session"  # session | token | system | cli
    locale: str = "zh-CN"
    """The user's saved preference; what a request is worded in is `Context.locale`."""
    work_number: str | None = None

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        return cls(None, name, frozenset(), frozenset(Permission), name, via="system")


@dataclass
class Tx:
    """One unit of work: the session, plus events and audit entries to emit with it."""

    session: AsyncSession
    events: list[Event] = field(default_factory=list)

    def publish(self, event: Event) -> None:
        """Queue an event; it is published only if the transaction commits."""
        self.events.append(event)

    def audit(
        self,
        action: str,
        entity_type: str,
        entity_id: str | int | None = None,
        *,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
    ) -> None:
        """Record something that is not a row change: a login, a sensitive read, an export."""
        buffer_of(self.session.sync_session).explicit.append(
            (action, entity_type, None if entity_id is None else str(entity_id), before, after)
        )


@dataclass
class Context:
    settings: Settings
    db: Database
    bus: EventBus
    actor: Actor
    ip: str | None = None
    request_id: str | None = None
    pool: ComputePool | None = None
    """The node's compute pool (core/compute.py), for `compute()`."""
    asked_locale: str | None = None
    """The language the request asked for (Accept-Language), if it named one of ours."""

    @property
    def locale(self) -> str:
        """The language to word answers in: the request's (the UI's current language) if it asked
        for one, else the actor's saved preference. `actor.locale` stays the saved preference."""
        return self.asked_locale or self.actor.locale

    def require(self, permission: Permission) -> None:
        if not self.actor.can(permission):
            raise PermissionDenied(
                f"requires permission {permission.value}",
                permission=permission.value,
                reason="requires-permission",
                params={"value": permission.value},
            )

    async def compute(self, fn: Callable[[*Ts], T], *args: *Ts, limit: float | None = None) -> T:
        """`fn(*args)` in a worker process, off the event loop, within a time limit: the one way
        to do CPU-heavy work (core/compute.py)."""
        if self.pool is None:
            raise RuntimeError("this context has no compute pool")
        return await self.pool.run(fn, *args, limit=limit)

    @property
    def origin(self) -> Origin:
        return Origin(self.actor.user_id, self.actor.username, self.ip, self.request_id)

    @asynccontextmanager
    async def read(self, *, transaction: bool = False) -> AsyncIterator[AsyncSession]:
        """A session to read with (on PostgreSQL without a transaction unless asked: core/db.py)."""
        async with self.db.read(transaction=transaction) as session:
            yield session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[Tx]:
        async with self.db.write() as session:
            tx = Tx(session)
            yield tx
            durable.store(session, tx.events)
            await flush_audit(session, self.origin)
        await reactions.react(self, tx.events)
        for event in tx.events:
            await self.bus.publish(event)

    def as_actor(self, actor: Actor) -> Context:
        return Context(
            self.settings, self.db, self.bus, actor, self.ip, self.request_id, self.pool, self.asked_locale
        )
