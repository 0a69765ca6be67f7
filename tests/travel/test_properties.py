"""Rules that hold whatever the staff do, in any order: received is always the sum of the
receipts, cost the sum of the costs, receivable the sum of the items; the items never change once
the contract is signed; seats sold are the seats on the orders still alive; and a refused step
changes nothing."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from datetime import datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, insert, select

from hotline.admin.models import User, UserRole
from hotline.core.context import Actor, Context
from hotline.core.db import Database
from hotline.core.errors import HotlineError
from hotline.core.events import InProcessBus
from hotline.core.permissions import permissions_for
from hotline.travel import catalogue, ledger, workflow
from hotline.travel import items as order_items
from hotline.travel.catalogue import SHANGHAI, today
from hotline.travel.models import Departure, LedgerLine, Order, OrderItem, PlannerDesk
from hotline.travel.schemas import (
    AssignIn,
    CloseIn,
    CostIn,
    DepartureIn,
    FollowUpIn,
    HandOverIn,
    InsuranceIn,
    ItemIn,
    OrderIn,
    ReceiptIn,
    RouteIn,
    SignIn,
    VoidIn,
)
from tests.conftest import PG_URL, make_settings

STAFF = {
    "agent": "agent",
    "lead": "team_lead",
    "planner": "planner",
    "desk": "front_desk",
    "finance": "finance",
}
ACTIONS = st.one_of(
    st.tuples(st.sampled_from(["add_tour", "add_insurance", "remove_item"]), st.integers(1, 4)),
    st.tuples(
        st.sampled_from(["assign", "follow_up", "hand_over", "sign", "review", "trip_over", "close", "void"]),
        st.just(0),
    ),
    st.tuples(
        st.sampled_from(["receipt", "overpay", "refund", "cost", "adjust_receipt", "adjust_cost"]),
        st.integers(1, 9000),
    ),
    st.tuples(st.just("wrong_role"), st.sampled_from(["sign", "review", "assign", "close"])),
)


async def _world(url: str) -> tuple[Context, dict[str, Context], int, int, int]:
    db = Database(url)
    system = Context(make_settings(url), db, InProcessBus(), Actor.system("test"))
    people: dict[str, Context] = {}
    async with system.write() as tx:
        for name, role in STAFF.items():
            user_id = (await tx.session.execute(insert(User).values(
                username=name, display_name=name, password_hash="-", is_active=True,
            ).returning(User.id))).scalar_one()  # fmt: skip
            await tx.session.execute(insert(UserRole).values(user_id=user_id, role=role))
            roles = frozenset({role})
            people[name] = system.as_actor(Actor(user_id, name, roles, permissions_for(roles)))
        tx.session.add(
            PlannerDesk(user_id=people["planner"].actor.user_id, kinds=["domestic"], phone="02100000000")
        )
    route = await catalogue.save_route(system, RouteIn(
        code="T3", name="测试三日游", kind="domestic", destination="杭州", days=3, adult_price=Decimal(1000),
        child_price=Decimal(600), single_supplement=Decimal(300),
        itinerary=[{"day": n, "title": f"第{n}天"} for n in (1, 2, 3)],  # type: ignore[misc]
    ))  # fmt: skip
    departure = (await catalogue.add_departures(system, route.id, DepartureIn(
        departs_on=today() + timedelta(days=20), capacity=6)))[0]  # fmt: skip
    product = await catalogue.save_insurance(system, InsuranceIn(code="I", name="意外险", cover="意外伤害",
                                                                 price_per_day=Decimal(5)))  # fmt: skip
    order = await workflow.create(
        people["agent"], OrderIn(kind="domestic", contact_name="测试", contact_phone="13600000000")
    )
    return system, people, order.order.id, departure.id, product.id


async def _snapshot(ctx: Context, order_id: int) -> dict[str, Any]:
    async with ctx.read() as session:
        order = await session.get(Order, order_id)
        assert order is not None
        items = sorted((i.id, i.kind, i.amount, i.adults, i.children) for i in (await session.scalars(
            select(OrderItem).where(OrderItem.order_id == order_id))).all())  # fmt: skip
        sums = dict((await session.execute(
            select(LedgerLine.account, func.coalesce(func.sum(LedgerLine.amount), 0))
            .where(LedgerLine.order_id == order_id).group_by(LedgerLine.account)
        )).all())  # fmt: skip
        lines = await session.scalar(select(func.count(LedgerLine.id)).where(LedgerLine.order_id == order_id))
        seats = await session.scalar(select(func.sum(Departure.seats_taken)))
        return {
            "state": order.state, "receivable": order.receivable, "received": order.received,
            "cost": order.cost,
            "items": items, "receipts": Decimal(sums.get("receipt", 0)), "costs": Decimal(sums.get("cost",
            0)),
            "lines": lines, "seats": int(seats or 0), "signed": order.signed_at is not None,
            "returns_on": order.returns_on,
        }  # fmt: skip


async def _act(people: dict[str, Context], system: Context, order_id: int, departure_id: int, product_id: int,
               action: str, n: Any, snap: dict[str, Any]) -> None:  # fmt: skip
    p, money = people, Decimal(n if isinstance(n, int) else 0)
    if action == "add_tour":
        await order_items.add_item(
            p["planner"], order_id, ItemIn(kind="tour", departure_id=departure_id, adults=n)
        )
    elif action == "add_insurance":
        await order_items.add_item(p["agent"], order_id, ItemIn(kind="insurance", insurance_id=product_id,
        persons=n,
                                                            days=3))  # fmt: skip
    elif action == "remove_item":
        if snap["items"]:
            await order_items.remove_item(p["planner"], order_id, snap["items"][0][0])
    elif action == "assign":
        await workflow.assign_planner(
            p["lead"], order_id, AssignIn(planner_id=p["planner"].actor.user_id or 0)
        )
    elif action == "follow_up":
        await workflow.follow_up(p["planner"], order_id, FollowUpIn(note="跟进"))
    elif action == "hand_over":
        await workflow.hand_to_front_desk(
            p["planner"], order_id, HandOverIn(front_desk_id=p["desk"].actor.user_id or 0)
        )
    elif action == "sign":
        await workflow.sign(p["desk"], order_id, SignIn())
    elif action == "review":
        await workflow.review(p["finance"], order_id)
    elif action == "trip_over" and snap["returns_on"] is not None:
        later = datetime.combine(snap["returns_on"] + timedelta(days=3), time(9), tzinfo=SHANGHAI)
        await workflow.return_visits(system, now=later)
    elif action == "close":
        await workflow.close(p["agent"], order_id, CloseIn(summary="回访满意"))
    elif action == "void":
        await workflow.void(p["planner"], order_id, VoidIn(reason="客户取消"))
    elif action in ("receipt", "overpay"):
        await ledger.record_receipt(
            p["finance"], order_id, ReceiptIn(amount=money, overpayment=action == "overpay")
        )
    elif action == "refund":
        await ledger.record_receipt(p["finance"], order_id, ReceiptIn(category="refund", amount=money))
    elif action == "cost":
        await ledger.record_cost(p["planner"], order_id, CostIn(category="ground", amount=money))
    elif action in ("adjust_receipt", "adjust_cost"):
        data = {"category": "adjustment", "amount": money, "reason": "调整", "negative": n % 2 == 0}
        if action == "adjust_receipt":
            await ledger.record_receipt(p["finance"], order_id, ReceiptIn.model_validate(data))
        else:
            await ledger.record_cost(p["finance"], order_id, CostIn.model_validate(data))
    elif action == "advance":  # the workflow's natural next step, so sequences get past the enquiry
        state = snap["state"]
        if state == "following" and not snap["items"]:
            await order_items.add_item(
                p["planner"], order_id, ItemIn(kind="tour", departure_id=departure_id, adults=2)
            )
        elif state == "reviewed" and snap["received"] < snap["receivable"]:
            due = snap["receivable"] - snap["received"]
            await ledger.record_receipt(p["finance"], order_id, ReceiptIn(amount=due))
        elif state == "return_visit" and snap["received"] > snap["receivable"]:
            over = snap["received"] - snap["receivable"]
            await ledger.record_receipt(p["finance"], order_id, ReceiptIn(category="refund", amount=over))
        elif state == "return_visit" and snap["received"] == snap["receivable"]:
            await workflow.close(p["agent"], order_id, CloseIn(summary="回访满意"))
        else:
            nxt = {"enquiry": "assign", "following": "hand_over", "signing": "sign", "signed": "review",
                   "reviewed": "trip_over", "return_visit": "advance_pay"}.get(state)  # fmt: skip
            if nxt:
                await _act(people, system, order_id, departure_id, product_id, nxt, max(1, n), snap)
    elif action == "advance_pay":
        await ledger.record_receipt(
            p["finance"], order_id, ReceiptIn(amount=snap["receivable"] - snap["received"])
        )
    elif action == "wrong_role":
        step = {"sign": lambda: workflow.sign(p["agent"], order_id, SignIn()),
                "review": lambda: workflow.review(p["planner"], order_id),
                "assign": lambda: workflow.assign_planner(p["desk"], order_id, AssignIn(planner_id=1)),
                "close": lambda: workflow.close(p["finance"], order_id, CloseIn(summary="no"))}  # fmt: skip
        await step[str(n)]()


async def _scenario(url: str, actions: list[tuple[str, Any]]) -> None:
    system, people, order_id, departure_id, product_id = await _world(url)
    try:
        snap = await _snapshot(system, order_id)
        signed_items: list[Any] | None = None
        for action, n in actions:
            try:
                await _act(people, system, order_id, departure_id, product_id, action, n, snap)
                refused = False
            except HotlineError:
                refused = True
            after = await _snapshot(system, order_id)
            if refused or action == "wrong_role":
                assert after == snap, f"{action} was refused but changed {snap} → {after}"
            assert after["received"] == after["receipts"]
            assert after["cost"] == after["costs"]
            assert after["receivable"] == sum((i[2] for i in after["items"]), Decimal(0))
            alive = after["state"] != "void"
            assert after["seats"] == (
                sum(i[3] + i[4] for i in after["items"] if i[1] == "tour") if alive else 0
            )
            if after["signed"]:
                signed_items = signed_items or after["items"]
                assert after["items"] == signed_items
            if action == "close" and not refused:  # closed only when paid in full
                assert after["receivable"] == after["received"]
            snap = after
        event(f"ended {snap['state']}")
    finally:
        await system.bus.stop()
        await system.db.dispose()


@pytest.fixture(scope="module")
def template_file(_template: str) -> str:
    if PG_URL:
        pytest.skip("runs on its own SQLite copies of the migrated schema")
    return _template.split(":///", 1)[1]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    actions=st.lists(
        st.one_of(st.just(("advance", 1)), st.just(("advance", 1)), ACTIONS), min_size=8, max_size=50
    )
)
def test_no_sequence_of_steps_breaks_the_money_or_unlocks_signed_items(
    template_file: str, actions: list[tuple[str, Any]]
) -> None:
    folder = Path(tempfile.mkdtemp())
    try:
        shutil.copy(template_file, folder / "p.db")
        asyncio.run(_scenario(f"sqlite+aiosqlite:///{folder / 'p.db'}", actions))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
