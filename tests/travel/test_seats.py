"""Seats on a departure never oversell, the same guarantee as hotel rooms: orders racing for the
last seats get them once each, the rest a clear `seats-sold-out`, and nothing half-written."""

from __future__ import annotations

import asyncio
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from hotline.core.context import Context
from hotline.core.errors import HotlineError
from hotline.travel import catalogue, queries, workflow
from hotline.travel import items as order_items
from hotline.travel.catalogue import SHANGHAI, today
from hotline.travel.demo import _actor
from hotline.travel.models import Departure, OrderItem
from hotline.travel.schemas import DepartureChange, DepartureIn, ItemIn, OrderIn
from tests.conftest import Users, assert_problem


async def test_orders_racing_for_the_last_seats_get_them_once(seeded: Context) -> None:
    agent = await _actor(seeded, "agent1")
    route = next(r for r in await catalogue.routes(seeded) if r.code == "GL4")
    departure = (await catalogue.add_departures(seeded, route.id, DepartureIn(
        departs_on=today() + timedelta(days=300), capacity=3)))[0]  # fmt: skip
    orders = [
        (await workflow.create(agent, OrderIn(kind="domestic", contact_name=f"客人{n}",
        contact_phone="13600000000"))).order
        for n in range(8)
    ]  # fmt: skip

    async def book(order_id: int) -> str:
        try:
            await order_items.add_item(
                agent, order_id, ItemIn(kind="tour", departure_id=departure.id, adults=1)
            )
        except HotlineError as error:
            return error.code
        return "booked"

    outcomes = await asyncio.gather(*(book(o.id) for o in orders))
    assert sorted(outcomes) == ["booked"] * 3 + ["seats-sold-out"] * 5
    async with seeded.read() as session:
        row = await session.get(Departure, departure.id)
        items = await session.scalar(
            select(func.count(OrderItem.id)).where(OrderItem.departure_id == departure.id)
        )
    assert row is not None and (row.seats_taken, items) == (3, 3)

    with pytest.raises(HotlineError) as refused:
        await catalogue.change_departure(seeded, departure.id, DepartureChange(capacity=2))
    assert refused.value.extra["rule"] == "capacity-below-sold"


async def test_given_a_full_departure_when_adding_it_through_the_api_then_409_naming_the_field(
    seeded: Context, users: Users
) -> None:
    planner = await users("planner")
    route = next(r for r in await catalogue.routes(seeded) if r.code == "HS3")
    created = await planner.post(f"/api/travel/routes/{route.id}/departures",
                                 json={"departs_on": str(today() + timedelta(days=250)),
                                 "capacity": 2})  # fmt: skip
    departure = created.json()[0]
    body = {"kind": "domestic", "contact_name": "王先生", "contact_phone": "13700000000"}
    order = (await planner.post("/api/travel/orders", json=body)).json()["order"]
    full = await planner.post(f"/api/travel/orders/{order['id']}/items",
                              json={"kind": "tour", "departure_id": departure["id"],
                              "adults": 3})  # fmt: skip
    assert_problem(full, 409, "seats-sold-out", "body.departure_id")
    detail = (await planner.get(f"/api/travel/orders/{order['id']}")).json()
    assert detail["items"] == [] and Decimal(detail["order"]["receivable"]) == 0


async def test_given_a_clock_the_return_visit_task_is_made_on_the_third_day_after_the_return(
    seeded: Context, users: Users
) -> None:
    """张伟's demo order is reviewed; its return visit waits for the 3rd day after the return."""
    order = (await queries.board(seeded, q="张伟")).items[0]
    assert order.state == "reviewed" and order.returns_on is not None

    def at(days: int, hour: int) -> datetime:
        assert order.returns_on is not None
        return datetime.combine(order.returns_on + timedelta(days=days), time(hour), tzinfo=SHANGHAI)

    assert await workflow.return_visits(seeded, now=at(0, 20)) == 0
    assert await workflow.return_visits(seeded, now=at(2, 23)) == 0
    assert await workflow.return_visits(seeded, now=at(3, 0)) == 1
    assert await workflow.return_visits(seeded, now=at(4, 9)) == 0
    detail = await queries.detail(seeded, order.id)
    assert detail.order.state == "return_visit" and detail.history[-1].action == "return_visit_due"
    tasks = (await (await users("agent3")).get("/api/routing/callbacks")).json()
    assert {(t["reason"], t["call_id"]) for t in tasks} >= {("return_visit", f"order:{order.number}")}
    inbox = (await (await users("agent3")).get("/api/notify/inbox")).json()
    assert any(n["title"].startswith("回访任务") for n in inbox["items"])
