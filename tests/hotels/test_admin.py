"""Hotel, room and rate administration: a new branch is bookable once it has a room type and a
rate plan; policies must make sense; inventory changes over a range never undo a sale, open new
nights only with rooms and a price, and close dates; only hotel administrators may change any of it."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from hotline.core.context import Context
from tests.conftest import Users, assert_problem
from tests.hotels.test_reservations import hotel_today, stay

BRANCH = {
    "code": "SH-JA", "name": "英冠酒店上海静安店", "city": "上海", "address": "上海市静安区南京西路 1266 号",
    "phone": "021-62880000", "latitude": "31.2296", "longitude": "121.4520", "hold_until": "19:00",
}  # fmt: skip
POLICY = [{"hours": 48, "refund": 100}, {"hours": 0, "refund": 30}]


async def test_a_new_branch_with_a_room_type_and_a_rate_plan_can_be_booked(
    seeded: Context, users: Users
) -> None:
    supervisor, agent = await users("supervisor"), await users("agent1")
    assert (await agent.post("/api/hotels", json=BRANCH)).status_code == 403
    assert_problem(await supervisor.post("/api/hotels", json={**BRANCH, "timezone": "Mars/Olympus"}),
                   422, "validation-failed", "body.timezone")  # fmt: skip
    assert_problem(await supervisor.post("/api/hotels", json={**BRANCH, "code": "SH-BUND"}), 409, "conflict",
                   "body.code")  # fmt: skip
    hotel = (await supervisor.post("/api/hotels", json=BRANCH)).json()
    url = f"/api/hotels/{hotel['id']}"
    no_rooms = await supervisor.post(f"{url}/room-types", json={"code": "K", "name": "大床房", "capacity": 2})
    assert_problem(no_rooms, 422, "invalid-input", "body.rooms")
    await supervisor.post(f"{url}/room-types", json={"code": "K", "name": "大床房", "capacity": 2, "rooms": 4,
                                                     "price": "450", "days": 30})  # fmt: skip
    for bad in ([{"hours": 24, "refund": 100}], [{"hours": 24, "refund": 0}, {"hours": 0, "refund": 50}],
                [{"hours": 0, "refund": 0}, {"hours": 0, "refund": 10}]):  # fmt: skip
        refused = await supervisor.post(
            f"{url}/rate-plans", json={"code": "RACK", "name": "门市价", "policy": bad}
        )
        assert_problem(refused, 422, "validation-failed", "body.policy")
    detail = (await supervisor.post(f"{url}/rate-plans", json={
        "code": "RACK", "name": "门市价", "policy": [POLICY[1], POLICY[0]],
    })).json()  # fmt: skip
    assert detail["rate_plans"][0]["policy"] == POLICY  # longest notice first
    assert [t["name"] for t in detail["room_types"]] == ["大床房"]

    found = (
        await agent.get("/api/hotels/availability", params={"hotel_id": hotel["id"], **stay(3, 2)})
    ).json()
    offer = found["offers"][0]
    assert (offer["rooms_left"], offer["total"], offer["policy"]) == (
        4,
        "900.00",
        "入住前48小时以上取消退还100%；此后取消退还30%",
    )
    booking = {
        "hotel_id": hotel["id"], "room_type_id": offer["room_type_id"], "rate_plan_id": offer["rate_plan_id"],
        **stay(3, 2), "guest_name": "静安", "guest_phone": "13900000030", "rooms": 3, "guests": 2,
    }  # fmt: skip
    made = (await agent.post("/api/reservations", json=booking)).json()
    held = datetime.fromisoformat(made["hold_until"]).astimezone(ZoneInfo("Asia/Shanghai"))
    assert (made["status"], held.strftime("%H:%M")) == ("confirmed", "19:00")  # the branch's hold time

    moved = await supervisor.put(url, json={**BRANCH, "name": "英冠酒店上海静安寺店", "active": False})
    assert moved.json()["name"] == "英冠酒店上海静安寺店"
    closed = await agent.post("/api/reservations", json=booking)
    assert_problem(closed, 404, "not-found", "body.hotel_id")  # a closed branch takes no bookings


async def test_inventory_changes_over_a_range_never_undo_a_sale(seeded: Context, users: Users) -> None:
    supervisor, agent = await users("supervisor"), await users("agent1")
    hotel = (await supervisor.post("/api/hotels", json=BRANCH)).json()
    detail = (await supervisor.post(f"/api/hotels/{hotel['id']}/room-types", json={
        "code": "T", "name": "双床房", "capacity": 2, "rooms": 5, "price": "400", "days": 20,
    })).json()  # fmt: skip
    room = detail["room_types"][0]["id"]
    plan = (await supervisor.post(f"/api/hotels/{hotel['id']}/rate-plans", json={
        "code": "RACK", "name": "门市价", "policy": POLICY,
    })).json()["rate_plans"][0]["id"]  # fmt: skip
    dates = stay(5, 1)
    await agent.post("/api/reservations", json={
        "hotel_id": hotel["id"], "room_type_id": room, "rate_plan_id": plan, **dates, "guest_name": "甲",
        "guest_phone": "13900000031", "rooms": 3, "guests": 2,
    })  # fmt: skip
    inventory = f"/api/room-types/{room}/inventory"
    first, last = hotel_today(), hotel_today() + timedelta(days=9)
    span = {"first": first.isoformat(), "last": last.isoformat()}
    assert (await agent.put(inventory, json={**span, "total": 9})).status_code == 403

    too_few = await supervisor.put(inventory, json={**span, "total": 2})
    body = assert_problem(too_few, 409, "rooms-still-sold", "body.total")
    assert dates["arrival"] in str(body["detail"])
    broken = await supervisor.put(inventory, json={**span, "out_of_order": 3})
    assert_problem(broken, 409, "rooms-still-sold", "body.out_of_order")
    nights = (await agent.get(inventory, params=span)).json()
    assert {n["total"] for n in nights} == {5} and {n["out_of_order"] for n in nights} == {
        0
    }  # nothing changed

    weekends = (await supervisor.put(inventory, json={**span, "weekdays": [4, 5], "price": "520"})).json()
    for night in weekends:
        weekday = date.fromisoformat(night["day"]).weekday()
        assert night["price"] == ("520.00" if weekday in (4, 5) else "400.00"), night
    closed_day = (first + timedelta(days=7)).isoformat()
    await supervisor.put(inventory, json={"first": closed_day, "last": closed_day, "closed": True})
    over = {"hotel_id": hotel["id"], **stay(7, 1)}
    offers = (await agent.get("/api/hotels/availability", params=over)).json()["offers"]
    assert offers and all(o["rooms_left"] == 0 for o in offers)  # shown, but not for sale

    later = {
        "first": (first + timedelta(days=25)).isoformat(),
        "last": (first + timedelta(days=26)).isoformat(),
    }
    assert_problem(
        await supervisor.put(inventory, json={**later, "total": 6}), 422, "invalid-input", "body.price"
    )
    opened = (await supervisor.put(inventory, json={**later, "total": 6, "price": "380"})).json()
    assert [(n["total"], n["price"]) for n in opened] == [(6, "380.00")] * 2
    assert_problem(await supervisor.put(inventory, json={**span, "total": 1, "out_of_order": 2}), 422,
                   "validation-failed", "body")  # fmt: skip
    audit = (await (await users("admin")).get("/api/audit", params={"action": "hotels.inventory"})).json()
    assert len(audit["items"] if isinstance(audit, dict) else audit) >= 3
