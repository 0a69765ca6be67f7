"""Tamper-evident audit log (SPEC X2, C6).

Every write to an `Audited` model is captured automatically from the session's
flush (who, when, entity, before/after), so no service can forget it; sensitive
reads are recorded explicitly with `Tx.audit_read`. Entries are appended inside
the same transaction as the change they describe, under a lock, each carrying
the SHA-256 of its predecessor: editing or deleting any entry breaks the chain,
which `hotline audit verify` detects.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import Index, String, event, func, select, text
from sqlalchemy import inspect as orm_inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, Session, mapped_column

from hotline.core.clock import as_utc, utcnow
from hotline.core.db import Base

GENESIS = "0" * 64
_PG_AUDIT_LOCK = 0x484F544C  # "HOTL": one advisory lock serialises appends


class Audited:
    """Mixin: writes to this model are audited. `__audit_redact__` columns show as ***, and a
    dotted name (`config.dlr_key`) hides that key of a JSON column."""

    __audit_redact__: ClassVar[frozenset[str]] = frozenset()


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_entity", "entity_type", "entity_id"),
        Index("ix_audit_log_at", "at"),
    )

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(index=True)
    actor_name: Mapped[str | None] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(60), index=True)
    entity_type: Mapped[str] = mapped_column(String(60))
    entity_id: Mapped[str | None] = mapped_column(String(120))
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]
    ip: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


@dataclass(frozen=True)
class Origin:
    """Who is acting, and from where; stamped on every entry of a transaction."""

    actor_id: int | None
    actor_name: str
    ip: str | None = None
    request_id: str | None = None


@dataclass
class _Pending:
    obj: Any
    action: str
    before: dict[str, Any] | None


@dataclass
class AuditBuffer:
    """Changes captured during one transaction, written just before it commits."""

    changes: dict[int, _Pending] = field(default_factory=dict)
    explicit: list[tuple[str, str, str | None, dict[str, Any] | None, dict[str, Any] | None]] = field(
        default_factory=list
    )


def jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return value


def snapshot(obj: Any, *, before: bool = False) -> dict[str, Any]:
    """Column values of `obj`; with `before=True`, the values as loaded, ignoring pending edits."""
    state = orm_inspect(obj)
    redact: frozenset[str] = getattr(type(obj), "__audit_redact__", frozenset())
    values: dict[str, Any] = {}
    for attr in state.mapper.column_attrs:
        key = attr.key
        if before:
            history = state.attrs[key].history
            value = history.deleted[0] if history.deleted else state.dict.get(key)
        else:
            value = state.dict.get(key)
        values[key] = "***" if key in redact and value is not None else jsonable(value)
        hidden = {name.partition(".")[2] for name in redact if name.startswith(f"{key}.")}
        if hidden and isinstance(values[key], dict):
            values[key] = {k: "***" if k in hidden else v for k, v in values[key].items()}
    return values


def _entity_type(obj: Any) -> str:
    return str(obj.__tablename__)


def _entity_id(obj: Any) -> str | None:
    identity = orm_inspect(obj).identity
    if not identity:
        return None
    return ":".join(str(part) for part in identity)


def buffer_of(session: Session) -> AuditBuffer:
    buffer = session.info.get("audit")
    if buffer is None:
        buffer = session.info["audit"] = AuditBuffer()
    return buffer


@event.listens_for(Session, "before_flush")
def _capture_changes(session: Session, _context: Any, _instances: Any) -> None:
    buffer = buffer_of(session)
    for obj in session.new:
        if isinstance(obj, Audited):
            buffer.changes.setdefault(id(obj), _Pending(obj, "create", None))
    for obj in session.dirty:
        if isinstance(obj, Audited) and session.is_modified(obj, include_collections=False):
            buffer.changes.setdefault(id(obj), _Pending(obj, "update", snapshot(obj, before=True)))
    for obj in session.deleted:
        if isinstance(obj, Audited):
            pending = buffer.changes.get(id(obj))
            if pending is not None and pending.action == "create":
                del buffer.changes[id(obj)]
            else:
                before = pending.before if pending else snapshot(obj, before=True)
                buffer.changes[id(obj)] = _Pending(obj, "delete", before)


def entry_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    canonical = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


def _hashed_fields(entry: AuditEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "at": as_utc(entry.at).isoformat(timespec="microseconds"),
        "actor_id": entry.actor_id,
        "actor_name": entry.actor_name,
        "action": entry.action,
        "entity_type": entry.entity_type,
        "entity_id": entry.entity_id,
        "before": entry.before,
        "after": entry.after,
        "ip": entry.ip,
        "request_id": entry.request_id,
    }


async def flush_audit(session: AsyncSession, origin: Origin) -> int:
    """Append the transaction's audit entries to the chain. Call just before commit."""
    await session.flush()
    buffer = buffer_of(session.sync_session)
    rows: list[tuple[str, str, str | None, dict[str, Any] | None, dict[str, Any] | None]] = []
    for pending in buffer.changes.values():
        obj = pending.obj
        after = None if pending.action == "delete" else snapshot(obj)
        if pending.action == "update" and after == pending.before:
            continue
        action = f"{_entity_type(obj)}.{pending.action}"
        rows.append((action, _entity_type(obj), _entity_id(obj), pending.before, after))
    rows.extend(buffer.explicit)
    buffer.changes.clear()
    buffer.explicit.clear()
    if not rows:
        return 0

    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_AUDIT_LOCK})
    last = (
        await session.execute(
            select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
        )
    ).first()
    seq, prev_hash = (last.seq, last.hash) if last else (0, GENESIS)
    now = utcnow()
    for action, entity_type, entity_id, before, after in rows:
        seq += 1
        entry = AuditEntry(
            at=now,
            actor_id=origin.actor_id,
            actor_name=origin.actor_name,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            before=before,
            after=after,
            ip=origin.ip,
            request_id=origin.request_id,
        )
        prev_hash = link(entry, seq, prev_hash)
        session.add(entry)
    await session.flush()
    return len(rows)


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_bad_seq: int | None
    reason: str | None = None


def link(entry: AuditEntry, seq: int, prev_hash: str) -> str:
    """Give `entry` its place in the chain; returns its hash, the next entry's `prev_hash`."""
    entry.seq, entry.prev_hash = seq, prev_hash
    entry.hash = entry_hash(prev_hash, _hashed_fields(entry))
    return entry.hash


class ChainCheck:
    """Checks entries fed in order; stops at the first one missing or not matching."""

    def __init__(self) -> None:
        self.prev_hash, self.expected_seq, self.checked = GENESIS, 1, 0
        self.failure: tuple[int, str] | None = None

    def add(self, entry: AuditEntry) -> bool:
        if entry.seq != self.expected_seq:
            self.failure = (self.expected_seq, "entry missing")
        elif entry.prev_hash != self.prev_hash:
            self.failure = (entry.seq, "link to previous entry broken")
        elif entry_hash(self.prev_hash, _hashed_fields(entry)) != entry.hash:
            self.failure = (entry.seq, "entry altered")
        else:
            self.prev_hash, self.expected_seq, self.checked = entry.hash, entry.seq + 1, self.checked + 1
        return self.failure is None

    def result(self) -> VerifyResult:
        if self.failure is None:
            return VerifyResult(True, self.checked, None)
        return VerifyResult(False, self.checked, self.failure[0], self.failure[1])


def verify_entries(entries: Iterable[AuditEntry]) -> VerifyResult:
    check = ChainCheck()
    for entry in entries:
        if not check.add(entry):
            break
    return check.result()


async def verify_chain(session: AsyncSession, *, batch: int = 5000) -> VerifyResult:
    """Verify the whole log, reading it in batches."""
    check, after = ChainCheck(), 0
    while True:
        rows = (
            await session.scalars(
                select(AuditEntry).where(AuditEntry.seq > after).order_by(AuditEntry.seq).limit(batch)
            )
        ).all()
        for row in rows:
            if not check.add(row):
                return check.result()
        if len(rows) < batch:
            return check.result()
        after = rows[-1].seq


async def count_entries(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(AuditEntry)) or 0)
