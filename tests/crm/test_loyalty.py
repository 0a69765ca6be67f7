"""Loyalty: a member's balance is always the sum of the ledger, whatever happens; earning follows
the rule once per stay; redemptions take the oldest points; points expire; tiers follow the last
12 months and their changes are kept."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select

from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.core.errors import HotlineError
from hotline.crm import loyalty
from hotline.crm import service as crm
from hotline.crm.models import Customer, PointsEntry
from hotline.crm.schemas import CustomerIn
from tests.conftest import Users, assert_problem


async def new_member(ctx: Context, name: str = "李雷") -> int:
    return (await crm.create(ctx, CustomerIn(name=name))).id


async def books(ctx: Context, customer_id: int) -> tuple[int, int, int, str]:
    """Balance as stored, the ledger's sum, the earned points still left, and the tier."""
    async with ctx.read() as session:
        customer = await session.get(Customer, customer_id)
        assert customer is not None
        total = await session.scalar(
            select(func.coalesce(func.sum(PointsEntry.points), 0)).where(
                PointsEntry.customer_id == customer_id
            )
        )
        left = await session.scalar(
            select(func.coalesce(func.sum(PointsEntry.remaining), 0)).where(
                PointsEntry.customer_id == customer_id
            )
        )
        return customer.points, int(total or 0), int(left or 0), customer.tier


async def test_any_sequence_of_earning_redeeming_adjusting_and_expiring_keeps_the_books(
    seeded: Context,
) -> None:
    member = await new_member(seeded)
    rng = random.Random(11)
    refused = 0
    for step in range(120):
        action = rng.choice(["earn", "earn", "redeem", "adjust", "adjust", "expire"])
        try:
            if action == "earn":
                await loyalty.earn(
                    seeded, member, Decimal(rng.randrange(1, 5000)), reason="住宿", ref=f"r{step}"
                )
            elif action == "redeem":
                await loyalty.redeem(seeded, member, rng.randrange(1, 8000), reason="兑换")
            elif action == "adjust":
                await loyalty.adjust(seeded, member, rng.randrange(-3000, 3000) or 1, reason="更正")
            else:
                await loyalty.expire(seeded, now=utcnow() + timedelta(days=rng.choice([0, 800])))
        except HotlineError:
            refused += 1  # e.g. more points redeemed than held: refused, nothing changed
        balance, total, left, tier = await books(seeded, member)
        assert balance == total == left >= 0, (step, action)
        assert tier in loyalty.BY_NAME
    assert 0 < refused < 120


async def test_earning_follows_the_rule_once_per_stay_and_lifts_the_tier(seeded: Context) -> None:
    member = await new_member(seeded)
    await loyalty.earn(seeded, member, Decimal("2500.80"), reason="外滩店 3 晚", ref="reservation:1")
    assert (await books(seeded, member))[0] == 2500  # a point per whole yuan, standard ×1.0
    try:
        await loyalty.earn(seeded, member, Decimal("2500"), reason="外滩店 3 晚", ref="reservation:1")
    except loyalty.AlreadyEarned:
        pass
    else:
        raise AssertionError("earned twice for one stay")
    await loyalty.earn(seeded, member, Decimal("1000"), reason="西湖店", ref="reservation:2")
    assert (await books(seeded, member))[3] == "silver"  # 3,500 in 12 months ≥ 3,000
    await loyalty.earn(seeded, member, Decimal("1000"), reason="西湖店", ref="reservation:3")
    assert (await books(seeded, member))[0] == 3500 + 1200  # silver earns ×1.2
    history = await loyalty.tier_history(seeded, member)
    assert [(h.before, h.after) for h in history] == [("standard", "silver")]


async def test_redemptions_take_the_oldest_points_and_old_points_expire(seeded: Context) -> None:
    member = await new_member(seeded)
    await loyalty.earn(seeded, member, Decimal("1000"), reason="旧", ref="a")
    await loyalty.earn(seeded, member, Decimal("500"), reason="新", ref="b")
    await loyalty.redeem(seeded, member, 800, reason="兑换早餐")
    lines = {line.ref: line.remaining for line in await loyalty.ledger(seeded, member) if line.kind == "earn"}
    assert lines == {"a": 200, "b": 500}
    assert await loyalty.expire(seeded, now=utcnow() + timedelta(days=731)) >= 1  # 张伟 expires too
    balance, total, _, tier = await books(seeded, member)
    assert balance == total == 0 and tier == "standard"
    assert (await loyalty.ledger(seeded, member))[0].kind == "expire"


async def test_the_api_refuses_what_the_books_cannot_do_and_only_supervisors_adjust(
    seeded: Context, users: Users
) -> None:
    member = await new_member(seeded, "韩梅梅")
    agent = await users("agent1")
    supervisor = await users("supervisor")
    earned = await agent.post(
        f"/api/customers/{member}/loyalty/earn",
        json={"amount": "888.00", "reason": "入住", "ref": "reservation:9"},
    )
    assert earned.status_code == 201 and earned.json()["points"] == 888
    too_many = await agent.post(
        f"/api/customers/{member}/loyalty/redeem", json={"points": 889, "reason": "兑换"}
    )
    assert_problem(too_many, 409, "not-enough-points", "body.points")
    twice = await agent.post(
        f"/api/customers/{member}/loyalty/earn",
        json={"amount": "888.00", "reason": "入住", "ref": "reservation:9"},
    )
    assert_problem(twice, 409, "already-earned", "body.ref")
    assert (
        await agent.post(f"/api/customers/{member}/loyalty/adjust", json={"points": 100, "reason": "补偿"})
    ).status_code == 403
    no_reason = await supervisor.post(
        f"/api/customers/{member}/loyalty/adjust", json={"points": 100, "reason": " "}
    )
    assert_problem(no_reason, 422, "invalid-input", "body.reason")
    ok = await supervisor.post(
        f"/api/customers/{member}/loyalty/adjust", json={"points": 112, "reason": "投诉补偿"}
    )
    assert ok.status_code == 201
    summary = (await agent.get(f"/api/customers/{member}/loyalty")).json()
    assert (summary["points"], summary["tier"], summary["next_tier"]) == (1000, "standard", "silver")
    assert summary["points_to_next_tier"] == 2000
    assert [line["kind"] for line in summary["ledger"]] == ["adjust", "earn"]
