"""Reading reservations: one with its history, a search, the paper conflicts to resolve, the
hotels, and the IVR's order enquiry (T3) for a verified caller (seed 004)."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from hotline.core import privacy
from hotline.core.clock import utcnow
from hotline.core.context import Actor, Context
from hotline.core.permissions import Permission
from hotline.core.rows import get_or_404
from hotline.core.topics import register_subject
from hotline.crm import verification
from hotline.hotels import state
from hotline.hotels.availability import availability, instead
from hotline.hotels.inventory import left
from hotline.hotels.models import Confirmation, Hotel, Reservation, ReservationChange
from hotline.hotels.pricing import nights_of
from hotline.hotels.schemas import (
    ChangeOut,
    ConfirmationOut,
    NightLeft,
    PaperConflict,
    ReservationDetail,
    ReservationOut,
)

REVEALABLE = privacy.revealable("reservation", Reservation, Permission.BOOKINGS_READ)
"""A reservation's guest phone may be revealed (core/privacy.py)."""


def out(reservation: Reservation, actor: Actor) -> ReservationOut:
    """The reservation as the API shows it, with the actions the reader may take now."""
    return ReservationOut.model_validate(reservation).model_copy(
        update={"actions": state.actions(state.RESERVATION, reservation.status, actor)}
    )


async def get(ctx: Context, reservation_id: int) -> ReservationDetail:
    """The reservation, its history (who, when) and what the customer was told."""
    ctx.require(Permission.BOOKINGS_READ)
    async with ctx.read() as session:
        reservation = await get_or_404(session, Reservation, reservation_id, "reservation")
        changes = await session.scalars(
            select(ReservationChange)
            .where(ReservationChange.reservation_id == reservation_id)
            .order_by(ReservationChange.id)
        )
        sent = await session.scalars(
            select(Confirmation)
            .where(Confirmation.reservation_id == reservation_id)
            .order_by(Confirmation.id)
        )
        return ReservationDetail(
            reservation=out(reservation, ctx.actor),
            changes=[ChangeOut.model_validate(c) for c in changes],
            confirmations=[ConfirmationOut.model_validate(c) for c in sent],
        )


async def find(
    ctx: Context,
    *,
    number: str | None = None,
    customer_id: int | None = None,
    hotel_id: int | None = None,
    arrival: date | None = None,
    limit: int = 50,
) -> list[ReservationOut]:
    ctx.require(Permission.BOOKINGS_READ)
    query = select(Reservation).order_by(Reservation.arrival.desc(), Reservation.id.desc()).limit(limit)
    if number:
        query = query.where(Reservation.number == number)
    if customer_id:
        query = query.where(Reservation.customer_id == customer_id)
    if hotel_id:
        query = query.where(Reservation.hotel_id == hotel_id)
    if arrival:
        query = query.where(Reservation.arrival == arrival)
    async with ctx.read() as session:
        return [out(r, ctx.actor) for r in (await session.scalars(query)).all()]


async def hotels(ctx: Context, *, include_closed: bool = False) -> list[Hotel]:
    ctx.require(Permission.BOOKINGS_READ)
    query = select(Hotel).order_by(Hotel.city, Hotel.code)
    if not include_closed:
        query = query.where(Hotel.active.is_(True))
    async with ctx.read() as session:
        return list((await session.scalars(query)).all())


async def conflicts(ctx: Context) -> list[PaperConflict]:
    """Paper bookings that found their rooms sold (X4): the short nights, the bookings made after
    the paper one was taken that hold those nights, and what could be offered instead."""
    ctx.require(Permission.BOOKINGS_READ)
    async with ctx.read() as session:
        waiting = select(Reservation).where(Reservation.status == "conflict").order_by(Reservation.taken_at)
        found = []
        for row in (await session.scalars(waiting)).all():
            nights = nights_of(row.arrival, row.departure)
            per_night = (await left(session, [row.room_type_id], nights)).get(row.room_type_id, [])
            short = [
                NightLeft(day=d, left=n.left)
                for d, n in zip(nights, per_night, strict=True)
                if n.left < row.rooms or n.closed
            ]
            competing = (
                await session.scalars(
                    select(Reservation)
                    .where(
                        Reservation.room_type_id == row.room_type_id,
                        Reservation.status.in_(sorted(state.HOLDING)),
                        Reservation.arrival < row.departure,
                        Reservation.departure > row.arrival,
                        func.coalesce(Reservation.taken_at, Reservation.created_at) > row.taken_at,
                    )
                    .order_by(func.coalesce(Reservation.taken_at, Reservation.created_at))
                    .limit(20)
                )
            ).all()
            hotel = await session.get(Hotel, row.hotel_id)
            found.append((row, short, list(competing), hotel))
    report = []
    for row, short, competing, hotel in found:
        offers = await availability(
            ctx,
            arrival=row.arrival,
            departure=row.departure,
            rooms=row.rooms,
            guests=row.guests,
            city=hotel.city if hotel else None,
        )
        report.append(
            PaperConflict(
                reservation=out(row, ctx.actor),
                short=short,
                competing=[out(c, ctx.actor) for c in competing],
                alternatives=instead(offers.offers, row.hotel_id, row.room_type_id, row.rooms),
            )
        )
    return report


# ---------------------------------------------------------------- the IVR's enquiry


async def names_by_code(ctx: Context, codes: set[str]) -> dict[str, str]:
    """Hotels' names by their codes (the IVR report's enquiries per hotel); unknown codes absent."""
    if not codes:
        return {}
    async with ctx.read() as session:
        rows = await session.execute(select(Hotel.code, Hotel.name).where(Hotel.code.in_(codes)))
    return {str(code): str(name) for code, name in rows.all()}


async def _latest_reservation(ctx: Context, customer_id: int) -> tuple[Reservation, Hotel] | None:
    """The member's reservation the IVR speaks of: the coming one if any, else the last."""
    async with ctx.read() as session:
        today = utcnow().astimezone(ZoneInfo("Asia/Shanghai")).date()
        mine = (
            select(Reservation, Hotel)
            .join(Hotel, Hotel.id == Reservation.hotel_id)
            .where(Reservation.customer_id == customer_id)
        )
        coming = mine.where(Reservation.departure >= today).order_by(Reservation.arrival, Reservation.id)
        last = mine.order_by(Reservation.arrival.desc(), Reservation.id.desc())
        found = (await session.execute(coming.limit(1))).first() or (
            await session.execute(last.limit(1))
        ).first()
    return None if found is None else (found[0], found[1])


async def _verified_reservation(
    ctx: Context, variables: dict[str, object]
) -> tuple[verification.MemberCheck, tuple[Reservation, Hotel] | None]:
    """Who the caller is (crm's rule) and the reservation the enquiry would read; its booking
    phone is one of the second factors."""
    member, caller, keyed = verification.caller_of(variables)
    known = await verification.check_member(ctx, member, caller_id=caller)
    if known.customer_id is None:
        return known, None
    latest = await _latest_reservation(ctx, known.customer_id)
    if known.verified or not keyed:
        return known, latest
    phones = [latest[0].guest_phone] if latest else []
    return await verification.check_member(
        ctx, member, caller_id=caller, keyed=keyed, booking_phones=phones
    ), latest


async def verify_for_ivr(ctx: Context, variables: dict[str, object]) -> dict[str, str] | None:
    """The lookup `orders.verify_caller`: {"by": "number" | "second-factor"} when the caller is
    verified for the member number keyed (crm/verification.py), else None."""
    check, _ = await _verified_reservation(ctx, variables)
    return {"by": check.verified_by.value} if check.verified_by is not None else None


async def latest_for_ivr(ctx: Context, variables: dict[str, object]) -> dict[str, object] | None:
    """The IVR's order enquiry (T3, seed 000): the member's latest reservation — the coming one
    if any, else the last — as the flow says it: hotel, arrival date, status. None: no booking,
    or a caller not verified for the member (seed 004): nothing is read to them, whatever the
    flow. `about` names the hotel: the IVR report counts the enquiry for it."""
    check, latest = await _verified_reservation(ctx, variables)
    if not check.verified or latest is None:
        return None
    reservation, hotel = latest
    return {
        "about": f"hotel:{hotel.code}",
        "hotel": hotel.name,
        "arrival": reservation.arrival,
        "number": reservation.number,
        "status": state.LABELS.get(reservation.status, reservation.status),
    }


register_subject("hotel", names_by_code)
