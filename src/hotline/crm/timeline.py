"""The customer's timeline (C3): every contact across domains, newest first, paged.

Domains add their entries with `add()` (each with a unique reference, so an entry is added
once even if a domain reports it twice); walk-in visits (C7) are logged by staff.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum

from sqlalchemy import and_, func, select

from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.core.errors import NotFound
from hotline.core.permissions import Permission
from hotline.crm.models import Customer, PointsEntry, TimelineEntry

POINTS_KINDS = {"earn": "消费积分", "redeem": "积分兑换", "expire": "积分到期", "adjust": "积分调整"}


class TimelineGroup(StrEnum):
    """What an agent narrows a long timeline to: the entries' kinds in each are in `GROUP_KINDS`."""

    CALLS = "calls"
    CONVERSATIONS = "conversations"
    BOOKINGS = "bookings"
    ORDERS = "orders"
    TICKETS = "tickets"
    POINTS = "points"
    VISITS = "visits"
    SURVEYS = "surveys"


GROUP_KINDS: dict[TimelineGroup, tuple[str, ...]] = {
    TimelineGroup.CALLS: ("call",),
    TimelineGroup.CONVERSATIONS: ("message", "chat", "web", "sms", "wechat", "wecom", "email", "opt-out"),
    TimelineGroup.BOOKINGS: ("booking",),
    TimelineGroup.ORDERS: ("order",),
    TimelineGroup.TICKETS: ("ticket",),
    TimelineGroup.POINTS: ("loyalty",),
    TimelineGroup.VISITS: ("visit",),
    TimelineGroup.SURVEYS: ("survey",),
}


async def add(
    ctx: Context, customer_id: int, kind: str, title: str, *, ref: str, detail: str = "",
    at: datetime | None = None, by: int | None = None,
) -> bool:  # fmt: skip
    """Add an entry once per `ref`; False if it was there already (or the customer is gone)."""
    async with ctx.write() as tx:
        if await tx.session.scalar(select(TimelineEntry.id).where(TimelineEntry.ref == ref)) is not None:
            return False
        if await tx.session.get(Customer, customer_id) is None:
            return False
        tx.session.add(
            TimelineEntry(
                customer_id=customer_id,
                at=at or utcnow(),
                kind=kind,
                title=title[:200],
                detail=detail[:1000],
                ref=ref,
                by=by,
            )
        )
    return True


def points_line(entry: PointsEntry) -> TimelineEntry:
    """The timeline's entry for a line of the points ledger: one each, under `points:<id>`, saying
    the same signed number, so the file's timeline and its ledger tell the same story."""
    return TimelineEntry(
        customer_id=entry.customer_id, at=entry.at, kind="loyalty",
        title=f"积分 {entry.points:+,}：{entry.reason or POINTS_KINDS.get(entry.kind, entry.kind)}"[:200],
        detail=POINTS_KINDS.get(entry.kind, entry.kind), ref=f"points:{entry.id}", by=entry.created_by,
    )  # fmt: skip


async def log_visit(ctx: Context, customer_id: int, place: str, purpose: str, note: str) -> TimelineEntry:
    """A walk-in visit to a branch or the travel desk (C7)."""
    ctx.require(Permission.CUSTOMERS_WRITE)
    async with ctx.write() as tx:
        customer = await tx.session.get(Customer, customer_id)
        if customer is None or customer.anonymised:
            raise NotFound(
                f"No customer {customer_id}",
                field="customer_id",
                reason="no-customer",
                params={"customer_id": customer_id},
            )
        entry = TimelineEntry(
            customer_id=customer_id, at=utcnow(), kind="visit", title=f"到访 {place}：{purpose}",
            detail=note, ref=f"visit:{secrets.token_hex(8)}", by=ctx.actor.user_id,
        )  # fmt: skip
        tx.session.add(entry)
        customer.last_contact_at = entry.at
        await tx.session.flush()
        return entry


async def page(
    ctx: Context, customer_id: int, *, limit: int, offset: int, group: TimelineGroup | None = None
) -> tuple[list[TimelineEntry], int]:
    ctx.require(Permission.CUSTOMERS_READ)
    async with ctx.read() as session:
        customer = await session.get(Customer, customer_id)
        if customer is None or customer.anonymised:
            raise NotFound(
                f"No customer {customer_id}",
                field="customer_id",
                reason="no-customer",
                params={"customer_id": customer_id},
            )
        where = TimelineEntry.customer_id == customer_id
        if group is not None:
            where = and_(where, TimelineEntry.kind.in_(GROUP_KINDS[group]))
        total = int(await session.scalar(select(func.count(TimelineEntry.id)).where(where)) or 0)
        rows = await session.scalars(
            select(TimelineEntry).where(where).order_by(TimelineEntry.at.desc(), TimelineEntry.id.desc())
            .limit(limit).offset(offset)
        )  # fmt: skip
        return list(rows.all()), total
