"""Signed checkpoints of the audit chain, kept outside the database (docs/security.md).

The hash chain (core/audit.py) shows an entry edited or removed in the middle, but neither the
newest entries removed nor a chain recomputed from some entry on by someone who can write the
table. A checkpoint is the chain's head — sequence number and hash — at a moment, signed with an
Ed25519 key the database does not hold and appended to a file (and copied to other sinks: the
auditors' mailbox, a WORM store). Checkpoints are chained too (`n` and `prev`, the SHA-256 of the
line before), so one taken out of the file shows, and they come at a fixed interval, so a file
cut short, or an interval when nobody was watching, shows as a gap with its time window.

Verification (core/trail.py) reads the whole log and the checkpoint file and reports every
problem with the entries and the time window it concerns.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import json
import os
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, TypeVar

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.audit import GENESIS, AuditEntry
from hotline.core.audit_keys import SigningKey
from hotline.core.clock import as_utc, utcnow
from hotline.core.config import Settings
from hotline.core.errors import HotlineError

log = structlog.get_logger(__name__)

VERSION = 1
REASONS = ("startup", "interval", "shutdown", "manual", "backup", "restore")
"""Why a checkpoint was taken. After `shutdown` and `restore` no node is expected to be
writing, so a quiet time after them is not a gap."""
QUIET_REASONS = frozenset({"shutdown", "restore"})


def allowed_gap(interval_seconds: int) -> timedelta:
    """How far apart two checkpoints may be: two intervals and a minute, so one late run (a busy
    scheduler, a node taking over another's lease) is not an alarm but one missed run is."""
    return timedelta(seconds=2 * interval_seconds + 60)


def _canonical(data: dict[str, Any]) -> bytes:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def _time(value: Any, name: str) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"{name} is not a time")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"{name} {value!r} is not an ISO time") from exc
    if parsed.tzinfo is None:
        raise ValueError(f"{name} {value!r} has no time zone")
    return as_utc(parsed)


@dataclass(frozen=True)
class Checkpoint:
    """One line of the checkpoint file: `parse()` reads it, `line()` writes it."""

    n: int
    seq: int
    hash: str
    head_at: datetime | None
    at: datetime
    reason: str
    interval: int
    node: str
    prev: str
    key: str
    sig: str = ""

    def body(self) -> dict[str, Any]:
        return {
            "v": VERSION,
            "n": self.n,
            "seq": self.seq,
            "hash": self.hash,
            "head_at": None if self.head_at is None else self.head_at.isoformat(),
            "at": self.at.isoformat(),
            "reason": self.reason,
            "interval": self.interval,
            "node": self.node,
            "prev": self.prev,
            "key": self.key,
        }

    def message(self) -> bytes:
        """What the signature covers: every field but the signature."""
        return _canonical(self.body())

    def line(self) -> str:
        return _canonical({**self.body(), "sig": self.sig}).decode()

    def signed(self, key: SigningKey) -> Checkpoint:
        unsigned = replace(self, key=key.id, sig="")
        return replace(unsigned, sig=key.sign(unsigned.message()))

    @classmethod
    def parse(cls, line: str) -> Checkpoint:
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not JSON ({exc.msg} at column {exc.colno})") from exc
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        if data.get("v") != VERSION:
            raise ValueError(f"unknown version {data.get('v')!r}")
        ints = {name: data.get(name) for name in ("n", "seq", "interval")}
        for name, value in ints.items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name} is not a count")
        texts = {name: data.get(name) for name in ("hash", "reason", "node", "prev", "key", "sig")}
        for name, value in texts.items():
            if not isinstance(value, str):
                raise ValueError(f"{name} is not text")
        if data["reason"] not in REASONS:
            raise ValueError(f"unknown reason {data['reason']!r}")
        head_at = None if data.get("head_at") is None else _time(data["head_at"], "head_at")
        return cls(
            n=data["n"], seq=data["seq"], hash=data["hash"], head_at=head_at, at=_time(data.get("at"), "at"),
            reason=data["reason"], interval=data["interval"], node=data["node"], prev=data["prev"],
            key=data["key"], sig=data["sig"],
        )  # fmt: skip


def line_hash(line: str) -> str:
    return hashlib.sha256(line.encode()).hexdigest()


# ---------------------------------------------------------------- where checkpoints go


class CheckpointFileError(HotlineError):
    code = "audit-checkpoint-file"
    status = 503
    title = "The audit checkpoint file cannot be used"


class CheckpointSink(Protocol):
    """Somewhere a copy of each checkpoint goes and stays: the file, the auditors' mailbox, a WORM
    bucket (S3 Object Lock in compliance mode, one object per checkpoint named by `n`). A sink
    that cannot take a checkpoint raises; the file has it anyway."""

    name: str

    async def publish(self, checkpoint: Checkpoint) -> None: ...


SinkFactory = Callable[[Settings], "CheckpointSink | None"]
F = TypeVar("F", bound=SinkFactory)
_COPIES: list[SinkFactory] = []


def copies_to(factory: F) -> F:
    """Register where copies of checkpoints go besides the file (the auditors' mailbox, set up by
    notify): `factory(settings)` makes the sink, or None where the settings name none."""
    if factory not in _COPIES:
        _COPIES.append(factory)
    return factory


def registered_copies(settings: Settings) -> list[CheckpointSink]:
    return [sink for factory in _COPIES if (sink := factory(settings)) is not None]


_process_locks: dict[Path, asyncio.Lock] = {}


class CheckpointFile:
    """The checkpoint file: JSON lines, appended under an exclusive `flock` (several nodes may
    share the file on one mount) and fsynced before the append is said done."""

    name = "file"

    def __init__(self, path: Path) -> None:
        self.path = path

    @asynccontextmanager
    async def locked(self) -> AsyncIterator[None]:
        """Holds the file so that reading its last line and appending the next are one step."""
        lock = _process_locks.setdefault(self.path.resolve(), asyncio.Lock())
        async with lock:
            fd = await asyncio.to_thread(self._open_locked)
            try:
                yield
            finally:
                os.close(fd)  # closing the descriptor releases the flock

    def _open_locked(self) -> int:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o640)
        except OSError as exc:
            raise CheckpointFileError(
                f"cannot open {self.path}: {exc.strerror}",
                reason="cannot-open",
                params={"path": self.path, "strerror": exc.strerror},
            ) from exc
        fcntl.flock(fd, fcntl.LOCK_EX)
        return fd

    def lines(self) -> list[str]:
        """Every line, empty ones left out (a line cut by a crash mid-write shows as unreadable)."""
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise CheckpointFileError(
                f"cannot read {self.path}: {exc.strerror}",
                reason="cannot-read",
                params={"path": self.path, "strerror": exc.strerror},
            ) from exc
        return [line for line in text.split("\n") if line.strip()]

    def last_line(self) -> str | None:
        """The last line, reading only the file's end."""
        try:
            with self.path.open("rb") as handle:
                handle.seek(0, os.SEEK_END)
                size = handle.tell()
                handle.seek(max(0, size - 65536))
                tail = handle.read().decode("utf-8", errors="replace")
        except FileNotFoundError:
            return None
        lines = [line for line in tail.split("\n") if line.strip()]
        return lines[-1] if lines else None

    def last(self) -> Checkpoint | None:
        line = self.last_line()
        if line is None:
            return None
        try:
            return Checkpoint.parse(line)
        except ValueError:
            return None

    async def publish(self, checkpoint: Checkpoint) -> None:
        await asyncio.to_thread(self._append, checkpoint.line())

    def _append(self, line: str) -> None:
        created = not self.path.exists()
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            try:
                os.write(fd, (line + "\n").encode())
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise CheckpointFileError(
                f"cannot append to {self.path}: {exc.strerror}",
                reason="cannot-append",
                params={"path": self.path, "strerror": exc.strerror},
            ) from exc
        if created:  # the new directory entry must survive a crash too
            dir_fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)


# ---------------------------------------------------------------- taking checkpoints


@dataclass(frozen=True)
class Head:
    seq: int
    hash: str
    at: datetime | None


async def read_head(session: AsyncSession) -> Head:
    row = (
        await session.execute(
            select(AuditEntry.seq, AuditEntry.hash, AuditEntry.at).order_by(AuditEntry.seq.desc()).limit(1)
        )
    ).first()
    return Head(0, GENESIS, None) if row is None else Head(row.seq, row.hash, as_utc(row.at))


@dataclass(frozen=True)
class Problem:
    """Something verification found, and the time window it concerns (None: unknown)."""

    kind: str
    message: str
    seq: int | None = None
    since: datetime | None = None
    until: datetime | None = None

    def window(self) -> str:
        if self.since is None and self.until is None:
            return ""
        start = self.since.isoformat(timespec="seconds") if self.since else "the beginning"
        end = self.until.isoformat(timespec="seconds") if self.until else "now"
        return f"{start} – {end}"


async def _entry_at(session: AsyncSession, seq: int) -> tuple[str, datetime] | None:
    row = (await session.execute(select(AuditEntry.hash, AuditEntry.at).where(AuditEntry.seq == seq))).first()
    return None if row is None else (row.hash, as_utc(row.at))


async def head_extends(session: AsyncSession, last: Checkpoint | None, head: Head) -> list[Problem]:
    """The quick check each checkpoint makes before signing: the log still holds the entry the
    previous checkpoint named, unchanged. (The whole chain is read by `verify_trail`.)"""
    if last is None or last.seq == 0:
        return []
    if head.seq < last.seq:
        return [tail_cut(last, head)]
    anchored = await _entry_at(session, last.seq)
    if anchored is None or anchored[0] != last.hash:
        return [
            Problem(
                "log-rewritten",
                f"entry {last.seq} is missing or differs from the checkpoint of "
                f"{last.at.isoformat(timespec='seconds')}: entries up to it were altered",
                last.seq,
                None,
                last.at,
            )
        ]
    return []


def tail_cut(checkpoint: Checkpoint, head: Head) -> Problem:
    return Problem(
        "tail-cut",
        f"entries {head.seq + 1}..{checkpoint.seq} are missing: the checkpoint of "
        f"{checkpoint.at.isoformat(timespec='seconds')} says the log reached entry {checkpoint.seq}, "
        f"it ends at {head.seq}",
        head.seq + 1,
        head.at,
        checkpoint.at,
    )


class Checkpointer:
    """Takes a checkpoint: reads the head, checks it against the last checkpoint, signs it, and
    appends it to the file, then hands copies to the other sinks."""

    def __init__(
        self,
        file: CheckpointFile,
        key: SigningKey,
        *,
        interval_seconds: int,
        node: str,
        copies: Sequence[CheckpointSink] = (),
    ) -> None:
        self.file, self.key, self.interval, self.node = file, key, interval_seconds, node
        self.copies = list(copies)

    async def take(
        self,
        session: AsyncSession,
        reason: str,
        *,
        now: datetime | None = None,
        head: Head | None = None,
        unless_newer_than: timedelta | None = None,
        file_locked: bool = False,
    ) -> tuple[Checkpoint | None, list[Problem]]:
        """A checkpoint of the head (or `head`, when the caller read it from a snapshot). With
        `unless_newer_than`, nothing is taken when the last checkpoint is that recent (start-up of
        a node while another keeps the file current). Returns it with what the quick check found.
        `file_locked`: the caller holds `file.locked()` already (a backup, around its snapshot)."""
        if reason not in REASONS:
            raise ValueError(f"unknown checkpoint reason {reason!r}")
        async with contextlib.nullcontext() if file_locked else self.file.locked():
            last_line = await asyncio.to_thread(self.file.last_line)
            last = self.file.last()
            when = now or utcnow()
            if unless_newer_than is not None and last is not None and when - last.at < unless_newer_than:
                return None, []
            head = head or await read_head(session)
            problems = await head_extends(session, last, head)
            checkpoint = Checkpoint(
                n=(last.n + 1) if last else 1,
                seq=head.seq,
                hash=head.hash,
                head_at=head.at,
                at=when,
                reason=reason,
                interval=self.interval,
                node=self.node,
                prev=line_hash(last_line) if last_line else GENESIS,
                key=self.key.id,
            ).signed(self.key)
            await self.file.publish(checkpoint)
        for sink in self.copies:
            try:
                await sink.publish(checkpoint)
            except Exception as exc:  # the file has it; a mailbox down must not stop checkpoints
                log.warning("audit.checkpoint_copy_failed", sink=sink.name, error=str(exc))
                problems.append(
                    Problem("copy-failed", f"checkpoint {checkpoint.n} not sent to {sink.name}: {exc}")
                )
        return checkpoint, problems
