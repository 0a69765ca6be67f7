"""Payments of a reservation (H8): a ledger of deposits, prepayments and balances received and
refunds paid out, each with its method and reference and a numbered receipt. What was paid is the
ledger's sum (kept on the reservation as `deposit` in the same transaction); cancelling refunds by
the policy as a ledger line.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.context import Context
from hotline.core.errors import InvalidInput, InvalidTransition, NotFound
from hotline.core.permissions import Permission
from hotline.hotels.models import Hotel, Payment, Reservation
from hotline.hotels.schemas import PaymentIn, PaymentLineOut, PaymentsOut

METHODS = {"cash": "现金", "card": "银行卡", "transfer": "转账", "online": "在线支付"}
KINDS = {"deposit": "定金", "prepayment": "预付款", "balance": "尾款", "refund": "退款"}


async def paid(session: AsyncSession, reservation_id: int) -> Decimal:
    total = await session.scalar(
        select(func.coalesce(func.sum(Payment.amount), 0)).where(Payment.reservation_id == reservation_id)
    )
    return Decimal(total or 0).quantize(Decimal("0.01"))


async def record(
    session: AsyncSession,
    reservation: Reservation,
    kind: str,
    method: str,
    amount: Decimal,
    reference: str,
    by: int | None,
) -> Payment:
    """Append a line and keep the reservation's paid amount as the ledger's sum."""
    count = await session.scalar(
        select(func.count(Payment.id)).where(Payment.reservation_id == reservation.id)
    )
    line = Payment(
        reservation_id=reservation.id,
        kind=kind,
        method=method,
        amount=amount,
        reference=reference,
        receipt=f"R{reservation.number}-{int(count or 0) + 1}",
        by=by,
    )
    session.add(line)
    await session.flush()
    reservation.deposit = await paid(session, reservation.id)
    return line


async def pay(ctx: Context, reservation_id: int, data: PaymentIn) -> PaymentsOut:
    ctx.require(Permission.PAYMENTS_WRITE)
    async with ctx.write() as tx:
        reservation = await tx.session.get(Reservation, reservation_id, with_for_update=True)
        if reservation is None:
            raise NotFound(
                f"No reservation {reservation_id}",
                field="reservation_id",
                reason="no-reservation",
                params={"reservation_id": reservation_id},
            )
        already = await paid(tx.session, reservation.id)
        if data.kind == "refund":
            if data.amount > already:
                raise InvalidInput(
                    f"Only ¥{already} was paid",
                    field="body.amount",
                    reason="only-paid-so-much",
                    params={"already": already},
                )
            amount = -data.amount
        else:
            if reservation.status in ("cancelled", "no_show", "checked_out"):
                raise InvalidTransition(
                    f"A {reservation.status} reservation takes no more payments",
                    reason="reservation-takes-no-more-payments",
                    params={"status": reservation.status},
                )
            if already + data.amount > reservation.total:
                raise InvalidInput(
                    f"That is more than the ¥{reservation.total - already} still due",
                    field="body.amount",
                    reason="more-still-due",
                    params={"value": reservation.total - already},
                )
            amount = data.amount
        await record(
            tx.session, reservation, data.kind, data.method, amount, data.reference, ctx.actor.user_id
        )
        tx.audit(
            "reservation.payment",
            "reservation",
            reservation.id,
            after={"kind": data.kind, "method": data.method, "amount": str(amount)},
        )
    return await ledger(ctx, reservation_id)


async def ledger(ctx: Context, reservation_id: int) -> PaymentsOut:
    ctx.require(Permission.BOOKINGS_READ)
    async with ctx.read() as session:
        reservation = await session.get(Reservation, reservation_id)
        if reservation is None:
            raise NotFound(
                f"No reservation {reservation_id}",
                field="reservation_id",
                reason="no-reservation",
                params={"reservation_id": reservation_id},
            )
        hotel = await session.get(Hotel, reservation.hotel_id)
        lines = (
            await session.scalars(
                select(Payment).where(Payment.reservation_id == reservation_id).order_by(Payment.id)
            )
        ).all()
    total_paid = sum((line.amount for line in lines), Decimal(0)).quantize(Decimal("0.01"))
    out, running = [], Decimal(0)
    for line in lines:
        running += line.amount
        method = METHODS.get(line.method, line.method)
        what = f"{KINDS.get(line.kind, line.kind)} ¥{abs(line.amount):.2f}（{method}"
        what += f"，参考号{line.reference}）" if line.reference else "）"
        receipt = (
            f"【{hotel.name if hotel else '英冠酒店'}】收据 {line.receipt}：预订号{reservation.number} "
            f"{'退还' if line.amount < 0 else '收到'}{what}，已付合计 ¥{running:.2f}，"
            f"房费 ¥{reservation.total:.2f}，余额 ¥{reservation.total - running:.2f}。"
        )
        out.append(PaymentLineOut.model_validate(line).model_copy(update={"receipt_text": receipt}))
    return PaymentsOut(
        total=reservation.total, paid=total_paid, balance=reservation.total - total_paid, lines=out
    )
