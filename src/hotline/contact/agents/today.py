"""An agent's own day (D1, the idle desktop): what they did today, whom they are to ring back,
and how many callers wait in the queues they take calls from.

Figures by the definitions of docs/metrics.md (`metrics.compute`), over the agent's own lines of
the event log since midnight in the centre's time zone."""

from __future__ import annotations

import asyncio
from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select

from hotline.contact.agents.day_schemas import AgentFigures, DueCallback, QueueWaiting
from hotline.contact.agents.service import agents
from hotline.contact.local import LocalNode
from hotline.contact.metrics import AgentEvent, CallEvent, compute
from hotline.contact.models import AgentProfile, CallbackTask, ContactEvent, QueueDef
from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.core.permissions import Permission
from hotline.crm import directory as customers


def midnight(ctx: Context) -> datetime:
    """Today's start in the centre's time zone (the day the figures count)."""
    zone = ZoneInfo(ctx.settings.default_timezone)
    return datetime.combine(utcnow().astimezone(zone).date(), time(0), tzinfo=zone)


async def is_agent(ctx: Context, node: LocalNode | None) -> bool:
    """Whether the signed-in user takes calls: an active user with an extension or an agent
    profile (who has neither has no state to show or ask for)."""
    return ctx.actor.user_id is not None and bool(await agents(ctx, node, ctx.actor.user_id))


async def my_figures(ctx: Context) -> AgentFigures:
    """The signed-in agent's calls answered today, their average handle time (talk and wrap-up)
    and the callbacks they finished."""
    ctx.require(Permission.CALLS_HANDLE)
    me, since = ctx.actor.user_id, midnight(ctx)
    async with ctx.read() as session:
        answered = select(ContactEvent.call_id).where(
            ContactEvent.kind == "answered", ContactEvent.agent_id == me, ContactEvent.at >= since
        )
        rows = (
            await session.scalars(
                select(ContactEvent)
                .where(
                    ContactEvent.at >= since,
                    or_(
                        and_(
                            ContactEvent.call_id.in_(answered),
                            ContactEvent.kind.in_(("queued", "answered", "ended")),
                        ),
                        and_(ContactEvent.kind == "agent", ContactEvent.agent_id == me),
                    ),
                )
                .order_by(ContactEvent.id)
            )
        ).all()
        done = await session.scalar(
            select(func.count(CallbackTask.id)).where(
                CallbackTask.done_by == me, CallbackTask.status == "done", CallbackTask.done_at >= since
            )
        )
    calls = [
        CallEvent(r.at.timestamp(), r.call_id or "", r.kind, r.queue, r.agent_id)
        for r in rows
        if r.kind != "agent"
    ]
    states = [AgentEvent(r.at.timestamp(), me or 0, r.state) for r in rows if r.kind == "agent"]
    figures = compute(calls, states, until=utcnow().timestamp())
    mine = {c.call_id for c in calls if c.kind == "answered" and c.agent_id == me}
    return AgentFigures(
        answered=len(mine),
        average_handle_time=figures.average_handle_time,
        callbacks_done=int(done or 0),
    )


async def _my_queues(ctx: Context, node: LocalNode | None) -> list[tuple[str, str]]:
    """The queues (name, title) the agent takes calls from: those they logged into, else every
    queue whose skill they have (a queue without a skill takes everyone)."""
    me = ctx.actor.user_id
    runner = node.runner if node is not None else None
    chosen = runner.presence.agent(me or 0).queues if runner is not None else frozenset()
    async with ctx.read() as session:
        profile = await session.scalar(select(AgentProfile).where(AgentProfile.user_id == me))
        queues = (await session.execute(select(QueueDef.name, QueueDef.title, QueueDef.skill))).all()
    skills = dict(profile.skills) if profile else {}
    return [
        (name, title)
        for name, title, skill in sorted(queues)
        if ((name in chosen) if chosen else (not skill or skill in skills))
    ]


async def waiting_in_my_queues(ctx: Context, node: LocalNode | None) -> list[QueueWaiting]:
    """Per queue the agent takes calls from: the callers waiting now and the longest wait."""
    ctx.require(Permission.CALLS_HANDLE)
    runner = node.runner if node is not None else None
    waits = runner.waits() if runner is not None else []
    now = asyncio.get_running_loop().time()
    out = []
    for name, title in await _my_queues(ctx, node):
        callers = [w for w in waits if w.queue == name and not w.callback]
        longest = max((now - w.entered_at for w in callers), default=0.0)
        out.append(
            QueueWaiting(queue=name, title=title, waiting=len(callers), longest_wait=round(longest, 1))
        )
    return out


async def my_callbacks(
    ctx: Context, node: LocalNode | None, *, limit: int = 20
) -> tuple[list[DueCallback], int]:
    """The open callbacks of the agent's queues (and those of no queue), the oldest first, each
    with the customer whose registered phone it is; and how many there are in all."""
    ctx.require(Permission.CALLS_READ)
    queues = [name for name, _ in await _my_queues(ctx, node)]
    where = (CallbackTask.status == "open", CallbackTask.queue.in_([*queues, ""]))
    async with ctx.read() as session:
        total = int(await session.scalar(select(func.count(CallbackTask.id)).where(*where)) or 0)
        rows = (
            await session.scalars(
                select(CallbackTask)
                .where(*where)
                .order_by(CallbackTask.created_at, CallbackTask.id)
                .limit(limit)
            )
        ).all()
        owners = await customers.cards_by_phone(session, [r.phone for r in rows])
    out = []
    for row in rows:
        card = owners.get(row.phone)
        out.append(
            DueCallback(
                id=row.id,
                phone=row.phone,
                customer_id=card.id if card else None,
                customer_name=card.name if card else "",
                customer_title=card.title if card else "",
                queue=row.queue,
                reason=row.reason,
                misses=row.misses,
                created_at=row.created_at,
                last_missed_at=row.last_missed_at,
            )
        )
    return out, total


async def answered_today(ctx: Context) -> int:
    """Calls answered by anyone since midnight (what a quality reviewer could listen to)."""
    ctx.require(Permission.CALLS_READ)
    async with ctx.read() as session:
        found = await session.scalar(
            select(func.count(func.distinct(ContactEvent.call_id))).where(
                ContactEvent.kind == "answered", ContactEvent.at >= midnight(ctx)
            )
        )
    return int(found or 0)
