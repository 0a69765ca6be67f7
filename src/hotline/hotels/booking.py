"""Booking commands: book rooms, change a booking, and take a step of its lifecycle.

Each checks first (the dates, the room type, the lifecycle's table in hotels/state.py), then
changes the reservation, its rooms and its history in one transaction, and publishes what
happened (`ReservationChanged`, and the notice the guest is sent). What follows in other domains
— the customer's timeline, points for a stay, call tasks — is done by hotels/reactions.py after
the commit.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.clock import utcnow
from hotline.core.context import Context, Tx
from hotline.core.db import next_number
from hotline.core.errors import InvalidInput, NotFound
from hotline.core.lifecycle import Step
from hotline.core.permissions import Permission
from hotline.core.rows import get_or_404
from hotline.crm import directory as customers
from hotline.hotels import payments, state
from hotline.hotels.availability import availability, check_dates, instead
from hotline.hotels.events import ReservationChanged
from hotline.hotels.inventory import RoomsSoldOut, release, take_rooms
from hotline.hotels.models import Hotel, Payment, RatePlan, Reservation, ReservationChange, RoomType
from hotline.hotels.notices import tell
from hotline.hotels.pricing import hotel_today, nights_of, price_stay, quote
from hotline.hotels.queries import out
from hotline.hotels.schemas import BookingIn, ModifyIn, ReservationOut

FIRST_NUMBER = 60_000_001
PAPER_DAYS = 30


def record(
    tx: Tx, reservation: Reservation, step: Step[str], note: str = "", *, at: datetime | None = None
) -> None:
    """Write the step: the reservation's state, its history row, and the event after commit."""
    reservation.status = step.after
    change = ReservationChange(reservation_id=reservation.id)
    change.record(step, note[: ReservationChange.__note_length__])
    if at is not None:
        change.at = at
    tx.session.add(change)
    tx.publish(
        ReservationChanged(
            reservation_id=reservation.id,
            number=reservation.number,
            action=step.action,
            before=step.before,
            after=step.after,
            by=step.by,
            note=change.note,
        )
    )


async def locked(session: AsyncSession, reservation_id: int) -> Reservation:
    return await get_or_404(session, Reservation, reservation_id, "reservation", for_update=True)


def _check_taken_at(taken_at: datetime | None, zone: ZoneInfo) -> datetime | None:
    """A paper booking's original time: in the past, within the last 30 days; a time without a
    zone is the hotel's local time."""
    if taken_at is None:
        return None
    if taken_at.tzinfo is None:
        taken_at = taken_at.replace(tzinfo=zone)
    now = utcnow()
    if taken_at > now + timedelta(minutes=1):
        raise InvalidInput(
            "A paper booking was taken in the past",
            field="body.taken_at",
            reason="paper-booking-was-taken-past",
        )
    if taken_at < now - timedelta(days=PAPER_DAYS):
        raise InvalidInput(
            f"Paper bookings are entered within {PAPER_DAYS} days",
            field="body.taken_at",
            reason="paper-bookings-entered-within-days",
            params={"paper_days": PAPER_DAYS},
        )
    return taken_at


def _hold_until(data: BookingIn, hotel: Hotel, plan: RatePlan) -> datetime:
    zone = ZoneInfo(hotel.timezone)
    if plan.guaranteed:
        return datetime.combine(data.arrival + timedelta(days=1), time(6, 0), tzinfo=zone)
    hold = max(data.hold_until or hotel.hold_until, hotel.hold_until)
    hour, minute = (int(x) for x in hold.split(":"))
    return datetime.combine(data.arrival, time(hour, minute), tzinfo=zone)


async def book(ctx: Context, data: BookingIn) -> ReservationOut:
    ctx.require(Permission.BOOKINGS_WRITE)
    async with ctx.read() as session:
        hotel = await session.get(Hotel, data.hotel_id)
        room_type = await session.get(RoomType, data.room_type_id)
        plan = await session.get(RatePlan, data.rate_plan_id)
        customer = await customers.card(session, data.customer_id) if data.customer_id else None
    if hotel is None or not hotel.active:
        raise NotFound(
            f"No hotel {data.hotel_id}",
            field="body.hotel_id",
            reason="no-hotel",
            params={"hotel_id": data.hotel_id},
        )
    if room_type is None or room_type.hotel_id != hotel.id:
        raise InvalidInput(
            "That room type is not one of this hotel's",
            field="body.room_type_id",
            reason="room-type-not-one-hotel",
        )
    if plan is None or plan.hotel_id != hotel.id or not plan.active:
        raise InvalidInput(
            "That rate plan is not offered by this hotel",
            field="body.rate_plan_id",
            reason="rate-plan-not-offered-hotel",
        )
    if data.customer_id and (customer is None or customer.anonymised):
        raise NotFound(
            f"No customer {data.customer_id}",
            field="body.customer_id",
            reason="no-customer",
            params={"customer_id": data.customer_id},
        )
    check_dates(data.arrival, data.departure, hotel_today(hotel))
    if data.guests > room_type.capacity * data.rooms:
        raise InvalidInput(
            f"{data.rooms} × {room_type.name} sleep at most {room_type.capacity * data.rooms}",
            field="body.guests",
            reason="sleep-most",
            params={"rooms": data.rooms, "name": room_type.name, "value": room_type.capacity * data.rooms},
        )
    nights = nights_of(data.arrival, data.departure)
    zone = ZoneInfo(hotel.timezone)
    tier = customer.tier if customer is not None else None
    taken_at = _check_taken_at(data.taken_at, zone)
    try:
        async with ctx.write() as tx:
            has_rooms = await take_rooms(tx.session, room_type.id, nights, data.rooms)
            if not has_rooms and taken_at is None:
                raise RoomsSoldOut(
                    f"No {room_type.name} left for all those nights",
                    field="body.room_type_id",
                    reason="no-left-all-those-nights",
                    params={"name": room_type.name},
                )
            breakdown, total = await price_stay(tx.session, room_type.id, nights, plan, tier, data.rooms)
            if data.deposit > total:
                raise InvalidInput(
                    "The deposit is more than the stay costs",
                    field="body.deposit",
                    reason="deposit-more-stay-costs",
                )
            first = state.booked(state.initial(has_rooms=has_rooms, confirm=data.confirm), ctx.actor)
            reservation = Reservation(
                number=str(await next_number(tx.session, Reservation.number, FIRST_NUMBER)),
                hotel_id=hotel.id,
                room_type_id=room_type.id,
                rate_plan_id=plan.id,
                customer_id=data.customer_id,
                guest_name=data.guest_name,
                guest_phone=data.guest_phone,
                rooms=data.rooms,
                guests=data.guests,
                arrival=data.arrival,
                departure=data.departure,
                expected_arrival=data.expected_arrival,
                hold_until=_hold_until(data, hotel, plan),
                special_requests=data.special_requests,
                nights=breakdown,
                total=total,
                deposit=Decimal(0),
                status=first.after,
                source="paper" if taken_at else data.source,
                taken_at=taken_at,
                created_by=ctx.actor.user_id,
                call_id=data.call_id,
            )
            tx.session.add(reservation)
            await tx.session.flush()
            if data.deposit > 0:  # the deposit is the payments ledger's first line
                await payments.record(
                    tx.session,
                    reservation,
                    "deposit",
                    data.deposit_method,
                    data.deposit,
                    data.deposit_reference,
                    ctx.actor.user_id,
                )
            note = "booked"
            if taken_at is not None:
                note = f"taken on paper at {taken_at.astimezone(zone):%Y-%m-%d %H:%M}, entered later"
                if not has_rooms:
                    note += "; its rooms were sold meanwhile: a conflict holding no rooms, to resolve"
            record(tx, reservation, first, note)
            if first.after == "confirmed":
                await tell(tx, reservation, hotel, room_type, plan, "confirmed")
            await tx.session.flush()
            return out(reservation, ctx.actor)
    except RoomsSoldOut as sold_out:
        offers = await availability(
            ctx,
            arrival=data.arrival,
            departure=data.departure,
            rooms=data.rooms,
            guests=data.guests,
            city=hotel.city,
            tier=tier,
        )
        sold_out.extra["alternatives"] = [
            a.model_dump(mode="json") for a in instead(offers.offers, hotel.id, room_type.id, data.rooms)
        ]
        raise


async def modify(ctx: Context, reservation_id: int, data: ModifyIn) -> ReservationOut:
    """New dates, room type or count: the old rooms go back and the new ones are taken in one
    transaction, so a stay that no longer fits changes nothing (`rooms-sold-out`)."""
    ctx.require(Permission.BOOKINGS_WRITE)
    async with ctx.write() as tx:
        reservation = await locked(tx.session, reservation_id)
        step = state.modify_step(reservation.status, ctx.actor)
        hotel = await tx.session.get(Hotel, reservation.hotel_id)
        plan = await tx.session.get(RatePlan, reservation.rate_plan_id)
        room_type = await tx.session.get(RoomType, data.room_type_id or reservation.room_type_id)
        if hotel is None or plan is None:
            raise NotFound(
                "The reservation's hotel or rate plan is gone",
                field="reservation_id",
                reason="reservation-hotel-rate-plan-gone",
            )
        if room_type is None or room_type.hotel_id != hotel.id:
            raise InvalidInput(
                "That room type is not one of this hotel's",
                field="body.room_type_id",
                reason="room-type-not-one-hotel",
            )
        arrival = data.arrival or reservation.arrival
        departure = data.departure or reservation.departure
        rooms, guests = data.rooms or reservation.rooms, data.guests or reservation.guests
        check_dates(arrival, departure, hotel_today(hotel))
        if guests > room_type.capacity * rooms:
            sleeps = f"{rooms} × {room_type.name} sleep at most {room_type.capacity * rooms}"
            raise InvalidInput(sleeps, field="body.guests")
        if reservation.status in state.HOLDING:  # a paper conflict holds no rooms to give back
            await release(tx.session, reservation)
        nights = nights_of(arrival, departure)
        if not await take_rooms(tx.session, room_type.id, nights, rooms):
            raise RoomsSoldOut(
                f"No {room_type.name} left for all the new nights",
                field="body.room_type_id",
                reason="no-left-all-new-nights",
                params={"name": room_type.name},
            )
        customer = await customers.card(tx.session, reservation.customer_id)
        tier = customer.tier if customer is not None else None
        before = f"{reservation.arrival}–{reservation.departure} × {reservation.rooms}"
        reservation.nights, reservation.total = await price_stay(
            tx.session, room_type.id, nights, plan, tier, rooms
        )
        reservation.arrival, reservation.departure = arrival, departure
        reservation.rooms, reservation.guests, reservation.room_type_id = rooms, guests, room_type.id
        zone = ZoneInfo(hotel.timezone)
        if not plan.guaranteed and reservation.hold_until.astimezone(zone).date() != arrival:
            reservation.hold_until = datetime.combine(
                arrival, reservation.hold_until.astimezone(zone).time(), tzinfo=zone
            )
        record(tx, reservation, step, f"modified {before} → {arrival}–{departure} × {rooms}")
        await tell(tx, reservation, hotel, room_type, plan, "modified")
        await tx.session.flush()
        return out(reservation, ctx.actor)


async def transition(ctx: Context, reservation_id: int, action: str, *, note: str = "") -> ReservationOut:
    """A step of the lifecycle (hotels/state.py): confirm, check_in, check_out, no_show, cancel
    (with the policy's fee and refund), retry (a paper conflict takes its rooms if free again)."""
    ctx.require(Permission.BOOKINGS_WRITE)
    now = utcnow()
    async with ctx.write() as tx:
        reservation = await locked(tx.session, reservation_id)
        hotel = await tx.session.get(Hotel, reservation.hotel_id)
        room_type = await tx.session.get(RoomType, reservation.room_type_id)
        plan = await tx.session.get(RatePlan, reservation.rate_plan_id)
        if hotel is None or room_type is None or plan is None:
            raise NotFound(
                "The reservation's hotel, room type or rate plan is gone",
                field="reservation_id",
                reason="reservation-hotel-room-type-rate",
            )
        step = state.step(
            reservation.status,
            action,
            ctx.actor,
            today=hotel_today(hotel),
            arrival=reservation.arrival,
            now=now,
            hold_until=reservation.hold_until,
        )
        nights = nights_of(reservation.arrival, reservation.departure)
        if action == "retry" and not await take_rooms(
            tx.session, reservation.room_type_id, nights, reservation.rooms
        ):
            raise RoomsSoldOut(
                f"Still no {room_type.name} left for all those nights",
                field="action",
                reason="still-no-left-all-those",
                params={"name": room_type.name},
            )
        if action == "cancel":
            cost = quote(reservation, hotel, plan, now)
            reservation.cancel_fee, reservation.refund = cost.fee, cost.refund
            note = note or f"fee {cost.fee}, refund {cost.refund} ({cost.refund_percent}%)"
            if reservation.status in state.HOLDING:  # a conflict holds no rooms
                await release(tx.session, reservation)
            if cost.refund > 0:  # paid back the way it came in
                method = await tx.session.scalar(
                    select(Payment.method)
                    .where(Payment.reservation_id == reservation.id)
                    .order_by(Payment.id)
                )
                await payments.record(
                    tx.session,
                    reservation,
                    "refund",
                    method or "transfer",
                    -cost.refund,
                    "cancellation",
                    ctx.actor.user_id,
                )
        if action == "no_show":  # the nights after the first go back on sale
            await release(tx.session, reservation, nights[1:])
        record(tx, reservation, step, note, at=now)
        if action in ("confirm", "retry", "cancel"):
            await tell(
                tx, reservation, hotel, room_type, plan, "cancelled" if action == "cancel" else "confirmed"
            )
        await tx.session.flush()
        return out(reservation, ctx.actor)
