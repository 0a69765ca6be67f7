"""The travel domain's errors: each names the rule it enforces (`rule` in the problem details)."""

from __future__ import annotations

from hotline.core.errors import Conflict, HotlineError, InvalidInput
from hotline.travel.state import WrongRole

__all__ = [
    "BalanceOutstanding",
    "ItemsLocked",
    "NotYourOrder",
    "OrderClosed",
    "Overpayment",
    "RefundRequired",
    "SeatsSoldOut",
    "WrongRole",
]


class SeatsSoldOut(Conflict):
    code = "seats-sold-out"
    title = "Not enough seats are left on that departure"


class ItemsLocked(Conflict):
    code = "items-locked"
    title = "The contract is signed: the order's items can no longer change"


class Overpayment(InvalidInput):
    code = "overpayment"
    title = "The receipt is more than the order's outstanding balance"


class RefundRequired(Conflict):
    code = "refund-required"
    title = "A paid order is voided only after its money is refunded"


class BalanceOutstanding(Conflict):
    code = "balance-outstanding"
    title = "An order is closed only when it is paid in full"


class OrderClosed(Conflict):
    code = "order-closed"
    title = "The order is closed: only finance adjustments with a reason are recorded"


class NotYourOrder(HotlineError):
    code = "not-your-order"
    status = 403
    title = "The order is owned by someone else"
