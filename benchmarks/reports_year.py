"""A realistic year of calls on PostgreSQL, and the reports over it (issue 21's benchmark).

    eval "$(scripts/services.sh start)"
    uv run python benchmarks/reports_year.py --database-url "$HOTLINE_TEST_DATABASE_URL" [--calls 1000000]

Empties the database, migrates it and writes a year (the 365 days before today, China time) into
contact_events with COPY: 200 agents in 10 queues of different volumes, skills and service times;
a weekly and daily shape, China's public holidays quieter, the summer busier; each day simulated
queue by queue (the agent free longest answers; a caller whose patience runs out abandons, asks
for a callback or times out; nobody on shift at night: voicemail), with IVR visits, holds,
transfers, wrap-ups, recordings, surveys, calls out, and every agent's state lines (signed in,
ready, ringing, on a call, wrap-up, not ready for lunch / a break / training, signed out).

The figures are then brought up to date: all days but the last are derived in bulk with the
rollup's own pure functions (`derive.derive_record`, `derive.Delta`, `derive.state_ms`) and written
with COPY; the last `--rolled-days` go through the real rollup (`rollup.roll`), which gives its
throughput in lines/s. Then, through the app (in-process ASGI client, signed in as a supervisor),
median of `--runs`: a month's queue report, a month's agent report (days; 15-minute intervals for
one day), a call-record search's first page with a filter; the same month's queue figures straight
from the raw events with `metrics.compute` (as the wallboard does); and the lag from a finished
call's lines being logged to the queue report including them while a `Roller` runs (median of
`--lags`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import func, insert, select, text

from hotline import domains
from hotline.admin.models import User, UserRole
from hotline.api.app import create_app
from hotline.contact.metrics import CallEvent, compute
from hotline.contact.models import ContactEvent, QueueDef
from hotline.contact.stats import derive, rollup
from hotline.contact.stats.derive import Line
from hotline.contact.stats.models import MEASURES, StatsCursor
from hotline.core.config import Settings
from hotline.core.context import Actor, Context
from hotline.core.db import Database
from hotline.core.events import InProcessBus
from hotline.core.migrate import upgrade
from hotline.core.security import hash_password

ZONE = ZoneInfo("Asia/Shanghai")
PASSWORD = "bench-reports"  # noqa: S105 - a throwaway login in the benchmark's own database
LINE_COLUMNS = ("id", "at", "kind", "call_id", "agent_id", "queue", "state", "detail")


@dataclass(frozen=True)
class Queue:
    name: str
    title: str
    skill: str
    share: float
    agents: int
    service_seconds: int
    talk_mean: float
    dnis: str


QUEUES = (
    Queue("hotel", "酒店预订", "hotel", 0.30, 56, 20, 200, "4008001000"),
    Queue("travel", "旅游线路", "travel", 0.22, 42, 30, 260, "4008002000"),
    Queue("member", "会员服务", "member", 0.12, 24, 20, 150, "4008001000"),
    Queue("vip", "贵宾专线", "vip", 0.05, 12, 10, 240, "4008001000"),
    Queue("complaints", "投诉建议", "service", 0.06, 14, 30, 360, "4008001000"),
    Queue("groups", "团队会议", "groups", 0.05, 10, 40, 420, "4008002000"),
    Queue("air", "机票", "air", 0.08, 16, 20, 180, "4008002000"),
    Queue("train", "火车票", "train", 0.06, 12, 20, 150, "4008002000"),
    Queue("english", "English line", "english", 0.03, 7, 30, 300, "4008001000"),
    Queue("corporate", "企业客户", "corporate", 0.03, 7, 20, 240, "4008002000"),
)
HOLIDAYS = {  # China's public holidays (State Council), the hotline quieter on them
    *(date(2026, 1, 1) + timedelta(days=n) for n in range(3)),
    *(date(2026, 2, 15) + timedelta(days=n) for n in range(9)),
    *(date(2026, 4, 4) + timedelta(days=n) for n in range(3)),
    *(date(2026, 5, 1) + timedelta(days=n) for n in range(5)),
    *(date(2026, 6, 19) + timedelta(days=n) for n in range(3)),
    *(date(2026, 9, 25) + timedelta(days=n) for n in range(3)),
    *(date(2026, 10, 1) + timedelta(days=n) for n in range(7)),
}
WEEKDAY = (1.15, 1.08, 1.05, 1.05, 1.0, 0.8, 0.7)
HOURS = (  # share of a day's calls per local hour
    0.3, 0.2, 0.1, 0.1, 0.1, 0.2, 0.5, 1.5, 4.0, 7.5, 9.0, 8.5, 6.0, 6.5, 8.0, 8.5, 7.5, 6.5,
    5.0, 4.5, 4.5, 3.5, 2.0, 0.8,
)  # fmt: skip
SHIFTS = ((8, 17), (10, 19), (13, 22))
BREAKS = (("小休", 15), ("午餐", 60), ("小休", 15))
WRAPS = (("预订成功", 0.45), ("咨询", 0.35), ("投诉", 0.06), ("需回电", 0.06), ("其他", 0.08))


def _local(day: date, seconds: float) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=ZONE).astimezone(UTC) + timedelta(seconds=seconds)


def _days(until: date) -> list[date]:
    return [until - timedelta(days=n) for n in range(365, 0, -1)]


def _weight(day: date) -> float:
    summer = 1.15 if day.month in (7, 8) else 1.0
    return WEEKDAY[day.weekday()] * summer * (0.45 if day in HOLIDAYS else 1.0)


@dataclass
class Agent:
    id: int
    queue: str
    shift: tuple[float, float] = (0.0, 0.0)
    free: float = 0.0
    breaks: list[tuple[float, str, int]] = field(default_factory=list)
    lines: list[tuple[float, str, str, str]] = field(default_factory=list)
    """(seconds into the day, state, reason, call id)"""

    def state(self, at: float, state: str, reason: str = "", call: str = "") -> None:
        self.lines.append((at, state, reason, call))

    def take_breaks(self, until: float) -> None:
        """Breaks due by `until` are taken as soon as the agent is free."""
        while self.breaks and self.breaks[0][0] <= max(self.free, until):
            due, reason, minutes = self.breaks.pop(0)
            start = max(due, self.free)
            self.state(start, "not_ready", reason)
            self.free = start + minutes * 60
            self.state(self.free, "ready")


class Year:
    """Generates the year day by day: lines (ids in time order) and, per day, what it derives."""

    def __init__(self, calls: int, agents: dict[str, list[int]], seed: int = 21) -> None:
        self.rng = random.Random(seed)
        self.calls = calls
        self.agents = agents
        self.next_id = 1
        self.serial = 0

    def day(self, day: date, count: int) -> list[tuple[Any, ...]]:
        rng = self.rng
        lines: list[tuple[float, str, str, int | None, str, str, str]] = []
        """(seconds, kind, call id, agent, queue, state, detail)"""
        staff: dict[str, list[Agent]] = {}
        for q in QUEUES:
            working = []
            for agent_id in self.agents[q.name]:
                if (agent_id + day.toordinal()) % 7 in (0, 1) and day.weekday() >= 5 - agent_id % 2:
                    continue  # two days off a week, mostly at the weekend
                if day in HOLIDAYS and agent_id % 3:
                    continue
                begin, end = SHIFTS[(agent_id + day.toordinal() // 7) % 3]
                agent = Agent(agent_id, q.name, (begin * 3600 + rng.uniform(-300, 300), end * 3600.0))
                agent.free = agent.shift[0] + rng.uniform(20, 90)
                agent.state(agent.shift[0], "not_ready", "签入")
                agent.state(agent.free, "ready")
                for n, (reason, minutes) in enumerate(BREAKS):
                    due = agent.shift[0] + (2 + 2.5 * n) * 3600 + rng.uniform(-900, 900)
                    agent.breaks.append((due, reason, minutes))
                if day.weekday() == 2 and agent_id % 5 == 0:
                    agent.breaks.insert(0, (agent.shift[0] + 3600, "培训", 45))
                working.append(agent)
            staff[q.name] = working
        arrivals = []
        for _ in range(count):
            hour = rng.choices(range(24), HOURS)[0]
            q = rng.choices(QUEUES, [x.share for x in QUEUES])[0]
            arrivals.append((hour * 3600 + rng.uniform(0, 3600), q))
        arrivals.sort(key=lambda x: x[0])
        for at, q in arrivals:
            self.serial += 1
            self._call(lines, f"y{self.serial:07d}", at, q, staff[q.name])
        for working in staff.values():
            for agent in working:
                agent.take_breaks(agent.shift[1])
                agent.state(max(agent.free, agent.shift[1]) + rng.uniform(0, 120), "logged_out")
                for at, state, reason, call in agent.lines:
                    lines.append((at, "agent", call, agent.id, "", state, reason))
        lines.sort(key=lambda x: x[0])
        out = []
        for at, kind, call, who, queue, state, detail in lines:
            out.append((self.next_id, _local(day, at), kind, call or None, who, queue, state, detail))
            self.next_id += 1
        return out

    def _call(
        self, lines: list[tuple[float, str, str, int | None, str, str, str]], call: str, at: float,
        q: Queue, staff: list[Agent],
    ) -> None:  # fmt: skip
        rng = self.rng

        def line(t: float, kind: str, agent: int | None = None, queue: str = "", state: str = "",
                 detail: str = "") -> None:  # fmt: skip
            lines.append((t, kind, call, agent, queue, state, detail))

        on = [a for a in staff if a.shift[0] <= at < a.shift[1] - 300]
        if rng.random() < 0.07 and on:  # a call out: a callback or a confirmation the agent dials
            agent = min(on, key=lambda a: a.free)
            agent.take_breaks(at)
            start = max(at, agent.free)
            call = "out-" + call
            line(start, "dialled", agent.id, detail=f"138{rng.randrange(10**8):08d}")
            agent.state(start, "on_call", call=call)
            if rng.random() < 0.25:
                end = start + rng.uniform(15, 40)
                line(end, "dial_failed", agent.id, detail="no-answer")
                agent.free = end + 5
                agent.state(agent.free, "ready")
                return
            answer = start + rng.uniform(5, 20)
            end = answer + rng.expovariate(1 / (q.talk_mean * 0.6))
            line(answer, "answered", agent.id)
            line(end, "ended", agent.id)
            line(end, "finished", detail="answered")
            agent.free = end + 3
            agent.state(agent.free, "ready")
            return
        caller = f"1{rng.choice('3589')}{rng.randrange(10**9):09d}"
        line(at, "arrived", queue=q.dnis, detail=f"{caller} → {q.dnis}")
        t = at + rng.uniform(3, 8)
        line(t, "ivr", queue=q.dnis, state="play", detail="welcome")
        t += rng.uniform(5, 15)
        line(t, "ivr", queue=q.dnis, state="menu", detail="menu")
        if rng.random() < 0.05:  # served by the IVR: an order's status, opening hours
            t += rng.uniform(20, 60)
            line(t, "ivr", queue=q.dnis, state="lookup", detail="order-status")
            line(
                t + rng.uniform(5, 20),
                "finished",
                detail="completed" if rng.random() < 0.8 else "caller-hung-up",
            )
            return
        queued = t + rng.uniform(1, 3)
        line(queued, "queued", queue=q.name)
        if not on:
            gone = queued + rng.uniform(10, 20)
            line(gone, "voicemail", queue=q.name, detail="after-hours")
            line(gone + rng.uniform(20, 60), "finished", detail="voicemail")
            return
        for a in on:
            a.take_breaks(queued)
        agent = min(on, key=lambda a: a.free)
        ring = rng.uniform(2, 8)
        answer = max(queued, agent.free) + ring
        patience = rng.expovariate(1 / 75)
        if answer - queued > patience:
            left = queued + patience
            if left - queued > 300:
                line(queued + 300, "timed_out", queue=q.name)
                line(queued + 300, "finished", detail="timed-out")
            elif left - queued > 30 and rng.random() < 0.3:
                line(left, "callback", queue=q.name)
                line(left + 5, "finished", detail="callback")
            else:
                line(left, "abandoned", queue=q.name)
                line(left, "finished", detail="caller-hung-up")
            return
        line(answer - ring, "offered", agent.id, queue=q.name)
        agent.state(answer - ring, "ringing", call=call)
        line(answer, "answered", agent.id, queue=q.name)
        agent.state(answer, "on_call", call=call)
        talk = max(20.0, rng.lognormvariate(math.log(q.talk_mean) - 0.18, 0.6))
        end = answer + talk
        if rng.random() < 0.15:
            hold = answer + talk * rng.uniform(0.2, 0.6)
            line(hold, "held", agent.id)
            line(min(end - 1, hold + rng.uniform(10, 90)), "resumed", agent.id)
        if rng.random() < 0.05:
            line(answer + talk * 0.8, "transferred", agent.id, queue=q.name, detail="queue:member")
        line(end, "ended", agent.id, queue=q.name)
        line(end, "finished", detail="transferred:queue:" + q.name)
        if rng.random() < 0.95:
            line(end, "recorded", agent.id, detail=f"{call}/mix.wav")
        agent.state(end, "wrap_up", call=call)
        wrapped = end + rng.uniform(8, 45)
        label = rng.choices([w for w, _ in WRAPS], [p for _, p in WRAPS])[0]
        line(wrapped, "wrapped", agent.id, detail=f"{label}: ")
        agent.state(wrapped, "ready")
        agent.free = wrapped + rng.uniform(1, 10)
        if rng.random() < 0.3:
            score = rng.choices((5, 4, 3, 2, 1), (55, 25, 10, 5, 5))[0]
            line(end + rng.uniform(15, 40), "survey", agent.id, detail=str(score))


# ---------------------------------------------------------------- the figures in bulk


class Bulk:
    """The rows the rollup would have written, from the same pure functions, a day at a time."""

    def __init__(self, targets: dict[str, int]) -> None:
        self.targets = targets
        self.last: dict[int, Line] = {}
        self.state_days: dict[tuple[date, int, str, str], int] = defaultdict(int)
        """Kept for the whole year: an evening's signed-out span is only known the next working day."""
        """Each agent's last state line so far: its span ends with their next line, maybe days on."""

    def derive(self, rows: list[tuple[Any, ...]]) -> dict[str, list[tuple[Any, ...]]]:
        lines = [Line(r[0], r[1], r[2], r[3] or "", r[4], r[5], r[6], r[7]) for r in rows]
        by_call: dict[str, list[Line]] = defaultdict(list)
        states: dict[int, list[Line]] = defaultdict(list)
        for x in lines:
            if x.call_id:
                by_call[x.call_id].append(x)
            if x.kind == "agent" and x.agent_id is not None:
                states[x.agent_id].append(x)
        wrap_ends = {}
        for own in states.values():
            for a, b in pairwise(own):
                if a.state == "wrap_up":
                    wrap_ends[a.id] = b.at
        records, delta = [], derive.Delta()
        for call_id, own in by_call.items():
            record = derive.derive_record(call_id, own, service_seconds=self.targets, wrap_ends=wrap_ends)
            if record is None:
                continue
            delta.merge(None, record)
            row = record.columns()
            row["ivr_path"] = json.dumps(row["ivr_path"])  # COPY takes a json column as its text
            records.append(tuple(row.values()))
        calls = []
        days: dict[tuple[date, str, str], dict[str, int]] = {}
        for (start, dimension, key), values in delta.add.items():
            calls.append((start, dimension, key, *(values[m] for m in MEASURES), values["wait_max_ms"]))
            day = days.setdefault((derive.local_day(start, ZONE), dimension, key), dict.fromkeys(MEASURES, 0))
            for m in MEASURES:
                day[m] += values[m]
            day["wait_max_ms"] = max(day.get("wait_max_ms", 0), values["wait_max_ms"])
        with_before = [x for own in states.values() for x in own]
        for agent_id in states:
            if agent_id in self.last:
                with_before.append(self.last[agent_id])
            self.last[agent_id] = states[agent_id][-1]
        spans = derive.state_ms(with_before)
        for (start, agent_id, state, reason), ms in spans.items():
            self.state_days[derive.local_day(start, ZONE), agent_id, state, reason] += ms
        return {
            "call_records": records,
            "call_intervals": calls,
            "call_days": [
                (d, dim, k, *(v[m] for m in MEASURES), v["wait_max_ms"]) for (d, dim, k), v in days.items()
            ],
            "agent_state_intervals": [(*k, ms) for k, ms in spans.items() if ms],
        }


RECORD_COLUMNS = tuple(derive.Record.__dataclass_fields__)
COLUMNS = {
    "call_records": RECORD_COLUMNS,
    "call_intervals": ("start", "dimension", "key", *MEASURES, "wait_max_ms"),
    "call_days": ("day", "dimension", "key", *MEASURES, "wait_max_ms"),
    "agent_state_intervals": ("start", "agent_id", "state", "reason", "ms"),
    "agent_state_days": ("day", "agent_id", "state", "reason", "ms"),
}


# ---------------------------------------------------------------- loading


async def _copy(db: Database, table: str, columns: tuple[str, ...], records: list[tuple[Any, ...]]) -> None:
    if not records:
        return
    async with db.write() as session:
        raw = (await (await session.connection()).get_raw_connection()).driver_connection
        assert raw is not None
        await raw.copy_records_to_table(table, records=records, columns=list(columns))


async def _setup(db: Database) -> dict[str, list[int]]:
    async with db.engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await upgrade(db)
    agents: dict[str, list[int]] = {}
    secret = hash_password(PASSWORD, time_cost=1, memory_kib=1024)
    async with db.write() as session:
        session.add(User(username="bench-supervisor", display_name="王主管", password_hash=secret))
        await session.flush()
        boss = await session.scalar(select(User.id).where(User.username == "bench-supervisor"))
        session.add(UserRole(user_id=boss, role="supervisor"))
        number = 0
        for q in QUEUES:
            await session.execute(
                insert(QueueDef).values(name=q.name, title=q.title, skill=q.skill, steps=[],
                                        service_seconds=q.service_seconds)
            )  # fmt: skip
            people = []
            for _ in range(q.agents):
                number += 1
                user = User(username=f"a{number:03d}", display_name=f"坐席{number:03d}", password_hash=secret)
                session.add(user)
                await session.flush()
                session.add(UserRole(user_id=user.id, role="agent"))
                people.append(user.id)
            agents[q.name] = people
    return agents


async def load(db: Database, calls: int, rolled_days: int, until: date) -> tuple[int, date]:
    """Writes the year; derives all but the last `rolled_days` in bulk. The cursor's position."""
    agents = await _setup(db)
    days = _days(until)
    weights = [_weight(d) for d in days]
    scale = calls / sum(weights)
    year = Year(calls, agents)
    bulk = Bulk({q.name: q.service_seconds for q in QUEUES})
    started, written, derived_s = time.perf_counter(), 0, 0.0
    cursor = 0
    for n, (day, weight) in enumerate(zip(days, weights, strict=True)):
        rows = year.day(day, round(weight * scale))
        await _copy(db, "contact_events", LINE_COLUMNS, rows)
        written += len(rows)
        if n < len(days) - rolled_days:
            began = time.perf_counter()
            for table, records in bulk.derive(rows).items():
                await _copy(db, table, COLUMNS[table], records)
            derived_s += time.perf_counter() - began
            cursor = rows[-1][0]
        if n % 30 == 0:
            print(f"  {day}: {written:,} lines, {time.perf_counter() - started:.0f} s", flush=True)
    await _copy(
        db,
        "agent_state_days",
        COLUMNS["agent_state_days"],
        [(*k, ms) for k, ms in bulk.state_days.items() if ms],
    )
    async with db.write() as session:
        await session.execute(
            text("SELECT setval('contact_events_id_seq', (SELECT max(id) FROM contact_events))")
        )
        await session.execute(insert(StatsCursor).values(name=rollup.CURSOR, position=cursor))
    async with db.engine.connect() as conn:
        await (await conn.execution_options(isolation_level="AUTOCOMMIT")).execute(text("ANALYZE"))
    took = time.perf_counter() - started
    print(f"wrote {written:,} lines ({year.serial:,} calls) in {took:.0f} s, of which deriving and "
          f"writing the figures {derived_s:.0f} s; the cursor at line {cursor:,}")  # fmt: skip
    return cursor, days[-rolled_days]


# ---------------------------------------------------------------- measuring


async def timed(runs: int, step: Callable[[], Awaitable[object]]) -> tuple[float, list[float]]:
    took = []
    for _ in range(runs):
        began = time.perf_counter()
        await step()
        took.append((time.perf_counter() - began) * 1000)
    return statistics.median(took), took


async def raw_month(ctx: Context, since: datetime, until: datetime) -> dict[str, int]:
    """The month's queue figures straight from the log, as the wallboard computes its own."""
    async with ctx.read() as session:
        rows = (
            await session.execute(
                select(ContactEvent, QueueDef.service_seconds)
                .outerjoin(QueueDef, QueueDef.name == ContactEvent.queue)
                .where(
                    ContactEvent.at >= since, ContactEvent.at < until,
                    ContactEvent.kind != "agent", ContactEvent.kind != "ivr",
                )
                .order_by(ContactEvent.id)
            )
        ).all()  # fmt: skip
    by_queue: dict[str, list[CallEvent]] = defaultdict(list)
    threshold: dict[str, int] = {}
    for row, service_seconds in rows:
        if not row.queue or service_seconds is None:
            continue
        threshold[row.queue] = service_seconds
        by_queue[row.queue].append(
            CallEvent(row.at.timestamp(), row.call_id or "", row.kind, row.queue, row.agent_id)
        )
    return {q: compute(e, service_seconds=threshold[q]).offered for q, e in by_queue.items()}


def _finished_call(n: int, at: datetime, agent: int) -> list[dict[str, object]]:
    call_id, s = f"lag-{n}-{int(at.timestamp())}", timedelta(seconds=1)

    def line(when: datetime, kind: str, **more: object) -> dict[str, object]:
        return {"at": when, "kind": kind, "call_id": call_id, "queue": "", "state": "", "detail": "", **more}

    return [
        line(at - 200 * s, "arrived", queue="4008001000", detail="13800138000 → 4008001000"),
        line(at - 190 * s, "queued", queue="hotel"),
        line(at - 185 * s, "offered", queue="hotel", agent_id=agent),
        line(at - 180 * s, "answered", queue="hotel", agent_id=agent),
        line(at, "ended", queue="hotel", agent_id=agent),
        line(at, "finished", detail="transferred:queue:hotel"),
    ]


async def measure(url: str, runs: int, lags: int, month: date, rolled_from: date) -> None:
    folder = Path(tempfile.mkdtemp(prefix="hotline-bench-year-"))
    settings = Settings(
        database_url=url, environment="test", roles=["api"], frontend_dist=Path("/nonexistent"),
        log_level="ERROR", compute_warm=False, session_cache_seconds=0,
        audit_key_file=folder / "signing.key", audit_keyring_file=folder / "keyring.json",
        audit_checkpoint_file=folder / "checkpoints.jsonl",
    )  # fmt: skip
    db = Database(url)
    ctx = Context(settings, db, InProcessBus(), Actor.system("benchmark"))
    async with db.read() as session:
        position = select(StatsCursor.position).where(StatsCursor.name == rollup.CURSOR).scalar_subquery()
        behind = await session.scalar(
            select(func.count()).select_from(ContactEvent).where(ContactEvent.id > position)
        )
    began = time.perf_counter()
    taken = await rollup.roll(ctx)
    took = time.perf_counter() - began
    print(f"real rollup from {rolled_from}: {taken:,} lines (of {behind:,} behind) in {took:.1f} s = "
          f"{taken / took:,.0f} lines/s")  # fmt: skip
    end = (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    span = {"start": month.isoformat(), "end": end.isoformat()}
    one = {"start": (month + timedelta(days=14)).isoformat(), "end": (month + timedelta(days=14)).isoformat()}
    app = create_app(settings)
    results: list[tuple[str, float, list[float]]] = []
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=120) as http:
            got = await http.post(
                "/api/auth/login", json={"username": "bench-supervisor", "password": PASSWORD}
            )
            assert got.status_code == 200, got.text

            def get(path: str, params: dict[str, str]) -> Callable[[], Awaitable[object]]:
                async def step() -> object:
                    response = await http.get(path, params=params)
                    assert response.status_code == 200, response.text
                    return response.json()

                return step

            queue_month = get("/api/reports/queues", span)
            report = await queue_month()
            assert isinstance(report, dict)
            offered = {row["key"]: row["offered"] for row in report["rows"]}
            totals = report["totals"]
            print(f"{month:%Y-%m}: {totals['offered']:,} calls offered, service level "
                  f"{totals['service_level']:.1%}, abandoned {totals['abandon_rate']:.1%}")  # fmt: skip
            steps = {
                "queue report, a month by day": queue_month,
                "agent report, a month by day (200 agents)": get("/api/reports/agents", span),
                "agent report, one day by 15 minutes": get(
                    "/api/reports/agents", {**one, "granularity": "interval"}
                ),
                "queue report, one day by 15 minutes": get(
                    "/api/reports/queues", {**one, "granularity": "interval"}
                ),
                "call records: the month's abandons in hotel, first page": get(
                    "/api/calls/records", {**span, "queue": "hotel", "outcome": "abandoned", "limit": "50"}
                ),
                "call records: a number's last 4 digits, first page": get(
                    "/api/calls/records", {**span, "number": "8000", "limit": "50"}
                ),
            }
            for name, step in steps.items():
                await step()  # warm: the first plan and the app's caches
                median, took_all = await timed(runs, step)
                results.append((name, median, took_all))
            zone_since = datetime(month.year, month.month, 1, tzinfo=ZONE).astimezone(UTC)
            zone_until = datetime(end.year, end.month, end.day, tzinfo=ZONE).astimezone(UTC) + timedelta(
                days=1
            )
            raw: dict[str, int] = {}

            async def straight() -> None:
                raw.update(await raw_month(ctx, zone_since, zone_until))

            median, took_all = await timed(runs, straight)
            results.append(
                ("queue figures, the month straight from raw events (metrics.compute)", median, took_all)
            )
            print(f"offered, rollups / raw events: {sum(offered.values()):,} / {sum(raw.values()):,}"
                  " (a call queued across the month's end counts on either side)")  # fmt: skip
            # lag: a finished call's lines appended while the roller runs, until the report has it
            roller = rollup.Roller(ctx)
            roller.start()
            today = datetime.now(ZONE).date().isoformat()
            lag_report = get("/api/reports/queues", {"start": today, "end": today})
            async with ctx.read() as session:
                agent = await session.scalar(select(User.id).where(User.username == "a001"))
            assert agent is not None
            waits = []
            for n in range(lags):
                before = await lag_report()
                assert isinstance(before, dict)
                count = before["totals"]["offered"]
                await asyncio.sleep(random.uniform(0, 2))
                async with ctx.write() as tx:
                    await tx.session.execute(
                        insert(ContactEvent), _finished_call(n, datetime.now(UTC), agent)
                    )
                logged = time.perf_counter()
                while True:
                    now = await lag_report()
                    assert isinstance(now, dict)
                    if now["totals"]["offered"] > count:
                        break
                    await asyncio.sleep(0.05)
                waits.append((time.perf_counter() - logged) * 1000)
            await roller.stop()
            results.append((f"rollup lag: call logged → in the queue report (median of {lags})",
                            statistics.median(waits), waits))  # fmt: skip
    await db.dispose()
    load_now = os.getloadavg()
    print(f"median of {runs} runs; load average {load_now[0]:.1f} {load_now[1]:.1f} {load_now[2]:.1f}")
    print("| what | median ms | all runs ms |")
    print("|---|---:|---|")
    for name, median, all_runs in results:
        print(f"| {name} | {median:,.0f} | {' '.join(f'{x:.0f}' for x in all_runs)} |")
    report_ms = results[0][1]
    raw_ms = next(m for n, m, _ in results if "raw" in n)
    print(f"ratio: raw events / rollups for the month's queue figures = {raw_ms / report_ms:,.0f}×")


async def main(args: argparse.Namespace) -> None:
    domains.load_models()
    until = datetime.now(ZONE).date()
    rolled_from = until - timedelta(days=args.rolled_days)
    if not args.skip_load:
        db = Database(args.database_url)
        _cursor, rolled_from = await load(db, args.calls, args.rolled_days, until)
        await db.dispose()
    await measure(args.database_url, args.runs, args.lags, date.fromisoformat(args.month), rolled_from)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--database-url", default=os.environ.get("HOTLINE_TEST_DATABASE_URL", ""))
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--rolled-days", type=int, default=1)
    parser.add_argument("--month", default="2026-03-01", help="The month reported (its first day)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--lags", type=int, default=10)
    parser.add_argument("--skip-load", action="store_true", help="Measure the year already loaded")
    args = parser.parse_args()
    if not args.database_url.startswith("postgresql"):
        parser.error("--database-url: a PostgreSQL database (this empties it)")
    asyncio.run(main(args))
