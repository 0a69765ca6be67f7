"""The queue, agent and IVR figures, read from the interval rows (15-minute rows for interval and
hour granularity, day rows for day, week and month: an hour, a week or a month is a sum of the
rows it holds, taken when asked — every figure is a count or a sum, so nothing is lost, and
keeping one table per granularity would only multiply what late lines must correct).

The period is the one every report shares (core/periods.py); each function answers `CallFigures`
(the series over every bucket, the totals, the rows), which hotline.reports composes into the
report shape of docs/reports.md with the team filter and the comparison."""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import select

from hotline.admin import directory, teams
from hotline.contact import callbacks
from hotline.contact.ivr.versions import live_flows
from hotline.contact.metrics import HANDLING
from hotline.contact.stats.models import MEASURES, AgentStateDay, AgentStateInterval, CallDay, CallInterval
from hotline.contact.stats.schemas import AgentReportFigures, IvrFigures, QueueReportFigures
from hotline.core.clock import as_utc
from hotline.core.context import Context
from hotline.core.periods import Period
from hotline.core.permissions import Permission

Sums = dict[str, int]


@dataclass
class CallFigures:
    """A call report's figures: a point per bucket of the period (empty ones too), the totals and
    the rows per key (queue, agent, IVR node), as hotline.reports shows every report."""

    series: list[dict[str, Any]]
    total: dict[str, Any]
    rows: list[dict[str, Any]] = field(default_factory=list)

    def points(self) -> list[dict[str, Any]]:
        return self.series

    def totals(self) -> dict[str, Any]:
        return self.total


def fine(period: Period) -> bool:
    """Read from the 15-minute rows (interval, hour), else from the day rows."""
    return period.granularity in ("interval", "hour")


def bucket(period: Period, at: datetime | date) -> datetime:
    """The bucket of an interval row (its UTC start) or a day row (a local day)."""
    return _bucket(period, at)


@functools.lru_cache(maxsize=8192)
def _bucket(period: Period, at: datetime | date) -> datetime:
    # Thousands of rows share a few dozen days or intervals: each zone conversion once.
    if isinstance(at, datetime):
        return period.bucket(as_utc(at))
    return period.bucket(datetime.combine(at, time(12), tzinfo=period.zone))


async def agents_wanted(ctx: Context, agent_id: int | None, team_id: int | None) -> set[int] | None:
    """The agents a report or search is limited to (None: everyone)."""
    wanted: set[int] | None = None
    if team_id is not None:
        wanted = await teams.member_ids(ctx, team_id, field="query.team_id")
    if agent_id is not None:
        wanted = {agent_id} if wanted is None else wanted & {agent_id}
    return wanted


# ---------------------------------------------------------------- reading the rows


async def call_rows(
    ctx: Context, period: Period, dimension: str, keys: Iterable[str] | None = None
) -> list[tuple[datetime | date, str, Sums]]:
    """(interval start or day, key, measures with wait_max_ms) of one dimension in the period."""
    table: Any = CallInterval if fine(period) else CallDay
    when = table.start if fine(period) else table.day
    names = (*MEASURES, "wait_max_ms")
    # Columns, not ORM objects: a month's agent rows are thousands, each some 30 measures wide.
    query = select(when, table.key, *(getattr(table, name) for name in names)).where(
        table.dimension == dimension
    )
    if fine(period):
        query = query.where(when >= period.since, when < period.until)
    else:
        query = query.where(when >= period.first, when <= period.last)
    if keys is not None:
        query = query.where(table.key.in_(list(keys)))
    async with ctx.read() as session:
        rows = (await session.execute(query)).all()
    return [(row[0], row[1], dict(zip(names, row[2:], strict=True))) for row in rows]


async def today_by_queue(ctx: Context, today: date) -> dict[str, Sums]:
    """Today's call figures per queue (the queue a call first entered) as rolled up — a few rows,
    seconds behind the log: what the wallboard shows every second without reading the day's log."""
    names = (*MEASURES, "wait_max_ms")
    query = select(CallDay.key, *(getattr(CallDay, name) for name in names)).where(
        CallDay.dimension == "queue", CallDay.day == today
    )
    async with ctx.read() as session:
        rows = (await session.execute(query)).all()
    return {row[0]: dict(zip(names, row[1:], strict=True)) for row in rows}


def add(into: Sums, sums: Mapping[str, int]) -> Sums:
    for name in MEASURES:
        into[name] = into.get(name, 0) + sums.get(name, 0)
    into["wait_max_ms"] = max(into.get("wait_max_ms", 0), sums.get("wait_max_ms", 0))
    return into


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole > 0 else None


def _seconds(ms: float) -> float:
    return round(ms / 1000, 1)


def queue_figures(s: Mapping[str, int]) -> QueueReportFigures:
    """docs/metrics.md: rates over offered − short abandons − callbacks; empty, not 0, over nothing."""
    get = s.get
    counted = get("offered", 0) - get("short_abandoned", 0) - get("callbacks", 0)
    answered = get("answered", 0)
    handled = get("handled", 0)
    talk = get("in_talk_ms", 0) + get("out_talk_ms", 0) + get("wrap_ms", 0)
    return QueueReportFigures(
        offered=get("offered", 0),
        answered=answered,
        abandoned=get("abandoned", 0),
        short_abandoned=get("short_abandoned", 0),
        callbacks=get("callbacks", 0),
        timed_out=get("timed_out", 0),
        service_level=_ratio(get("answered_in_time", 0), counted),
        abandon_rate=_ratio(get("abandoned", 0), counted),
        asa=_seconds(get("wait_ms", 0) / answered) if answered else None,
        aht=_seconds(talk / handled) if handled else None,
        longest_wait=_seconds(get("wait_max_ms", 0)) if get("offered", 0) else None,
    )


def _series(period: Period, rows: Sequence[tuple[datetime | date, str, Sums]]) -> dict[datetime, Sums]:
    points: dict[datetime, Sums] = {start: {} for start in period.buckets()}
    for when, _key, sums in rows:
        add(points.setdefault(bucket(period, when), {}), sums)
    return dict(sorted(points.items()))


def _by_key(rows: Sequence[tuple[datetime | date, str, Sums]]) -> dict[str, Sums]:
    keys: dict[str, Sums] = {}
    for _when, key, sums in rows:
        add(keys.setdefault(key, {}), sums)
    return keys


def _total(rows: Sequence[tuple[datetime | date, str, Sums]]) -> Sums:
    total: Sums = {}
    for _when, _key, sums in rows:
        add(total, sums)
    return total


# ---------------------------------------------------------------- queues


async def queue_report(ctx: Context, period: Period, *, queues: set[str] | None = None) -> CallFigures:
    ctx.require(Permission.REPORTS_READ)
    rows = await call_rows(ctx, period, "queue", queues)
    async with ctx.read() as session:
        titles = await callbacks.queue_titles(session)
    return CallFigures(
        series=[
            {"start": k.isoformat(), **queue_figures(v).model_dump()}
            for k, v in _series(period, rows).items()
        ],
        total=queue_figures(_total(rows)).model_dump(),
        rows=[
            {"key": k, "label": titles.get(k, k), **queue_figures(v).model_dump()}
            for k, v in sorted(_by_key(rows).items())
        ],
    )


# ---------------------------------------------------------------- agents


async def state_rows(
    ctx: Context, period: Period, agent_ids: set[int] | None
) -> list[tuple[datetime | date, int, str, str, int]]:
    table: Any = AgentStateInterval if fine(period) else AgentStateDay
    when = table.start if fine(period) else table.day
    query = select(when, table.agent_id, table.state, table.reason, table.ms)
    if fine(period):
        query = query.where(when >= period.since, when < period.until)
    else:
        query = query.where(when >= period.first, when <= period.last)
    if agent_ids is not None:
        query = query.where(table.agent_id.in_(agent_ids))
    async with ctx.read() as session:
        return [tuple(r) for r in (await session.execute(query)).all()]


def agent_figures(calls: Mapping[str, int], states: Mapping[tuple[str, str], int]) -> AgentReportFigures:
    get = calls.get
    by_state: dict[str, int] = defaultdict(int)
    not_ready: dict[str, float] = defaultdict(float)
    for (state, reason), ms in states.items():
        by_state[state] += ms
        if state == "not_ready":
            not_ready[reason or ""] += ms
    busy = sum(by_state[s] for s in HANDLING)
    handled = get("handled", 0)
    talk = get("in_talk_ms", 0) + get("out_talk_ms", 0) + get("wrap_ms", 0)
    return AgentReportFigures(
        signed_in=_seconds(sum(ms for s, ms in by_state.items() if s != "logged_out")),
        ready=_seconds(by_state["ready"]),
        not_ready=_seconds(by_state["not_ready"]),
        not_ready_by_reason={k: _seconds(v) for k, v in sorted(not_ready.items())},
        calls_in=get("in_answered", 0),
        talk_in=_seconds(get("in_talk_ms", 0)),
        calls_out=get("out_calls", 0),
        connected_out=get("out_connected", 0),
        talk_out=_seconds(get("out_talk_ms", 0)),
        aht=_seconds(talk / handled) if handled else None,
        hold=_seconds(get("hold_ms", 0)),
        wrap_up=_seconds(get("wrap_ms", 0)),
        occupancy=_ratio(busy, busy + by_state["ready"]),
        transfers=get("transfers", 0),
        survey_score=round(get("survey_sum", 0) / get("surveys", 0), 2) if get("surveys", 0) else None,
        surveys=get("surveys", 0),
    )


async def agent_report(ctx: Context, period: Period, *, agent_ids: set[int] | None) -> CallFigures:
    """Per agent (rows keyed by the agent's id): time by state, calls in and out, handling."""
    ctx.require(Permission.REPORTS_READ)
    keys = {str(a) for a in agent_ids} if agent_ids is not None else None
    rows = await call_rows(ctx, period, "agent", keys)
    states = await state_rows(ctx, period, agent_ids)
    by_agent_states: dict[str, dict[tuple[str, str], int]] = defaultdict(lambda: defaultdict(int))
    by_point_states: dict[datetime, dict[tuple[str, str], int]] = defaultdict(lambda: defaultdict(int))
    all_states: dict[tuple[str, str], int] = defaultdict(int)
    for when, agent_id, state, reason, ms in states:
        by_agent_states[str(agent_id)][state, reason] += ms
        by_point_states[bucket(period, when)][state, reason] += ms
        all_states[state, reason] += ms
    calls_by_agent = _by_key(rows)
    series = _series(period, rows)
    agents = sorted(set(calls_by_agent) | set(by_agent_states), key=int)
    people = await directory.staff(ctx, {int(k) for k in agents})
    return CallFigures(
        series=[
            {
                "start": p.isoformat(),
                **agent_figures(series.get(p, {}), by_point_states.get(p, {})).model_dump(),
            }
            for p in sorted(set(series) | set(by_point_states))
        ],
        total=agent_figures(_total(rows), all_states).model_dump(),
        rows=[
            {
                "key": a,
                "label": people[int(a)].label if int(a) in people else a,
                **agent_figures(calls_by_agent.get(a, {}), by_agent_states.get(a, {})).model_dump(),
            }
            for a in agents
        ],
    )


# ---------------------------------------------------------------- the IVR


def ivr_figures(s: Mapping[str, int], *, node: bool = False) -> IvrFigures:
    """A node's row counts the calls that reached it; the site's, the calls that reached the IVR."""
    return IvrFigures(
        calls=s.get("calls" if node else "ivr_calls", 0),
        visits=s.get("ivr_visits", 0),
        self_service=s.get("self_service", 0),
        ended_in_ivr=s.get("ivr_only", 0),
    )


async def ivr_report(ctx: Context, period: Period) -> CallFigures:
    """Per node of every flow: calls that reached it, visits, calls that ended there by themselves;
    per subject asked about (dimension `route` or `hotel`, labelled by their code here, named by
    the caller of this function); the series and totals from the site's rows (each call once)."""
    ctx.require(Permission.REPORTS_READ)
    rows = await call_rows(ctx, period, "ivr")
    asked = await call_rows(ctx, period, "enquiry")
    site = await call_rows(ctx, period, "site")
    flows = await live_flows(ctx)
    out_rows = []
    for key, sums in sorted(_by_key(rows).items(), key=lambda kv: -kv[1].get("ivr_visits", 0)):
        name, _, node = key.partition("/")
        found = flows[name].nodes.get(node) if name in flows else None
        out_rows.append(
            {
                "dimension": "node",
                "key": key,
                "label": f"{flows[name].title or name} · {found.label or node}" if found else key,
                "kind": found.type if found else "",
                **ivr_figures(sums, node=True).model_dump(),
            }
        )
    for key, sums in sorted(_by_key(asked).items(), key=lambda kv: (-kv[1].get("calls", 0), kv[0])):
        kind, _, code = key.partition(":")
        out_rows.append(
            {
                "dimension": kind,
                "key": code,
                "label": code,
                "kind": kind,
                **ivr_figures(sums, node=True).model_dump(),
                "to_agent": sums.get("offered", 0),
            }
        )
    return CallFigures(
        series=[
            {"start": k.isoformat(), **ivr_figures(v).model_dump()} for k, v in _series(period, site).items()
        ],
        total=ivr_figures(_total(site)).model_dump(),
        rows=out_rows,
    )
