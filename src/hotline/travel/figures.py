"""Travel order figures for the orders report (docs/reports.md), per bucket of a period and per source:

- orders: orders created in the period (enquiries taken);
- void: of those, the ones voided since (cancellations);
- from_calls: of those, the ones taken on a call (`call_id`);
- signed, revenue, received: orders signed in the period and not void, with their receivable and
  what was received — the same orders and amounts as the money report (travel/reports.py
  `signed_orders`).
With `agent_ids`, only orders those users created (a team's orders).
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import ColumnElement, select

from hotline.core.clock import as_utc
from hotline.core.context import Context
from hotline.core.periods import Figures, Number, Period, Series
from hotline.core.permissions import Permission
from hotline.travel.models import Order
from hotline.travel.reports import CENT, signed_orders
from hotline.travel.state import State

NAMES = ("orders", "void", "from_calls", "signed", "revenue", "received")
RATES = {"signed_rate": ("signed", "orders")}


async def order_figures(ctx: Context, period: Period, *, agent_ids: set[int] | None = None) -> Figures:
    ctx.require(Permission.REPORTS_READ)
    mine: list[ColumnElement[bool]] = [] if agent_ids is None else [Order.creator_id.in_(agent_ids)]
    async with ctx.read() as session:
        created = (
            await session.execute(
                select(Order.created_at, Order.source, Order.state, Order.call_id).where(
                    Order.created_at >= period.since, Order.created_at < period.until, *mine
                )
            )
        ).all()
        signed = await signed_orders(session, period.since, period.until, agent_ids)
    series = Series(period, NAMES, money=("revenue", "received"))
    by_source: dict[str, dict[str, Number]] = {}

    def count(at: object, source: str, amounts: dict[str, Number]) -> None:
        row = by_source.setdefault(source, series.zero())
        for name, amount in amounts.items():
            series.add(as_utc(at), name, amount)  # type: ignore[arg-type]
            row[name] = row[name] + amount  # type: ignore[operator]

    for created_at, source, state, call_id in created:
        count(
            created_at,
            source,
            {"orders": 1, "void": int(state == State.VOID.value), "from_calls": int(call_id is not None)},
        )
    for order in signed:
        count(
            order.signed_at,
            order.source,
            {
                "signed": 1,
                "revenue": Decimal(order.receivable).quantize(CENT),
                "received": Decimal(order.received).quantize(CENT),
            },
        )
    figures = Figures(series, rates=RATES)
    figures.rows = [
        figures.with_rates({"key": source, "label": source, **row})
        for source, row in sorted(by_source.items(), key=lambda kv: -int(kv[1]["orders"]))
    ]
    return figures
