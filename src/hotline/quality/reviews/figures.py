"""Per-agent quality figures for a period (SPEC Q4), for the reports: evaluations scored, the
average score, auto-fails, appeals won (the score changed), lost (upheld) and open, and what the
automatic checks found on the agent's recorded calls (calls checked, silences, overtalk,
forbidden-phrase hits). An evaluation counts in the period it was scored in, a recording in the
period it started in."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select

from hotline.core.context import Context
from hotline.core.permissions import Permission
from hotline.quality.recordings import service as recordings
from hotline.quality.reviews.evaluations import average, staff_labels
from hotline.quality.reviews.models import Evaluation
from hotline.quality.reviews.schemas import AgentQualityFigures
from hotline.quality.speech import search as speech


async def agent_figures(
    ctx: Context, since: datetime, until: datetime, *, agent_id: int | None = None
) -> list[AgentQualityFigures]:
    """One line per agent evaluated or checked in [since, until), by agent id."""
    if agent_id is None or agent_id != ctx.actor.user_id:
        ctx.require(Permission.QA_READ)
    query = select(Evaluation).where(
        Evaluation.scored_at >= since, Evaluation.scored_at < until, Evaluation.score.is_not(None)
    )
    if agent_id is not None:
        query = query.where(Evaluation.agent_id == agent_id)
    async with ctx.read() as session:
        found = list(await session.scalars(query))
        checks = await recordings.checks_by_agent(session, since, until, agent_id)
        forbidden = await speech.forbidden_by_agent(session, since, until, agent_id)
        by_agent: dict[int, list[Evaluation]] = defaultdict(list)
        for evaluation in found:
            by_agent[evaluation.agent_id].append(evaluation)
        agents = sorted(set(by_agent) | set(checks) | set(forbidden))
        names = await staff_labels(session, agents)
    return [
        _line(agent, names.get(agent, ""), by_agent[agent], checks.get(agent), forbidden) for agent in agents
    ]


def _line(
    agent: int,
    name: str,
    rows: list[Evaluation],
    checked: recordings.AgentChecks | None,
    forbidden: dict[int, int],
) -> AgentQualityFigures:
    checked = checked or recordings.AgentChecks()
    return AgentQualityFigures(
        agent_id=agent,
        agent_name=name,
        evaluations=len(rows),
        average=average(Decimal(e.score) for e in rows if e.score is not None),
        auto_fails=sum(1 for e in rows if e.auto_failed),
        appeals=sum(1 for e in rows if e.appeal_reason),
        appeals_won=sum(1 for e in rows if e.outcome == "changed"),
        appeals_lost=sum(1 for e in rows if e.outcome == "upheld"),
        appeals_open=sum(1 for e in rows if e.status == "appealed"),
        calls_checked=checked.checked,
        silences=checked.silences,
        overtalks=checked.overtalks,
        forbidden_hits=forbidden.get(agent, 0),
    )


async def scores(
    ctx: Context, since: datetime, until: datetime, *, agent_ids: set[int] | None = None
) -> list[tuple[datetime, int, Decimal]]:
    """(scored at, agent, score) of every evaluation scored in [since, until): the QA score the
    reports show (the agent report per agent and bucket, the monthly assessment per agent). A
    figure, read with reports.read, without the QA detail behind it (that needs qa.read)."""
    ctx.require(Permission.REPORTS_READ)
    query = select(Evaluation.scored_at, Evaluation.agent_id, Evaluation.score).where(
        Evaluation.scored_at >= since, Evaluation.scored_at < until, Evaluation.score.is_not(None)
    )
    if agent_ids is not None:
        query = query.where(Evaluation.agent_id.in_(agent_ids))
    async with ctx.read() as session:
        rows = (await session.execute(query)).all()
    return [(at, agent, Decimal(score)) for at, agent, score in rows if at is not None and score is not None]


async def average_scores(
    ctx: Context, since: datetime, until: datetime, agent_ids: set[int] | None = None
) -> dict[int, tuple[int, Decimal]]:
    """(evaluations, average score) per agent evaluated in [since, until), averaged as
    `agent_figures` does."""
    by_agent: dict[int, list[Decimal]] = defaultdict(list)
    for _, agent, score in await scores(ctx, since, until, agent_ids=agent_ids):
        by_agent[agent].append(score)
    found: dict[int, tuple[int, Decimal]] = {}
    for agent, marks in by_agent.items():
        mean = average(marks)
        if mean is not None:
            found[agent] = (len(marks), mean)
    return found
