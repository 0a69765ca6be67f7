"""Campaigns: a list of people to call plus how — marketing or service rules, the dialing mode,
the window, caps, caller ID, script or questionnaire, dispositions, retries and its agents.

A campaign's rules are checked by `rules.CampaignRules` when it is saved (every broken rule named
at once); its status moves draft → running ⇄ paused → closed (closed is final)."""

from __future__ import annotations

from datetime import time
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.admin import directory
from hotline.core.context import Context
from hotline.core.errors import (
    Conflict,
    FieldProblems,
    HotlineError,
    InvalidInput,
    InvalidTransition,
    NotFound,
)
from hotline.core.permissions import Permission
from hotline.core.topics import SOURCES
from hotline.outbound.models import Attempt, Campaign, CampaignAgent, Target
from hotline.outbound.rules import CampaignKind, CampaignRules
from hotline.outbound.schemas import (
    AgentProgress,
    CampaignIn,
    CampaignOut,
    CampaignProgress,
    Disposition,
    Progress,
    StatusIn,
)

STANDARD_DISPOSITIONS: dict[str, list[Disposition]] = {
    CampaignKind.SERVICE: [
        Disposition(code="satisfied", label="满意，已回访"),
        Disposition(code="issue", label="有意见，已记录"),
        Disposition(code="call_later", label="约定改时间再联系", final=False),
        Disposition(code="wrong_number", label="号码有误"),
        Disposition(code="refused", label="拒绝回访，勿再来电", refusal=True),
    ],
    CampaignKind.MARKETING: [
        Disposition(code="booked", label="已下单"),
        Disposition(code="interested", label="有意向，待跟进", final=False),
        Disposition(code="not_interested", label="暂无需求"),
        Disposition(code="call_later", label="约定改时间再联系", final=False),
        Disposition(code="wrong_number", label="号码有误"),
        Disposition(code="refused", label="拒绝并要求勿再来电", refusal=True),
    ],
}
MOVES = {
    "draft": {"running", "closed"},
    "running": {"paused", "closed"},
    "paused": {"running", "closed"},
    "closed": set(),
}


def rules_of(campaign: Campaign) -> CampaignRules:
    """The rules `decide` applies to the campaign's dials (stored campaigns were checked on save)."""
    return CampaignRules(
        CampaignKind(campaign.kind),
        campaign.code,
        window_start=campaign.window_start,
        window_end=campaign.window_end,
        days=frozenset(campaign.days),
        holidays_off=campaign.holidays_off,
        daily_cap=campaign.daily_cap,
        weekly_cap=campaign.weekly_cap,
        refusal_months=campaign.refusal_months,
        zone=campaign.zone,
    )


def _checked(data: CampaignIn) -> dict[str, Any]:
    """The campaign's columns, every broken rule raised at once with its form field."""
    problems = FieldProblems()
    try:
        CampaignRules(
            CampaignKind(data.kind),
            data.code,
            window_start=time.fromisoformat(data.window_start),
            window_end=time.fromisoformat(data.window_end),
            days=frozenset(data.days),
            holidays_off=data.holidays_off,
            daily_cap=data.daily_cap,
            weekly_cap=data.weekly_cap,
            refusal_months=data.refusal_months,
        )
    except HotlineError as broken:
        for entry in broken.extra.get("errors") or [broken.field_error()]:
            problems.add(
                InvalidInput(
                    entry["message"],
                    field=f"body.{entry['field']}",
                    reason=entry["type"],
                    params=entry["params"],
                )
            )
    if data.starts_on and data.ends_on and data.ends_on < data.starts_on:
        problems.add(
            InvalidInput(
                "The campaign ends before it starts", field="body.ends_on", reason="campaign-ends-before"
            )
        )
    codes = [d.code for d in data.dispositions]
    if len(set(codes)) < len(codes):
        problems.add(
            InvalidInput(
                "Two dispositions have the same code", field="body.dispositions", reason="disposition-twice"
            )
        )
    keys = [q.key for q in data.questionnaire]
    if len(set(keys)) < len(keys):
        problems.add(
            InvalidInput(
                "Two questions have the same key", field="body.questionnaire", reason="question-twice"
            )
        )
    for n, question in enumerate(data.questionnaire):
        if question.type in ("choice", "choices") and len(question.choices) < 2:
            problems.add(
                InvalidInput(
                    "A choice question needs at least two choices",
                    field=f"body.questionnaire.{n}.choices",
                    reason="question-needs-choices",
                )
            )
    if data.feed_source and data.feed_source not in SOURCES:
        problems.add(
            InvalidInput(
                f"No source {data.feed_source!r}",
                field="body.feed_source",
                reason="no-list-source",
                params={"name": data.feed_source},
            )
        )
    problems.raise_any()
    columns = data.model_dump(exclude={"agent_ids"})
    columns["window_start"], columns["window_end"] = (
        time.fromisoformat(data.window_start),
        time.fromisoformat(data.window_end),
    )
    columns["dispositions"] = [d.model_dump() for d in data.dispositions or STANDARD_DISPOSITIONS[data.kind]]
    return columns


async def _load(session: AsyncSession, campaign_id: int) -> Campaign:
    campaign = await session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(
            f"No campaign {campaign_id}",
            field="campaign_id",
            reason="no-campaign",
            params={"campaign_id": campaign_id},
        )
    return campaign


async def check_agents(ctx: Context, agent_ids: list[int]) -> None:
    found = await directory.staff(ctx, agent_ids, active=True)
    missing = [n for n in agent_ids if n not in found]
    if missing:
        raise InvalidInput(
            f"No active user {missing[0]}",
            field="body.agent_ids",
            reason="no-active-user",
            params={"user_id": missing[0]},
        )


async def _set_agents(ctx: Context, session: AsyncSession, campaign_id: int, agent_ids: list[int]) -> None:
    await check_agents(ctx, agent_ids)
    await session.execute(delete(CampaignAgent).where(CampaignAgent.campaign_id == campaign_id))
    session.add_all(CampaignAgent(campaign_id=campaign_id, user_id=n) for n in dict.fromkeys(agent_ids))


async def save(ctx: Context, data: CampaignIn, campaign_id: int | None = None) -> CampaignOut:
    ctx.require(Permission.CAMPAIGNS_WRITE)
    columns = _checked(data)
    async with ctx.write() as tx:
        taken = await tx.session.scalar(select(Campaign.id).where(Campaign.code == data.code))
        if taken is not None and taken != campaign_id:
            raise Conflict(
                f"Another campaign has the code {data.code}",
                field="body.code",
                reason="campaign-code-taken",
                params={"code": data.code},
            )
        if campaign_id is None:
            campaign = Campaign(**columns, created_by=ctx.actor.user_id)
            tx.session.add(campaign)
            await tx.session.flush()
        else:
            campaign = await _load(tx.session, campaign_id)
            if campaign.status == "closed":
                raise InvalidTransition(
                    "A closed campaign cannot be changed", field="campaign_id", reason="campaign-closed"
                )
            if campaign.kind != data.kind and campaign.status != "draft":
                raise InvalidTransition(
                    "A campaign that has called cannot change between marketing and service",
                    field="body.kind",
                    reason="campaign-kind-fixed",
                )
            for key, value in columns.items():
                setattr(campaign, key, value)
        await _set_agents(ctx, tx.session, campaign.id, data.agent_ids)
        await tx.session.flush()
        return await _out(tx.session, campaign)


async def set_status(ctx: Context, campaign_id: int, data: StatusIn) -> CampaignOut:
    ctx.require(Permission.CAMPAIGNS_WRITE)
    async with ctx.write() as tx:
        campaign = await _load(tx.session, campaign_id)
        if data.status != campaign.status and data.status not in MOVES[campaign.status]:
            raise InvalidTransition(
                f"A {campaign.status} campaign cannot become {data.status}",
                field="body.status",
                reason="campaign-status-move",
                params={"status": campaign.status, "to": data.status},
            )
        campaign.status = data.status
        await tx.session.flush()
        return await _out(tx.session, campaign)


async def get(ctx: Context, campaign_id: int) -> CampaignOut:
    ctx.require(Permission.CAMPAIGNS_READ)
    async with ctx.read() as session:
        campaign = await _load(session, campaign_id)
        await check_access(ctx, session, campaign_id)
        return await _out(session, campaign, with_progress=True)


async def list_campaigns(ctx: Context, *, include_closed: bool = False) -> list[CampaignOut]:
    """Every campaign for those who run them; an agent sees the campaigns they work."""
    ctx.require(Permission.CAMPAIGNS_READ)
    async with ctx.read() as session:
        query = select(Campaign).order_by(Campaign.status == "closed", Campaign.id.desc())
        if not include_closed:
            query = query.where(Campaign.status != "closed")
        if not ctx.actor.can(Permission.CAMPAIGNS_WRITE):
            query = query.where(Campaign.id.in_(_agents_campaigns(ctx.actor.user_id)))
        return [await _out(session, c, with_progress=True) for c in await session.scalars(query)]


def _agents_campaigns(user_id: int | None) -> Any:
    return select(CampaignAgent.campaign_id).where(CampaignAgent.user_id == user_id)


async def check_access(ctx: Context, session: AsyncSession, campaign_id: int) -> None:
    """Those who run campaigns see them all; an agent only the campaigns they work."""
    if ctx.actor.can(Permission.CAMPAIGNS_WRITE):
        return
    member = await session.scalar(
        select(CampaignAgent.user_id).where(
            CampaignAgent.campaign_id == campaign_id, CampaignAgent.user_id == ctx.actor.user_id
        )
    )
    if member is None:
        raise NotFound(
            f"No campaign {campaign_id}",
            field="campaign_id",
            reason="no-campaign",
            params={"campaign_id": campaign_id},
        )


async def agent_ids(session: AsyncSession, campaign_id: int) -> list[int]:
    found = await session.scalars(
        select(CampaignAgent.user_id)
        .where(CampaignAgent.campaign_id == campaign_id)
        .order_by(CampaignAgent.user_id)
    )
    return list(found)


async def _out(session: AsyncSession, campaign: Campaign, *, with_progress: bool = False) -> CampaignOut:
    out = CampaignOut.model_validate(campaign).model_copy(
        update={"agent_ids": await agent_ids(session, campaign.id)}
    )
    if with_progress:
        out.progress = (await _progress(session, campaign.id, by_agent=False)).campaign
    return out


async def progress(ctx: Context, campaign_id: int) -> CampaignProgress:
    """Where the campaign's numbers stand, in all and per agent (SPEC B3: progress per agent)."""
    ctx.require(Permission.CAMPAIGNS_READ)
    async with ctx.read() as session:
        await _load(session, campaign_id)
        await check_access(ctx, session, campaign_id)
        found = await _progress(session, campaign_id, by_agent=True)
    if not ctx.actor.can(Permission.CAMPAIGNS_WRITE):
        found.agents = [a for a in found.agents if a.agent_id == ctx.actor.user_id]
    people = await directory.staff(ctx, [a.agent_id for a in found.agents])
    for agent in found.agents:
        person = people.get(agent.agent_id)
        agent.agent = person.label if person else ""
    return found


async def _progress(session: AsyncSession, campaign_id: int, *, by_agent: bool) -> CampaignProgress:
    total = Progress()
    agents: dict[int, AgentProgress] = {}

    def tally(row: Progress, state: str, disposition: str, count: int, assigned: bool) -> None:
        row.total += count
        setattr(row, state, getattr(row, state) + count)
        if state == "open" and not assigned:
            row.unassigned += count
        if disposition:
            row.dispositions[disposition] = row.dispositions.get(disposition, 0) + count

    states = await session.execute(
        select(Target.assignee_id, Target.state, Target.disposition, func.count())
        .where(Target.campaign_id == campaign_id)
        .group_by(Target.assignee_id, Target.state, Target.disposition)
    )
    for assignee, state, disposition, count in states:
        tally(total, state, disposition, count, assignee is not None)
        if by_agent and assignee is not None:
            row = agents.setdefault(assignee, AgentProgress(agent_id=assignee, agent=""))
            tally(row, state, disposition, count, True)
    calls = await session.execute(
        select(Attempt.agent_id, Attempt.outcome, func.count())
        .where(Attempt.campaign_id == campaign_id)
        .group_by(Attempt.agent_id, Attempt.outcome)
    )
    for agent, outcome, count in calls:
        rows: list[Progress] = [total]
        if by_agent and agent is not None:
            rows.append(agents.setdefault(agent, AgentProgress(agent_id=agent, agent="")))
        for into in rows:
            into.attempts += count
            into.answered += count if outcome == "answered" else 0
    return CampaignProgress(campaign=total, agents=sorted(agents.values(), key=lambda a: a.agent_id))


async def campaign_for_work(session: AsyncSession, campaign_id: int) -> Campaign:
    """The campaign, loaded for a service that checked access already."""
    return await _load(session, campaign_id)
