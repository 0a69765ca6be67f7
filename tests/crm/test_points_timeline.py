"""The customer file tells one story: every line of the points ledger is on the timeline with the
same signed points (earned, redeemed, adjusted, expired, whatever the order), so the balance the
timeline adds up to is the ledger's; and a member number typed into a form finds the member, the
phone masked for an agent."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.core.errors import HotlineError
from hotline.crm import loyalty
from hotline.crm import service as crm
from hotline.crm.models import PointsEntry, TimelineEntry
from hotline.crm.schemas import CustomerIn
from tests.conftest import Users, assert_problem

EVENTS = st.lists(
    st.one_of(
        st.tuples(st.just("earn"), st.integers(1, 20_000)),
        st.tuples(st.just("redeem"), st.integers(1, 5_000)),
        st.tuples(st.just("adjust"), st.integers(-3_000, 3_000).filter(bool)),
        st.tuples(st.just("expire"), st.just(0)),
    ),
    max_size=8,
)


async def story(ctx: Context, customer_id: int) -> tuple[dict[str, int], dict[str, int], int]:
    """The ledger by line (points:<id> → points), the timeline's loyalty entries read back the
    same way, and the balance on the file."""
    async with ctx.read() as session:
        ledger = {f"points:{e.id}": e.points for e in await session.scalars(
            select(PointsEntry).where(PointsEntry.customer_id == customer_id))}  # fmt: skip
        entries = (
            await session.scalars(
                select(TimelineEntry).where(
                    TimelineEntry.customer_id == customer_id, TimelineEntry.kind == "loyalty"
                )
            )
        ).all()
        said = {e.ref: int(re.match(r"积分 ([+-][\d,]+)", e.title)[1].replace(",", "")) for e in entries}  # type: ignore[index]
        balance = (await crm.get(ctx, customer_id)).points
    return ledger, said, balance


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=EVENTS)
async def test_whatever_happens_to_the_points_the_timeline_and_the_ledger_agree(
    seeded: Context, events: list[tuple[str, int]]
) -> None:
    customer_id = (await crm.create(seeded, CustomerIn(name="韩梅梅"))).id
    later = utcnow()
    for n, (kind, points) in enumerate(events):
        try:
            if kind == "earn":
                await loyalty.earn(seeded, customer_id, Decimal(points), reason="住店", ref=f"stay:{n}")
            elif kind == "redeem":
                await loyalty.redeem(seeded, customer_id, points, reason="兑换")
            elif kind == "adjust":
                await loyalty.adjust(seeded, customer_id, points, reason="补偿")
            else:
                later += timedelta(days=800)  # everything earned so far runs out
                await loyalty.expire(seeded, now=later)
        except HotlineError:
            pass  # more than the member has: refused, and nothing written
    ledger, said, balance = await story(seeded, customer_id)
    assert said == ledger
    assert sum(said.values()) == sum(ledger.values()) == balance


async def test_the_demo_customers_timeline_shows_his_ledger(seeded: Context) -> None:
    async with seeded.read() as session:
        zhang = await session.scalar(select(PointsEntry.customer_id).where(PointsEntry.ref == "demo:stay"))
    assert zhang is not None
    ledger, said, balance = await story(seeded, zhang)
    assert said == ledger and balance == 12_800 and 1_650 in said.values()


async def test_a_member_number_finds_the_member_with_the_phone_masked(seeded: Context, users: Users) -> None:
    agent = await users("agent1")
    found = await agent.get("/api/customers/members/88000001")
    assert found.status_code == 200, found.text
    card = found.json()
    assert card["name"] == "张伟" and card["title"] == "先生" and card["tier"] == "gold"
    assert "13800138000" not in card["phone"] and card["phone"].endswith("8000") and "*" in card["phone"]
    assert_problem(await agent.get("/api/customers/members/87999999"), 404, "not-found", "member_number")
    assert (await agent.get("/api/customers/members/12ab")).status_code == 422
