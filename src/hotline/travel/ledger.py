"""An order's money (O2): receipts (deposit, instalments, balance, refunds) and costs (ground
handling, hotels, tickets…), each a numbered ledger line; received and cost are the ledger's sums,
kept on the order in the same transaction. After the order is closed only adjustments with their
reason are recorded."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.context import Context
from hotline.core.errors import InvalidInput
from hotline.core.permissions import Permission
from hotline.travel.errors import OrderClosed, Overpayment
from hotline.travel.messages import notice, record
from hotline.travel.models import LedgerLine, Order
from hotline.travel.queries import detail, load, money
from hotline.travel.schemas import CostIn, OrderDetail, ReceiptIn
from hotline.travel.state import State
from hotline.travel.workflow import work

CATEGORY_LABEL = {
    "deposit": "定金", "instalment": "分期", "balance": "尾款", "refund": "退款", "adjustment": "调整",
    "ground": "地接", "hotel": "酒店", "ticket": "票务", "insurance": "保险", "transport": "交通",
    "other": "其他",
}  # fmt: skip
METHOD_LABEL = {"cash": "现金", "card": "银行卡", "transfer": "转账", "online": "在线支付"}


async def _sum(session: AsyncSession, order_id: int, account: str) -> Decimal:
    total = await session.scalar(
        select(func.coalesce(func.sum(LedgerLine.amount), 0)).where(
            LedgerLine.order_id == order_id, LedgerLine.account == account
        )
    )
    return money(Decimal(total or 0))


async def _line_number(session: AsyncSession, order: Order, prefix: str) -> str:
    count = await session.scalar(select(func.count(LedgerLine.id)).where(LedgerLine.order_id == order.id))
    return f"{prefix}{order.number}-{int(count or 0) + 1}"


def _adjustment(order: Order, category: str, reason: str) -> bool:
    """After close only adjustments with a reason; an adjustment always has its reason."""
    if order.state == State.CLOSED.value and category != "adjustment":
        raise OrderClosed(
            f"Order {order.number} is closed: record an adjustment with its reason",
            rule="closed",
            field="body.category",
            reason="order-closed-record-adjustment-reason",
            params={"number": order.number},
        )
    if category == "adjustment" and not reason:
        raise InvalidInput("An adjustment says why", field="body.reason", reason="adjustment-says-why")
    return category == "adjustment"


async def record_receipt(ctx: Context, order_id: int, data: ReceiptIn) -> OrderDetail:
    """Money received (deposit, instalments, balance) or refunded, each a ledger line with its
    number; received is the ledger's sum. More than is outstanding only with `overpayment`."""
    ctx.require(Permission.FINANCE_WRITE)
    async with ctx.write() as tx:
        order = await load(tx.session, order_id, lock=True)
        adjusting = _adjustment(order, data.category, data.reason)
        closed = order.state == State.CLOSED.value
        step = work(
            ctx, order, "adjust" if closed else "receipt", "adjust_receipt" if adjusting else "receipt"
        )
        received = await _sum(tx.session, order.id, "receipt")
        amount = money(data.amount)
        if data.category == "refund":
            if amount > received:
                raise InvalidInput(
                    f"Only ¥{received} was received: that is all there is to refund",
                    field="body.amount",
                    reason="was-received-all-refund",
                    params={"received": received},
                )
            amount = -amount
        elif adjusting and data.negative:
            amount = -amount
        elif not data.overpayment and received + amount > order.receivable:
            raise Overpayment(
                f"¥{order.receivable - received:.2f} is outstanding; ¥{amount:.2f} is more. Set overpayment "
                "to take it anyway",
                field="body.amount",
                rule="overpayment",
                outstanding=str(order.receivable - received),
                reason="outstanding-more-set-overpayment-take",
                params={"value": format(order.receivable - received, ".2f"), "amount": format(amount, ".2f")},
            )
        line = LedgerLine(
            order_id=order.id,
            account="receipt",
            category=data.category,
            amount=amount,
            method=data.method,
            reference=data.reference,
            note=data.reason,
            overpayment=data.overpayment and not adjusting,
            number=await _line_number(tx.session, order, "S"),
            by=ctx.actor.user_id,
        )
        tx.session.add(line)
        await tx.session.flush()
        order.received = await _sum(tx.session, order.id, "receipt")
        what = f"{CATEGORY_LABEL[data.category]} ¥{amount:.2f} {METHOD_LABEL[data.method]} {data.reason}"
        record(tx, order, step, what.strip())
        if amount > 0 and not adjusting:
            tx.publish(await notice(tx.session, order, "paid", amount))
    return await detail(ctx, order_id)


async def record_cost(ctx: Context, order_id: int, data: CostIn) -> OrderDetail:
    """A cost paid for the order (ground handling, hotels, tickets…), each a ledger line."""
    ctx.require(Permission.FINANCE_WRITE)
    async with ctx.write() as tx:
        order = await load(tx.session, order_id, lock=True)
        adjusting = _adjustment(order, data.category, data.reason)
        closed = order.state == State.CLOSED.value
        step = work(ctx, order, "adjust" if closed else "cost", "adjust_cost" if adjusting else "cost")
        amount = -money(data.amount) if adjusting and data.negative else money(data.amount)
        line = LedgerLine(
            order_id=order.id,
            account="cost",
            category=data.category,
            amount=amount,
            supplier=data.supplier,
            reference=data.reference,
            note=data.reason or data.note,
            number=await _line_number(tx.session, order, "C"),
            by=ctx.actor.user_id,
        )
        tx.session.add(line)
        await tx.session.flush()
        order.cost = await _sum(tx.session, order.id, "cost")
        what = f"{CATEGORY_LABEL[data.category]} {data.supplier} ¥{amount:.2f} {data.reason or data.note}"
        record(tx, order, step, what.strip())
    return await detail(ctx, order_id)
