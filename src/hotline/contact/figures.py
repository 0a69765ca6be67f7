"""Call figures other domains' reports need, read from the one event log (contact_events):

- `answered_figures`: calls answered by an agent per bucket (the denominator of calls → bookings);
  a call answered twice (a transfer) counts once, for the first agent;
- `survey_figures`: post-call survey scores (kind `survey`, the score in `detail`) per bucket, and per
  agent, queue and product (the line the call came in on: the flow of its `arrived` line).
The interval rollups and the queue, agent and IVR reports are contact/stats (docs/metrics.md).
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import ColumnElement, select

from hotline.admin import directory
from hotline.contact.callbacks import queue_titles
from hotline.contact.models import ContactEvent
from hotline.core.clock import as_utc
from hotline.core.context import Context
from hotline.core.periods import Figures, Period, Series
from hotline.core.permissions import Permission

SURVEY_NAMES = ("surveys", "score_sum")
SURVEY_RATES = {"average_score": ("score_sum", "surveys")}


async def answered_figures(ctx: Context, period: Period, *, agent_ids: set[int] | None = None) -> Figures:
    ctx.require(Permission.REPORTS_READ)
    mine: list[ColumnElement[bool]] = [] if agent_ids is None else [ContactEvent.agent_id.in_(agent_ids)]
    async with ctx.read() as session:
        rows = (
            await session.execute(
                select(ContactEvent.at, ContactEvent.call_id)
                .where(
                    ContactEvent.kind == "answered",
                    ContactEvent.agent_id.is_not(None),
                    ContactEvent.at >= period.since,
                    ContactEvent.at < period.until,
                    *mine,
                )
                .order_by(ContactEvent.at, ContactEvent.id)
            )
        ).all()
    series = Series(period, ("calls_answered",))
    seen: set[str] = set()
    for at, call_id in rows:
        if call_id and call_id not in seen:
            seen.add(call_id)
            series.add(as_utc(at), "calls_answered")
    return Figures(series)


async def survey_figures(ctx: Context, period: Period, *, agent_ids: set[int] | None = None) -> Figures:
    ctx.require(Permission.REPORTS_READ)
    mine: list[ColumnElement[bool]] = [] if agent_ids is None else [ContactEvent.agent_id.in_(agent_ids)]
    async with ctx.read() as session:
        scores = (
            await session.execute(
                select(
                    ContactEvent.at, ContactEvent.call_id, ContactEvent.agent_id, ContactEvent.detail
                ).where(
                    ContactEvent.kind == "survey",
                    ContactEvent.at >= period.since,
                    ContactEvent.at < period.until,
                    *mine,
                )
            )
        ).all()
        scored = [(as_utc(at), c or "", a, int(d)) for at, c, a, d in scores if d.isdigit()]
        ids = sorted({c for _, c, _, _ in scored if c})
        lines: dict[str, dict[str, str]] = defaultdict(dict)
        for i in range(0, len(ids), 500):
            for call_id, kind, queue in await session.execute(
                select(ContactEvent.call_id, ContactEvent.kind, ContactEvent.queue)
                .where(
                    ContactEvent.call_id.in_(ids[i : i + 500]), ContactEvent.kind.in_(("arrived", "answered"))
                )
                .order_by(ContactEvent.id)
            ):
                lines[call_id or ""].setdefault(kind, queue)
        titles = await queue_titles(session)
    names = {p.id: p.label for p in (await directory.staff(ctx, {a for _, _, a, _ in scored if a})).values()}
    series = Series(period, SURVEY_NAMES)
    rows: dict[tuple[str, str], dict[str, int]] = {}
    for at, call_id, agent_id, score in scored:
        series.add(at, "surveys")
        series.add(at, "score_sum", score)
        call = lines.get(call_id, {})
        queue = call.get("answered", "")
        keys = (
            ("agent", str(agent_id or "")),
            ("queue", queue),
            ("product", call.get("arrived", "")),
        )
        for key in keys:
            row = rows.setdefault(key, dict.fromkeys(SURVEY_NAMES, 0))
            row["surveys"] += 1
            row["score_sum"] += score

    def label(dimension: str, key: str) -> str:
        if dimension == "agent":
            return names.get(int(key), key) if key else "—"
        # a line's flow is named as the queue it mostly feeds (hotel → 酒店预订) where one is
        return titles.get(key, key) or "—"

    figures = Figures(series, rates=SURVEY_RATES)
    figures.rows = [
        figures.with_rates({"key": f"{d}:{k}", "dimension": d, "label": label(d, k), **row})
        for (d, k), row in sorted(rows.items(), key=lambda kv: (kv[0][0], -kv[1]["surveys"]))
    ]
    return figures
