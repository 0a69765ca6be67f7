"""The call reports (queues, agents, IVR): contact/stats' figures, and in the agent report the QA
score of the quality domain beside them — composed here, above both (contact never imports
quality). The QA score is an average of the evaluations scored in the bucket or period, null
without any: a figure, as the monthly assessment reads it, for whoever reads the report (the
evaluations behind it need qa.read)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal

from hotline.contact.stats import service as stats
from hotline.core import topics
from hotline.core.clock import as_utc
from hotline.core.context import Context
from hotline.core.periods import Period
from hotline.quality.reviews import figures as quality


def _average(scores: list[Decimal]) -> float | None:
    return round(float(sum(scores, Decimal(0)) / len(scores)), 2) if scores else None


async def with_qa_score(
    ctx: Context, period: Period, figures: stats.CallFigures, agent_ids: set[int] | None
) -> stats.CallFigures:
    found = await quality.scores(ctx, period.since, period.until, agent_ids=agent_ids)
    by_agent: dict[str, list[Decimal]] = defaultdict(list)
    by_bucket: dict[datetime, list[Decimal]] = defaultdict(list)
    for at, agent, score in found:
        by_agent[str(agent)].append(score)
        by_bucket[period.bucket(as_utc(at))].append(score)
    figures.total["qa_score"] = _average([score for _, _, score in found])
    for point in figures.series:
        point["qa_score"] = _average(by_bucket.get(datetime.fromisoformat(point["start"]), []))
    for row in figures.rows:
        row["qa_score"] = _average(by_agent.get(row["key"], []))
    return figures


async def queues(ctx: Context, period: Period, chosen: set[str] | None) -> stats.CallFigures:
    return await stats.queue_report(ctx, period, queues=chosen)


async def agents(ctx: Context, period: Period, agent_ids: set[int] | None) -> stats.CallFigures:
    return await with_qa_score(
        ctx, period, await stats.agent_report(ctx, period, agent_ids=agent_ids), agent_ids
    )


async def ivr(ctx: Context, period: Period) -> stats.CallFigures:
    """The IVR report, its enquiries named: a route or hotel by its name, one no longer in the
    catalogue by its code after 已停用 (a code the IVR still counts)."""
    figures = await stats.ivr_report(ctx, period)
    gone = {"route": "已停用的线路", "hotel": "已停用的酒店"}
    names = await topics.subject_names(
        ctx, {f"{r['dimension']}:{r['key']}" for r in figures.rows if r["dimension"] in gone}
    )
    for row in figures.rows:
        kind = row["dimension"]
        if kind in gone:
            row["label"] = names.get(f"{kind}:{row['key']}") or f"{gone[kind]} {row['key']}"
    return figures
