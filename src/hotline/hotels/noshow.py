"""The no-show sweep (H9): guests past their expected arrival who have not checked in become call
tasks for agents; the agent records what the guest said.

- `sweep()` runs as a job every 15 minutes (`hotels.no_show_sweep`; 15 or 30 by its cron): each
  confirmed reservation arriving today whose expected arrival time has passed (in the hotel's
  time zone) and that has no task yet gets one in the agents' 待回电 list, once.
- The agent's outcome: `delayed` (a new expected arrival; the hold is extended to match),
  `cancelled` (cancelled under the policy, fee recorded), or `unreachable` (the text asking the
  guest to call is stored for the SMS, issue 7, and the task closes).
"""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select

from hotline.contact import callbacks
from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.core.errors import InvalidInput, InvalidTransition, NotFound
from hotline.core.permissions import Permission
from hotline.hotels import service
from hotline.hotels.models import Hotel, RatePlan, Reservation, ReservationChange, RoomType
from hotline.hotels.schemas import LateOutcomeIn, ReservationOut


async def sweep(ctx: Context, *, now: datetime | None = None) -> int:
    """Call tasks for today's late guests; returns how many were made."""
    now = now or utcnow()
    made = 0
    async with ctx.read() as session:
        rows = (
            await session.execute(
                select(Reservation, Hotel)
                .join(Hotel, Hotel.id == Reservation.hotel_id)
                .where(Reservation.status == "confirmed", Reservation.late_since.is_(None))
            )
        ).all()
    for reservation, hotel in rows:
        local = now.astimezone(ZoneInfo(hotel.timezone))
        hour, minute = (int(x) for x in reservation.expected_arrival.split(":"))
        if reservation.arrival != local.date() or local.time() < time(hour, minute):
            continue
        async with ctx.write() as tx:
            row = await tx.session.get(Reservation, reservation.id, with_for_update=True)
            if row is None or row.late_since is not None or row.status != "confirmed":
                continue
            row.late_since = now
            late = f"late: expected {row.expected_arrival}, not checked in"
            change = ReservationChange(
                reservation_id=row.id, at=now, before=row.status, after=row.status, note=late
            )
            tx.session.add(change)
        ref = f"reservation:{reservation.number}"
        made += await callbacks.open_call_task(ctx, reservation.guest_phone, ref, "no_show", queue="hotel")
    return made


async def outcome(ctx: Context, reservation_id: int, data: LateOutcomeIn) -> ReservationOut:
    """What the late guest said when called."""
    ctx.require(Permission.BOOKINGS_WRITE)
    async with ctx.read() as session:
        reservation = await session.get(Reservation, reservation_id)
        if reservation is None:
            raise NotFound(f"No reservation {reservation_id}", field="reservation_id")
        hotel = await session.get(Hotel, reservation.hotel_id)
    if hotel is None or reservation.status != "confirmed":
        raise InvalidTransition("Only a confirmed reservation waits for its guest")
    ref = f"reservation:{reservation.number}"
    if data.outcome == "cancelled":
        done = await service.transition(ctx, reservation_id, "cancel", note="guest cancelled when called")
        await callbacks.close_call_task(ctx, ref, "客人取消")
        return done
    async with ctx.write() as tx:
        row = await tx.session.get(Reservation, reservation_id, with_for_update=True)
        if row is None:
            raise NotFound(f"No reservation {reservation_id}", field="reservation_id")
        if data.outcome == "delayed":
            if data.eta is None:
                raise InvalidInput("When will the guest arrive?", field="body.eta")
            zone = ZoneInfo(hotel.timezone)
            hour, minute = (int(x) for x in data.eta.split(":"))
            row.expected_arrival = data.eta
            extended = datetime.combine(row.arrival, time(hour, minute), tzinfo=zone)
            if extended > row.hold_until:
                row.hold_until = extended
            row.late_since = None  # the sweep looks again after the new time
            note = f"delayed: now expected {data.eta}, held until {row.hold_until.astimezone(zone):%H:%M}"
        else:
            note = "unreachable: SMS asking the guest to call"
            room_type = await tx.session.get(RoomType, row.room_type_id)
            plan = await tx.session.get(RatePlan, row.rate_plan_id)
            if room_type is None or plan is None:
                raise NotFound("The reservation's room type or rate plan is gone", field="reservation_id")
            await service.tell(tx, row, hotel, room_type, plan, "unreachable")
        tx.session.add(ReservationChange(reservation_id=row.id, by=ctx.actor.user_id, before=row.status,
                                         after=row.status, note=note))  # fmt: skip
        await tx.session.flush()
        out = ReservationOut.model_validate(row)
    await callbacks.close_call_task(ctx, ref, note)
    return out
