"""Verifying the audit trail (docs/security.md): the whole log against the signed checkpoints.

`verify_trail` reads the log in batches, re-computing the hash chain, and the checkpoint file
(core/checkpoints.py), and reports every problem with the entries and the time window it
concerns: an entry edited or removed, the newest entries cut, a recomputed chain, a checkpoint
taken out of the file or not signed by a known key, an interval when nobody was watching.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Row, Select, Text, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.audit import GENESIS, AuditEntry, ChainCheck
from hotline.core.audit_keys import Keyring
from hotline.core.checkpoints import (
    QUIET_REASONS,
    Checkpoint,
    Head,
    Problem,
    allowed_gap,
    line_hash,
    tail_cut,
)
from hotline.core.clock import as_utc, utcnow


@dataclass
class TrailReport:
    entries: int = 0
    head: Head = field(default_factory=lambda: Head(0, GENESIS, None))
    checkpoints: int = 0
    last_checkpoint: Checkpoint | None = None
    unanchored: int = 0
    """Entries after the last checkpoint: not yet vouched for (the next checkpoint will)."""
    keys: set[str] = field(default_factory=set)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def read_checkpoints(lines: Iterable[str], keyring: Keyring) -> tuple[list[Checkpoint], list[Problem]]:
    """The checkpoints whose signature holds, in file order, and what is wrong with the others
    and with the links between them."""
    valid: list[Checkpoint] = []
    problems: list[Problem] = []
    previous_line: str | None = None
    previous: Checkpoint | None = None
    for number, line in enumerate(lines, 1):
        try:
            checkpoint = Checkpoint.parse(line)
        except ValueError as exc:
            problems.append(
                Problem("checkpoint-unreadable", f"checkpoint line {number} is unreadable: {exc}")
            )
            previous_line, previous = line, None
            continue
        why = keyring.verify(checkpoint.key, checkpoint.sig, checkpoint.message())
        if why:
            problems.append(
                Problem(
                    "checkpoint-forged",
                    f"checkpoint {checkpoint.n} (line {number}) is not genuine: {why}",
                    checkpoint.seq,
                    None,
                    checkpoint.at,
                )
            )
        expected_prev = line_hash(previous_line) if previous_line is not None else GENESIS
        expected_n = previous.n + 1 if previous else (1 if previous_line is None else checkpoint.n)
        if checkpoint.prev != expected_prev or checkpoint.n != expected_n:
            since = previous.at if previous else None
            problems.append(
                Problem(
                    "checkpoints-broken",
                    f"checkpoint {checkpoint.n} (line {number}) does not follow the line before it: "
                    f"checkpoints were removed or altered between "
                    f"{since.isoformat(timespec='seconds') if since else 'the start'} and "
                    f"{checkpoint.at.isoformat(timespec='seconds')}",
                    checkpoint.seq,
                    since,
                    checkpoint.at,
                )
            )
        if not why:
            valid.append(checkpoint)
        previous_line, previous = line, checkpoint
    return valid, problems


@dataclass
class _Scan:
    check: ChainCheck = field(default_factory=ChainCheck)
    failure_window: tuple[datetime | None, datetime | None] = (None, None)
    last_good_at: datetime | None = None
    head: Head = field(default_factory=lambda: Head(0, GENESIS, None))
    wanted: set[int] = field(default_factory=set)
    found: dict[int, str] = field(default_factory=dict)

    def feed(self, rows: Sequence[Row[Any]]) -> None:
        """Runs in a worker thread: decoding and hashing a big log must not hold the event loop."""
        for raw in rows:
            row = _Entry(raw)
            if self.check.failure is None:
                if self.check.add(cast(AuditEntry, row)):
                    self.last_good_at = row.at
                else:
                    self.failure_window = (self.last_good_at, row.at)
            if row.seq in self.wanted:
                self.found[row.seq] = row.hash
        if rows:
            last = _Entry(rows[-1])
            self.head = Head(last.seq, last.hash, last.at)


_COLUMNS = ("seq", "at", "actor_id", "actor_name", "action", "entity_type", "entity_id", "ip", "request_id",
            "prev_hash", "hash")  # fmt: skip


class _Entry:
    """An audit entry as the chain check reads it, decoded off the event loop (the JSON columns
    come as text: SQLAlchemy would otherwise parse them, and build ORM objects, on the loop)."""

    def __init__(self, raw: Row[Any]) -> None:
        for name in _COLUMNS:
            setattr(self, name, getattr(raw, name))
        self.at = as_utc(raw.at)
        self.before = json.loads(raw.before) if isinstance(raw.before, str) else raw.before
        self.after = json.loads(raw.after) if isinstance(raw.after, str) else raw.after

    seq: int
    at: datetime
    hash: str


def _scan_query(after: int, batch: int) -> Select[Any]:
    columns = [getattr(AuditEntry, name) for name in _COLUMNS]
    return (
        select(
            *columns,
            sql_cast(AuditEntry.before, Text).label("before"),
            sql_cast(AuditEntry.after, Text).label("after"),
        )
        .where(AuditEntry.seq > after)
        .order_by(AuditEntry.seq)
        .limit(batch)
    )


async def verify_trail(
    session: AsyncSession,
    checkpoint_lines: Sequence[str],
    keyring: Keyring,
    *,
    now: datetime | None = None,
    batch: int = 500,
) -> TrailReport:
    """Check the whole chain, then the log against every genuine checkpoint. Small batches: the
    rows of one are fetched on the event loop (benchmarks/README.md: 500 keeps stalls < 100 ms)."""
    now = now or utcnow()
    report = TrailReport()
    checkpoints, report.problems = read_checkpoints(checkpoint_lines, keyring)
    scan = _Scan(wanted={c.seq for c in checkpoints})
    after = 0
    while True:
        rows = (await session.execute(_scan_query(after, batch))).all()
        await asyncio.to_thread(scan.feed, rows)
        if len(rows) < batch:
            break
        after = rows[-1].seq
    report.head, report.entries = scan.head, scan.check.checked
    if scan.check.failure is not None:
        seq, reason = scan.check.failure
        since, until = scan.failure_window
        report.problems.append(
            Problem("chain-broken", f"audit chain broken at entry {seq}: {reason}", seq, since, until)
        )
    report.problems.extend(_against_log(checkpoints, scan, now))
    report.checkpoints = len(checkpoints)
    report.keys = {c.key for c in checkpoints}
    if checkpoints:
        report.last_checkpoint = checkpoints[-1]
        report.unanchored = max(0, report.head.seq - max(c.seq for c in checkpoints))
    return report


def _against_log(checkpoints: list[Checkpoint], scan: _Scan, now: datetime) -> list[Problem]:
    head = scan.head
    problems: list[Problem] = []
    if not checkpoints:
        if head.seq:
            problems.append(
                Problem(
                    "no-checkpoints",
                    f"no genuine checkpoint vouches for the log's {head.seq} entries: "
                    "its newest entries could have been removed unseen",
                )
            )
        return problems
    beyond = max(checkpoints, key=lambda c: c.seq)
    if beyond.seq > head.seq:
        problems.append(tail_cut(beyond, head))
    last_good: Checkpoint | None = None
    for checkpoint in sorted(checkpoints, key=lambda c: (c.seq, c.at)):
        if checkpoint.seq > head.seq or checkpoint.seq == 0:
            continue
        if scan.found.get(checkpoint.seq) != checkpoint.hash:
            problems.append(
                Problem(
                    "log-rewritten",
                    f"entry {checkpoint.seq} is missing or differs from the checkpoint of "
                    f"{checkpoint.at.isoformat(timespec='seconds')}: entries "
                    f"{(last_good.seq + 1) if last_good else 1}..{checkpoint.seq} were altered",
                    checkpoint.seq,
                    last_good.at if last_good else None,
                    checkpoint.at,
                )
            )
            break
        last_good = checkpoint
    for before, after in itertools.pairwise(checkpoints):
        if before.reason in QUIET_REASONS or after.reason == "restore":
            continue
        if after.at - before.at > allowed_gap(before.interval):
            problems.append(
                Problem(
                    "checkpoint-gap",
                    f"no checkpoint between {before.at.isoformat(timespec='seconds')} and "
                    f"{after.at.isoformat(timespec='seconds')} (one is due every {before.interval // 60} "
                    "min): entries written then and removed before the next checkpoint would not show",
                    before.seq,
                    before.at,
                    after.at,
                )
            )
    last = checkpoints[-1]
    if last.reason not in QUIET_REASONS and now - last.at > allowed_gap(last.interval):
        problems.append(
            Problem(
                "checkpoints-stale",
                f"no checkpoint since {last.at.isoformat(timespec='seconds')} although none says the "
                "server stopped: the checkpoint job is not running, or the file was cut or replaced",
                last.seq,
                last.at,
                now,
            )
        )
    return problems
