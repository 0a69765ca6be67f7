"""Money and performance of travel orders (O2 money, O4).

- Money per period: the orders signed in each month of the range, with their receivable,
  received, outstanding, cost and profit (received − cost, as seed 001 compares them). The
  total row is the sum of the month rows, and each month row the sum of its orders, so the report
  adds up to the orders' own figures.
- Performance per person: orders created (creator), hand-overs made (assigner: team lead to
  planner, planner to front desk) and received (owner), with the receivable of those that were
  signed; conversion from enquiry to signed; the average hours an order spends in each state
  (from its history).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.admin import directory
from hotline.core.clock import as_utc
from hotline.core.context import Context
from hotline.core.errors import InvalidInput
from hotline.core.permissions import Permission
from hotline.travel.catalogue import SHANGHAI
from hotline.travel.models import Assignment, Order, OrderChange
from hotline.travel.schemas import MoneyReport, MoneyRow, Performance, PersonFigures
from hotline.travel.state import State

MAX_DAYS = 731
CENT = Decimal("0.01")


def _bounds(first: date, last: date) -> tuple[datetime, datetime]:
    if last < first:
        raise InvalidInput("The last day is before the first", field="last", reason="last-day-before-first")
    if (last - first).days > MAX_DAYS:
        raise InvalidInput(
            f"At most {MAX_DAYS} days at once",
            field="last",
            reason="most-days-once",
            params={"max_days": MAX_DAYS},
        )
    start = datetime.combine(first, time(0), tzinfo=SHANGHAI)
    return start, datetime.combine(last + timedelta(days=1), time(0), tzinfo=SHANGHAI)


def _row(period: str, orders: list[Order]) -> MoneyRow:
    receivable = sum((o.receivable for o in orders), Decimal(0))
    received = sum((o.received for o in orders), Decimal(0))
    cost = sum((o.cost for o in orders), Decimal(0))
    return MoneyRow(
        period=period,
        orders=len(orders),
        receivable=receivable.quantize(CENT),
        received=received.quantize(CENT),
        outstanding=(receivable - received).quantize(CENT),
        cost=cost.quantize(CENT),
        profit=(received - cost).quantize(CENT),
    )


async def signed_orders(
    session: AsyncSession, start: datetime, end: datetime, creators: set[int] | None = None
) -> list[Order]:
    """Orders signed in [start, end) and not void: the revenue of the money report and of the
    orders report (travel/figures.py), counted one way."""
    query = select(Order).where(
        Order.signed_at >= start, Order.signed_at < end, Order.state != State.VOID.value
    )
    if creators is not None:
        query = query.where(Order.creator_id.in_(creators))
    return list((await session.scalars(query)).all())


async def money(ctx: Context, first: date, last: date) -> MoneyReport:
    ctx.require(Permission.REPORTS_READ)
    start, end = _bounds(first, last)
    async with ctx.read() as session:
        orders = await signed_orders(session, start, end)
    by_month: dict[str, list[Order]] = defaultdict(list)
    for order in orders:
        assert order.signed_at is not None  # noqa: S101 - selected on it
        by_month[f"{as_utc(order.signed_at).astimezone(SHANGHAI):%Y-%m}"].append(order)
    rows = [_row(month, by_month[month]) for month in sorted(by_month)]
    return MoneyReport(first=first, last=last, rows=rows, total=_row("total", orders))


async def performance(ctx: Context, first: date, last: date) -> Performance:
    ctx.require(Permission.REPORTS_READ)
    start, end = _bounds(first, last)
    async with ctx.read() as session:
        created = list(
            (
                await session.scalars(select(Order).where(Order.created_at >= start, Order.created_at < end))
            ).all()
        )
        handovers = (
            await session.execute(
                select(Assignment, Order)
                .join(Order, Order.id == Assignment.order_id)
                .where(Assignment.at >= start, Assignment.at < end)
            )
        ).all()
        ids = [o.id for o in created]
        changes = (
            list(
                (
                    await session.scalars(
                        select(OrderChange)
                        .where(OrderChange.order_id.in_(ids))
                        .order_by(OrderChange.order_id, OrderChange.id)
                    )
                ).all()
            )
            if ids
            else []
        )
        names = await directory.all_names(session)
    people: dict[int, PersonFigures] = {}

    def person(user_id: int) -> PersonFigures:
        if user_id not in people:
            people[user_id] = PersonFigures(user_id=user_id, name=str(names.get(user_id, user_id)))
        return people[user_id]

    def signed_amount(order: Order) -> Decimal:
        return (
            order.receivable
            if order.signed_at is not None and order.state != State.VOID.value
            else Decimal(0)
        )

    for order in created:
        if order.creator_id is not None:
            p = person(order.creator_id)
            p.created += 1
            p.created_amount += signed_amount(order)
            p.signed += order.signed_at is not None and order.state != State.VOID.value
    for assignment, order in handovers:
        if assignment.assigner_id is not None:
            p = person(assignment.assigner_id)
            p.assigned += 1
            p.assigned_amount += signed_amount(order)
        if assignment.owner_id is not None:
            p = person(assignment.owner_id)
            p.owned += 1
            p.owned_amount += signed_amount(order)
    hours: dict[str, list[float]] = defaultdict(list)
    current: tuple[int, str, datetime] | None = None  # order, its state, since when
    for change in changes:
        if current is None or current[0] != change.order_id:
            current = (change.order_id, change.after, as_utc(change.at))
        elif change.after != current[1]:
            hours[current[1]].append((as_utc(change.at) - current[2]).total_seconds() / 3600)
            current = (change.order_id, change.after, as_utc(change.at))
    signed = sum(1 for o in created if o.signed_at is not None)
    return Performance(
        first=first,
        last=last,
        people=sorted(people.values(), key=lambda p: (-(p.created_amount + p.owned_amount), p.name)),
        enquiries=len(created),
        signed=signed,
        conversion=round(signed / len(created), 4) if created else None,
        hours_in_step={state: round(sum(v) / len(v), 1) for state, v in hours.items() if v},
    )
