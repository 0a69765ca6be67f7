"""What the guest is told (H6): the notice's variables for the message templates, and the text
kept on the reservation (hotel, address, phone, dates, amount, hold time, policy)."""

from __future__ import annotations

from decimal import Decimal
from zoneinfo import ZoneInfo

from hotline.core.context import Context, Tx
from hotline.core.errors import InvalidTransition, NotFound
from hotline.core.permissions import Permission
from hotline.core.rows import get_or_404
from hotline.crm import directory as customers
from hotline.hotels.events import ReservationNotice
from hotline.hotels.models import Confirmation, Hotel, RatePlan, Reservation, RoomType
from hotline.hotels.pricing import money, policy_text
from hotline.notify import service as messages
from hotline.notify.schemas import MessageOut

CONFIRMED = ("confirmed", "checked_in")


def hold_text(reservation: Reservation, hotel: Hotel, plan: RatePlan) -> str:
    hold = reservation.hold_until.astimezone(ZoneInfo(hotel.timezone))
    return "整晚保留（担保）" if plan.guaranteed else f"房间保留至{reservation.arrival:%m月%d日} {hold:%H:%M}"


def notice(
    reservation: Reservation,
    hotel: Hotel,
    room_type: RoomType,
    plan: RatePlan,
    occasion: str,
    customer: customers.Card | None,
) -> ReservationNotice:
    """What the guest is to be told, as the variables of the message templates (H6)."""
    return ReservationNotice(
        occasion=occasion,
        ref=f"reservation:{reservation.number}",
        customer_id=reservation.customer_id,
        phone=reservation.guest_phone,
        email=customer.email if customer else "",
        number=reservation.number,
        guest_name=reservation.guest_name,
        title=customer.title if customer and customer.name == reservation.guest_name else "",
        tier=customer.tier if customer else "",
        hotel=hotel.name,
        hotel_code=hotel.code,
        hotel_address=hotel.address,
        hotel_phone=hotel.phone,
        room_type=room_type.name,
        rooms=reservation.rooms,
        arrival=f"{reservation.arrival:%Y年%m月%d日}",
        departure=f"{reservation.departure:%Y年%m月%d日}",
        nights=(reservation.departure - reservation.arrival).days,
        total=str(money(reservation.total)),
        hold=hold_text(reservation, hotel, plan),
        policy=policy_text(plan.policy),
        cancel_fee=str(money(reservation.cancel_fee or Decimal(0))),
        refund=str(money(reservation.refund or Decimal(0))),
    )


def _text(told: ReservationNotice, reservation: Reservation, kind: str) -> str:
    if kind == "cancelled":
        return (
            f"【英冠酒店】{told.guest_name}您好，您在{told.hotel}的预订{told.number}"
            f"（{reservation.arrival:%m月%d日}入住）已取消，取消费¥{told.cancel_fee}，退款¥{told.refund}。"
            f"酒店电话：{told.hotel_phone}。"
        )
    if kind == "unreachable":
        return (
            f"【英冠酒店】{told.guest_name}您好，您预订的{told.hotel}（预订号{told.number}）今日尚未办理入住，"
            f"我们未能联系到您。如需保留房间或变更，请致电{told.hotel_phone}。"
        )
    verb = {"confirmed": "已成功预订", "modified": "的预订已修改为"}.get(kind, "")
    return (
        f"【英冠酒店】{told.guest_name}您好，您{verb}{told.hotel}{told.room_type}{told.rooms}间，"
        f"{told.arrival}入住，{told.departure}离店，共{told.nights}晚，房费合计¥{told.total}。"
        f"酒店地址：{told.hotel_address}，电话：{told.hotel_phone}。{told.hold}。取消政策：{told.policy}。"
        f"预订号{told.number}。"
    )


async def tell(
    tx: Tx, reservation: Reservation, hotel: Hotel, room_type: RoomType, plan: RatePlan, kind: str
) -> None:
    """Keep the text the customer is told on the reservation, and publish the notice the
    notification rules send from."""
    customer = await customers.card(tx.session, reservation.customer_id)
    told = notice(reservation, hotel, room_type, plan, kind, customer)
    tx.session.add(
        Confirmation(reservation_id=reservation.id, kind=kind, text=_text(told, reservation, kind))
    )
    tx.publish(told)


async def send_confirmation(ctx: Context, reservation_id: int, channel: str) -> MessageOut:
    """The confirmation again, by hand, while the caller is on the line: by SMS to the guest or by
    e-mail to the booker, through the live `reservation.confirmed.<channel>` template."""
    ctx.require(Permission.BOOKINGS_READ)
    async with ctx.read() as session:
        reservation = await get_or_404(session, Reservation, reservation_id, "reservation")
        hotel = await session.get(Hotel, reservation.hotel_id)
        room_type = await session.get(RoomType, reservation.room_type_id)
        plan = await session.get(RatePlan, reservation.rate_plan_id)
        customer = await customers.card(session, reservation.customer_id)
    if hotel is None or room_type is None or plan is None:
        raise NotFound(
            "The reservation's hotel, room type or rate plan is gone",
            field="reservation_id",
            reason="reservation-parts-gone",
        )
    if reservation.status not in CONFIRMED:
        raise InvalidTransition(
            f"A {reservation.status} reservation has no confirmation to send",
            reason="reservation-has-no-confirmation",
        )
    told = notice(reservation, hotel, room_type, plan, "confirmed", customer)
    return await messages.send_notice(ctx, f"reservation.confirmed.{channel}", told, ref=told.ref)
