"""The wallboard (A1) and the queues' figures, from the voice node's live state and the event log,
by the definitions of docs/metrics.md."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from hotline.contact.agents.service import agents as agents_now
from hotline.contact.local import LocalNode
from hotline.contact.metrics import CallEvent, compute
from hotline.contact.models import ContactEvent, QueueDef
from hotline.contact.schemas import QueueFigures, Wallboard, WallboardQueue
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
    figures since midnight China time; and every agent with their state and time in it."""
    ctx.require(Permission.AGENTS_READ)
    zone = ZoneInfo(ctx.settings.default_timezone)
    midnight = datetime.combine(utcnow().astimezone(zone).date(), time(0), tzinfo=zone)
    hours = max((utcnow() - midnight).total_seconds() / 3600, 0.01)
    figures = {f.queue: f for f in await queue_figures(ctx, hours=hours)}
    agents = await agents_now(ctx, node)
    async with ctx.read() as session:
        queues = (
            await session.execute(
                select(QueueDef.name, QueueDef.title, QueueDef.skill).order_by(QueueDef.name)
            )
        ).all()
    runner = node.runner if node is not None else None
    waits = runner.waits() if runner is not None else []
    now = asyncio.get_running_loop().time()
    board = []
    for name, title, skill in queues:
        mine = [w for w in waits if w.queue == name]
        callers = [w for w in mine if not w.callback]
        states: dict[str, int] = defaultdict(int)
        for agent in agents:
            serves = skill in agent.skills if skill else True  # and logged into it, when they chose queues
            if serves and (name in agent.queues or (not agent.queues and agent.state != "logged_out")):
                states[agent.state] += 1
        board.append(
            WallboardQueue(
                queue=name,
                title=title,
                waiting=len(callers),
                longest_wait=round(max((now - w.entered_at for w in callers), default=0.0), 1),
                callbacks_waiting=len(mine) - len(callers),
                agents=dict(states),
                today=figures.get(name),
            )
        )
    return Wallboard(queues=board, agents=agents)
