"""Paper bookings entered after an outage (X4): with their original time, booked when their rooms
are still there, kept as a conflict holding no rooms when they are not — never overbooked — and
reported with the later bookings that took the rooms, until retried, moved or cancelled."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from hotline.core.clock import utcnow
from hotline.core.context import Context
from tests.conftest import Users, assert_problem
from tests.hotels.test_reservations import ids, sold, stay


async def test_a_paper_booking_whose_rooms_were_sold_is_a_reported_conflict_not_an_overbooking(
    seeded: Context, users: Users
) -> None:
    agent = await users("agent1")
    suite = await ids(seeded, room="S", plan="RACK")  # 3 suites a night
    dates = stay(5, 2)
    outage = utcnow() - timedelta(hours=3)
    online = (await agent.post("/api/reservations", json={
        **suite, **dates, "guest_name": "线上", "guest_phone": "13900000010", "rooms": 2, "guests": 2,
    })).json()  # fmt: skip
    paper = {**suite, **dates, "guest_name": "纸质甲", "guest_phone": "13900000011", "rooms": 2, "guests": 2,
             "taken_at": outage.isoformat(), "deposit": "500", "deposit_method": "cash"}  # fmt: skip

    for bad in (utcnow() + timedelta(hours=2), utcnow() - timedelta(days=40)):
        refused = await agent.post("/api/reservations", json={**paper, "taken_at": bad.isoformat()})
        assert_problem(refused, 422, "invalid-input", "body.taken_at")
    assert await sold(seeded, suite["room_type_id"]) == 2 * 2  # nothing changed

    made = await agent.post("/api/reservations", json=paper)
    assert made.status_code == 201, made.text
    conflict = made.json()
    assert (conflict["status"], conflict["source"]) == ("conflict", "paper")
    assert conflict["taken_at"] is not None and conflict["created_at"] > conflict["taken_at"]
    assert await sold(seeded, suite["room_type_id"]) == 2 * 2  # not overbooked: it holds no rooms
    earlier = (await agent.post("/api/reservations", json={
        **paper, "guest_name": "纸质乙", "guest_phone": "13900000012", "rooms": 1, "deposit": "0",
        "taken_at": (outage - timedelta(hours=1)).isoformat(),
    })).json()  # fmt: skip
    assert earlier["status"] == "confirmed"  # the last suite was still there
    assert await sold(seeded, suite["room_type_id"]) == 3 * 2

    tasks = (await agent.get("/api/routing/callbacks")).json()
    assert ("paper_conflict", f"reservation:{conflict['number']}") in {
        (t["reason"], t["call_id"]) for t in tasks
    }
    report = (await agent.get("/api/reservations/conflicts")).json()
    assert [r["reservation"]["number"] for r in report] == [conflict["number"]]
    assert [(n["day"], n["left"]) for n in report[0]["short"]] == [
        (dates["arrival"], 0),
        ((stay(6, 1))["arrival"], 0),
    ]
    # the online booking came after the paper one was taken; the earlier paper one did not
    assert [c["number"] for c in report[0]["competing"]] == [online["number"]]
    assert all(a["hotel_id"] != suite["hotel_id"] or a["room_type_id"] != suite["room_type_id"]
               for a in report[0]["alternatives"])  # fmt: skip

    url = f"/api/reservations/{conflict['id']}/transition"
    still_full = await agent.post(url, json={"action": "retry"})
    assert_problem(still_full, 409, "rooms-sold-out")
    assert_problem(await agent.post(f"/api/reservations/{online['id']}/transition", json={"action": "retry"}),
                   409, "invalid-transition")  # fmt: skip
    await agent.post(f"/api/reservations/{online['id']}/transition", json={"action": "cancel"})
    retried = await agent.post(url, json={"action": "retry"})
    assert retried.status_code == 200, retried.text
    assert retried.json()["status"] == "confirmed"
    assert await sold(seeded, suite["room_type_id"]) == 3 * 2
    assert (await agent.get("/api/reservations/conflicts")).json() == []
    assert f"reservation:{conflict['number']}" not in {
        t["call_id"] for t in (await agent.get("/api/routing/callbacks")).json()
    }
    detail = (await agent.get(f"/api/reservations/{conflict['id']}")).json()
    assert [c["kind"] for c in detail["confirmations"]] == ["confirmed"]
    assert "taken on paper" in detail["changes"][0]["note"]


async def test_a_conflict_cancelled_refunds_everything_and_one_moved_to_another_room_is_booked(
    seeded: Context, users: Users
) -> None:
    agent = await users("agent1")
    suite = await ids(seeded, room="S", plan="RACK")
    king = await ids(seeded, room="K", plan="RACK")
    dates = stay(4, 1)
    await agent.post("/api/reservations", json={
        **suite, **dates, "guest_name": "线上", "guest_phone": "13900000020", "rooms": 3, "guests": 2,
    })  # fmt: skip
    taken = (utcnow() - timedelta(hours=1)).isoformat()
    paper = {**suite, **dates, "guest_phone": "13900000021", "rooms": 1, "guests": 2, "taken_at": taken,
             "deposit": "800", "deposit_method": "card"}  # fmt: skip
    one = (await agent.post("/api/reservations", json={**paper, "guest_name": "纸质丙"})).json()
    two = (await agent.post("/api/reservations", json={**paper, "guest_name": "纸质丁"})).json()
    assert one["status"] == two["status"] == "conflict"

    quote = (await agent.get(f"/api/reservations/{one['id']}/cancel-quote")).json()
    assert (quote["refund_percent"], Decimal(quote["fee"]), Decimal(quote["refund"])) == (100, 0, 800)
    cancelled = (
        await agent.post(f"/api/reservations/{one['id']}/transition", json={"action": "cancel"})
    ).json()
    assert (cancelled["status"], Decimal(cancelled["refund"])) == ("cancelled", 800)
    ledger = (await agent.get(f"/api/reservations/{one['id']}/payments")).json()
    assert Decimal(ledger["paid"]) == 0
    assert await sold(seeded, suite["room_type_id"]) == 3  # a conflict gave back nothing it did not hold

    moved = await agent.patch(f"/api/reservations/{two['id']}", json={"room_type_id": king["room_type_id"]})
    assert moved.status_code == 200, moved.text
    assert (moved.json()["status"], moved.json()["room_type_id"]) == ("confirmed", king["room_type_id"])
    assert await sold(seeded, king["room_type_id"]) == 1
    assert (await agent.get("/api/reservations/conflicts")).json() == []
