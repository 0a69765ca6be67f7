"""The reconciliation property (issue 21): a generated day of calls and agents' states, written to
the event log in random chunks and with lines arriving late, rolled up after each chunk, gives
reports whose totals equal the figures computed straight from the call records of the same
window — and records equal to the ones derived from the whole log at once."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select

from hotline.contact.models import ContactEvent
from hotline.contact.stats import derive, rollup, service
from hotline.contact.stats.models import (
    MEASURES,
    AgentStateDay,
    AgentStateInterval,
    CallDay,
    CallInterval,
    CallRecord,
    StatsCursor,
)
from hotline.core.context import Context
from hotline.core.periods import period_of

DAY = date(2026, 3, 2)
ZONE = ZoneInfo("Asia/Shanghai")
MIDNIGHT = datetime(2026, 3, 2, tzinfo=ZONE).astimezone(UTC)
QUEUES = ("hotel", "travel")

call = st.fixed_dictionaries(
    {
        "offset": st.integers(0, 86_399 * 1000),  # ms into the local day
        "ivr": st.lists(st.sampled_from(["welcome", "menu", "lookup", "bye"]), max_size=3),
        "asked": st.lists(st.sampled_from(["route:SY5", "route:YN6", "hotel:SH-BUND"]), max_size=3),
        "queue": st.sampled_from([None, *QUEUES]),
        "end": st.sampled_from(["answered", "abandoned", "callback", "timed_out", "hangup"]),
        "wait": st.integers(0, 90_000),
        "talk": st.integers(1_000, 600_000),
        "hold": st.integers(0, 60_000),
        "wrap": st.integers(0, 30_000),
        "agent": st.integers(1, 3),
        "survey": st.none() | st.integers(1, 5),
        "out": st.booleans(),
    }
)
agent_day = st.lists(
    st.tuples(
        st.sampled_from(["ready", "not_ready", "on_call", "logged_out"]), st.integers(1, 4 * 3600 * 1000)
    ),
    max_size=8,
)


def _lines(n: int, c: dict[str, object]) -> list[dict[str, object]]:
    """The log lines of one generated call, as the contact layer writes them."""
    at = MIDNIGHT + timedelta(milliseconds=int(c["offset"]))  # type: ignore[call-overload]
    call_id = f"out-{n}" if c["out"] else f"c{n}"
    ms = timedelta(milliseconds=1)

    def line(when: datetime, kind: str, **kw: object) -> dict[str, object]:
        return {"at": when, "kind": kind, "call_id": call_id, "queue": "", "state": "", "detail": "", **kw}

    agent = int(c["agent"])  # type: ignore[call-overload]
    if c["out"]:
        talk = at + ms * int(c["talk"])  # type: ignore[call-overload]
        return [
            line(at, "dialled", agent_id=agent, detail="138****8000"),
            line(at + ms * 5000, "answered", agent_id=agent),
            line(talk, "ended", agent_id=agent),
            line(talk, "finished", detail="answered"),
        ]
    out = [line(at, "arrived", queue="main", detail=f"1380013{n:04d} → 4008001000")]
    now = at
    for node in c["ivr"]:  # type: ignore[attr-defined]
        now += ms * 1500
        out.append(line(now, "ivr", queue="main", detail=node, state="menu"))
    for about in c["asked"] if c["ivr"] else []:  # type: ignore[attr-defined]
        out.append(line(now, "enquiry", detail=about))
    if c["queue"] is None:
        out.append(line(now + ms * 800, "finished", detail="completed" if c["ivr"] else "caller-hung-up"))
        return out
    queue = str(c["queue"])
    queued = now + ms * 500
    out.append(line(queued, "queued", queue=queue))
    left = queued + ms * int(c["wait"])  # type: ignore[call-overload]
    if c["end"] == "answered":
        ended = left + ms * int(c["talk"])  # type: ignore[call-overload]
        out += [
            line(left - ms * 3000, "offered", queue=queue, agent_id=agent),
            line(left, "answered", queue=queue, agent_id=agent),
            line(left + ms * 1000, "held", agent_id=agent),
            line(left + ms * (1000 + int(c["hold"])), "resumed", agent_id=agent),  # type: ignore[call-overload]
            line(ended, "ended", queue=queue, agent_id=agent),
            line(ended, "finished", detail="transferred:queue:" + queue),
            line(ended + ms * int(c["wrap"]), "wrapped", agent_id=agent, detail="咨询: ok"),  # type: ignore[call-overload]
        ]
        if c["survey"] is not None:
            out.append(line(ended + ms * 20_000, "survey", agent_id=agent, detail=str(c["survey"])))
    else:
        kind = {"hangup": "abandoned"}.get(str(c["end"]), str(c["end"]))
        out += [line(left, kind, queue=queue), line(left, "finished", detail="caller-hung-up")]
    return out


def _agent_lines(agent: int, states: list[tuple[str, int]]) -> list[dict[str, object]]:
    at = MIDNIGHT - timedelta(hours=2)
    out = []
    for state, ms in states:
        reason = "lunch" if state == "not_ready" else ""
        out.append(
            {"at": at, "kind": "agent", "call_id": None, "agent_id": agent, "queue": "", "state": state,
             "detail": reason}
        )  # fmt: skip
        at += timedelta(milliseconds=ms)
    return out


async def _reset(ctx: Context) -> None:
    async with ctx.write() as tx:
        for table in (
            ContactEvent,
            CallRecord,
            CallInterval,
            CallDay,
            AgentStateInterval,
            AgentStateDay,
            StatsCursor,
        ):
            await tx.session.execute(delete(table))


def _straight(records: list[derive.Record], since: datetime, until: datetime, queue: bool) -> dict[str, int]:
    """The figures from the records of the window, summed directly (no rows)."""
    total = dict.fromkeys(MEASURES, 0) | {"wait_max_ms": 0}
    for record in records:
        if not since <= record.arrived_at < until:
            continue
        for (dimension, _key), values in derive.contribution(record).items():
            if dimension == ("queue" if queue else "site"):
                service.add(total, values)
    return total


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    calls=st.lists(call, min_size=1, max_size=25),
    agents=st.lists(agent_day, min_size=1, max_size=3),
    seed=st.integers(0, 2**32 - 1),
    chunks=st.integers(1, 6),
)
async def test_given_a_day_fed_in_chunks_with_late_lines_then_reports_equal_the_call_records(
    ctx: Context, calls: list[dict[str, object]], agents: list[list[tuple[str, int]]], seed: int, chunks: int
) -> None:
    await _reset(ctx)
    lines = [x for n, c in enumerate(calls) for x in _lines(n, c)]
    lines += [x for agent, states in enumerate(agents, start=1) for x in _agent_lines(agent, states)]
    rng = random.Random(seed)
    rng.shuffle(lines)  # the log's order is not time's: every line may be a late one
    cut = sorted(rng.sample(range(1, len(lines)), min(chunks - 1, len(lines) - 1))) if len(lines) > 1 else []
    for start, end in zip([0, *cut], [*cut, len(lines)], strict=True):
        async with ctx.write() as tx:
            await tx.session.execute(insert(ContactEvent), lines[start:end])
        await rollup.roll(ctx, batch=rng.choice([5, 50, 2000]))

    async with ctx.read() as session:
        log = [rollup._line(row) for row in (await session.scalars(select(ContactEvent))).all()]
        stored = {r.call_id: rollup._record_of(r) for r in (await session.scalars(select(CallRecord))).all()}
        state_rows = {
            (
                r.start.replace(tzinfo=UTC) if r.start.tzinfo is None else r.start,
                r.agent_id,
                r.state,
                r.reason,
            ): r.ms
            for r in (await session.scalars(select(AgentStateInterval))).all()
        }
    by_call: dict[str, list[derive.Line]] = defaultdict(list)
    for x in log:
        if x.call_id:
            by_call[x.call_id].append(x)
    wrap_ends: dict[int, datetime] = {}
    fresh = {
        call_id: derive.derive_record(call_id, own, service_seconds={}, wrap_ends=wrap_ends)
        for call_id, own in by_call.items()
    }
    assert stored == {k: v for k, v in fresh.items() if v is not None}  # incremental = from scratch

    records = list(stored.values())
    since, until = MIDNIGHT, MIDNIGHT + timedelta(days=1)
    for granularity in ("interval", "day"):
        period = period_of(DAY, DAY, granularity, ZONE)
        report = await service.queue_report(ctx, period)
        assert (
            report.totals()
            == service.queue_figures(_straight(records, since, until, queue=True)).model_dump()
        )
        assert sum(p["offered"] for p in report.points()) == report.totals()["offered"]
        rows = await service.call_rows(ctx, period, "site")
        assert service._total(rows) == _straight(records, since, until, queue=False)

    asked: dict[str, dict[str, int]] = defaultdict(lambda: {"calls": 0, "ivr_visits": 0})
    for record in records:  # enquiries per route and hotel, counted straight from the records
        for about in set(record.enquiries):
            asked[about]["calls"] += 1
            asked[about]["ivr_visits"] += record.enquiries.count(about)
    assert bool(asked) == any(c["asked"] and c["ivr"] and not c["out"] for c in calls)
    for granularity in ("interval", "day"):
        rows = await service.call_rows(ctx, period_of(DAY, DAY, granularity, ZONE), "enquiry")
        summed: dict[str, dict[str, int]] = defaultdict(lambda: {"calls": 0, "ivr_visits": 0})
        for _, key, sums in rows:
            for name in ("calls", "ivr_visits"):
                summed[key][name] += sums[name]
        assert dict(summed) == dict(asked)

    expected = {k: v for k, v in derive.state_ms(log).items() if v}
    assert {k: v for k, v in state_rows.items() if v} == expected
    wide = period_of(DAY - timedelta(days=1), DAY, "day", ZONE)
    agents_report = await service.agent_report(ctx, wide, agent_ids=None)
    straight_ready = sum(
        ms
        for (start, _a, state, _r), ms in expected.items()
        if state == "ready" and start >= wide.since and start < wide.until
    )
    assert agents_report.totals()["ready"] == round(straight_ready / 1000, 1)
