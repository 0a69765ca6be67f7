"""The rollup: reads contact_events past its cursor, re-derives the record of every call a new line
belongs to, and changes the interval and day rows by the difference between the call's old and new
contribution — so a late line (a survey an hour later, a wrap-up, a line a node wrote late)
corrects the figures exactly. Agents' state lines change the state rows the same way.

One batch is one transaction that holds the cursor row (FOR UPDATE on PostgreSQL; SQLite writes
one at a time): two nodes running it at once never count a line twice. It runs every few seconds
on a voice node (`Roller`), and every minute as a built-in job wherever jobs run.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import and_, func, insert, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.contact.models import ContactEvent, QueueDef
from hotline.contact.stats import derive
from hotline.contact.stats.derive import Delta, Line, Record
from hotline.contact.stats.models import (
    MEASURES,
    AgentStateDay,
    AgentStateInterval,
    CallDay,
    CallInterval,
    CallRecord,
    StatsCursor,
)
from hotline.core.clock import as_utc
from hotline.core.context import Context

log = structlog.get_logger(__name__)
CURSOR = "calls"
COMPUTE_ABOVE = 400
"""Calls re-derived in a batch above which the derivation runs in the compute pool."""
INLINE_INTERVALS = 20_000
"""Splits into 15-minute intervals (bounded above) past which the state derivation leaves the loop."""


EVENT = (
    ContactEvent.id, ContactEvent.at, ContactEvent.kind, ContactEvent.call_id, ContactEvent.agent_id,
    ContactEvent.queue, ContactEvent.state, ContactEvent.detail,
)  # fmt: skip
# Rows of columns, not ORM objects: building thousands of objects every 2 s was most of its cost.
RECORD = tuple(CallRecord.__table__.c)


def _line(row: Any) -> Line:
    return Line(
        id=row.id, at=as_utc(row.at), kind=row.kind, call_id=row.call_id or "", agent_id=row.agent_id,
        queue=row.queue, state=row.state, detail=row.detail,
    )  # fmt: skip


async def roll(ctx: Context, *, batch: int = 500) -> int:
    """Take in every line logged since the cursor; how many lines were taken."""
    taken = 0
    while True:
        done = await _roll_batch(ctx, batch)
        taken += done
        if done < batch:
            return taken


async def _roll_batch(ctx: Context, batch: int) -> int:
    zone = ZoneInfo(ctx.settings.default_timezone)
    async with ctx.write() as tx:
        session = tx.session
        cursor = await session.scalar(select(StatsCursor).where(StatsCursor.name == CURSOR).with_for_update())
        if cursor is None:
            cursor = StatsCursor(name=CURSOR, position=0)
            session.add(cursor)
            await session.flush()
        rows = (
            await session.execute(
                select(*EVENT).where(ContactEvent.id > cursor.position).order_by(ContactEvent.id).limit(batch)
            )
        ).all()
        if not rows:
            return 0
        lines = [_line(row) for row in rows]
        upto = lines[-1].id
        touched = {x.call_id for x in lines if x.kind != "agent" and x.call_id}
        states, more = await _agent_states(ctx, session, [x for x in lines if x.kind == "agent"], upto)
        touched |= more
        await _calls(ctx, session, touched, upto, zone)
        await _apply_states(session, states, zone)
        cursor.position = upto
        return len(lines)


# ---------------------------------------------------------------- agents


async def _agent_states(
    ctx: Context, session: AsyncSession, new: list[Line], upto: int
) -> tuple[dict[tuple[datetime, int, str, str], int], set[str]]:
    """The state milliseconds the new agent lines change, and the calls whose wrap-up they end."""
    by_agent: dict[int, list[Line]] = defaultdict(list)
    for x in new:
        if x.agent_id is not None:
            by_agent[x.agent_id].append(x)
    work: list[tuple[int, list[Line], set[int]]] = []
    for agent_id, mine in by_agent.items():
        first = min(x.at for x in mine)
        before = (
            await session.execute(
                select(*EVENT)
                .where(
                    ContactEvent.agent_id == agent_id,
                    ContactEvent.kind == "agent",
                    ContactEvent.at < first,
                    ContactEvent.id <= upto,
                )
                .order_by(ContactEvent.at.desc(), ContactEvent.id.desc())
                .limit(1)
            )
        ).first()
        known = [
            _line(row)
            for row in (
                await session.execute(
                    select(*EVENT).where(
                        ContactEvent.agent_id == agent_id,
                        ContactEvent.kind == "agent",
                        ContactEvent.at >= first,
                        ContactEvent.id <= upto,
                    )
                )
            ).all()
        ]
        if before is not None:
            known.append(_line(before))
        every = list({x.id: x for x in (*known, *mine)}.values())
        work.append((agent_id, every, {x.id for x in mine}))
    if _intervals_touched(work) <= INLINE_INTERVALS:
        return _state_changes(work)
    # A late line far before the agent's later ones moves every 15 minutes in between (the tests'
    # fixed days under today's demo states: months of them): more work than the loop may hold.
    if ctx.pool is not None:
        return await ctx.compute(_state_changes, work)
    return await asyncio.to_thread(_state_changes, work)


def _intervals_touched(work: list[tuple[int, list[Line], set[int]]]) -> int:
    """An upper bound of the intervals `_state_changes` splits: per new line, three spans within
    the agent's lines."""
    total = 0
    for _, every, new in work:
        span = max(x.at for x in every) - min(x.at for x in every)
        total += 3 * len(new) * (int(span / derive.INTERVAL) + 2)
    return total


def _state_changes(
    work: list[tuple[int, list[Line], set[int]]],
) -> tuple[dict[tuple[datetime, int, str, str], int], set[str]]:
    out: dict[tuple[datetime, int, str, str], int] = defaultdict(int)
    calls: set[str] = set()
    for agent_id, every, new in work:
        for prev, line, nxt in _each_as_if_alone(every, new):
            for start, end, state, reason, sign in derive.state_delta(prev, line, nxt):
                for interval, part in derive.split_ms(start, end):
                    out[interval, agent_id, state, reason] += sign * part
            for near in (prev, line):  # a wrap-up's end is known (or moved): its call's record changes
                if near is not None and near.state == "wrap_up" and near.call_id:
                    calls.add(near.call_id)
    return {k: v for k, v in out.items() if v}, calls


def _each_as_if_alone(known: list[Line], new: set[int]) -> Iterator[tuple[Line | None, Line, Line | None]]:
    """For each new line, in log order, its neighbours in time (`at`, then id) among the lines logged
    before it: each line is taken as if it came alone, so a late one splits the state it falls in.
    One pass in log order over a list kept sorted by time: O(n log n), not a sort per line."""
    timeline: list[tuple[datetime, int]] = []
    lines: list[Line] = []
    for line in sorted(known, key=lambda x: x.id):
        key = (line.at, line.id)
        at = bisect.bisect_left(timeline, key)
        if line.id in new:
            yield (lines[at - 1] if at else None), line, (lines[at] if at < len(lines) else None)
        timeline.insert(at, key)
        lines.insert(at, line)


async def _apply_states(
    session: AsyncSession, changes: dict[tuple[datetime, int, str, str], int], zone: ZoneInfo
) -> None:
    if not changes:
        return
    days: dict[tuple[date, int, str, str], int] = defaultdict(int)
    for (start, agent_id, state, reason), ms in changes.items():
        days[derive.local_day(start, zone), agent_id, state, reason] += ms
    keys = list(changes)
    found = {
        (as_utc(r.start), r.agent_id, r.state, r.reason): r
        for chunk in _chunks(keys)
        for r in (
            await session.scalars(
                select(AgentStateInterval).where(
                    tuple_(
                        AgentStateInterval.start,
                        AgentStateInterval.agent_id,
                        AgentStateInterval.state,
                        AgentStateInterval.reason,
                    ).in_(chunk)
                )
            )
        ).all()
    }
    ups, news = [], []
    for key, ms in changes.items():
        if (row := found.get(key)) is not None:
            ups.append({"id": row.id, "ms": row.ms + ms})
        else:
            news.append({"start": key[0], "agent_id": key[1], "state": key[2], "reason": key[3], "ms": ms})
    await _write(session, AgentStateInterval, ups, news)
    day_keys = list(days)
    found_days = {
        (r.day, r.agent_id, r.state, r.reason): r
        for chunk in _chunks(day_keys)
        for r in (
            await session.scalars(
                select(AgentStateDay).where(
                    tuple_(
                        AgentStateDay.day, AgentStateDay.agent_id, AgentStateDay.state, AgentStateDay.reason
                    ).in_(chunk)
                )
            )
        ).all()
    }
    ups, news = [], []
    for day_key, ms in days.items():
        if (day_row := found_days.get(day_key)) is not None:
            ups.append({"id": day_row.id, "ms": day_row.ms + ms})
        else:
            news.append(
                {
                    "day": day_key[0],
                    "agent_id": day_key[1],
                    "state": day_key[2],
                    "reason": day_key[3],
                    "ms": ms,
                }
            )
    await _write(session, AgentStateDay, ups, news)


async def _write(
    session: AsyncSession, table: Any, updates: list[dict[str, Any]], inserts: list[dict[str, Any]]
) -> None:
    """Rows changed and added as two statements each (executemany), not object by object: the ORM's
    unit of work would hold the event loop for a big batch."""
    if updates:
        await session.execute(update(table), updates)
    if inserts:
        await session.execute(insert(table), inserts)


def _chunks(keys: list[Any], size: int = 200) -> list[list[Any]]:
    return [keys[i : i + size] for i in range(0, len(keys), size)]


# ---------------------------------------------------------------- calls


async def _calls(ctx: Context, session: AsyncSession, touched: set[str], upto: int, zone: ZoneInfo) -> None:
    if not touched:
        return
    ids = sorted(touched)
    by_call: dict[str, list[Line]] = defaultdict(list)
    for chunk in _chunks(ids, 500):
        for row in (
            await session.execute(
                select(*EVENT).where(ContactEvent.call_id.in_(chunk), ContactEvent.id <= upto)
            )
        ).all():
            by_call[row.call_id or ""].append(_line(row))
    wrap_ends = await _wrap_ends(session, [x for lines in by_call.values() for x in lines], upto)
    targets = {
        name: seconds
        for name, seconds in await session.execute(select(QueueDef.name, QueueDef.service_seconds))
    }
    work = [(call_id, by_call[call_id]) for call_id in ids]
    if len(work) > COMPUTE_ABOVE and ctx.pool is not None:
        fresh = await ctx.compute(_derive_all, work, targets, wrap_ends)
    else:
        fresh = _derive_all(work, targets, wrap_ends)
    old = {
        r.call_id: r
        for chunk in _chunks(ids, 500)
        for r in (await session.execute(select(*RECORD).where(CallRecord.call_id.in_(chunk)))).all()
    }
    delta = Delta()
    ups, news = [], []
    for call_id in ids:
        stored, new = old.get(call_id), fresh.get(call_id)
        delta.merge(_record_of(stored) if stored is not None else None, new)
        if new is None:
            continue
        if stored is None:
            news.append(new.columns())
        else:
            ups.append({"id": stored.id, **new.columns()})
    await _write(session, CallRecord, ups, news)
    await _apply_calls(session, delta, zone)


def _derive_all(
    work: list[tuple[str, list[Line]]], targets: dict[str, int], wrap_ends: dict[int, datetime]
) -> dict[str, Record]:
    out = {}
    for call_id, lines in work:
        record = derive.derive_record(call_id, lines, service_seconds=targets, wrap_ends=wrap_ends)
        if record is not None:
            out[call_id] = record
    return out


async def _wrap_ends(session: AsyncSession, lines: list[Line], upto: int) -> dict[int, datetime]:
    """When each wrap-up line's agent left wrap-up: their next state line (as known up to `upto`)."""
    out: dict[int, datetime] = {}
    for x in lines:
        if x.kind != "agent" or x.state != "wrap_up" or x.agent_id is None:
            continue
        after = await session.scalar(
            select(ContactEvent.at)
            .where(
                ContactEvent.agent_id == x.agent_id,
                ContactEvent.kind == "agent",
                ContactEvent.id <= upto,
                or_(ContactEvent.at > x.at, and_(ContactEvent.at == x.at, ContactEvent.id > x.id)),
            )
            .order_by(ContactEvent.at, ContactEvent.id)
            .limit(1)
        )
        if after is not None:
            out[x.id] = as_utc(after)
    return out


def _record_of(row: Any) -> Record:
    values = {name: getattr(row, name) for name in Record.__dataclass_fields__}
    values["arrived_at"] = as_utc(row.arrived_at)
    values["ended_at"] = as_utc(row.ended_at) if row.ended_at else None
    values["ivr_path"] = [list(x) for x in row.ivr_path or []]
    values["enquiries"] = list(row.enquiries or [])
    return Record(**values)


async def _apply_calls(session: AsyncSession, delta: Delta, zone: ZoneInfo) -> None:
    changes = {k: v for k, v in delta.add.items() if any(v[m] for m in MEASURES) or v["wait_max_ms"]}
    if changes:
        found = {
            (as_utc(r.start), r.dimension, r.key): r
            for chunk in _chunks(list(changes))
            for r in (
                await session.scalars(
                    select(CallInterval).where(
                        tuple_(CallInterval.start, CallInterval.dimension, CallInterval.key).in_(chunk)
                    )
                )
            ).all()
        }
        ups, news = [], []
        for key, values in changes.items():
            row = found.get(key)
            if row is None:
                news.append({"start": key[0], "dimension": key[1], "key": key[2], **values})
            else:
                ups.append({"id": row.id, **_added(row, values)})
        await _write(session, CallInterval, ups, news)
    days: dict[tuple[date, str, str], dict[str, int]] = {}
    for (start, dimension, name_key), values in changes.items():
        day = days.setdefault(
            (derive.local_day(start, zone), dimension, name_key), dict.fromkeys(MEASURES, 0)
        )
        for name in MEASURES:
            day[name] += values[name]
        day["wait_max_ms"] = max(day.get("wait_max_ms", 0), values["wait_max_ms"])
    if days:
        found_days = {
            (r.day, r.dimension, r.key): r
            for chunk in _chunks(list(days))
            for r in (
                await session.scalars(
                    select(CallDay).where(tuple_(CallDay.day, CallDay.dimension, CallDay.key).in_(chunk))
                )
            ).all()
        }
        ups, news = [], []
        for day_key, values in days.items():
            day_row = found_days.get(day_key)
            if day_row is None:
                news.append({"day": day_key[0], "dimension": day_key[1], "key": day_key[2], **values})
            else:
                ups.append({"id": day_row.id, **_added(day_row, values)})
        await _write(session, CallDay, ups, news)
    if delta.shrunk:
        await _recompute_longest(session, delta.shrunk, zone)


def _added(row: CallInterval | CallDay, values: dict[str, int]) -> dict[str, int]:
    out = {name: getattr(row, name) + values[name] for name in MEASURES}
    out["wait_max_ms"] = max(row.wait_max_ms, values.get("wait_max_ms", 0))
    return out


async def _recompute_longest(
    session: AsyncSession, keys: set[tuple[datetime, str, str]], zone: ZoneInfo
) -> None:
    """A call's wait got shorter or moved: the longest wait of its rows, again from the records
    (the only figure that cannot be corrected by a difference)."""
    column = {
        "site": None,
        "channel": CallRecord.channel,
        "queue": CallRecord.first_queue,
        "agent": CallRecord.agent_id,
        "dnis": CallRecord.dnis,
        "campaign": CallRecord.campaign,
    }
    for start, dimension, key in keys:
        if dimension not in column:
            continue
        found = column[dimension]
        where = [
            CallRecord.arrived_at >= start,
            CallRecord.arrived_at < start + derive.INTERVAL,
            CallRecord.first_queue != "",
            CallRecord.outcome != "in_progress",
        ]
        if found is not None:
            where.append(found == (int(key) if dimension == "agent" else key))
        longest = await session.scalar(select(func.coalesce(func.max(CallRecord.wait_ms), 0)).where(*where))
        row = await session.scalar(
            select(CallInterval).where(
                CallInterval.start == start, CallInterval.dimension == dimension, CallInterval.key == key
            )
        )
        if row is not None:
            row.wait_max_ms = int(longest or 0)
        day = derive.local_day(start, zone)
        day_row = await session.scalar(
            select(CallDay).where(CallDay.day == day, CallDay.dimension == dimension, CallDay.key == key)
        )
        if day_row is not None:
            longest_day = await session.scalar(
                select(func.max(CallInterval.wait_max_ms)).where(
                    CallInterval.dimension == dimension,
                    CallInterval.key == key,
                    CallInterval.start >= _day_start(day, zone),
                    CallInterval.start < _day_start(day + timedelta(days=1), zone),
                )
            )
            day_row.wait_max_ms = int(longest_day or 0)


def _day_start(day: date, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


class Roller:
    """On a voice node: roll every few seconds, so a call's figures are in the reports seconds
    after it ends. Owns its loop: `start()`, `stop()` cancels and awaits."""

    EVERY = 2.0

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="stats-rollup")

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.EVERY)
            try:
                await roll(self.ctx)
            except Exception as exc:  # the next round (or the minute's job) tries again
                log.error("stats rollup failed", error=repr(exc))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
