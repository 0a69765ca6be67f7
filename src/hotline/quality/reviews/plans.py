"""Sampling plans run (SPEC Q2): a plan's rules over the week's answered calls (sampling.py), and
the picks assigned as evaluations spread over the plan's evaluators — the one with the fewest
open evaluations first, never the agent themselves. A job runs every active plan weekly for the
week just ended; a QA lead may run one for any past week. Calls sampled before (by any plan, or
assigned by hand) are not sampled again."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.admin import directory
from hotline.contact.calls.facts import answered_calls
from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.core.permissions import Permission
from hotline.quality.recordings.service import call_figures
from hotline.quality.reviews import evaluations, scorecards
from hotline.quality.reviews.errors import EvaluationRefused, ReviewNotFound
from hotline.quality.reviews.models import Evaluation, SamplingPlan
from hotline.quality.reviews.sampling import Always, CallFacts, Rules
from hotline.quality.reviews.sampling import select as pick
from hotline.quality.reviews.schemas import EvaluationIn, PlanIn, PlanOut, PlanRunOut
from hotline.quality.speech import search as transcripts

P = Permission


def rules_of(plan: SamplingPlan) -> Rules:
    return Rules(
        per_agent=plan.per_agent,
        strata=tuple(plan.strata),
        bands=tuple(plan.bands),
        always=Always(**plan.always),
        queues=frozenset(plan.queues),
        agents=frozenset(plan.agents),
    )


async def _get_row(ctx: Context, plan_id: int) -> SamplingPlan:
    async with ctx.read() as session:
        plan = await session.get(SamplingPlan, plan_id)
    if plan is None:
        raise ReviewNotFound(
            f"No sampling plan {plan_id}", field="plan_id", reason="no-plan", params={"plan_id": plan_id}
        )
    return plan


async def save(ctx: Context, data: PlanIn, plan_id: int | None = None) -> PlanOut:
    ctx.require(P.QA_MANAGE)
    async with ctx.write() as tx:
        await scorecards.published_of(tx.session, data.scorecard_family)
        evaluators = set(await directory.holders_of(tx.session, P.QA_EVALUATE))
        for n, user_id in enumerate(data.evaluators):
            if user_id not in evaluators:
                raise EvaluationRefused(
                    "Every evaluator of a plan holds the permission to score calls (质检评分)",
                    field=f"body.evaluators.{n}",
                    reason="evaluator-cannot-score",
                )
        if plan_id is None:
            plan = SamplingPlan()
            tx.session.add(plan)
        else:
            found = await tx.session.get(SamplingPlan, plan_id)
            if found is None:
                raise ReviewNotFound(
                    f"No sampling plan {plan_id}",
                    field="plan_id",
                    reason="no-plan",
                    params={"plan_id": plan_id},
                )
            plan = found
        values = data.model_dump(mode="json")
        for key, value in values.items():
            setattr(plan, key, value)
        await tx.session.flush()
        return (await _shown(tx.session, [plan]))[0]


async def _shown(session: AsyncSession, rows: list[SamplingPlan]) -> list[PlanOut]:
    """Plans as the screen reads them: with the people they name labelled."""
    ids = {i for p in rows for i in [*p.evaluators, *p.agents, (p.last_run or {}).get("ran_by") or 0]}
    names = await evaluations.staff_labels(session, ids)
    out = []
    for row in rows:
        plan = PlanOut.model_validate(row)
        named = {*plan.evaluators, *plan.agents, (plan.last_run.ran_by if plan.last_run else None) or 0}
        plan.names = {i: names[i] for i in named if i in names}
        out.append(plan)
    return out


async def listing(ctx: Context) -> list[PlanOut]:
    ctx.require(P.QA_READ)
    async with ctx.read() as session:
        return await _shown(
            session, list(await session.scalars(select(SamplingPlan).order_by(SamplingPlan.id)))
        )


def week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


async def candidates(ctx: Context, start: datetime, end: datetime) -> list[CallFacts]:
    """The answered calls of [start, end) as sampling sees them: contact's call log, whether a
    recording of the call has a forbidden-phrase hit (quality.speech), and what the automatic
    checks found in its recordings."""
    calls = await answered_calls(ctx, start, end)
    async with ctx.read() as session:
        forbidden = await transcripts.calls_with_forbidden(session, start, end)
        checked = await call_figures(session, start, end)
    return [
        CallFacts(c.call_id, c.agent_id, c.queue, c.direction, c.seconds, c.survey, c.complaint, c.started_at,
                  forbidden_hit=c.call_id in forbidden, longest_silence=checked.get(c.call_id, (0.0, 0.0))[0],
                  overtalk=checked.get(c.call_id, (0.0, 0.0))[1])
        for c in calls
    ]  # fmt: skip


async def run(ctx: Context, plan_id: int, week: date) -> PlanRunOut:
    """Sample one week (Monday–Sunday in the centre's zone) for a plan and assign the picks."""
    ctx.require(P.QA_MANAGE)
    plan = await _get_row(ctx, plan_id)
    monday = week_of(week)
    zone = ZoneInfo(ctx.settings.default_timezone)
    start = datetime.combine(monday, time(0), tzinfo=zone)
    end = start + timedelta(days=7)
    if end > utcnow():
        raise EvaluationRefused("Sample a week that is over", field="body.week", reason="sample-week-over")
    found = await candidates(ctx, start, end)
    async with ctx.read() as session:
        taken = set(
            await session.scalars(
                select(Evaluation.call_id).where(Evaluation.call_id.in_([c.call_id for c in found]))
            )
        ) if found else set()  # fmt: skip
        load = await session.execute(
            select(Evaluation.evaluator_id, func.count(Evaluation.id))
            .where(Evaluation.status.in_(("assigned", "in_progress")))
            .group_by(Evaluation.evaluator_id)
        )
        open_load: Counter[int] = Counter({who: int(n) for who, n in load if who is not None})
    picks = pick(found, rules_of(plan), plan.seed + monday.toordinal(), taken=taken)
    by_reason: Counter[str] = Counter()
    by_evaluator: Counter[int] = Counter()
    async with ctx.write() as tx:
        card = await scorecards.published_of(tx.session, plan.scorecard_family)
        for chosen in picks:
            free = [e for e in plan.evaluators if e != chosen.call.agent_id]
            if not free:
                continue
            evaluator = min(free, key=lambda e: (open_load[e], plan.evaluators.index(e)))
            open_load[evaluator] += 1
            call = chosen.call
            await evaluations.add_assigned(
                tx,
                EvaluationIn(
                    call_id=call.call_id, agent_id=call.agent_id, evaluator_id=evaluator,
                    scorecard_id=card.id, call_started_at=call.started_at, queue=call.queue,
                    direction="outbound" if call.direction == "outbound" else "inbound", seconds=call.seconds,
                ),
                by=ctx.actor.user_id,
                plan_id=plan.id,
                picked_for=chosen.reason,
            )  # fmt: skip
            by_reason[chosen.reason] += 1
            by_evaluator[evaluator] += 1
        result = PlanRunOut(
            plan_id=plan.id, week=monday, candidates=len(found), assigned=sum(by_reason.values()),
            by_reason=dict(by_reason), by_evaluator=dict(by_evaluator),
            ran_at=utcnow(), ran_by=ctx.actor.user_id,
        )  # fmt: skip
        row = await tx.session.get(SamplingPlan, plan.id)
        if row is not None:
            if row.last_week is None or row.last_week < monday:
                row.last_week = monday
            row.last_run = result.model_dump(mode="json")
    return result


async def run_due(ctx: Context) -> list[PlanRunOut]:
    """Every active plan, for the last full week if it has not run it yet (the weekly job)."""
    zone = ZoneInfo(ctx.settings.default_timezone)
    last = week_of(utcnow().astimezone(zone).date()) - timedelta(days=7)
    async with ctx.read() as session:
        plans = list(
            await session.scalars(
                select(SamplingPlan).where(SamplingPlan.active.is_(True)).order_by(SamplingPlan.id)
            )
        )
    return [
        await run(ctx, plan.id, last) for plan in plans if plan.last_week is None or plan.last_week < last
    ]
