"""The wallboard (A1) and the queues' figures, from the voice node's live state and the event log,
by the definitions of docs/metrics.md; its colours per queue (queues/thresholds.py); and its
charts: today's service level per interval and the callers waiting over the last hour."""

from __future__ import annotations

import asyncio
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from hotline.contact.agents.service import agents as agents_now
from hotline.contact.local import LocalNode
from hotline.contact.metrics import CallEvent, compute
from hotline.contact.models import ContactEvent, QueueDef
from hotline.contact.queues import thresholds
from hotline.contact.schemas import QueueFigures, Wallboard, WallboardQueue, WallboardTrend
from hotline.contact.stats import service as stats
from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.core.permissions import Permission


async def queue_figures(ctx: Context, *, hours: float = 24.0) -> list[QueueFigures]:
    """Figures per queue over the last hours from the event log, by the definitions of
    docs/metrics.md."""
    ctx.require(Permission.AGENTS_READ)
    since = utcnow() - timedelta(hours=hours)
    async with ctx.read() as session:
        rows = (
            await session.execute(
                select(ContactEvent, QueueDef.service_seconds)
                .outerjoin(QueueDef, QueueDef.name == ContactEvent.queue)
                .where(ContactEvent.at >= since, ContactEvent.kind != "agent", ContactEvent.kind != "ivr")
                .order_by(ContactEvent.id)
            )
        ).all()
    by_queue: dict[str, list[CallEvent]] = defaultdict(list)
    threshold: dict[str, int] = {}
    for row, service_seconds in rows:
        if not row.queue or service_seconds is None:
            continue
        threshold[row.queue] = service_seconds
        by_queue[row.queue].append(
            CallEvent(row.at.timestamp(), row.call_id or "", row.kind, row.queue, row.agent_id)
        )
    out = []
    for queue, events in sorted(by_queue.items()):
        m = compute(events, service_seconds=threshold[queue])
        out.append(
            QueueFigures(
                queue=queue,
                offered=m.offered,
                answered=m.answered,
                abandoned=m.abandoned,
                short_abandoned=m.short_abandoned,
                callbacks=m.callbacks,
                service_level=m.service_level,
                abandon_rate=m.abandon_rate,
                average_speed_of_answer=m.average_speed_of_answer,
                average_handle_time=m.average_handle_time,
            )
        )
    return out


async def wallboard(ctx: Context, node: LocalNode | None) -> Wallboard:
    """The floor now (A1): per queue who waits and for how long, the agents by state, and today's
    figures since midnight China time (rolled up every few seconds: reading the day's log every
    second cost a busy site's router most of a core); and every agent with their state and time in it."""
    ctx.require(Permission.AGENTS_READ)
    today = utcnow().astimezone(ZoneInfo(ctx.settings.default_timezone)).date()
    figures = {queue: _today(queue, sums) for queue, sums in (await stats.today_by_queue(ctx, today)).items()}
    agents = await agents_now(ctx, node)
    async with ctx.read() as session:
        queues = (
            await session.execute(
                select(QueueDef.name, QueueDef.title, QueueDef.skill, QueueDef.thresholds).order_by(
                    QueueDef.name
                )
            )
        ).all()
    runner = node.runner if node is not None else None
    waits = runner.waits() if runner is not None else []
    now = asyncio.get_running_loop().time()
    board = []
    for name, title, skill, stored in queues:
        mine = [w for w in waits if w.queue == name]
        callers = [w for w in mine if not w.callback]
        states: dict[str, int] = defaultdict(int)
        for agent in agents:
            serves = skill in agent.skills if skill else True  # and logged into it, when they chose queues
            if serves and (name in agent.queues or (not agent.queues and agent.state != "logged_out")):
                states[agent.state] += 1
        longest = round(max((now - w.entered_at for w in callers), default=0.0), 1)
        marks = thresholds.of(name, stored)
        colours = thresholds.levels(marks, len(callers), longest, figures.get(name))
        board.append(
            WallboardQueue(
                queue=name,
                title=title,
                waiting=len(callers),
                longest_wait=longest,
                callbacks_waiting=len(mine) - len(callers),
                agents=dict(states),
                chats=node.chats.load(name) if node is not None and node.chats is not None else None,
                today=figures.get(name),
                thresholds=marks,
                levels=colours,
                level=thresholds.worst(colours),
            )
        )
    return Wallboard(queues=board, agents=agents)


def _today(queue: str, sums: stats.Sums) -> QueueFigures:
    """A queue's figures since midnight from the rollup, by the reports' definitions."""
    f = stats.queue_figures(sums)
    return QueueFigures(
        queue=queue, offered=f.offered, answered=f.answered, abandoned=f.abandoned,
        short_abandoned=f.short_abandoned, callbacks=f.callbacks, service_level=f.service_level,
        abandon_rate=f.abandon_rate, average_speed_of_answer=f.asa, average_handle_time=f.aht,
    )  # fmt: skip


async def queue_below_service(ctx: Context, *, hours: float) -> str:
    """The title of the first queue whose service level over the last hours is red on its
    wallboard marks ('' when none): what holds blended agents' outbound calls back."""
    figures = {f.queue: f for f in await queue_figures(ctx, hours=hours)}
    async with ctx.read() as session:
        queues = (
            await session.execute(
                select(QueueDef.name, QueueDef.title, QueueDef.thresholds).order_by(QueueDef.name)
            )
        ).all()
    for name, title, stored in queues:
        if (
            name in figures
            and thresholds.levels(thresholds.of(name, stored), 0, 0, figures[name])["service_level"] == "red"
        ):
            return str(title or name)
    return ""


SAMPLE_SECONDS = 15
HISTORY_SECONDS = 3600
MAX_QUEUES = 64
"""Bounds of the waiting history: one sample every 15 s for an hour (240 samples) of at most 64
queues, whatever runs on the node — a few hundred kilobytes at most."""


@dataclass(frozen=True)
class Sample:
    at: float  # Unix time
    waiting: dict[str, int]


class WaitHistory:
    """Callers waiting per queue over the last hour, sampled on this node (the wallboard feed
    samples it; a node without calls keeps an empty one). Bounded in time, samples and queues."""

    def __init__(self, every: float = SAMPLE_SECONDS, keep: float = HISTORY_SECONDS) -> None:
        self.every, self.keep = every, keep
        self.samples: deque[Sample] = deque(maxlen=int(keep // every) + 1)

    def due(self, at: float) -> bool:
        return not self.samples or at - self.samples[-1].at >= self.every

    def record(self, at: float, waiting: dict[str, int]) -> None:
        kept = dict(sorted(waiting.items())[:MAX_QUEUES])
        self.samples.append(Sample(at, kept))
        while self.samples and self.samples[0].at < at - self.keep:
            self.samples.popleft()

    def since(self, at: float) -> list[Sample]:
        return [s for s in self.samples if s.at >= at]


def waiting_now(node: LocalNode | None) -> dict[str, int]:
    """Callers waiting per queue now (callbacks kept in the queue not counted)."""
    runner = node.runner if node is not None else None
    counts: dict[str, int] = defaultdict(int)
    for wait in runner.waits() if runner is not None else []:
        if not wait.callback:
            counts[wait.queue] += 1
    return dict(counts)


def service_level_series(
    events: list[tuple[float, str, str, str]], service_seconds: dict[str, int], start: float, interval: float,
    buckets: int,
) -> dict[str, list[float | None]]:  # fmt: skip
    """Per queue and over all ('*'), the service level of the calls that entered the queue in each
    interval (metrics.compute over that interval's calls). Pure and picklable: it runs in the
    compute pool, since a busy day is tens of thousands of events."""
    bucket_of: dict[tuple[str, str], int] = {}
    grouped: dict[tuple[str, int], list[CallEvent]] = defaultdict(list)
    for at, call_id, kind, queue in sorted(events):
        if kind == "queued":
            bucket_of.setdefault((call_id, queue), int((at - start) // interval))
        bucket = bucket_of.get((call_id, queue))
        if bucket is not None and 0 <= bucket < buckets:
            grouped[(queue, bucket)].append(CallEvent(at, call_id, kind, queue))
    series: dict[str, list[float | None]] = {}
    in_time, counted = [0] * buckets, [0] * buckets
    for queue in sorted({q for q, _ in grouped} | set(service_seconds)):
        line: list[float | None] = []
        for b in range(buckets):
            m = compute(grouped.get((queue, b), []), service_seconds=service_seconds.get(queue, 20))
            line.append(m.service_level)
            in_time[b] += m.answered_in_time
            counted[b] += m.offered - m.short_abandoned - m.callbacks
        series[queue] = line
    series["*"] = [in_time[b] / counted[b] if counted[b] > 0 else None for b in range(buckets)]
    return series


async def trend(
    ctx: Context, node: LocalNode | None, history: WaitHistory | None, *, interval_minutes: int = 15,
    minutes: int = 60,
) -> WallboardTrend:  # fmt: skip
    """The wallboard's charts: today's service level per interval, and the callers waiting per
    queue over the last `minutes` (with the current count as the last point)."""
    ctx.require(Permission.AGENTS_READ)
    zone = ZoneInfo(ctx.settings.default_timezone)
    now = utcnow()
    midnight = datetime.combine(now.astimezone(zone).date(), time(0), tzinfo=zone)
    interval = interval_minutes * 60
    buckets = int((now - midnight).total_seconds() // interval) + 1
    async with ctx.read() as session:
        queues = dict((await session.execute(select(QueueDef.name, QueueDef.service_seconds))).all())
        rows = (
            await session.execute(
                select(ContactEvent.at, ContactEvent.call_id, ContactEvent.kind, ContactEvent.queue).where(
                    ContactEvent.at >= midnight,
                    ContactEvent.kind.in_(("queued", "answered", "abandoned", "callback")),
                    ContactEvent.queue.in_(list(queues)),
                )
            )
        ).all()
    events = [(at.timestamp(), call_id or "", kind, queue) for at, call_id, kind, queue in rows]
    series = await ctx.compute(
        service_level_series, events, queues, midnight.timestamp(), float(interval), buckets
    )
    current = now.timestamp()
    samples = [*(history.since(current - minutes * 60) if history is not None else []),
               Sample(current, waiting_now(node))]  # fmt: skip
    names = sorted(set(queues) | {q for s in samples for q in s.waiting})[:MAX_QUEUES]
    return WallboardTrend(
        interval_minutes=interval_minutes,
        starts=[midnight + timedelta(seconds=interval * b) for b in range(buckets)],
        service_level={q: v for q, v in series.items() if q in queues or q == "*"},
        sample_seconds=int(history.every if history is not None else SAMPLE_SECONDS),
        sampled_at=[datetime.fromtimestamp(s.at, tz=zone) for s in samples],
        waiting={q: [s.waiting.get(q, 0) for s in samples] for q in names},
    )
