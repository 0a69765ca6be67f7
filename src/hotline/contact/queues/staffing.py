"""Staffing (R6): how many agents a queue needs for a service level (Erlang C, or Erlang A with
callers' patience), and a recorded day of the event log as input for the simulator."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from hotline.contact import simulate
from hotline.contact.metrics import AgentEvent, CallEvent
from hotline.contact.models import ContactEvent
from hotline.contact.queues import erlang
from hotline.contact.queues.settings import load_setup
from hotline.contact.schemas import StaffingIn, StaffingOut, StaffingRow
from hotline.contact.simulate import RecordedDay
from hotline.core.context import Context
from hotline.core.errors import InvalidInput
from hotline.core.permissions import Permission


async def staffing(ctx: Context, data: StaffingIn) -> StaffingOut:
    """How many agents a queue needs for a service level (R6), with the figures around it."""
    ctx.require(Permission.ROUTING_READ)
    return await ctx.compute(staffing_table, data)


def staffing_table(data: StaffingIn) -> StaffingOut:
    """The answer and a few staffing levels around it (runs in the compute pool)."""
    try:
        needed = erlang.agents_needed(
            data.calls_per_hour,
            data.handle_seconds,
            service_level=data.service_level,
            target_seconds=data.target_seconds,
            patience_seconds=data.patience_seconds,
        )
    except erlang.OutOfRange as exc:
        raise InvalidInput(str(exc), field=f"body.{exc.argument}") from exc
    rows = []
    for agents in range(max(1, needed.agents - 2), needed.agents + 4):
        figures = (
            erlang.erlang_c_staffing(agents, data.calls_per_hour, data.handle_seconds, data.target_seconds)
            if data.patience_seconds is None
            else erlang.erlang_a_staffing(
                agents, data.calls_per_hour, data.handle_seconds, data.patience_seconds, data.target_seconds
            )
        )
        speed = figures.average_speed_of_answer
        rows.append(
            StaffingRow(
                agents=agents,
                service_level=round(figures.service_level or 0.0, 4),
                wait_probability=round(figures.wait_probability, 4),
                average_speed_of_answer=round(speed, 1) if math.isfinite(speed) else -1.0,
                occupancy=round(figures.occupancy, 4),
                abandon_rate=round(figures.abandon_rate, 4),
            )
        )
    return StaffingOut(
        model="erlang-c" if data.patience_seconds is None else "erlang-a",
        traffic=round(needed.traffic, 3),
        agents_needed=needed.agents,
        agents_scheduled=math.ceil(needed.agents / (1 - data.shrinkage)),
        rows=rows,
    )


async def recorded_day(ctx: Context, day: date) -> RecordedDay:
    """A day of the event log (in the center's time zone) with today's queues and skills, as
    input for `simulate.replay`."""
    zone = ZoneInfo(ctx.settings.default_timezone)
    start = datetime.combine(day, datetime.min.time(), tzinfo=zone)
    async with ctx.read() as session:
        rows = (
            await session.scalars(
                select(ContactEvent)
                .where(ContactEvent.at >= start, ContactEvent.at < start + timedelta(days=1))
                .order_by(ContactEvent.id)
            )
        ).all()
    setup = await load_setup(ctx)
    calls = [
        CallEvent(row.at.timestamp(), row.call_id or "", row.kind, row.queue, row.agent_id)
        for row in rows
        if row.kind not in ("agent", "ivr")
    ]
    agents = [
        AgentEvent(row.at.timestamp(), row.agent_id, row.state)
        for row in rows
        if row.kind == "agent" and row.agent_id is not None
    ]
    skills = {agent_id: seat.skills for agent_id, seat in setup.seats.items()}
    return simulate.recorded_day(calls, agents, skills, setup.queues, setup.rules)
