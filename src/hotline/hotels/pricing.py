"""What a stay costs: the night's price by rate plan and member tier, the change/cancel policy
and what cancelling now refunds (H7)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.core.errors import NotFound
from hotline.core.permissions import Permission
from hotline.core.rows import get_or_404
from hotline.hotels.models import Hotel, Inventory, RatePlan, Reservation
from hotline.hotels.schemas import CancelQuote

TIER_DISCOUNT = {
    "standard": Decimal("1.00"),
    "silver": Decimal("0.95"),
    "gold": Decimal("0.90"),
    "platinum": Decimal("0.85"),
}
"""The member-tier discount on member rate plans."""
CENT = Decimal("0.01")


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def nights_of(arrival: date, departure: date) -> list[date]:
    return [arrival + timedelta(days=n) for n in range((departure - arrival).days)]


def hotel_today(hotel: Hotel) -> date:
    return utcnow().astimezone(ZoneInfo(hotel.timezone)).date()


def arrival_moment(hotel: Hotel, arrival: date) -> datetime:
    hour, minute = (int(x) for x in hotel.check_in.split(":"))
    return datetime.combine(arrival, time(hour, minute), tzinfo=ZoneInfo(hotel.timezone))


def night_price(rack: Decimal, plan: RatePlan, tier: str | None) -> Decimal:
    price = rack * plan.factor
    if plan.member and tier is not None:
        price *= TIER_DISCOUNT.get(tier, Decimal("1.00"))
    if plan.breakfast:
        price += plan.breakfast_price
    return money(price)


async def price_stay(
    session: AsyncSession, room_type_id: int, nights: list[date], plan: RatePlan, tier: str | None, rooms: int
) -> tuple[list[dict[str, str]], Decimal]:
    """The price breakdown per night (per room) and the stay's total for `rooms` rooms."""
    rows = await session.execute(
        select(Inventory.day, Inventory.price)
        .where(Inventory.room_type_id == room_type_id, Inventory.day.in_(nights))
        .order_by(Inventory.day)
    )
    breakdown = [
        {"date": day.isoformat(), "price": str(night_price(price, plan, tier))} for day, price in rows
    ]
    return breakdown, money(sum((Decimal(n["price"]) for n in breakdown), Decimal(0)) * rooms)


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


def quote(reservation: Reservation, hotel: Hotel, plan: RatePlan, now: datetime) -> CancelQuote:
    hours = (arrival_moment(hotel, reservation.arrival) - now).total_seconds() / 3600
    # a paper conflict is our failure, not the guest's: all of it back
    percent = 100 if reservation.status == "conflict" else refund_percent(plan.policy, hours)
    refund = money(reservation.deposit * percent / 100)
    return CancelQuote(
        hours_before_arrival=round(hours, 1),
        refund_percent=percent,
        paid=money(reservation.deposit),
        fee=money(reservation.deposit - refund),
        refund=refund,
        policy=policy_text(plan.policy),
    )


async def quote_cancel(ctx: Context, reservation_id: int) -> CancelQuote:
    """The fee and refund of cancelling now, shown before the agent confirms (H7)."""
    ctx.require(Permission.BOOKINGS_READ)
    async with ctx.read() as session:
        reservation = await get_or_404(session, Reservation, reservation_id, "reservation")
        hotel = await session.get(Hotel, reservation.hotel_id)
        plan = await session.get(RatePlan, reservation.rate_plan_id)
    if hotel is None or plan is None:
        raise NotFound(
            "The reservation's hotel or rate plan is gone",
            field="reservation_id",
            reason="reservation-hotel-rate-plan-gone",
        )
    return quote(reservation, hotel, plan, utcnow())
