"""Hotel reservations: availability with alternatives, booking at the member's price with the
confirmation text of H6, refusals at their field that change nothing, never overbooking under
concurrent bookings (SQLite and PostgreSQL), the change/cancel policy at its boundaries, and the
lifecycle's rules."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.hotels import booking as bookings
from hotline.hotels import inventory, pricing
from hotline.hotels.models import Hotel, Inventory, RatePlan, Reservation, RoomType
from hotline.hotels.schemas import BookingIn
from tests.conftest import Users, assert_problem


async def ids(ctx: Context, hotel: str = "SH-BUND", room: str = "K", plan: str = "MEMBER") -> dict[str, int]:
    async with ctx.read() as session:
        hotel_id = await session.scalar(select(Hotel.id).where(Hotel.code == hotel))
        room_id = await session.scalar(
            select(RoomType.id).where(RoomType.hotel_id == hotel_id, RoomType.code == room)
        )
        plan_id = await session.scalar(
            select(RatePlan.id).where(RatePlan.hotel_id == hotel_id, RatePlan.code == plan)
        )
    assert hotel_id and room_id and plan_id
    return {"hotel_id": hotel_id, "room_type_id": room_id, "rate_plan_id": plan_id}


async def sold(ctx: Context, room_type_id: int) -> int:
    async with ctx.read() as session:
        return int(
            await session.scalar(
                select(func.sum(Inventory.sold)).where(Inventory.room_type_id == room_type_id)
            )
            or 0
        )


def hotel_today() -> date:
    """Today where the demo hotels are (Asia/Shanghai): bookings are checked against it."""
    return utcnow().astimezone(ZoneInfo("Asia/Shanghai")).date()


def stay(days_ahead: int = 3, nights: int = 2) -> dict[str, str]:
    arrival = hotel_today() + timedelta(days=days_ahead)
    return {"arrival": arrival.isoformat(), "departure": (arrival + timedelta(days=nights)).isoformat()}


async def test_seed_000s_booking_call_the_member_price_and_the_confirmation(
    seeded: Context, users: Users
) -> None:
    agent = await users("agent1")
    zhang = (await agent.get("/api/customers", params={"q": "88000001"})).json()[0]
    dates = stay()
    found = (
        await agent.get(
            "/api/hotels/availability", params={"city": "上海", "guests": 2, "tier": "gold", **dates}
        )
    ).json()
    bund = [
        o for o in found["offers"] if o["hotel"] == "英冠酒店上海外滩店" and o["room_type"] == "高级大床房"
    ]
    member = next(o for o in bund if o["rate_plan"] == "会员价")
    rack = next(o for o in bund if o["rate_plan"] == "门市价")
    assert member["rooms_left"] == 10 and len(member["nightly"]) == 2
    assert Decimal(member["total"]) == (Decimal(rack["total"]) * Decimal("0.9")).quantize(
        Decimal("0.01")
    )  # gold
    booking = {
        **await ids(seeded), **dates, "customer_id": zhang["id"], "guest_name": "张伟",
        "guest_phone": "13800138000", "rooms": 1, "guests": 2, "expected_arrival": "20:00",
        "hold_until": "21:00", "special_requests": "高楼层",
    }  # fmt: skip
    made = await agent.post("/api/reservations", json=booking)
    assert made.status_code == 201, made.text
    reservation = made.json()
    assert reservation["number"] == "60000002" and reservation["status"] == "confirmed"
    assert Decimal(reservation["total"]) == Decimal(member["total"])
    detail = (await agent.get(f"/api/reservations/{reservation['id']}")).json()
    text = detail["confirmations"][0]["text"]
    expected = ("英冠酒店上海外滩店", "中山东一路 18 号", "021-63210000", "共2晚", f"¥{reservation['total']}",
                "房间保留至", "21:00", "入住前24小时以上取消退还100%", "60000002")  # fmt: skip
    for part in expected:
        assert part in text, (part, text)
    assert [c["after"] for c in detail["changes"]] == ["confirmed"]
    again = (
        await agent.get("/api/hotels/availability", params={"hotel_id": booking["hotel_id"], **dates})
    ).json()
    assert next(o for o in again["offers"] if o["room_type"] == "高级大床房")["rooms_left"] == 9


async def test_bad_bookings_are_refused_at_their_field_and_change_nothing(
    seeded: Context, users: Users
) -> None:
    agent = await users("agent1")
    base = {
        **await ids(seeded),
        **stay(),
        "guest_name": "李雷",
        "guest_phone": "13912345678",
        "rooms": 1,
        "guests": 2,
    }
    other_hotel = await ids(seeded, hotel="BJ-GM")
    today = hotel_today()
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"arrival": base["departure"], "departure": base["arrival"]}, 422, "body.departure"),
        ({"arrival": (today - timedelta(days=2)).isoformat(), "departure": str(today)}, 422, "body.arrival"),
        ({"rooms": 0}, 422, "body.rooms"),
        ({"guests": 3}, 422, "body.guests"),  # a 大床房 sleeps two
        ({"rate_plan_id": other_hotel["rate_plan_id"]}, 422, "body.rate_plan_id"),
        ({"room_type_id": other_hotel["room_type_id"]}, 422, "body.room_type_id"),
        ({"guest_phone": "call me"}, 422, "body.guest_phone"),
        ({"arrival": (today + timedelta(days=1)).isoformat(),
          "departure": (today + timedelta(days=40)).isoformat()}, 422, "body.departure"),
    ]  # fmt: skip
    for change, status, field in cases:
        refused = await agent.post("/api/reservations", json={**base, **change})
        assert refused.status_code == status, (change, refused.text)
        assert field in [e["field"] for e in refused.json()["errors"]], (change, refused.json())
    assert await sold(seeded, base["room_type_id"]) == 0
    async with seeded.read() as session:
        assert await session.scalar(select(func.count(Reservation.id))) == 1  # the demo customer's stay only


async def test_concurrent_bookings_of_the_last_rooms_succeed_exactly_as_often_as_there_are_rooms(
    seeded: Context,
) -> None:
    """20 agents book the suite (3 rooms) for the same nights at once: 3 succeed, 17 are told it
    is sold out, with the other branches in the city that still have suites."""
    suite = await ids(seeded, room="S", plan="RACK")
    dates = stay(5, 3)

    async def attempt(n: int) -> str:
        booking = {
            **suite,
            **dates,
            "guest_name": f"客人{n}",
            "guest_phone": "13900000000",
            "rooms": 1,
            "guests": 2,
        }
        try:
            await bookings.book(seeded, BookingIn.model_validate(booking))
        except inventory.RoomsSoldOut as sold_out:
            offered.append(len(sold_out.extra["alternatives"]))
            return "sold-out"
        return "booked"

    offered: list[int] = []
    outcomes = await asyncio.gather(*(attempt(n) for n in range(20)))
    assert outcomes.count("booked") == 3 and outcomes.count("sold-out") == 17
    assert min(offered) > 0  # every loser was offered something else
    async with seeded.read() as session:
        taken = select(Inventory).where(Inventory.room_type_id == suite["room_type_id"], Inventory.sold > 0)
        nights = (await session.scalars(taken)).all()
    assert [(n.sold, n.total) for n in nights] == [(3, 3)] * 3


def test_the_refund_follows_the_policy_at_the_edges_of_each_window() -> None:
    policy = [{"hours": 72, "refund": 100}, {"hours": 24, "refund": 50}, {"hours": 0, "refund": 0}]
    assert pricing.refund_percent(policy, 72.0) == 100
    assert pricing.refund_percent(policy, 71.99) == 50
    assert pricing.refund_percent(policy, 24.0) == 50
    assert pricing.refund_percent(policy, 23.99) == 0
    assert pricing.refund_percent(policy, -5) == 0  # after the arrival time


async def test_cancelling_shows_the_fee_first_applies_the_policy_and_frees_the_rooms(
    seeded: Context, users: Users
) -> None:
    agent = await users("agent1")
    prepaid = await ids(seeded, plan="PREPAY")
    booking = {**prepaid, **stay(2, 1), "guest_name": "王芳", "guest_phone": "13500000001", "rooms": 2,
               "guests": 2, "deposit": "1000.00"}  # fmt: skip
    reservation = (await agent.post("/api/reservations", json=booking)).json()
    assert reservation["hold_until"].startswith(stay(3, 1)["arrival"])  # guaranteed: held all night
    assert await sold(seeded, prepaid["room_type_id"]) == 2
    quote = (await agent.get(f"/api/reservations/{reservation['id']}/cancel-quote")).json()
    assert quote["refund_percent"] == 50 and 24 <= quote["hours_before_arrival"] < 72  # within 2 days
    assert (Decimal(quote["fee"]), Decimal(quote["refund"])) == (Decimal(500), Decimal(500))
    url = f"/api/reservations/{reservation['id']}/transition"
    early = await agent.post(url, json={"action": "check_in"})
    assert_problem(early, 409, "invalid-transition")
    cancelled = (await agent.post(url, json={"action": "cancel"})).json()
    assert (cancelled["status"], Decimal(cancelled["cancel_fee"]), Decimal(cancelled["refund"])) == (
        "cancelled", Decimal(500), Decimal(500),
    )  # fmt: skip
    assert await sold(seeded, prepaid["room_type_id"]) == 0
    assert_problem(await agent.post(url, json={"action": "cancel"}), 409, "invalid-transition")
    detail = (await agent.get(f"/api/reservations/{reservation['id']}")).json()
    assert [c["kind"] for c in detail["confirmations"]] == ["confirmed", "cancelled"]
    assert "取消费¥500" in detail["confirmations"][1]["text"]
    no_show = await agent.post(url, json={"action": "no_show"})
    assert_problem(no_show, 409, "invalid-transition")


async def test_a_stay_is_on_the_customers_timeline_and_checking_out_earns_points(
    seeded: Context, users: Users
) -> None:
    frontdesk = await users("frontdesk")
    zhang = (await frontdesk.get("/api/customers", params={"q": "88000001"})).json()[0]
    before = (await frontdesk.get(f"/api/customers/{zhang['id']}/loyalty")).json()["points"]
    booking = {**await ids(seeded), **stay(0, 1), "customer_id": zhang["id"], "guest_name": "张伟",
               "guest_phone": "13800138000", "rooms": 1, "guests": 1}  # fmt: skip
    reservation = (await frontdesk.post("/api/reservations", json=booking)).json()
    url = f"/api/reservations/{reservation['id']}/transition"
    assert (await frontdesk.post(url, json={"action": "check_in"})).json()["status"] == "checked_in"
    assert (await frontdesk.post(url, json={"action": "check_out"})).json()["status"] == "checked_out"
    after = (await frontdesk.get(f"/api/customers/{zhang['id']}/loyalty")).json()
    assert after["points"] - before == int(Decimal(reservation["total"]) * Decimal("1.5"))  # gold earns ×1.5
    titles = [
        e["title"] for e in (await frontdesk.get(f"/api/customers/{zhang['id']}/timeline")).json()["items"]
    ]
    assert [t.split(" ")[0] for t in titles[:4]] == ["积分", "离店", "入住", "预订"]
    assert titles[0].startswith(f"积分 +{after['points'] - before:,}")  # the ledger's line, as it says


async def test_a_change_that_no_longer_fits_changes_nothing_and_one_that_fits_moves_the_rooms(
    seeded: Context, users: Users
) -> None:
    agent = await users("agent1")
    suite = await ids(seeded, room="S", plan="RACK")
    king = await ids(seeded, room="K", plan="RACK")
    first = {**suite, **stay(6, 2), "guest_name": "甲", "guest_phone": "13900000001", "rooms": 2, "guests": 2}
    mine = (await agent.post("/api/reservations", json=first)).json()
    other = {
        **suite,
        **stay(10, 1),
        "guest_name": "乙",
        "guest_phone": "13900000002",
        "rooms": 3,
        "guests": 2,
    }
    assert (await agent.post("/api/reservations", json=other)).status_code == 201  # day 10: all 3 suites gone
    url = f"/api/reservations/{mine['id']}"
    moved = await agent.patch(url, json=stay(9, 2))  # nights 9 and 10: no suite on the 10th
    assert_problem(moved, 409, "rooms-sold-out", "body.room_type_id")
    assert (await agent.get(url)).json()["reservation"]["arrival"] == mine["arrival"]
    assert await sold(seeded, suite["room_type_id"]) == 2 * 2 + 3  # nothing moved
    too_many = await agent.patch(url, json={"guests": 7})
    assert_problem(too_many, 422, "invalid-input", "body.guests")
    changed = (await agent.patch(url, json={"room_type_id": king["room_type_id"], "rooms": 1})).json()
    assert (changed["room_type_id"], changed["rooms"]) == (king["room_type_id"], 1)
    assert await sold(seeded, suite["room_type_id"]) == 3 and await sold(seeded, king["room_type_id"]) == 2
    detail = (await agent.get(url)).json()
    assert [c["kind"] for c in detail["confirmations"]] == ["confirmed", "modified"]
    assert "高级大床房1间" in detail["confirmations"][1]["text"]


async def test_payments_are_a_ledger_with_receipts_and_a_cancellation_refunds_by_the_policy(
    seeded: Context, users: Users
) -> None:
    agent = await users("agent1")
    frontdesk = await users("frontdesk")
    prepaid = await ids(seeded, plan="PREPAY")
    paying = {"deposit": "300.00", "deposit_method": "online", "deposit_reference": "WX123"}
    booking = {**prepaid, **stay(20, 2), "guest_name": "王芳", "guest_phone": "13500000001", "rooms": 1,
               "guests": 2, **paying}  # fmt: skip
    reservation = (await agent.post("/api/reservations", json=booking)).json()
    url = f"/api/reservations/{reservation['id']}/payments"
    ledger = (await agent.get(url)).json()
    assert (Decimal(ledger["paid"]), ledger["lines"][0]["receipt"]) == (
        Decimal(300),
        f"R{reservation['number']}-1",
    )
    assert "收到定金 ¥300.00（在线支付，参考号WX123）" in ledger["lines"][0]["receipt_text"]
    assert (
        await agent.post(url, json={"kind": "prepayment", "method": "card", "amount": "100"})
    ).status_code == 403
    too_much = await frontdesk.post(url, json={"kind": "balance", "method": "card", "amount": "99999"})
    assert_problem(too_much, 422, "invalid-input", "body.amount")
    rest = Decimal(reservation["total"]) - 300
    paid_up = (
        await frontdesk.post(url, json={"kind": "balance", "method": "cash", "amount": str(rest)})
    ).json()
    assert (Decimal(paid_up["paid"]), Decimal(paid_up["balance"])) == (
        Decimal(reservation["total"]),
        Decimal(0),
    )
    # 20 days ahead: the prepaid policy refunds 100 %, paid back as a ledger line
    cancelled = await agent.post(
        f"/api/reservations/{reservation['id']}/transition", json={"action": "cancel"}
    )
    assert Decimal(cancelled.json()["refund"]) == Decimal(reservation["total"])
    after = (await agent.get(url)).json()
    assert [line["kind"] for line in after["lines"]] == ["deposit", "balance", "refund"]
    assert Decimal(after["paid"]) == 0 and after["lines"][2]["method"] == "online"


async def test_statistics_count_bookings_by_day_source_and_hotel_with_the_cancellation_rate(
    seeded: Context, users: Users
) -> None:
    agent = await users("agent1")
    base = {**await ids(seeded), **stay(4, 1), "guest_name": "统计", "guest_phone": "13900000009", "rooms": 1,
            "guests": 1}  # fmt: skip
    demo = (await agent.get("/api/reservations/statistics", params={"days": 7})).json()
    assert demo["bookings"] == 1  # the demo customer's stay, booked by phone
    made = [
        (await agent.post("/api/reservations", json={**base, "source": s})).json()
        for s in ("phone", "phone", "web")
    ]
    await agent.post(f"/api/reservations/{made[2]['id']}/transition", json={"action": "cancel"})
    stats = (await agent.get("/api/reservations/statistics", params={"days": 7})).json()
    assert (stats["bookings"], stats["cancelled"], stats["cancellation_rate"]) == (4, 1, 0.25)
    assert stats["by_source"] == {"phone": 3, "web": 1}
    assert stats["by_hotel"] == {"英冠酒店上海外滩店": 3, "英冠酒店杭州西湖店": 1}
    assert sum(d["bookings"] for d in stats["by_day"]) == 4
    assert Decimal(stats["revenue"]) == Decimal(demo["revenue"]) + Decimal(made[0]["total"]) + Decimal(
        made[1]["total"]
    )


async def test_the_ivr_order_enquiry_reads_the_members_coming_stay(seeded: Context) -> None:
    """Seed 000's 查询订单 on the hotel line: the flow's lookup finds 张伟's coming stay (hotel,
    arrival, status as said) when he calls from his number; an unknown member number, no number,
    or a caller not verified for the member (seed 004) finds nothing."""
    from hotline.contact.ivr.lookups import domain_lookups

    lookups = domain_lookups(seeded)
    his = {"member_number": "88000001", "caller": "13800138000"}
    found = await lookups["orders.latest_for_member"](his)
    assert found is not None
    assert (found["hotel"], found["number"], found["status"]) == ("英冠酒店杭州西湖店", "60000001", "已确认")
    assert found["about"] == "hotel:HZ-XH"  # the IVR report counts the enquiry for the hotel
    assert await lookups["orders.latest_for_member"]({**his, "member_number": "88"}) is None
    assert await lookups["orders.latest_for_member"]({"caller": "13800138000"}) is None
    assert await lookups["orders.latest_for_member"]({**his, "caller": "13911112222"}) is None
    trip = await lookups["travel.latest_order"](his)
    assert trip is not None and trip["kind"] == "travel"
    assert str(trip.get("about", "")).startswith("route:")
    assert await lookups["travel.latest_order"]({"member_number": "88000001"}) is None
