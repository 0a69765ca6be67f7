"""Durable domain events: the events a service marks `durable` are written in the same
transaction as the change they describe, so work that must follow a change — a confirmation SMS
after a booking — cannot be lost to a crash between the commit and a subscriber.

A consumer (notify) polls for events not yet handled and claims each with a compare-and-set on
`handled_at` inside the transaction that does its work: if the work rolls back, so does the
claim, and the event is picked up again; two nodes never both handle one event.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from hotline.core.clock import utcnow
from hotline.core.db import Base
from hotline.core.events import Event


class DomainEvent(Base):
    __tablename__ = "domain_events"
    __table_args__ = (Index("ix_domain_events_pending", "handled_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    handled_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(String(300))


def store(session: AsyncSession, events: Sequence[Event]) -> None:
    """Add the durable ones among `events` to the transaction."""
    for event in events:
        if event.durable:
            session.add(DomainEvent(name=event.name, data=event.model_dump(mode="json"),
                                    occurred_at=event.occurred_at))  # fmt: skip


async def pending(session: AsyncSession, limit: int = 100) -> list[tuple[int, Event]]:
    """The oldest events not handled yet, decoded (unknown names are skipped)."""
    rows = (
        await session.execute(
            select(DomainEvent.id, DomainEvent.name, DomainEvent.data)
            .where(DomainEvent.handled_at.is_(None))
            .order_by(DomainEvent.id)
            .limit(limit)
        )
    ).all()
    found = []
    for event_id, name, data in rows:
        event_type = Event.type_named(name)
        if event_type is not None:
            found.append((event_id, event_type.model_validate(data)))
    return found


async def claim(session: AsyncSession, event_id: int, *, error: str | None = None) -> bool:
    """Mark the event handled in this transaction; False if another node did first."""
    result = await session.execute(
        update(DomainEvent)
        .where(DomainEvent.id == event_id, DomainEvent.handled_at.is_(None))
        .values(handled_at=utcnow(), error=error[:300] if error else None)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def purge(session: AsyncSession, older_than: datetime) -> int:
    """Forget events handled before `older_than` (their effects are kept where they belong)."""
    result = await session.execute(
        delete(DomainEvent).where(DomainEvent.handled_at.is_not(None), DomainEvent.handled_at < older_than)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
