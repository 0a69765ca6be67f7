"""Scheduled work of the hotels domain, and its date source for notification rules."""

from __future__ import annotations

from datetime import date
from typing import Any

import structlog
from sqlalchemy import select

from hotline.core.context import Context
from hotline.core.events import Event
from hotline.core.jobs import job_handler
from hotline.core.topics import register_source
from hotline.crm import directory as customers
from hotline.hotels import groups, noshow
from hotline.hotels.events import ReservationNotice
from hotline.hotels.models import Hotel, RatePlan, Reservation, RoomType
from hotline.hotels.notices import notice

log = structlog.get_logger(__name__)


@job_handler("hotels.no_show_sweep")
async def no_show_sweep(ctx: Context, payload: dict[str, Any]) -> None:
    """Late guests become call tasks (every 15 minutes; set the cron to */30 for half-hourly)."""
    made = await noshow.sweep(ctx)
    if made:
        log.info("late guests to call", tasks=made)


@job_handler("hotels.release_groups")
async def release_groups(ctx: Context, payload: dict[str, Any]) -> None:
    """Group rooms without a name go back on sale after the release date."""
    released = await groups.release(ctx)
    if released:
        log.info("group rooms released", rooms=released)


async def arrivals(ctx: Context, day: date) -> list[Event]:
    """Confirmed reservations arriving on `day`: the notices of the "before arrival" reminder."""
    return await _notices(ctx, Reservation.arrival == day, "confirmed", "reminder")


async def departures(ctx: Context, day: date) -> list[Event]:
    """Guests who checked out on `day`: thanks for staying, the return visit (回访) after the stay."""
    return await _notices(ctx, Reservation.departure == day, "checked_out", "departed")


async def _notices(ctx: Context, when: Any, status: str, occasion: str) -> list[Event]:
    async with ctx.read() as session:
        rows = (
            await session.scalars(
                select(Reservation).where(when, Reservation.status == status).order_by(Reservation.id)
            )
        ).all()
        found: list[Event] = []
        for row in rows:
            hotel = await session.get(Hotel, row.hotel_id)
            room_type = await session.get(RoomType, row.room_type_id)
            plan = await session.get(RatePlan, row.rate_plan_id)
            customer = await customers.card(session, row.customer_id)
            if hotel and room_type and plan:
                found.append(notice(row, hotel, room_type, plan, occasion, customer))
    return found


register_source("hotels.arrival", ReservationNotice, "预订入住日", arrivals)
register_source("hotels.departure", ReservationNotice, "离店日", departures)
