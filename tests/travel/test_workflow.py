"""The travel order's whole pipeline through the API, each step by the demo user of its role:
agent1 takes the enquiry, the team lead assigns the planner, the planner follows up, prices and
hands over, the front desk signs, finance reviews and takes the money, the planner records the
costs, the return visit falls due on the 3rd day after the return, agent1 closes it."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import select, update

from hotline.core.context import Context
from hotline.core.durable import DomainEvent
from hotline.notify.models import Message, StaffNotice
from hotline.notify.rules import run_schedules
from hotline.travel import lookups, workflow
from hotline.travel.catalogue import SHANGHAI, today
from hotline.travel.models import Departure, Order
from tests.conftest import Users, assert_problem


async def departure_id(http: httpx.AsyncClient, code: str = "SY5", days_ahead: int = 10) -> dict[str, Any]:
    first = today() + timedelta(days=days_ahead)
    rows = (await http.get("/api/travel/departures", params={"first": str(first),
    "last": str(first + timedelta(days=30)),
                                                              "with_seats": "true"})).json()  # fmt: skip
    return next(d for d in rows if d["route_code"] == code)


async def user_id(seeded: Context, username: str) -> int:
    from hotline.admin.models import User

    async with seeded.read() as session:
        found = await session.scalar(select(User.id).where(User.username == username))
    assert found is not None
    return int(found)


async def enquiry(agent: httpx.AsyncClient, **more: Any) -> dict[str, Any]:
    body = {"kind": "domestic", "contact_name": "陈晨", "contact_phone": "13600001111",
            "wish": "春节带父母去三亚", "adults": 2, **more}  # fmt: skip
    response = await agent.post("/api/travel/orders", json=body)
    assert response.status_code == 201, response.text
    return response.json()["order"]  # type: ignore[no-any-return]


async def to_signing(
    seeded: Context, users: Users, *, adults: int = 2
) -> tuple[dict[str, Any], dict[str, Any]]:
    """An order handed to the front desk with a tour on it; (order, departure)."""
    agent, lead, planner = await users("agent1"), await users("teamlead"), await users("planner")
    order = await enquiry(agent, adults=adults)
    url = f"/api/travel/orders/{order['id']}"
    assert (
        await lead.post(f"{url}/assign-planner", json={"planner_id": await user_id(seeded, "planner")})
    ).is_success
    departure = await departure_id(planner)
    added = await planner.post(
        f"{url}/items", json={"kind": "tour", "departure_id": departure["id"], "adults": adults}
    )
    assert added.status_code == 201, added.text
    handed = await planner.post(f"{url}/hand-to-front-desk",
                                json={"front_desk_id": await user_id(seeded, "frontdesk")})  # fmt: skip
    assert handed.status_code == 200, handed.text
    return handed.json()["order"], departure


async def test_given_an_enquiry_each_role_carries_it_to_close_and_the_money_adds_up(
    seeded: Context, users: Users
) -> None:
    agent, lead, planner = await users("agent1"), await users("teamlead"), await users("planner")
    front, finance = await users("frontdesk"), await users("finance")

    order = await enquiry(agent)
    assert (order["state"], order["creator_name"]) == ("enquiry", "陈晓")
    url = f"/api/travel/orders/{order['id']}"
    queue = (await lead.get("/api/travel/orders/assignment-queue")).json()
    assert order["number"] in [o["number"] for o in queue]

    planner_id = await user_id(seeded, "planner")
    assigned = (await lead.post(f"{url}/assign-planner", json={"planner_id": planner_id})).json()
    assert (assigned["order"]["state"], assigned["order"]["assigner_name"],
    assigned["order"]["owner_name"]) == (
        "following", "李组长", "孙计调")  # fmt: skip

    next_call = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    followed = await planner.post(f"{url}/follow-ups", json={"note": "推荐三亚五日游，客人考虑中",
                                                            "next_contact_at": next_call})  # fmt: skip
    assert followed.status_code == 201
    await planner.post(f"{url}/follow-ups", json={"note": "客人确定出行"})
    departure = await departure_id(planner)
    insurance = (await planner.get("/api/travel/insurance")).json()[0]
    await planner.post(f"{url}/items", json={"kind": "tour", "departure_id": departure["id"], "adults": 2,
                                             "children": 1, "singles": 0})  # fmt: skip
    detail = (await planner.post(f"{url}/items", json={"kind": "insurance", "insurance_id": insurance["id"],
                                                       "persons": 3})).json()  # fmt: skip
    tour_price = Decimal(departure["adult_price"]) * 2 + Decimal(departure["child_price"])
    premium = Decimal(insurance["price_per_day"]) * 3 * 5
    assert Decimal(detail["order"]["receivable"]) == tour_price + premium
    assert len(detail["follow_ups"]) == 2

    handed = (await planner.post(f"{url}/hand-to-front-desk",
                                 json={"front_desk_id": await user_id(seeded,
                                 "frontdesk")})).json()  # fmt: skip
    assert (handed["order"]["state"], handed["order"]["assigner_name"], handed["order"]["owner_name"]) == (
        "signing", "孙计调", "郑前台")  # fmt: skip
    assert handed["order"]["creator_name"] == "陈晓"
    at_signing = (await front.get(url)).json()
    assert "sign" in at_signing["actions"] and at_signing["contract_ready"]

    contract = await front.get(f"{url}/contract.pdf")
    assert contract.headers["content-type"] == "application/pdf" and contract.content.startswith(b"%PDF")
    signed = (await front.post(f"{url}/sign", json={})).json()["order"]
    assert (signed["state"], signed["contract_no"]) == ("signed", f"HT{order['number']}")
    queue = (await finance.get("/api/travel/orders/finance-queue")).json()
    assert order["number"] in [o["number"] for o in queue["to_review"]]

    assert (await finance.post(f"{url}/review", json={"note": "核对无误"})).json()["order"][
        "state"
    ] == "reviewed"
    receivable = Decimal(signed["receivable"])
    await finance.post(f"{url}/receipts", json={"category": "deposit", "method": "card", "amount": "3000.00"})
    paid = (await finance.post(f"{url}/receipts", json={"category": "balance", "method": "transfer",
                                                       "amount": str(receivable - 3000)})).json()  # fmt: skip
    await planner.post(
        f"{url}/costs", json={"category": "ground", "supplier": "三亚椰风地接社", "amount": "4000"}
    )
    costed = (await finance.post(f"{url}/costs", json={"category": "hotel", "supplier": "亚龙湾酒店",
                                                      "amount": "2500.50"})).json()  # fmt: skip
    money = costed["order"]
    assert Decimal(money["received"]) == receivable == sum(Decimal(r["amount"]) for r in paid["ledger"])
    assert (Decimal(money["outstanding"]), Decimal(money["cost"])) == (0, Decimal("6500.50"))
    assert Decimal(money["profit"]) == receivable - Decimal("6500.50")

    # the trip happens: the return visit falls due on the 3rd day after the return, not before
    returns_on = datetime.fromisoformat(money["returns_on"]).date()
    assert await workflow.return_visits(seeded, now=datetime.combine(returns_on + timedelta(days=2), time(23),
                                                                    tzinfo=SHANGHAI)) == 0  # fmt: skip
    due = datetime.combine(returns_on + timedelta(days=3), time(8), tzinfo=SHANGHAI)
    assert await workflow.return_visits(seeded, now=due) == 1
    assert await workflow.return_visits(seeded, now=due + timedelta(hours=1)) == 0  # once
    visit = (await agent.get(url)).json()
    assert (visit["order"]["state"], visit["order"]["return_due_on"]) == (
        "return_visit", str(returns_on + timedelta(days=3)))  # fmt: skip
    tasks = (await agent.get("/api/routing/callbacks")).json()
    assert ("return_visit", f"order:{order['number']}") in {(t["reason"], t["call_id"]) for t in tasks}

    closed = (await agent.post(f"{url}/close", json={"summary": "客人很满意，导游专业，下次还报名"})).json()
    assert (closed["order"]["state"], closed["order"]["summary"]) == (
        "closed",
        "客人很满意，导游专业，下次还报名",
    )
    assert f"order:{order['number']}" not in {
        t["call_id"] for t in (await agent.get("/api/routing/callbacks")).json()
    }
    steps = [h["action"] for h in closed["history"]]
    assert steps[0] == "create" and steps[-1] == "close"
    assert {"assign_planner", "follow_up", "add_item", "hand_to_front_desk", "sign", "review", "receipt",
    "cost",
            "return_visit_due"} <= set(steps)  # fmt: skip
    assert [(a["stage"], a["assigner_name"], a["owner_name"]) for a in closed["assignments"]] == [
        ("planner", "李组长", "孙计调"), ("front_desk", "孙计调", "郑前台")]  # fmt: skip

    # after close only finance adjustments, with their reason
    refused = await finance.post(f"{url}/receipts", json={"category": "balance", "amount": "10"})
    assert_problem(refused, 409, "order-closed")
    no_reason = await finance.post(f"{url}/costs", json={"category": "adjustment", "amount": "10"})
    assert_problem(no_reason, 422, "invalid-input", "body.reason")
    adjusted = await finance.post(f"{url}/costs", json={"category": "adjustment", "amount": "120",
                                                        "reason": "地接补收司机加班费"})  # fmt: skip
    assert Decimal(adjusted.json()["order"]["cost"]) == Decimal("6620.50")

    # who did what: notices reached the next owner at each step, the customer was texted
    async with seeded.read() as session:
        link = StaffNotice.link == f"/travel/orders/{order['id']}"
        told = (await session.execute(select(StaffNotice.user_id, StaffNotice.title).where(link))).all()
    titles = {title.split(" · ")[0] for _, title in told}
    assert {
        "新订单待分配",
        "新分配的订单，请跟单",
        "客人待签约",
        "已签约，待财务审核",
        "回访任务：客人已返回",
    } <= titles


async def test_customer_texts_go_out_by_template_on_each_step_and_on_the_day_before_departure(
    seeded: Context, users: Users, app: object
) -> None:
    order, departure = await to_signing(seeded, users)
    planner_desk = (await (await users("planner")).get("/api/travel/planners")).json()[0]
    async with seeded.read() as session:
        events = (await session.scalars(select(DomainEvent).where(DomainEvent.name == "travel.order"))).all()
    about = [e.data for e in events if e.data["ref"] == f"order:{order['number']}"]
    assert [e["occasion"] for e in about] == ["received", "assigned"]
    assert about[1]["planner"] == "孙计调" and about[1]["planner_phone"] == planner_desk["phone"]

    front, finance = await users("frontdesk"), await users("finance")
    url = f"/api/travel/orders/{order['id']}"
    await front.post(f"{url}/sign", json={})
    await finance.post(f"{url}/review", json={})
    eve = datetime.combine(datetime.fromisoformat(departure["departs_on"]).date() - timedelta(days=1),
    time(17, 5),
                           tzinfo=SHANGHAI)  # fmt: skip
    assert await run_schedules(seeded, now=eve) >= 1
    async with seeded.read() as session:
        texts = (
            await session.scalars(select(Message.body).where(Message.ref == f"order:{order['number']}"))
        ).all()
    assert any("提醒您明天" in text and "孙计调" in text for text in texts)


async def test_bad_input_is_refused_with_the_rule_and_nothing_changes(seeded: Context, users: Users) -> None:
    agent, planner, front, finance = [await users(u) for u in ("agent1", "planner", "frontdesk", "finance")]
    order, departure = await to_signing(seeded, users)
    url = f"/api/travel/orders/{order['id']}"

    # a transition by the wrong role
    by_agent = await agent.post(f"{url}/sign", json={})
    assert_problem(by_agent, 403, "permission-denied")
    early = await finance.post(f"{url}/review", json={})
    assert_problem(early, 409, "invalid-transition")
    wrong = await planner.post(f"{url}/close", json={"summary": "回访完毕"})
    assert_problem(wrong, 403, "wrong-role")
    assert "计调" not in wrong.json()["detail"] and "坐席" in wrong.json()["detail"]

    await front.post(f"{url}/sign", json={})
    # adding items after signing
    locked = await planner.post(
        f"{url}/items", json={"kind": "tour", "departure_id": departure["id"], "adults": 1}
    )
    body = assert_problem(locked, 409, "items-locked")
    assert body["rule"] == "items-locked"
    detail = (await planner.get(url)).json()
    assert len(detail["items"]) == 1 and detail["items_editable"] is False
    removed = await planner.delete(f"{url}/items/{detail['items'][0]['id']}")
    assert_problem(removed, 409, "items-locked")

    # receipts above the receivable without the overpayment flag
    await finance.post(f"{url}/review", json={})
    receivable = Decimal(detail["order"]["receivable"])
    over = await finance.post(f"{url}/receipts", json={"amount": str(receivable + 1)})
    assert_problem(over, 422, "overpayment", "body.amount")
    assert Decimal((await finance.get(url)).json()["order"]["received"]) == 0
    flagged = await finance.post(f"{url}/receipts", json={"amount": str(receivable + 1), "overpayment": True})
    assert Decimal(flagged.json()["order"]["outstanding"]) == -1

    # voiding a paid order without refund handling
    unpaid = await planner.post(f"{url}/void", json={"reason": "客户取消"})
    assert_problem(unpaid, 409, "refund-required")
    assert (await planner.get(url)).json()["order"]["state"] == "reviewed"
    too_much = await finance.post(
        f"{url}/receipts", json={"category": "refund", "amount": str(receivable + 2)}
    )
    assert_problem(too_much, 422, "invalid-input", "body.amount")
    await finance.post(f"{url}/receipts", json={"category": "refund", "amount": str(receivable + 1)})
    async with seeded.read() as session:
        seats_before = await session.scalar(
            select(Departure.seats_taken).where(Departure.id == departure["id"])
        )
    voided = await planner.post(f"{url}/void", json={"reason": "客户取消，已全额退款"})
    assert voided.json()["order"]["state"] == "void"
    async with seeded.read() as session:
        seats_after = await session.scalar(
            select(Departure.seats_taken).where(Departure.id == departure["id"])
        )
    assert seats_before - seats_after == 2  # the seats went back on sale


async def test_a_planner_acts_on_own_orders_and_walk_ins_go_to_planners(
    seeded: Context, users: Users
) -> None:
    front, planner, lead = await users("frontdesk"), await users("planner"), await users("teamlead")
    phone = await enquiry(await users("agent2"))
    refused = await planner.post(f"/api/travel/orders/{phone['id']}/assign-planner",
                                 json={"planner_id": await user_id(seeded, "planner")})  # fmt: skip
    assert_problem(refused, 403, "wrong-role")
    not_planner = await lead.post(f"/api/travel/orders/{phone['id']}/assign-planner",
                                  json={"planner_id": await user_id(seeded, "agent1")})  # fmt: skip
    assert_problem(not_planner, 422, "invalid-input", "body.planner_id")

    walk_in = await enquiry(front, source="walk_in", contact_name="刘女士")
    url = f"/api/travel/orders/{walk_in['id']}"
    asked = await front.post(f"{url}/request-planner")
    assert asked.status_code == 200
    taken = await planner.post(f"{url}/assign-planner", json={"planner_id": await user_id(seeded, "planner")})
    assert taken.json()["order"]["state"] == "following"
    assert taken.json()["order"]["creator_name"] == "郑前台"


async def test_the_board_filters_mine_and_the_reports_add_up(seeded: Context, users: Users) -> None:
    order, _ = await to_signing(seeded, users)
    agent, lead = await users("agent1"), await users("teamlead")
    mine = (await agent.get("/api/travel/orders", params={"scope": "mine"})).json()
    assert order["number"] in [o["number"] for o in mine["items"]]
    others = (await (await users("agent2")).get("/api/travel/orders", params={"scope": "mine"})).json()
    assert order["number"] not in [o["number"] for o in others["items"]]
    team = (await lead.get("/api/travel/orders", params={"scope": "team"})).json()
    assert order["number"] in [o["number"] for o in team["items"]] and team["counts"]["signing"] >= 1

    await (await users("frontdesk")).post(f"/api/travel/orders/{order['id']}/sign", json={})
    first, last = str(today() - timedelta(days=400)), str(today() + timedelta(days=1))
    report = (await lead.get("/api/travel/reports/money", params={"first": first, "last": last})).json()
    total = report["total"]
    for key in ("receivable", "received", "cost", "profit", "outstanding"):
        assert Decimal(total[key]) == sum(Decimal(r[key]) for r in report["rows"])
    async with seeded.read() as session:
        signed = (await session.scalars(select(Order).where(Order.signed_at.is_not(None)))).all()
    assert Decimal(total["receivable"]) == sum(o.receivable for o in signed if o.state != "void")

    figures = (
        await lead.get("/api/travel/reports/performance", params={"first": first, "last": last})
    ).json()
    people = {p["name"]: p for p in figures["people"]}
    assert people["陈晓"]["created"] >= 1 and people["李组长"]["assigned"] >= 1
    assert people["孙计调"]["assigned"] >= 1 and people["郑前台"]["owned"] >= 1
    assert figures["signed"] <= figures["enquiries"] and figures["conversion"] is not None
    assert "enquiry" in figures["hours_in_step"]


async def test_an_order_names_its_tour_by_route_and_day_for_the_screen_to_word(
    seeded: Context, users: Users
) -> None:
    """The board gets the route's name and the departure day, not a title composed in Chinese
    ("三亚双飞五日游 12月08日出发"), so an English screen can say "departs 8 Dec"; the contract line
    keeps its Chinese words."""
    order, departure = await to_signing(seeded, users)
    lead = await users("teamlead")
    board = (await lead.get("/api/travel/orders", params={"scope": "all", "q": order["number"]})).json()
    shown = next(o for o in board["items"] if o["number"] == order["number"])
    detail = (await lead.get(f"/api/travel/orders/{order['id']}")).json()
    for got in (shown, order, detail["order"]):
        assert (got["route"], got["route_departs_on"]) == (departure["route_name"], departure["departs_on"])
    day = date.fromisoformat(departure["departs_on"])
    assert [i["title"] for i in detail["items"]] == [f"{departure['route_name']} {day:%m月%d日}出发"]

    bare = await enquiry(await users("agent1"), children=1, departs_on=str(today() + timedelta(days=40)))
    assert (bare["route"], bare["route_departs_on"], bare["wish"]) == ("", None, "春节带父母去三亚")
    assert (bare["adults"], bare["children"]) == (2, 1)


async def test_the_ivr_finds_the_members_latest_order(seeded: Context) -> None:
    found = await lookups.latest_for_member(seeded, "88000001")
    assert found is not None and found["status"] == "财务已审核" and "三亚" in found["route"]
    assert found["about"] == "route:SY5"  # counted for its route in the IVR report
    assert await lookups.latest_for_member(seeded, "00000000") is None


async def test_the_ivr_reads_a_route_from_the_catalogue(seeded: Context) -> None:
    """`travel.route` (the travel line's 1): the route's name, days, adult price from and its next
    departure with seats, named for the IVR report; nothing for a code not on sale."""
    found = await lookups.route_for_ivr(seeded, {"route_code": "YN6"})
    assert found is not None
    assert (found["about"], found["name"], found["days"], found["price"]) == (
        "route:YN6",
        "云南昆明大理丽江六日游",
        "6",
        Decimal("4280.00"),
    )
    assert found["departs_on"].endswith("日")  # the demo schedules departures every week
    assert await lookups.route_for_ivr(seeded, {"route_code": "NOPE"}) is None
    assert await lookups.route_for_ivr(seeded, {}) is None


async def test_documents_embed_a_chinese_font(seeded: Context, users: Users) -> None:
    order, _ = await to_signing(seeded, users)
    pdf = (await (await users("agent1")).get(f"/api/travel/orders/{order['id']}/itinerary.pdf")).content
    assert pdf.startswith(b"%PDF") and b"FontFile2" in pdf  # a TrueType font program inside the file
    enquiry_only = await enquiry(await users("agent1"))
    refused = await (await users("agent1")).get(f"/api/travel/orders/{enquiry_only['id']}/contract.pdf")
    assert_problem(refused, 409, "invalid-transition")
    assert not (await (await users("agent1")).get(f"/api/travel/orders/{enquiry_only['id']}")).json()[
        "contract_ready"
    ]


async def test_an_old_unpaid_order_cannot_close(seeded: Context, users: Users) -> None:
    order, _ = await to_signing(seeded, users)
    url = f"/api/travel/orders/{order['id']}"
    await (await users("frontdesk")).post(f"{url}/sign", json={})
    await (await users("finance")).post(f"{url}/review", json={})
    async with seeded.write() as tx:  # the trip is over
        await tx.session.execute(update(Order).where(Order.id == order["id"])
                                 .values(returns_on=today() - timedelta(days=5)))  # fmt: skip
    assert await workflow.return_visits(seeded) == 1
    unpaid = await (await users("agent1")).post(f"{url}/close", json={"summary": "回访完毕"})
    assert_problem(unpaid, 409, "balance-outstanding")
