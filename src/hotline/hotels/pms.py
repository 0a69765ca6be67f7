"""Check-in and check-out from a hotel's PMS (H10): the PMS posts arrivals and departures to a
token-authenticated webhook; each event is applied once by its event id — the PMS may retry
freely, a repeat gets the first answer back and changes nothing."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from hotline.core.context import Context
from hotline.core.errors import HotlineError, NotFound
from hotline.core.permissions import Permission
from hotline.hotels import booking
from hotline.hotels.models import PmsEvent, Reservation
from hotline.hotels.schemas import PmsEventIn, PmsEventOut


async def receive(ctx: Context, data: PmsEventIn) -> PmsEventOut:
    ctx.require(Permission.BOOKINGS_WRITE)
    async with ctx.read() as session:
        seen = await session.scalar(select(PmsEvent).where(PmsEvent.event_id == data.event_id))
        if seen is not None:
            return PmsEventOut(event_id=seen.event_id, applied=False, duplicate=True, result=seen.result)
        reservation_id = await session.scalar(
            select(Reservation.id).where(Reservation.number == data.reservation)
        )
    if reservation_id is None:
        raise NotFound(
            f"No reservation {data.reservation}",
            field="body.reservation",
            reason="no-reservation-number",
            params={"reservation": data.reservation},
        )
    action = "check_in" if data.kind == "arrival" else "check_out"
    try:
        done = await booking.transition(ctx, reservation_id, action, note=f"PMS event {data.event_id}")
        result, applied = done.status, True
    except (
        HotlineError
    ) as refused:  # e.g. a departure for a guest who never checked in: recorded, not applied
        result, applied = f"refused: {refused.detail}"[:200], False
    try:
        async with ctx.write() as tx:
            event = PmsEvent(
                event_id=data.event_id, kind=data.kind, reservation_number=data.reservation, result=result
            )
            tx.session.add(event)
    except IntegrityError:  # the same event arrived twice at once: the first one's answer stands
        return PmsEventOut(event_id=data.event_id, applied=False, duplicate=True, result=result)
    return PmsEventOut(event_id=data.event_id, applied=applied, duplicate=False, result=result)
