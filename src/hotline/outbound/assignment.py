"""Handing a campaign's numbers to agents and taking them back (seed 001: 管理人员分配, SPEC B3).

By hand: chosen numbers to one agent. Evenly: the unassigned open numbers shared so that each
agent ends with as equal an open share as possible (those with fewer get more). By skill: the same,
in proportion to each agent's level of a skill (an agent without it gets none). Only open numbers
move; a number being worked keeps its history wherever it goes."""

from __future__ import annotations

import heapq
from collections.abc import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.contact.agents.service import skills_of
from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.core.errors import InvalidInput, InvalidTransition
from hotline.core.permissions import Permission
from hotline.outbound import campaigns
from hotline.outbound.models import Target
from hotline.outbound.schemas import Assigned, TakeBackIn, TargetAssignIn

_BATCH = 500


def share(open_now: dict[int, int], weights: dict[int, float], count: int) -> dict[int, int]:
    """How many of `count` numbers each agent gets so that open/weight evens out: the next number
    always goes to the agent whose load per weight is lowest (ties to the lower id)."""
    heap = [((open_now.get(agent, 0) + 1) / weight, agent) for agent, weight in weights.items() if weight > 0]
    heapq.heapify(heap)
    given = dict.fromkeys((agent for _, agent in heap), 0)
    for _ in range(count if heap else 0):
        _, agent = heapq.heappop(heap)
        given[agent] += 1
        heapq.heappush(heap, ((open_now.get(agent, 0) + given[agent] + 1) / weights[agent], agent))
    return {agent: n for agent, n in given.items() if n}


async def assign(ctx: Context, campaign_id: int, data: TargetAssignIn) -> Assigned:
    ctx.require(Permission.CAMPAIGNS_WRITE)
    async with ctx.read() as session:
        campaign = await campaigns.campaign_for_work(session, campaign_id)
        members = await campaigns.agent_ids(session, campaign_id)
    if campaign.status == "closed":
        raise InvalidTransition(
            "A closed campaign's numbers stay where they are", field="campaign_id", reason="campaign-closed"
        )
    agents = list(dict.fromkeys(data.agent_ids or members))
    await campaigns.check_agents(ctx, agents)
    if data.how == "hand":
        if len(agents) != 1 or not data.agent_ids:
            raise InvalidInput(
                "Hand numbers to exactly one agent", field="body.agent_ids", reason="assign-one-agent"
            )
        if not data.target_ids:
            raise InvalidInput(
                "Choose the numbers to hand over", field="body.target_ids", reason="assign-no-targets"
            )
        return await _hand(ctx, campaign_id, data.target_ids, agents[0])
    if not agents:
        raise InvalidInput(
            "The campaign has no agents to share its numbers among",
            field="body.agent_ids",
            reason="campaign-no-agents",
        )
    weights: dict[int, float] = dict.fromkeys(agents, 1.0)
    if data.how == "skill":
        if not data.skill:
            raise InvalidInput("Name the skill to share by", field="body.skill", reason="assign-no-skill")
        async with ctx.read() as session:
            skills = await skills_of(session, agents)
        weights = {agent: float(skills[agent].get(data.skill, 0)) for agent in agents}
        if not any(weights.values()):
            raise InvalidInput(
                "None of these agents has the skill",
                field="body.skill",
                reason="assign-skill-nobody",
                params={"skill": data.skill},
            )
    async with ctx.write() as tx:
        free = list(
            await tx.session.scalars(
                select(Target.id)
                .where(
                    Target.campaign_id == campaign_id, Target.state == "open", Target.assignee_id.is_(None)
                )
                .order_by(Target.id)
                .limit(data.limit or 100_000)
            )
        )
        given = share(await _open_by_agent(tx.session, campaign_id, agents), weights, len(free))
        at, now = 0, utcnow()
        for agent, count in sorted(given.items()):
            chosen = free[at : at + count]
            at += count
            for start in range(0, len(chosen), _BATCH):
                await tx.session.execute(
                    update(Target)
                    .where(Target.id.in_(chosen[start : start + _BATCH]))
                    .values(assignee_id=agent, assigned_at=now)
                )
        tx.audit(
            "outbound.assigned", "outbound_campaign", campaign_id, after={"how": data.how, "given": given}
        )
    return Assigned(assigned=given, total=sum(given.values()))


async def _hand(ctx: Context, campaign_id: int, target_ids: Sequence[int], agent: int) -> Assigned:
    async with ctx.write() as tx:
        rows = list(
            await tx.session.scalars(
                select(Target).where(Target.id.in_(target_ids), Target.campaign_id == campaign_id)
            )
        )
        _all_open(rows, target_ids)
        now = utcnow()
        for row in rows:
            row.assignee_id, row.assigned_at = agent, now
    return Assigned(assigned={agent: len(rows)}, total=len(rows))


def _all_open(rows: list[Target], wanted: Sequence[int]) -> None:
    found = {row.id for row in rows}
    missing = [n for n in wanted if n not in found]
    if missing:
        raise InvalidInput(
            f"No number {missing[0]} on this campaign's list",
            field="body.target_ids",
            reason="no-target",
            params={"target_id": missing[0]},
        )
    closed = [row.id for row in rows if row.state != "open"]
    if closed:
        raise InvalidTransition(
            f"Number {closed[0]} is no longer open",
            field="body.target_ids",
            reason="target-not-open",
            params={"target_id": closed[0]},
        )


async def take_back(ctx: Context, campaign_id: int, data: TakeBackIn) -> Assigned:
    """Open numbers back to the campaign's pool (from chosen numbers, or all of one agent's)."""
    ctx.require(Permission.CAMPAIGNS_WRITE)
    if not data.target_ids and data.agent_id is None:
        raise InvalidInput("Choose numbers or an agent", field="body.target_ids", reason="take-back-what")
    async with ctx.write() as tx:
        await campaigns.campaign_for_work(tx.session, campaign_id)
        query = select(Target).where(Target.campaign_id == campaign_id)
        if data.target_ids:
            rows = list(await tx.session.scalars(query.where(Target.id.in_(data.target_ids))))
            _all_open(rows, data.target_ids)
        else:
            rows = list(
                await tx.session.scalars(
                    query.where(Target.assignee_id == data.agent_id, Target.state == "open")
                )
            )
        back: dict[int, int] = {}
        for row in rows:
            if row.assignee_id is not None:
                back[row.assignee_id] = back.get(row.assignee_id, 0) + 1
            row.assignee_id, row.assigned_at = None, None
        tx.audit("outbound.taken_back", "outbound_campaign", campaign_id, after={"from": back})
    return Assigned(assigned=back, total=sum(back.values()))


async def _open_by_agent(session: AsyncSession, campaign_id: int, agents: list[int]) -> dict[int, int]:
    rows = await session.execute(
        select(Target.assignee_id, func.count())
        .where(Target.campaign_id == campaign_id, Target.state == "open", Target.assignee_id.in_(agents))
        .group_by(Target.assignee_id)
    )
    return {agent: count for agent, count in rows if agent is not None}
