"""Loyalty (C4): a points ledger per member, tiers by points earned over the last 12 months.

- Earning follows one rule: a point per yuan spent, times the tier's multiplier; one earn per
  reference (a stay or an order is never counted twice).
- Redeeming uses the oldest points first and cannot go below zero.
- Points expire two years after they were earned (a daily job writes the `expire` lines).
- Adjusting needs a reason and `loyalty.adjust`.
- After every change the tier follows the rolling 12 months' earned points (upgrades and
  downgrades are recorded with their reason); a member's balance is always the ledger's sum.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.core.errors import Conflict, InvalidInput, NotFound
from hotline.core.permissions import Permission
from hotline.crm.models import Customer, PointsEntry, TierChange

VALID_FOR = timedelta(days=730)
ROLLING = timedelta(days=365)


@dataclass(frozen=True)
class Tier:
    name: str
    threshold: int  # points earned over the last 12 months
    multiplier: Decimal
    benefits: tuple[str, ...]


TIERS = (
    Tier("standard", 0, Decimal("1.0"), ("会员价",)),
    Tier("silver", 3000, Decimal("1.2"), ("会员价", "延迟退房至13:00")),
    Tier("gold", 10000, Decimal("1.5"), ("会员价", "延迟退房至14:00", "免费早餐", "优先排队")),
    Tier(
        "platinum",
        30000,
        Decimal("2.0"),
        ("会员价", "延迟退房至16:00", "免费早餐", "房型升级", "专属客服优先"),
    ),
)
BY_NAME = {tier.name: tier for tier in TIERS}


class NotEnoughPoints(Conflict):
    code = "not-enough-points"
    title = "The member has fewer points than that"


class AlreadyEarned(Conflict):
    code = "already-earned"
    title = "Points for this were earned already"


def tier_for(earned: int) -> Tier:
    return next(t for t in reversed(TIERS) if earned >= t.threshold)


def points_for(amount: Decimal, tier: str) -> int:
    """The earning rule: a point per whole yuan, times the tier's multiplier."""
    return int((amount * BY_NAME[tier].multiplier).to_integral_value(ROUND_DOWN))


async def _customer(session: AsyncSession, customer_id: int) -> Customer:
    customer = await session.get(Customer, customer_id, with_for_update=True)
    if customer is None or customer.anonymised:
        raise NotFound(
            f"No customer {customer_id}",
            field="customer_id",
            reason="no-customer",
            params={"customer_id": customer_id},
        )
    return customer


async def _earned_lately(session: AsyncSession, customer_id: int, now: datetime) -> int:
    total = await session.scalar(
        select(func.coalesce(func.sum(PointsEntry.points), 0)).where(
            PointsEntry.customer_id == customer_id, PointsEntry.kind.in_(("earn", "adjust")),
            PointsEntry.points > 0, PointsEntry.at >= now - ROLLING,
        )
    )  # fmt: skip
    return int(total or 0)


async def settle(session: AsyncSession, customer: Customer, now: datetime, reason: str) -> None:
    """Balance from the ledger; tier from the last 12 months' earnings."""
    balance = await session.scalar(
        select(func.coalesce(func.sum(PointsEntry.points), 0)).where(PointsEntry.customer_id == customer.id)
    )
    customer.points = int(balance or 0)
    tier = tier_for(await _earned_lately(session, customer.id, now)).name
    if tier != customer.tier:
        session.add(
            TierChange(customer_id=customer.id, at=now, before=customer.tier, after=tier, reason=reason)
        )
        customer.tier = tier


async def earn(ctx: Context, customer_id: int, amount: Decimal, *, reason: str, ref: str) -> PointsEntry:
    """Points for money spent (a stay, an order), by the earning rule; once per `ref`."""
    ctx.require(Permission.CUSTOMERS_WRITE)
    if amount <= 0:
        raise InvalidInput(
            "The amount must be more than zero", field="body.amount", reason="amount-must-more-zero"
        )
    now = utcnow()
    async with ctx.write() as tx:
        customer = await _customer(tx.session, customer_id)
        if ref and await tx.session.scalar(
            select(PointsEntry.id).where(PointsEntry.customer_id == customer_id, PointsEntry.ref == ref)
        ):
            raise AlreadyEarned(
                f"Points for {ref} were earned already",
                field="body.ref",
                reason="points-were-earned-already",
                params={"ref": ref},
            )
        points = points_for(amount, customer.tier)
        entry = PointsEntry(
            customer_id=customer_id, at=now, kind="earn", points=points, remaining=points,
            expires_at=now + VALID_FOR, reason=reason, ref=ref, created_by=ctx.actor.user_id,
        )  # fmt: skip
        tx.session.add(entry)
        await tx.session.flush()
        await settle(tx.session, customer, now, f"earned {points}: {reason}")
        return entry


async def _consume(session: AsyncSession, customer_id: int, points: int) -> None:
    """Take `points` from the oldest earned points still left."""
    left = points
    rows = await session.scalars(
        select(PointsEntry)
        .where(PointsEntry.customer_id == customer_id, PointsEntry.remaining > 0)
        .order_by(PointsEntry.at, PointsEntry.id)
    )
    for entry in rows:
        take = min(left, entry.remaining)
        entry.remaining -= take
        left -= take
        if left == 0:
            return


async def redeem(ctx: Context, customer_id: int, points: int, *, reason: str) -> PointsEntry:
    ctx.require(Permission.CUSTOMERS_WRITE)
    if points <= 0:
        raise InvalidInput("Redeem at least one point", field="body.points", reason="redeem-least-one-point")
    now = utcnow()
    async with ctx.write() as tx:
        customer = await _customer(tx.session, customer_id)
        if points > customer.points:
            raise NotEnoughPoints(
                f"The member has {customer.points} points",
                field="body.points",
                reason="member-points",
                params={"points": customer.points},
            )
        await _consume(tx.session, customer_id, points)
        entry = PointsEntry(customer_id=customer_id, at=now, kind="redeem", points=-points, reason=reason,
                            created_by=ctx.actor.user_id)  # fmt: skip
        tx.session.add(entry)
        await tx.session.flush()
        await settle(tx.session, customer, now, f"redeemed {points}: {reason}")
        return entry


async def adjust(ctx: Context, customer_id: int, points: int, *, reason: str) -> PointsEntry:
    """A correction by a supervisor, with its reason (a goodwill gesture, a mistake undone)."""
    ctx.require(Permission.LOYALTY_ADJUST)
    if points == 0:
        raise InvalidInput(
            "Adjust by at least one point", field="body.points", reason="adjust-least-one-point"
        )
    if not reason.strip():
        raise InvalidInput("Say why the points change", field="body.reason", reason="say-why-points-change")
    now = utcnow()
    async with ctx.write() as tx:
        customer = await _customer(tx.session, customer_id)
        if points < 0:
            if -points > customer.points:
                raise NotEnoughPoints(
                    f"The member has {customer.points} points",
                    field="body.points",
                    reason="member-points",
                    params={"points": customer.points},
                )
            await _consume(tx.session, customer_id, -points)
        entry = PointsEntry(
            customer_id=customer_id, at=now, kind="adjust", points=points, remaining=max(points, 0),
            expires_at=now + VALID_FOR if points > 0 else None, reason=reason, created_by=ctx.actor.user_id,
        )  # fmt: skip
        tx.session.add(entry)
        tx.audit("loyalty.adjusted", "customer", customer_id, after={"points": points, "reason": reason})
        await tx.session.flush()
        await settle(tx.session, customer, now, f"adjusted {points:+d}: {reason}")
        return entry


async def expire(ctx: Context, *, now: datetime | None = None) -> int:
    """Write an `expire` line for every member whose earned points ran out; returns how many."""
    now = now or utcnow()
    expired = 0
    async with ctx.write() as tx:
        rows = (
            await tx.session.scalars(
                select(PointsEntry)
                .where(PointsEntry.remaining > 0, PointsEntry.expires_at <= now)
                .order_by(PointsEntry.customer_id, PointsEntry.id)
            )
        ).all()
        by_customer: dict[int, int] = {}
        for entry in rows:
            by_customer[entry.customer_id] = by_customer.get(entry.customer_id, 0) + entry.remaining
            entry.remaining = 0
        for customer_id, points in by_customer.items():
            tx.session.add(PointsEntry(customer_id=customer_id, at=now, kind="expire", points=-points,
                                       reason="积分到期"))  # fmt: skip
            await tx.session.flush()
            customer = await tx.session.get(Customer, customer_id)
            if customer is not None:
                await settle(tx.session, customer, now, "points expired")
            expired += 1
    return expired


async def ledger(ctx: Context, customer_id: int, *, limit: int = 100) -> list[PointsEntry]:
    ctx.require(Permission.CUSTOMERS_READ)
    async with ctx.read() as session:
        rows = await session.scalars(
            select(PointsEntry)
            .where(PointsEntry.customer_id == customer_id)
            .order_by(PointsEntry.at.desc(), PointsEntry.id.desc())
            .limit(limit)
        )
        return list(rows.all())


async def tier_history(ctx: Context, customer_id: int) -> list[TierChange]:
    ctx.require(Permission.CUSTOMERS_READ)
    async with ctx.read() as session:
        rows = await session.scalars(
            select(TierChange).where(TierChange.customer_id == customer_id).order_by(TierChange.at.desc())
        )
        return list(rows.all())


async def summary(ctx: Context, customer_id: int) -> dict[str, object]:
    """Balance, tier, what the next tier needs, benefits, the latest ledger lines, tier history."""
    ctx.require(Permission.CUSTOMERS_READ)
    now = utcnow()
    async with ctx.read() as session:
        customer = await session.get(Customer, customer_id)
        if customer is None or customer.anonymised:
            raise NotFound(
                f"No customer {customer_id}",
                field="customer_id",
                reason="no-customer",
                params={"customer_id": customer_id},
            )
        earned = await _earned_lately(session, customer_id, now)
    tier = BY_NAME.get(customer.tier, TIERS[0])
    higher = [t for t in TIERS if t.threshold > earned]
    return {
        "points": customer.points, "tier": customer.tier, "earned_last_12_months": earned,
        "next_tier": higher[0].name if higher else None,
        "points_to_next_tier": higher[0].threshold - earned if higher else None,
        "benefits": list(tier.benefits),
        "ledger": await ledger(ctx, customer_id), "tiers": await tier_history(ctx, customer_id),
    }  # fmt: skip
