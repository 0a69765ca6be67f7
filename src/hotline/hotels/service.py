"""Hotel reservations: availability, booking without ever overbooking, the reservation's
lifecycle, change/cancel policy, and the confirmation the customer is told.

No overbooking (H5): a booking takes its rooms night by night with one guarded statement each —
`UPDATE room_inventory SET sold = sold + n WHERE … AND total - sold - held - out_of_order >= n` —
inside the booking's transaction. If any night has no room left, the whole transaction rolls
back and the caller gets `rooms-sold-out` with the other branches in the city that have rooms.
PostgreSQL re-checks the condition on the locked row when two bookings race (READ COMMITTED),
SQLite runs writers one at a time; a CHECK constraint is the last line (`sold + held +
out_of_order <= total`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core import privacy
from hotline.core.clock import utcnow
from hotline.core.context import Actor, Context, Tx
from hotline.core.db import next_number
from hotline.core.errors import Conflict, InvalidInput, InvalidTransition, NotFound
from hotline.core.permissions import Permission
from hotline.crm import loyalty, timeline, verification
from hotline.crm.models import Customer
from hotline.hotels import payments
from hotline.hotels.events import ReservationNotice
from hotline.hotels.models import (
    Confirmation,
    Hotel,
    Inventory,
    Payment,
    RatePlan,
    Reservation,
    ReservationChange,
    RoomType,
)
from hotline.hotels.schemas import (
    Alternative,
    AvailabilityOut,
    BookingIn,
    BookingStats,
    CancelQuote,
    DayCount,
    FrontDesk,
    ModifyIn,
    NightLeft,
    Offer,
    PaperConflict,
    ReservationOut,
)
from hotline.notify import inbox
from hotline.routing import center

TIER_DISCOUNT = {"standard": Decimal("1.00"), "silver": Decimal("0.95"), "gold": Decimal("0.90"),
                 "platinum": Decimal("0.85")}  # fmt: skip
FIRST_NUMBER = 60_000_001
MAX_NIGHTS = 30
REVEALABLE = privacy.revealable("reservation", Reservation, Permission.BOOKINGS_READ)
"""A reservation's guest phone may be revealed (core/privacy.py)."""
CENT = Decimal("0.01")


class RoomsSoldOut(Conflict):
    code = "rooms-sold-out"
    title = "No rooms of that type are left for those nights"


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def _nights(arrival: date, departure: date) -> list[date]:
    return [arrival + timedelta(days=n) for n in range((departure - arrival).days)]


def check_dates(arrival: date, departure: date, today: date) -> None:
    if arrival < today:
        raise InvalidInput("The arrival date is in the past", field="body.arrival")
    if departure <= arrival:
        raise InvalidInput("The departure must be at least a night after the arrival", field="body.departure")
    if (departure - arrival).days > MAX_NIGHTS:
        raise InvalidInput(f"At most {MAX_NIGHTS} nights per booking", field="body.departure")


def night_price(rack: Decimal, plan: RatePlan, tier: str | None) -> Decimal:
    price = rack * plan.factor
    if plan.member and tier is not None:
        price *= TIER_DISCOUNT.get(tier, Decimal("1.00"))
    if plan.breakfast:
        price += plan.breakfast_price
    return _money(price)


def refund_percent(policy: list[dict[str, int]], hours_before: float) -> int:
    """The policy's window for a change `hours_before` arrival: the first window (from the
    longest notice) whose notice was given."""
    for window in sorted(policy, key=lambda w: -w["hours"]):
        if hours_before >= window["hours"]:
            return int(window["refund"])
    return 0


def policy_text(policy: list[dict[str, int]]) -> str:
    parts = []
    for window in sorted(policy, key=lambda w: -w["hours"]):
        if window["hours"] > 0:
            parts.append(f"入住前{window['hours']}小时以上取消退还{window['refund']}%")
        else:
            parts.append(f"此后取消退还{window['refund']}%")
    return "；".join(parts)


def _today(hotel: Hotel) -> date:
    return utcnow().astimezone(ZoneInfo(hotel.timezone)).date()


def _arrival_moment(hotel: Hotel, arrival: date) -> datetime:
    hour, minute = (int(x) for x in hotel.check_in.split(":"))
    return datetime.combine(arrival, time(hour, minute), tzinfo=ZoneInfo(hotel.timezone))


# ---------------------------------------------------------------- availability


@dataclass
class _Night:
    left: int
    price: Decimal
    closed: bool


async def _left(
    session: AsyncSession, room_type_ids: list[int], nights: list[date]
) -> dict[int, list[_Night]]:
    rows = await session.execute(
        select(Inventory.room_type_id, Inventory.day, Inventory.total - Inventory.sold - Inventory.held
               - Inventory.out_of_order, Inventory.price, Inventory.closed)
        .where(Inventory.room_type_id.in_(room_type_ids), Inventory.day.in_(nights))
    )  # fmt: skip
    found: dict[int, dict[date, _Night]] = {}
    for room_type_id, day, left, price, closed in rows:
        found.setdefault(room_type_id, {})[day] = _Night(int(left), price, closed)
    return {
        rt: [by_day[d] for d in nights] for rt, by_day in found.items() if all(d in by_day for d in nights)
    }


async def availability(
    ctx: Context, *, arrival: date, departure: date, rooms: int, guests: int,
    city: str | None = None, hotel_id: int | None = None, tier: str | None = None,
) -> AvailabilityOut:  # fmt: skip
    """Per hotel and room type: rooms left for every night and the price per night and stay, per
    rate plan; when the chosen hotel is full, the other branches in its city that have rooms."""
    ctx.require(Permission.BOOKINGS_READ)
    if city is None and hotel_id is None:
        raise InvalidInput("Choose a city or a hotel", field="city")
    if departure <= arrival:
        raise InvalidInput(
            "The departure must be at least a night after the arrival", field="query.departure"
        )
    if (departure - arrival).days > MAX_NIGHTS:  # before listing the nights: a stay may span centuries
        raise InvalidInput(f"At most {MAX_NIGHTS} nights per booking", field="query.departure")
    nights = _nights(arrival, departure)
    async with ctx.read() as session:
        query = select(Hotel).where(Hotel.active.is_(True))
        chosen: Hotel | None = None
        if hotel_id is not None:
            chosen = await session.get(Hotel, hotel_id)
            if chosen is None:
                raise NotFound(f"No hotel {hotel_id}", field="hotel_id")
            query = query.where(Hotel.city == chosen.city)
        else:
            query = query.where(Hotel.city == city)
        hotels = list((await session.scalars(query.order_by(Hotel.code))).all())
        if hotels:
            check_dates(arrival, departure, _today(hotels[0]))
        ids = [h.id for h in hotels]
        types = list((await session.scalars(select(RoomType).where(RoomType.hotel_id.in_(ids)))).all())
        plans = list(
            (
                await session.scalars(
                    select(RatePlan).where(RatePlan.hotel_id.in_(ids), RatePlan.active.is_(True))
                )
            ).all()
        )
        left = await _left(session, [t.id for t in types], nights)
    offers: list[Offer] = []
    for room_type in types:
        per_night = left.get(room_type.id)
        if per_night is None or room_type.capacity * rooms < guests:
            continue
        can = min(0 if n.closed else n.left for n in per_night)
        hotel = next(h for h in hotels if h.id == room_type.hotel_id)
        for plan in (p for p in plans if p.hotel_id == hotel.id):
            prices = [night_price(n.price, plan, tier) for n in per_night]
            offers.append(
                Offer(
                    hotel_id=hotel.id, hotel=hotel.name, room_type_id=room_type.id, room_type=room_type.name,
                    bed=room_type.bed, capacity=room_type.capacity, rate_plan_id=plan.id, rate_plan=plan.name,
                    breakfast=plan.breakfast, rooms_left=can, nightly=prices,
                    total=_money(sum(prices, Decimal(0)) * rooms), policy=policy_text(plan.policy),
                )
            )  # fmt: skip
    if chosen is not None:
        mine = [o for o in offers if o.hotel_id == chosen.id]
        if any(o.rooms_left >= rooms for o in mine):
            return AvailabilityOut(offers=mine, alternatives=[])
        return AvailabilityOut(offers=mine, alternatives=_alternatives(offers, chosen.id, rooms))
    return AvailabilityOut(offers=offers, alternatives=[])


def _alternatives(offers: list[Offer], hotel_id: int, rooms: int) -> list[Alternative]:
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


# ---------------------------------------------------------------- booking


async def take_rooms(
    session: AsyncSession, room_type_id: int, nights: list[date], rooms: int, *, as_held: bool = False
) -> bool:
    """Take `rooms` on every night — sold to a booking, or held for a group block — or nothing
    (False: the caller's transaction must roll back). The one guarded statement of H5."""
    column = Inventory.held if as_held else Inventory.sold
    for taken, night in enumerate(nights):
        result = await session.execute(
            update(Inventory)
            .where(
                Inventory.room_type_id == room_type_id, Inventory.day == night, Inventory.closed.is_(False),
                Inventory.total - Inventory.sold - Inventory.held - Inventory.out_of_order >= rooms,
            )
            .values({column: column + rooms})
        )  # fmt: skip
        if result.rowcount != 1:  # type: ignore[attr-defined]
            if taken:  # the nights already taken go back, so a caller may carry on (a paper conflict)
                await give_back(session, room_type_id, nights[:taken], rooms, as_held=as_held)
            return False
    return True


async def give_back(
    session: AsyncSession, room_type_id: int, nights: list[date], rooms: int, *, as_held: bool = False
) -> None:
    """Put `rooms` back on sale on those nights."""
    column = Inventory.held if as_held else Inventory.sold
    await session.execute(
        update(Inventory)
        .where(Inventory.room_type_id == room_type_id, Inventory.day.in_(nights))
        .values({column: column - rooms})
    )


async def _release(session: AsyncSession, reservation: Reservation, nights: list[date] | None = None) -> None:
    await give_back(
        session, reservation.room_type_id, nights or _nights(reservation.arrival, reservation.departure),
        reservation.rooms,
    )  # fmt: skip


async def _next_number(session: AsyncSession) -> str:
    return str(await next_number(session, Reservation.number, FIRST_NUMBER))


async def book(ctx: Context, data: BookingIn) -> ReservationOut:
    ctx.require(Permission.BOOKINGS_WRITE)
    async with ctx.read() as session:
        hotel = await session.get(Hotel, data.hotel_id)
        room_type = await session.get(RoomType, data.room_type_id)
        plan = await session.get(RatePlan, data.rate_plan_id)
        customer = await session.get(Customer, data.customer_id) if data.customer_id else None
    if hotel is None or not hotel.active:
        raise NotFound(f"No hotel {data.hotel_id}", field="body.hotel_id")
    if room_type is None or room_type.hotel_id != hotel.id:
        raise InvalidInput("That room type is not one of this hotel's", field="body.room_type_id")
    if plan is None or plan.hotel_id != hotel.id or not plan.active:
        raise InvalidInput("That rate plan is not offered by this hotel", field="body.rate_plan_id")
    if data.customer_id and (customer is None or customer.anonymised):
        raise NotFound(f"No customer {data.customer_id}", field="body.customer_id")
    check_dates(data.arrival, data.departure, _today(hotel))
    if data.guests > room_type.capacity * data.rooms:
        raise InvalidInput(
            f"{data.rooms} × {room_type.name} sleep at most {room_type.capacity * data.rooms}",
            field="body.guests",
        )
    nights = _nights(data.arrival, data.departure)
    zone = ZoneInfo(hotel.timezone)
    if plan.guaranteed:
        hold_until = datetime.combine(data.arrival + timedelta(days=1), time(6, 0), tzinfo=zone)
    else:
        hold = max(data.hold_until or hotel.hold_until, hotel.hold_until)
        hour, minute = (int(x) for x in hold.split(":"))
        hold_until = datetime.combine(data.arrival, time(hour, minute), tzinfo=zone)
    tier = customer.tier if customer is not None else None
    taken_at = _check_taken_at(data.taken_at, zone)
    try:
        async with ctx.write() as tx:
            has_rooms = await take_rooms(tx.session, room_type.id, nights, data.rooms)
            if not has_rooms and taken_at is None:
                raise RoomsSoldOut(
                    f"No {room_type.name} left for all those nights", field="body.room_type_id"
                )
            rows = await tx.session.execute(
                select(Inventory.day, Inventory.price).where(Inventory.room_type_id == room_type.id,
                                                             Inventory.day.in_(nights)).order_by(Inventory.day)
            )  # fmt: skip
            breakdown = [
                {"date": day.isoformat(), "price": str(night_price(price, plan, tier))} for day, price in rows
            ]
            total = _money(sum((Decimal(n["price"]) for n in breakdown), Decimal(0)) * data.rooms)
            reservation = Reservation(
                number=await _next_number(tx.session), hotel_id=hotel.id, room_type_id=room_type.id,
                rate_plan_id=plan.id, customer_id=data.customer_id, guest_name=data.guest_name,
                guest_phone=data.guest_phone, rooms=data.rooms, guests=data.guests, arrival=data.arrival,
                departure=data.departure, expected_arrival=data.expected_arrival, hold_until=hold_until,
                special_requests=data.special_requests, nights=breakdown, total=total, deposit=Decimal(0),
                status="conflict" if not has_rooms else "confirmed" if data.confirm else "tentative",
                source="paper" if taken_at else data.source, taken_at=taken_at, created_by=ctx.actor.user_id,
                call_id=data.call_id,
            )  # fmt: skip
            tx.session.add(reservation)
            await tx.session.flush()
            if data.deposit > 0:  # the deposit is the payments ledger's first line
                if data.deposit > total:
                    raise InvalidInput("The deposit is more than the stay costs", field="body.deposit")
                await payments.record(tx.session, reservation, "deposit", data.deposit_method, data.deposit,
                                      data.deposit_reference, ctx.actor.user_id)  # fmt: skip
            note = "booked"
            if taken_at is not None:
                note = f"taken on paper at {taken_at.astimezone(zone):%Y-%m-%d %H:%M}, entered later"
                if not has_rooms:
                    note += "; its rooms were sold meanwhile: a conflict holding no rooms, to resolve"
            tx.session.add(ReservationChange(reservation_id=reservation.id, by=ctx.actor.user_id,
                                             after=reservation.status, note=note))  # fmt: skip
            if data.confirm and has_rooms:
                await tell(tx, reservation, hotel, room_type, plan, "confirmed")
            await tx.session.flush()
            booked = ReservationOut.model_validate(reservation)
        if booked.customer_id is not None:
            await _on_timeline(ctx, booked, booked.customer_id, hotel, room_type, "预订")
        if data.call_id:  # the call's story says what came of it
            await center.note_on_call(ctx, data.call_id, "booked", f"预订 {booked.number} {hotel.name}")
        if booked.status == "conflict":  # someone must call the guest with another offer
            await center.open_call_task(ctx, booked.guest_phone, f"reservation:{booked.number}",
                                        "paper_conflict", queue="hotel")  # fmt: skip
            async with ctx.write() as tx:
                desk = await inbox.holders_of(tx.session, Permission.HOTELS_WRITE)
                await inbox.tell(tx, desk, "conflict", f"纸质预订冲突：{hotel.name} 预订号{booked.number}",
                                 body=f"{booked.guest_name} {booked.arrival}入住，房间已被售出",
                                 link="/reservations")  # fmt: skip
        return booked
    except RoomsSoldOut as sold_out:
        offers = await availability(ctx, arrival=data.arrival, departure=data.departure, rooms=data.rooms,
                                    guests=data.guests, city=hotel.city, tier=tier)  # fmt: skip
        sold_out.extra["alternatives"] = [
            a.model_dump(mode="json") for a in _instead(offers.offers, hotel.id, room_type.id, data.rooms)
        ]
        raise


PAPER_DAYS = 30


def _check_taken_at(taken_at: datetime | None, zone: ZoneInfo) -> datetime | None:
    """A paper booking's original time: in the past, within the last 30 days; a time without a
    zone is the hotel's local time."""
    if taken_at is None:
        return None
    if taken_at.tzinfo is None:
        taken_at = taken_at.replace(tzinfo=zone)
    now = utcnow()
    if taken_at > now + timedelta(minutes=1):
        raise InvalidInput("A paper booking was taken in the past", field="body.taken_at")
    if taken_at < now - timedelta(days=PAPER_DAYS):
        raise InvalidInput(f"Paper bookings are entered within {PAPER_DAYS} days", field="body.taken_at")
    return taken_at


def _instead(offers: list[Offer], hotel_id: int, room_type_id: int, rooms: int) -> list[Alternative]:
    """What to offer a caller whose room type just sold out: other room types of the same hotel
    first, then the other branches in the city; cheapest first, five at most."""
    best: dict[tuple[int, int], Alternative] = {}
    for offer in offers:
        if offer.room_type_id == room_type_id or offer.rooms_left < rooms:
            continue
        key = (offer.hotel_id, offer.room_type_id)
        if key not in best or offer.total < best[key].from_total:
            best[key] = Alternative(
                hotel_id=offer.hotel_id, hotel=offer.hotel, room_type_id=offer.room_type_id,
                room_type=offer.room_type, rooms_left=offer.rooms_left, from_total=offer.total,
            )  # fmt: skip
    return sorted(best.values(), key=lambda a: (a.hotel_id != hotel_id, a.from_total))[:5]


def _hold_text(reservation: Reservation, hotel: Hotel, plan: RatePlan) -> str:
    hold = reservation.hold_until.astimezone(ZoneInfo(hotel.timezone))
    return "整晚保留（担保）" if plan.guaranteed else f"房间保留至{reservation.arrival:%m月%d日} {hold:%H:%M}"


def notice(
    reservation: Reservation, hotel: Hotel, room_type: RoomType, plan: RatePlan, occasion: str,
    customer: Customer | None,
) -> ReservationNotice:  # fmt: skip
    """What the guest is to be told, as the variables of the message templates (H6)."""
    return ReservationNotice(
        occasion=occasion, ref=f"reservation:{reservation.number}", customer_id=reservation.customer_id,
        phone=reservation.guest_phone, email=(customer.email or "") if customer else "",
        number=reservation.number, guest_name=reservation.guest_name,
        title=customer.title if customer and customer.name == reservation.guest_name else "",
        tier=customer.tier if customer else "", hotel=hotel.name, hotel_code=hotel.code,
        hotel_address=hotel.address, hotel_phone=hotel.phone, room_type=room_type.name,
        rooms=reservation.rooms,
        arrival=f"{reservation.arrival:%Y年%m月%d日}", departure=f"{reservation.departure:%Y年%m月%d日}",
        nights=(reservation.departure - reservation.arrival).days, total=str(_money(reservation.total)),
        hold=_hold_text(reservation, hotel, plan), policy=policy_text(plan.policy),
        cancel_fee=str(_money(reservation.cancel_fee or Decimal(0))),
        refund=str(_money(reservation.refund or Decimal(0))),
    )  # fmt: skip


async def tell(
    tx: Tx, reservation: Reservation, hotel: Hotel, room_type: RoomType, plan: RatePlan, kind: str
) -> None:
    """Keep the text the customer is told (H6: hotel, address, phone, dates, amount, hold time,
    policy) on the reservation, and publish the notice the notification rules send from."""
    customer = await tx.session.get(Customer, reservation.customer_id) if reservation.customer_id else None
    told = notice(reservation, hotel, room_type, plan, kind, customer)
    verb = {"confirmed": "已成功预订", "modified": "的预订已修改为"}.get(kind, "")
    text = (
        f"【英冠酒店】{told.guest_name}您好，您{verb}{told.hotel}{told.room_type}{told.rooms}间，"
        f"{told.arrival}入住，{told.departure}离店，共{told.nights}晚，房费合计¥{told.total}。"
        f"酒店地址：{told.hotel_address}，电话：{told.hotel_phone}。{told.hold}。取消政策：{told.policy}。"
        f"预订号{told.number}。"
    )
    if kind == "cancelled":
        text = (
            f"【英冠酒店】{told.guest_name}您好，您在{told.hotel}的预订{told.number}"
            f"（{reservation.arrival:%m月%d日}入住）已取消，取消费¥{told.cancel_fee}，退款¥{told.refund}。"
            f"酒店电话：{told.hotel_phone}。"
        )
    if kind == "unreachable":
        text = (
            f"【英冠酒店】{told.guest_name}您好，您预订的{told.hotel}（预订号{told.number}）今日尚未办理入住，"
            f"我们未能联系到您。如需保留房间或变更，请致电{told.hotel_phone}。"
        )
    tx.session.add(Confirmation(reservation_id=reservation.id, kind=kind, text=text))
    tx.publish(told)


# ---------------------------------------------------------------- lifecycle

TRANSITIONS = {
    "confirm": ({"tentative"}, "confirmed"),
    "check_in": ({"confirmed"}, "checked_in"),
    "check_out": ({"checked_in"}, "checked_out"),
    "no_show": ({"confirmed"}, "no_show"),
    "cancel": ({"tentative", "confirmed", "conflict"}, "cancelled"),
    "retry": ({"conflict"}, "confirmed"),  # a paper conflict takes its rooms once some are free again
}


async def _load(session: AsyncSession, reservation_id: int) -> Reservation:
    reservation = await session.get(Reservation, reservation_id, with_for_update=True)
    if reservation is None:
        raise NotFound(f"No reservation {reservation_id}", field="reservation_id")
    return reservation


async def quote_cancel(ctx: Context, reservation_id: int) -> CancelQuote:
    """The fee and refund of cancelling now, shown before the agent confirms (H7)."""
    ctx.require(Permission.BOOKINGS_READ)
    async with ctx.read() as session:
        reservation = await session.get(Reservation, reservation_id)
        if reservation is None:
            raise NotFound(f"No reservation {reservation_id}", field="reservation_id")
        hotel = await session.get(Hotel, reservation.hotel_id)
        plan = await session.get(RatePlan, reservation.rate_plan_id)
    if hotel is None or plan is None:
        raise NotFound("The reservation's hotel or rate plan is gone", field="reservation_id")
    return _quote(reservation, hotel, plan, utcnow())


def _quote(reservation: Reservation, hotel: Hotel, plan: RatePlan, now: datetime) -> CancelQuote:
    hours = (_arrival_moment(hotel, reservation.arrival) - now).total_seconds() / 3600
    # a paper conflict is our failure, not the guest's: all of it back
    percent = 100 if reservation.status == "conflict" else refund_percent(plan.policy, hours)
    refund = _money(reservation.deposit * percent / 100)
    return CancelQuote(
        hours_before_arrival=round(hours, 1), refund_percent=percent, paid=_money(reservation.deposit),
        fee=_money(reservation.deposit - refund), refund=refund, policy=policy_text(plan.policy),
    )  # fmt: skip


async def transition(ctx: Context, reservation_id: int, action: str, *, note: str = "") -> ReservationOut:
    ctx.require(Permission.BOOKINGS_WRITE)
    allowed, after = TRANSITIONS[action]
    now = utcnow()
    async with ctx.write() as tx:
        reservation = await _load(tx.session, reservation_id)
        if reservation.status not in allowed:
            raise InvalidTransition(f"A {reservation.status} reservation cannot be {after.replace('_', ' ')}")
        hotel = await tx.session.get(Hotel, reservation.hotel_id)
        room_type = await tx.session.get(RoomType, reservation.room_type_id)
        plan = await tx.session.get(RatePlan, reservation.rate_plan_id)
        if hotel is None or room_type is None or plan is None:
            raise NotFound("The reservation's hotel, room type or rate plan is gone", field="reservation_id")
        if action == "check_in" and _today(hotel) < reservation.arrival:
            raise InvalidTransition("Guests check in on or after the arrival date")
        if action == "no_show" and now < reservation.hold_until:
            raise InvalidTransition("The room is still held for the guest")
        before = reservation.status
        if action == "retry" and not await take_rooms(
            tx.session, reservation.room_type_id, _nights(reservation.arrival, reservation.departure),
            reservation.rooms,
        ):  # fmt: skip
            raise RoomsSoldOut(f"Still no {room_type.name} left for all those nights", field="action")
        if action == "cancel":
            quote = _quote(reservation, hotel, plan, now)
            reservation.cancel_fee, reservation.refund = quote.fee, quote.refund
            note = note or f"fee {quote.fee}, refund {quote.refund} ({quote.refund_percent}%)"
            if before != "conflict":  # a conflict holds no rooms
                await _release(tx.session, reservation)
            if quote.refund > 0:  # paid back the way it came in
                method = await tx.session.scalar(
                    select(Payment.method)
                    .where(Payment.reservation_id == reservation.id)
                    .order_by(Payment.id)
                )
                await payments.record(tx.session, reservation, "refund", method or "transfer", -quote.refund,
                                      "cancellation", ctx.actor.user_id)  # fmt: skip
        if action == "no_show":  # the nights after the first go back on sale
            await _release(tx.session, reservation, _nights(reservation.arrival, reservation.departure)[1:])
        reservation.status = after
        tx.session.add(ReservationChange(reservation_id=reservation.id, at=now, by=ctx.actor.user_id,
                                         before=before, after=after, note=note[:300]))  # fmt: skip
        if action in ("confirm", "retry", "cancel"):
            kind = "cancelled" if action == "cancel" else "confirmed"
            await tell(tx, reservation, hotel, room_type, plan, kind)
        await tx.session.flush()
        done = ReservationOut.model_validate(reservation)
    if before == "conflict":
        await center.close_call_task(ctx, f"reservation:{done.number}", f"{action}: {note}"[:300])
    steps = {"cancel": "取消", "check_in": "入住", "check_out": "离店", "no_show": "未到店"}
    if done.customer_id is not None and action in steps:
        await _on_timeline(ctx, done, done.customer_id, hotel, room_type, steps[action])
    if done.customer_id is not None and action == "check_out":  # a stay earns points (C4)
        stay = f"{hotel.name} {len(done.nights)}晚"
        system = ctx.as_actor(Actor.system("hotels"))
        await loyalty.earn(
            system, done.customer_id, done.total, reason=stay, ref=f"reservation:{done.number}"
        )
    return done


async def _on_timeline(
    ctx: Context, reservation: ReservationOut, customer_id: int, hotel: Hotel, room_type: RoomType, what: str
) -> None:
    """The booking's steps on the customer's timeline (C3), once each."""
    title = f"{what} {hotel.name} {room_type.name}{reservation.rooms}间 · {reservation.arrival:%m月%d日}入住"
    await timeline.add(
        ctx.as_actor(Actor.system("hotels")), customer_id, "booking", title,
        ref=f"reservation:{reservation.number}:{what}",
        detail=f"预订号{reservation.number} · ¥{reservation.total} · {reservation.status}",
    )  # fmt: skip


async def modify(ctx: Context, reservation_id: int, data: ModifyIn) -> ReservationOut:
    """New dates, room type or count: the old rooms go back and the new ones are taken in one
    transaction, so a stay that no longer fits changes nothing (`rooms-sold-out`)."""
    ctx.require(Permission.BOOKINGS_WRITE)
    async with ctx.write() as tx:
        reservation = await _load(tx.session, reservation_id)
        if reservation.status not in ("tentative", "confirmed", "conflict"):
            raise InvalidTransition(f"A {reservation.status} reservation cannot be changed")
        hotel = await tx.session.get(Hotel, reservation.hotel_id)
        plan = await tx.session.get(RatePlan, reservation.rate_plan_id)
        room_type = await tx.session.get(RoomType, data.room_type_id or reservation.room_type_id)
        if hotel is None or plan is None:
            raise NotFound("The reservation's hotel or rate plan is gone", field="reservation_id")
        if room_type is None or room_type.hotel_id != hotel.id:
            raise InvalidInput("That room type is not one of this hotel's", field="body.room_type_id")
        arrival = data.arrival or reservation.arrival
        departure = data.departure or reservation.departure
        rooms, guests = data.rooms or reservation.rooms, data.guests or reservation.guests
        check_dates(arrival, departure, _today(hotel))
        if guests > room_type.capacity * rooms:
            sleeps = f"{rooms} × {room_type.name} sleep at most {room_type.capacity * rooms}"
            raise InvalidInput(sleeps, field="body.guests")
        if reservation.status != "conflict":  # a paper conflict holds no rooms to give back
            await _release(tx.session, reservation)
        nights = _nights(arrival, departure)
        if not await take_rooms(tx.session, room_type.id, nights, rooms):
            raise RoomsSoldOut(f"No {room_type.name} left for all the new nights", field="body.room_type_id")
        customer = (
            await tx.session.get(Customer, reservation.customer_id) if reservation.customer_id else None
        )
        tier = customer.tier if customer is not None else None
        rows = await tx.session.execute(
            select(Inventory.day, Inventory.price)
            .where(Inventory.room_type_id == room_type.id, Inventory.day.in_(nights))
            .order_by(Inventory.day)
        )
        before = f"{reservation.arrival}–{reservation.departure} × {reservation.rooms}"
        reservation.nights = [
            {"date": d.isoformat(), "price": str(night_price(p, plan, tier))} for d, p in rows
        ]
        reservation.total = _money(sum((Decimal(n["price"]) for n in reservation.nights), Decimal(0)) * rooms)
        reservation.arrival, reservation.departure = arrival, departure
        reservation.rooms, reservation.guests, reservation.room_type_id = rooms, guests, room_type.id
        zone = ZoneInfo(hotel.timezone)
        if not plan.guaranteed and reservation.hold_until.astimezone(zone).date() != arrival:
            reservation.hold_until = datetime.combine(
                arrival, reservation.hold_until.astimezone(zone).time(), tzinfo=zone
            )
        note = f"modified {before} → {arrival}–{departure} × {rooms}"
        status = reservation.status
        if status == "conflict":  # resolved with other dates or another room type
            reservation.status = "confirmed"
        change = ReservationChange(reservation_id=reservation.id, by=ctx.actor.user_id, before=status,
                                   after=reservation.status, note=note)  # fmt: skip
        tx.session.add(change)
        await tell(tx, reservation, hotel, room_type, plan, "modified")
        await tx.session.flush()
        changed = ReservationOut.model_validate(reservation)
    if status == "conflict":
        await center.close_call_task(ctx, f"reservation:{changed.number}", note)
    return changed


async def conflicts(ctx: Context) -> list[PaperConflict]:
    """Paper bookings that found their rooms sold (X4): the short nights, the bookings made after
    the paper one was taken that hold those nights, and what could be offered instead."""
    ctx.require(Permission.BOOKINGS_READ)
    async with ctx.read() as session:
        rows = (
            await session.scalars(
                select(Reservation).where(Reservation.status == "conflict").order_by(Reservation.taken_at)
            )
        ).all()
        found = []
        for row in rows:
            nights = _nights(row.arrival, row.departure)
            left = (await _left(session, [row.room_type_id], nights)).get(row.room_type_id, [])
            short = [NightLeft(day=d, left=n.left) for d, n in zip(nights, left, strict=True)
                     if n.left < row.rooms or n.closed]  # fmt: skip
            competing = (
                await session.scalars(
                    select(Reservation)
                    .where(
                        Reservation.room_type_id == row.room_type_id,
                        Reservation.status.in_(("tentative", "confirmed", "checked_in")),
                        Reservation.arrival < row.departure, Reservation.departure > row.arrival,
                        func.coalesce(Reservation.taken_at, Reservation.created_at) > row.taken_at,
                    )
                    .order_by(func.coalesce(Reservation.taken_at, Reservation.created_at))
                    .limit(20)
                )
            ).all()  # fmt: skip
            hotel = await session.get(Hotel, row.hotel_id)
            found.append((row, short, list(competing), hotel))
    report = []
    for row, short, competing, hotel in found:
        offers = await availability(ctx, arrival=row.arrival, departure=row.departure, rooms=row.rooms,
                                    guests=row.guests, city=hotel.city if hotel else None)  # fmt: skip
        report.append(PaperConflict(
            reservation=ReservationOut.model_validate(row), short=short,
            competing=[ReservationOut.model_validate(c) for c in competing],
            alternatives=_instead(offers.offers, row.hotel_id, row.room_type_id, row.rooms),
        ))  # fmt: skip
    return report


async def get(
    ctx: Context, reservation_id: int
) -> tuple[Reservation, list[ReservationChange], list[Confirmation]]:
    ctx.require(Permission.BOOKINGS_READ)
    async with ctx.read() as session:
        reservation = await session.get(Reservation, reservation_id)
        if reservation is None:
            raise NotFound(f"No reservation {reservation_id}", field="reservation_id")
        changes = (
            await session.scalars(
                select(ReservationChange)
                .where(ReservationChange.reservation_id == reservation_id)
                .order_by(ReservationChange.id)
            )
        ).all()
        sent = (
            await session.scalars(
                select(Confirmation)
                .where(Confirmation.reservation_id == reservation_id)
                .order_by(Confirmation.id)
            )
        ).all()
        return reservation, list(changes), list(sent)


SPOKEN_STATUS = {
    "tentative": "待确认", "confirmed": "已确认", "checked_in": "已入住", "checked_out": "已离店",
    "cancelled": "已取消", "no_show": "未到店", "conflict": "待核实",
}  # fmt: skip


async def _latest_reservation(ctx: Context, customer_id: int) -> tuple[Reservation, str] | None:
    """The member's reservation the IVR speaks of: the coming one if any, else the last."""
    async with ctx.read() as session:
        today = utcnow().astimezone(ZoneInfo("Asia/Shanghai")).date()
        mine = (
            select(Reservation, Hotel.name)
            .join(Hotel, Hotel.id == Reservation.hotel_id)
            .where(Reservation.customer_id == customer_id)
        )
        found = (
            await session.execute(
                mine.where(Reservation.departure >= today)
                .order_by(Reservation.arrival, Reservation.id)
                .limit(1)
            )
        ).first() or (
            await session.execute(mine.order_by(Reservation.arrival.desc(), Reservation.id.desc()).limit(1))
        ).first()
    return None if found is None else (found[0], str(found[1]))


async def _verified_reservation(
    ctx: Context, variables: dict[str, object]
) -> tuple[verification.MemberCheck, tuple[Reservation, str] | None]:
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
    flow."""
    check, latest = await _verified_reservation(ctx, variables)
    if not check.verified or latest is None:
        return None
    reservation, hotel = latest
    return {"hotel": hotel, "arrival": reservation.arrival, "number": reservation.number,
            "status": SPOKEN_STATUS.get(reservation.status, reservation.status)}  # fmt: skip


async def find(
    ctx: Context, *, number: str | None = None, customer_id: int | None = None, hotel_id: int | None = None,
    arrival: date | None = None, limit: int = 50,
) -> list[Reservation]:  # fmt: skip
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
        return list((await session.scalars(query)).all())


async def front_desk(ctx: Context, hotel_id: int, day: date | None = None) -> FrontDesk:
    """Who arrives, who is in house and who leaves at a hotel on a day (today, the hotel's)."""
    ctx.require(Permission.FRONT_DESK)
    async with ctx.read() as session:
        hotel = await session.get(Hotel, hotel_id)
        if hotel is None:
            raise NotFound(f"No hotel {hotel_id}", field="hotel_id")
        day = day or _today(hotel)
        expected = (
            select(Reservation)
            .where(Reservation.hotel_id == hotel_id, Reservation.status.in_(("tentative", "confirmed")),
                   Reservation.arrival <= day, Reservation.departure > day)
            .order_by(Reservation.expected_arrival, Reservation.id)
        )  # fmt: skip
        staying = (
            select(Reservation)
            .where(Reservation.hotel_id == hotel_id, Reservation.status == "checked_in")
            .order_by(Reservation.departure, Reservation.id)
        )
        arrivals = (await session.scalars(expected)).all()
        checked_in = (await session.scalars(staying)).all()
    return FrontDesk(
        day=day, arrivals=[ReservationOut.model_validate(r) for r in arrivals],
        in_house=[ReservationOut.model_validate(r) for r in checked_in if r.departure > day],
        departures=[ReservationOut.model_validate(r) for r in checked_in if r.departure <= day],
    )  # fmt: skip


async def hotels(ctx: Context, *, include_closed: bool = False) -> list[Hotel]:
    ctx.require(Permission.BOOKINGS_READ)
    query = select(Hotel).order_by(Hotel.city, Hotel.code)
    if not include_closed:
        query = query.where(Hotel.active.is_(True))
    async with ctx.read() as session:
        return list((await session.scalars(query)).all())


async def statistics(ctx: Context, *, days: int = 30) -> BookingStats:
    """Bookings made per day over the last `days`, by source and by hotel, and how many were
    cancelled (H11)."""
    ctx.require(Permission.BOOKINGS_READ)
    since = utcnow() - timedelta(days=days)
    async with ctx.read() as session:
        rows = (
            await session.execute(
                select(
                    Reservation.created_at,
                    Reservation.status,
                    Reservation.source,
                    Hotel.name,
                    Reservation.total,
                )
                .join(Hotel, Hotel.id == Reservation.hotel_id)
                .where(Reservation.created_at >= since)
            )
        ).all()
    by_day: dict[str, list[int]] = {}
    by_source: dict[str, int] = {}
    by_hotel: dict[str, int] = {}
    revenue = Decimal(0)
    for created_at, status, source, hotel, total in rows:
        day = created_at.astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat()
        counts = by_day.setdefault(day, [0, 0])
        counts[0] += 1
        counts[1] += status == "cancelled"
        by_source[source] = by_source.get(source, 0) + 1
        by_hotel[hotel] = by_hotel.get(hotel, 0) + 1
        if status != "cancelled":
            revenue += total
    cancelled = sum(c[1] for c in by_day.values())
    return BookingStats(
        bookings=len(rows), cancelled=cancelled,
        cancellation_rate=round(cancelled / len(rows), 4) if rows else None, revenue=_money(revenue),
        by_day=[DayCount(day=d, bookings=c[0], cancelled=c[1]) for d, c in sorted(by_day.items())],
        by_source=dict(sorted(by_source.items(), key=lambda kv: -kv[1])),
        by_hotel=dict(sorted(by_hotel.items(), key=lambda kv: -kv[1])[:10]),
    )  # fmt: skip
