"""What follows a reservation's step in other domains, after its commit (core/reactions.py).

- the customer's timeline (crm): booked, cancelled, checked in, checked out, no-show; once each;
- points for a stay (crm loyalty, C4): on check-out, once per reservation;
- call tasks (contact): a paper booking that found its rooms sold, and a late guest (the no-show
  sweep), become one open task each for an agent to call; the task closes when the conflict is
  resolved, the guest's answer is recorded or the reservation is cancelled; the call a booking
  was made on notes what came of it;
- the desk's inbox (notify): a paper conflict is told to those who run the hotels.

Each is idempotent: one open task per reservation, one timeline entry and one points entry per
reference.
"""

from __future__ import annotations

from hotline.admin import directory
from hotline.contact import callbacks
from hotline.contact.calls import records as call_records
from hotline.core.context import Actor, Context
from hotline.core.i18n import yuan
from hotline.core.permissions import Permission
from hotline.core.reactions import reacts_to
from hotline.crm import loyalty, timeline
from hotline.hotels.events import ReservationChanged
from hotline.hotels.models import Hotel, Reservation, RoomType
from hotline.hotels.state import LABELS
from hotline.notify import inbox

ON_TIMELINE = {"book": "预订", "cancel": "取消", "check_in": "入住", "check_out": "离店", "no_show": "未到店"}


async def _load(ctx: Context, reservation_id: int) -> tuple[Reservation, Hotel, RoomType] | None:
    async with ctx.read() as session:
        reservation = await session.get(Reservation, reservation_id)
        if reservation is None:
            return None
        hotel = await session.get(Hotel, reservation.hotel_id)
        room_type = await session.get(RoomType, reservation.room_type_id)
    if hotel is None or room_type is None:
        return None
    return reservation, hotel, room_type


@reacts_to(ReservationChanged)
async def on_the_customers_timeline(ctx: Context, event: ReservationChanged) -> None:
    what = ON_TIMELINE.get(event.action)
    found = await _load(ctx, event.reservation_id) if what else None
    customer_id = found[0].customer_id if found else None
    if found is None or customer_id is None:
        return
    reservation, hotel, room_type = found
    state = LABELS.get(reservation.status, reservation.status)
    title = f"{what} {hotel.name} {room_type.name}{reservation.rooms}间 · {reservation.arrival:%m月%d日}入住"
    await timeline.add(
        ctx.as_actor(Actor.system("hotels")),
        customer_id,
        "booking",
        title,
        ref=f"reservation:{reservation.number}:{what}",
        detail=f"预订号{reservation.number} · {yuan(reservation.total)} · {state}",
    )


@reacts_to(ReservationChanged)
async def a_stay_earns_points(ctx: Context, event: ReservationChanged) -> None:
    found = await _load(ctx, event.reservation_id) if event.action == "check_out" else None
    customer_id = found[0].customer_id if found else None
    if found is None or customer_id is None:
        return
    reservation, hotel, _ = found
    try:
        await loyalty.earn(
            ctx.as_actor(Actor.system("hotels")),
            customer_id,
            reservation.total,
            reason=f"{hotel.name} {len(reservation.nights)}晚",
            ref=f"reservation:{reservation.number}",
        )
    except loyalty.AlreadyEarned:
        return


@reacts_to(ReservationChanged)
async def call_tasks(ctx: Context, event: ReservationChanged) -> None:
    ref = f"reservation:{event.number}"
    if event.action == "book" and event.after == "conflict":  # someone must call the guest with another offer
        found = await _load(ctx, event.reservation_id)
        if found is None:
            return
        reservation, hotel, _ = found
        await callbacks.open_call_task(ctx, reservation.guest_phone, ref, "paper_conflict", queue="hotel")
        async with ctx.write() as tx:
            desk = await directory.holders_of(tx.session, Permission.HOTELS_WRITE)
            await inbox.tell(
                tx,
                desk,
                "conflict",
                f"纸质预订冲突：{hotel.name} 预订号{event.number}",
                body=f"{reservation.guest_name} {reservation.arrival}入住，房间已被售出",
                link="/reservations",
            )
    elif event.action == "mark_late":
        found = await _load(ctx, event.reservation_id)
        if found is not None:
            await callbacks.open_call_task(ctx, found[0].guest_phone, ref, "no_show", queue="hotel")
    elif event.before == "conflict":
        said = event.note if event.action == "modify" else f"{event.action}: {event.note}"
        await callbacks.close_call_task(ctx, ref, said[:300])
    elif event.action == "cancel":  # a late guest who cancelled when called needs no more calls
        await callbacks.close_call_task(ctx, ref, "客人取消")
    elif event.action == "late_outcome":
        await callbacks.close_call_task(ctx, ref, event.note)


@reacts_to(ReservationChanged)
async def the_call_it_was_booked_on(ctx: Context, event: ReservationChanged) -> None:
    if event.action != "book":
        return
    found = await _load(ctx, event.reservation_id)
    if found is None or not found[0].call_id:
        return
    reservation, hotel, _ = found
    await call_records.note_on_call(
        ctx, reservation.call_id or "", "booked", f"预订 {reservation.number} {hotel.name}"
    )
