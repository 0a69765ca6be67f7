"""Scheduled work of the travel domain — the return-visit tasks — and its date sources for
notification rules: departures (17:00 the day before) and returns (12:00 the day after)."""

from __future__ import annotations

from datetime import date
from typing import Any

import structlog
from sqlalchemy import select

from hotline.core.context import Context
from hotline.core.events import Event
from hotline.core.jobs import job_handler
from hotline.core.topics import register_source
from hotline.travel import messages, workflow
from hotline.travel.events import Occasion, OrderNotice
from hotline.travel.models import Order
from hotline.travel.state import State

log = structlog.get_logger(__name__)
TRAVELLING = (State.SIGNED.value, State.REVIEWED.value)


@job_handler("travel.return_visits")
async def return_visits(ctx: Context, payload: dict[str, Any]) -> None:
    """Orders whose travellers came back three days ago become return-visit tasks."""
    made = await workflow.return_visits(ctx)
    if made:
        log.info("return visits due", tasks=made)


async def _notices(
    ctx: Context, column: Any, day: date, states: tuple[str, ...], occasion: Occasion
) -> list[Event]:
    async with ctx.read() as session:
        rows = (
            await session.scalars(
                select(Order).where(column == day, Order.state.in_(states)).order_by(Order.id)
            )
        ).all()
        return [await messages.notice(session, row, occasion) for row in rows]


async def departures(ctx: Context, day: date) -> list[Event]:
    """Signed orders leaving on `day`: the notices of the departure reminder."""
    return await _notices(ctx, Order.departs_on, day, TRAVELLING, "departure")


async def returns(ctx: Context, day: date) -> list[Event]:
    """Orders whose travellers came back on `day`: the notices of the follow-up message."""
    return await _notices(ctx, Order.returns_on, day, (*TRAVELLING, State.RETURN_VISIT.value), "return")


register_source("travel.departure", OrderNotice, "旅游出发日", departures)
register_source("travel.return", OrderNotice, "旅游返回日", returns)
