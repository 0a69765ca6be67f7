"""The booking desk (issue 19): offers grouped by hotel then room type with each hotel's address,
stars and policies once; 本人入住 takes the guest's phone from the booker's file without the agent
seeing it; a room released before the guest's expected arrival is a warning; past dates refused;
the confirmation sent again by SMS or e-mail through the live templates."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from hotline.core.context import Context
from hotline.hotels.models import Reservation
from hotline.notify.models import Message
from tests.conftest import Users, assert_problem
from tests.hotels.test_reservations import hotel_today, ids, stay


async def test_shanghai_offers_come_grouped_by_hotel_then_room_type_with_policies_once(
    seeded: Context, users: Users
) -> None:
    agent = await users("agent1")
    found = (
        await agent.get(
            "/api/hotels/availability", params={"city": "上海", "guests": 2, "tier": "gold", **stay()}
        )
    ).json()
    hotels = found["hotels"]
    assert [h["hotel"] for h in hotels] == sorted(
        {o["hotel"] for o in found["offers"]}, key=[h["hotel"] for h in hotels].index
    )
    assert len(hotels) == 4 and len({h["hotel_id"] for h in hotels}) == 4
    bund = next(h for h in hotels if h["hotel"] == "英冠酒店上海外滩店")
    assert bund["address"] == "上海市黄浦区中山东一路 18 号" and bund["stars"] == 5
    assert len(bund["policies"]) == len(set(bund["policies"])) == 2  # standard and prepaid, once each
    assert bund["room_types"][0]["room_type"] in ("高级大床房", "高级双床房")
    every_plan = [p for h in hotels for r in h["room_types"] for p in r["plans"]]
    assert len(every_plan) == len(found["offers"])  # nothing lost or doubled by the grouping
    king = next(r for r in bund["room_types"] if r["room_type"] == "高级大床房")
    totals = [float(p["total"]) for p in king["plans"]]
    assert totals == sorted(totals) and float(king["lowest"]) == totals[0]
    member = next(p for p in king["plans"] if p["rate_plan"] == "会员价")
    rack = next(p for p in king["plans"] if p["rate_plan"] == "门市价")
    assert member["member"] and not rack["member"] and float(member["total"]) < float(rack["total"])
    assert bund["policies"][member["policy"]].startswith("入住前24小时以上取消退还100%")


async def test_self_stay_copies_the_phone_from_the_file_and_the_agent_never_sees_it(
    seeded: Context, users: Users
) -> None:
    agent = await users("agent1")
    zhang = (await agent.get("/api/customers", params={"q": "88000001"})).json()[0]
    booking = {
        **await ids(seeded), **stay(5), "customer_id": zhang["id"], "guest_name": "张伟",
        "guest_is_booker": True, "rooms": 1, "guests": 1, "expected_arrival": "17:00",
    }  # fmt: skip
    made = await agent.post("/api/reservations", json=booking)
    assert made.status_code == 201, made.text
    assert "13800138000" not in made.text and "8000" in made.json()["guest_phone"]
    detail = await agent.get(f"/api/reservations/{made.json()['id']}")
    assert "13800138000" not in detail.json()["reservation"]["guest_phone"]
    async with seeded.read() as session:
        stored = await session.scalar(
            select(Reservation.guest_phone).where(Reservation.id == made.json()["id"])
        )
    assert stored is not None and stored.endswith("13800138000")  # the hotel and the SMS get the real one


async def test_a_guest_phone_is_needed_unless_the_booker_stays_and_self_stay_needs_the_file(
    seeded: Context, users: Users
) -> None:
    agent = await users("agent1")
    base = {**await ids(seeded), **stay(), "guest_name": "李雷", "rooms": 1, "guests": 1}
    assert_problem(await agent.post("/api/reservations", json=base), 422, "invalid-input", "body.guest_phone")
    assert_problem(
        await agent.post("/api/reservations", json={**base, "guest_is_booker": True}),
        422, "invalid-input", "body.customer_id",
    )  # fmt: skip


async def test_a_room_released_before_the_expected_arrival_is_booked_with_a_warning(
    seeded: Context, users: Users
) -> None:
    agent = await users("agent1")
    base = {
        **await ids(seeded),
        **stay(6),
        "guest_name": "李雷",
        "guest_phone": "13912345678",
        "rooms": 1,
        "guests": 1,
    }
    late = await agent.post("/api/reservations", json={**base, "expected_arrival": "20:00"})
    assert late.status_code == 201, late.text
    assert late.json()["warnings"] == [
        {"code": "hold-before-arrival", "hold_until": "18:00", "expected_arrival": "20:00"}
    ]
    held = await agent.post(
        "/api/reservations", json={**base, "expected_arrival": "20:00", "hold_until": "21:00"}
    )
    assert held.json()["warnings"] == []
    prepaid = {**base, **await ids(seeded, plan="PREPAY"), "expected_arrival": "23:30"}
    assert (await agent.post("/api/reservations", json=prepaid)).json()["warnings"] == []  # kept all night
    history = (await agent.get(f"/api/reservations/{late.json()['id']}")).json()["changes"]
    assert "expected at 20:00" in history[0]["note"]


async def test_past_dates_are_refused_for_offers_and_bookings(seeded: Context, users: Users) -> None:
    agent = await users("agent1")
    yesterday = hotel_today() - timedelta(days=1)
    past = {"arrival": yesterday.isoformat(), "departure": (yesterday + timedelta(days=2)).isoformat()}
    assert_problem(
        await agent.get("/api/hotels/availability", params={"city": "上海", **past}),
        422,
        "invalid-input",
        "query.arrival",
    )
    booking = {
        **await ids(seeded),
        **past,
        "guest_name": "李雷",
        "guest_phone": "13912345678",
        "rooms": 1,
        "guests": 1,
    }
    assert_problem(await agent.post("/api/reservations", json=booking), 422, "invalid-input", "body.arrival")


async def test_the_confirmation_is_sent_again_by_sms_to_the_guest_and_by_email_to_the_booker(
    seeded: Context, users: Users
) -> None:
    agent = await users("agent1")
    zhang = (await agent.get("/api/customers", params={"q": "88000001"})).json()[0]
    booking = {
        **await ids(seeded), **stay(4), "customer_id": zhang["id"], "guest_name": "张伟",
        "guest_is_booker": True, "rooms": 1, "guests": 1,
    }  # fmt: skip
    made = (await agent.post("/api/reservations", json=booking)).json()
    sms = await agent.post(f"/api/reservations/{made['id']}/confirmation", json={"channel": "sms"})
    assert sms.status_code == 201, sms.text
    assert sms.json()["status"] == "queued" and made["number"] in sms.json()["body"]
    assert "13800138000" not in sms.text  # shown masked to the agent
    mail = await agent.post(f"/api/reservations/{made['id']}/confirmation", json={"channel": "email"})
    assert mail.status_code == 201, mail.text and mail.json()["channel"] == "email"
    async with seeded.read() as session:
        sent = (
            await session.scalars(select(Message).where(Message.ref == f"reservation:{made['number']}"))
        ).all()
    assert {m.recipient for m in sent if m.created_by is not None} == {
        "+8613800138000",
        "zhangwei@example.cn",
    }
    assert_problem(
        await agent.post(f"/api/reservations/{made['id']}/confirmation", json={"channel": "fax"}),
        422, "validation-failed", "body.channel",
    )  # fmt: skip
    tentative = (await agent.post("/api/reservations", json={**booking, "confirm": False})).json()
    refused = await agent.post(f"/api/reservations/{tentative['id']}/confirmation", json={"channel": "sms"})
    assert refused.status_code == 409, refused.text
