"""The no-show sweep (H9): guests past their expected arrival who have not checked in become call
tasks for agents; the agent records what the guest said.

- `sweep()` runs as a job every 15 minutes (`hotels.no_show_sweep`; 15 or 30 by its cron): each
  confirmed reservation arriving today whose expected arrival time has passed (in the hotel's
  time zone) and that is not marked late yet takes the step `mark_late`, once; its reaction puts
  it in the agents' 待回电 list (hotels/reactions.py).
- The agent's outcome (`late_outcome`): `delayed` (a new expected arrival; the hold is extended
  to match), `cancelled` (cancelled under the policy, fee recorded), or `unreachable` (the text
  asking the guest to call is stored for the SMS); the task closes.
"""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select

from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.core.errors import InvalidInput, NotFound
from hotline.core.permissions import Permission
from hotline.core.rows import get_or_404
from hotline.hotels import booking, state
from hotline.hotels.models import Hotel, RatePlan, Reservation, RoomType
from hotline.hotels.notices import tell
from hotline.hotels.queries import out
from hotline.hotels.schemas import LateOutcomeIn, ReservationOut


async def sweep(ctx: Context, *, now: datetime | None = None) -> int:
    """Mark today's late guests (each becomes a call task); returns how many were marked."""
    now = now or utcnow()
    marked = 0
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
            step = state.RESERVATION.apply(row.status, "mark_late", state.who(ctx.actor))
            booking.record(tx, row, step, f"late: expected {row.expected_arrival}, not checked in", at=now)
        marked += 1
    return marked


async def outcome(ctx: Context, reservation_id: int, data: LateOutcomeIn) -> ReservationOut:
    """What the late guest said when called."""
    ctx.require(Permission.BOOKINGS_WRITE)
    async with ctx.read() as session:
        reservation = await get_or_404(session, Reservation, reservation_id, "reservation")
        hotel = await session.get(Hotel, reservation.hotel_id)
    if hotel is None:
        raise NotFound(
            "The reservation's hotel is gone", field="reservation_id", reason="reservation-hotel-gone"
        )
    state.RESERVATION.check(reservation.status, "late_outcome", state.who(ctx.actor))
    if data.outcome == "cancelled":
        return await booking.transition(ctx, reservation_id, "cancel", note="guest cancelled when called")
    if data.outcome == "delayed" and data.eta is None:
        raise InvalidInput("When will the guest arrive?", field="body.eta", reason="when-will-guest-arrive")
    async with ctx.write() as tx:
        row = await booking.locked(tx.session, reservation_id)
        step = state.RESERVATION.apply(row.status, "late_outcome", state.who(ctx.actor))
        if data.outcome == "delayed" and data.eta is not None:
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
                raise NotFound(
                    "The reservation's room type or rate plan is gone",
                    field="reservation_id",
                    reason="reservation-room-type-rate-plan",
                )
            await tell(tx, row, hotel, room_type, plan, "unreachable")
        booking.record(tx, row, step, note)
        await tx.session.flush()
        return out(row, ctx.actor)
