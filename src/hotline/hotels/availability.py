"""What can be booked: rooms left and prices per hotel, room type and rate plan over a stay, and
what to offer instead when the chosen hotel or room type is full."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from hotline.core.context import Context
from hotline.core.errors import FieldProblems, InvalidInput
from hotline.core.permissions import Permission
from hotline.core.rows import get_or_404
from hotline.hotels.inventory import left
from hotline.hotels.models import Hotel, RatePlan, RoomType
from hotline.hotels.pricing import hotel_today, money, night_price, nights_of, policy_text
from hotline.hotels.schemas import Alternative, AvailabilityOut, Offer

MAX_NIGHTS = 30


def check_dates(arrival: date, departure: date, today: date) -> None:
    """Both dates' rules at once: an arrival in the past and a departure before it are two fields
    to mark in one answer."""
    problems = FieldProblems()
    if arrival < today:
        problems.add(
            InvalidInput("The arrival date is in the past", field="body.arrival", reason="arrival-in-past")
        )
    if departure <= arrival:
        problems.add(
            InvalidInput(
                "The departure must be at least a night after the arrival",
                field="body.departure",
                reason="departure-must-least-night-after",
            )
        )
    elif (departure - arrival).days > MAX_NIGHTS:
        problems.add(
            InvalidInput(
                f"At most {MAX_NIGHTS} nights per booking",
                field="body.departure",
                reason="most-nights-per-booking",
                params={"max_nights": MAX_NIGHTS},
            )
        )
    problems.raise_any()


async def availability(
    ctx: Context,
    *,
    arrival: date,
    departure: date,
    rooms: int,
    guests: int,
    city: str | None = None,
    hotel_id: int | None = None,
    tier: str | None = None,
) -> AvailabilityOut:
    """Per hotel and room type: rooms left for every night and the price per night and stay, per
    rate plan; when the chosen hotel is full, the other branches in its city that have rooms."""
    ctx.require(Permission.BOOKINGS_READ)
    if city is None and hotel_id is None:
        raise InvalidInput("Choose a city or a hotel", field="city", reason="choose-city-hotel")
    if departure <= arrival:
        raise InvalidInput(
            "The departure must be at least a night after the arrival",
            field="query.departure",
            reason="departure-must-least-night-after",
        )
    if (departure - arrival).days > MAX_NIGHTS:  # before listing the nights: a stay may span centuries
        raise InvalidInput(
            f"At most {MAX_NIGHTS} nights per booking",
            field="query.departure",
            reason="most-nights-per-booking",
            params={"max_nights": MAX_NIGHTS},
        )
    nights = nights_of(arrival, departure)
    async with ctx.read() as session:
        query = select(Hotel).where(Hotel.active.is_(True))
        chosen: Hotel | None = None
        if hotel_id is not None:
            chosen = await get_or_404(session, Hotel, hotel_id, "hotel")
            query = query.where(Hotel.city == chosen.city)
        else:
            query = query.where(Hotel.city == city)
        hotels = list((await session.scalars(query.order_by(Hotel.code))).all())
        if hotels:
            check_dates(arrival, departure, hotel_today(hotels[0]))
        ids = [h.id for h in hotels]
        types = list((await session.scalars(select(RoomType).where(RoomType.hotel_id.in_(ids)))).all())
        active_plans = select(RatePlan).where(RatePlan.hotel_id.in_(ids), RatePlan.active.is_(True))
        plans = list((await session.scalars(active_plans)).all())
        per_type = await left(session, [t.id for t in types], nights)
    offers: list[Offer] = []
    for room_type in types:
        per_night = per_type.get(room_type.id)
        if per_night is None or room_type.capacity * rooms < guests:
            continue
        can = min(0 if n.closed else n.left for n in per_night)
        hotel = next(h for h in hotels if h.id == room_type.hotel_id)
        for plan in (p for p in plans if p.hotel_id == hotel.id):
            prices = [night_price(n.price, plan, tier) for n in per_night]
            offers.append(
                Offer(
                    hotel_id=hotel.id,
                    hotel=hotel.name,
                    room_type_id=room_type.id,
                    room_type=room_type.name,
                    bed=room_type.bed,
                    capacity=room_type.capacity,
                    rate_plan_id=plan.id,
                    rate_plan=plan.name,
                    breakfast=plan.breakfast,
                    rooms_left=can,
                    nightly=prices,
                    total=money(sum(prices, Decimal(0)) * rooms),
                    policy=policy_text(plan.policy),
                )
            )
    if chosen is not None:
        mine = [o for o in offers if o.hotel_id == chosen.id]
        if any(o.rooms_left >= rooms for o in mine):
            return AvailabilityOut(offers=mine, alternatives=[])
        return AvailabilityOut(offers=mine, alternatives=_other_branches(offers, chosen.id, rooms))
    return AvailabilityOut(offers=offers, alternatives=[])


def _other_branches(offers: list[Offer], hotel_id: int, rooms: int) -> list[Alternative]:
    best: dict[int, Alternative] = {}
    for offer in offers:
        if offer.hotel_id == hotel_id or offer.rooms_left < rooms:
            continue
        current = best.get(offer.hotel_id)
        if current is None or offer.total < current.from_total:
            best[offer.hotel_id] = Alternative(
                hotel_id=offer.hotel_id,
                hotel=offer.hotel,
                rooms_left=offer.rooms_left,
                from_total=offer.total,
            )
    return sorted(best.values(), key=lambda a: a.from_total)


def instead(offers: list[Offer], hotel_id: int, room_type_id: int, rooms: int) -> list[Alternative]:
    """What to offer a caller whose room type just sold out: other room types of the same hotel
    first, then the other branches in the city; cheapest first, five at most."""
    best: dict[tuple[int, int], Alternative] = {}
    for offer in offers:
        if offer.room_type_id == room_type_id or offer.rooms_left < rooms:
            continue
        key = (offer.hotel_id, offer.room_type_id)
        if key not in best or offer.total < best[key].from_total:
            best[key] = Alternative(
                hotel_id=offer.hotel_id,
                hotel=offer.hotel,
                room_type_id=offer.room_type_id,
                room_type=offer.room_type,
                rooms_left=offer.rooms_left,
                from_total=offer.total,
            )
    return sorted(best.values(), key=lambda a: (a.hotel_id != hotel_id, a.from_total))[:5]
