"""Group blocks (H4): rooms of several types held at once or not at all, the held rooms out of
individual sale, names given later, and unnamed rooms back on sale after the release date."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from hotline.core.context import Context
from hotline.hotels import groups
from hotline.hotels.models import Inventory
from tests.conftest import Users, assert_problem
from tests.hotels.test_reservations import hotel_today, ids, stay


async def held(ctx: Context, room_type_id: int) -> int:
    async with ctx.read() as session:
        return int(
            await session.scalar(
                select(func.sum(Inventory.held)).where(Inventory.room_type_id == room_type_id)
            )
            or 0
        )


async def test_a_block_holds_its_rooms_names_come_later_and_the_rest_is_released(
    seeded: Context, users: Users
) -> None:
    agent = await users("agent1")
    king, suite = await ids(seeded, room="K", plan="RACK"), await ids(seeded, room="S", plan="RACK")
    dates = stay(10, 2)
    release_on = (hotel_today() + timedelta(days=7)).isoformat()
    lines = [
        {"room_type_id": king["room_type_id"], "count": 8},
        {"room_type_id": suite["room_type_id"], "count": 3},
    ]
    block = {
        "hotel_id": king["hotel_id"], "name": "华东医药年会", "contact_name": "刘经理",
        "contact_phone": "13700007777", "release_on": release_on, **dates, "rooms": lines,
    }  # fmt: skip
    too_big = {**block, "rooms": [{"room_type_id": king["room_type_id"], "count": 8},
                                  {"room_type_id": suite["room_type_id"], "count": 4}]}  # fmt: skip
    assert_problem(await agent.post("/api/groups", json=too_big), 409, "rooms-sold-out", "body.rooms.1.count")
    assert await held(seeded, king["room_type_id"]) == 0  # all or nothing
    late_release = {**block, "release_on": (hotel_today() + timedelta(days=11)).isoformat()}
    assert_problem(
        await agent.post("/api/groups", json=late_release), 422, "invalid-input", "body.release_on"
    )

    made = (await agent.post("/api/groups", json=block)).json()
    assert made["number"] == "70000002" and len(made["rooms"]) == 11
    listed = (await agent.get("/api/groups", params={"hotel_id": block["hotel_id"]})).json()
    assert [g["number"] for g in listed] == ["70000002"]
    assert (
        await held(seeded, king["room_type_id"]) == 8 * 2
        and await held(seeded, suite["room_type_id"]) == 3 * 2
    )
    single = {**suite, **dates, "guest_name": "散客", "guest_phone": "13900000000", "rooms": 1, "guests": 1}
    assert_problem(await agent.post("/api/reservations", json=single), 409, "rooms-sold-out")

    names = [
        {"room_id": r["id"], "guest_name": name}
        for r, name in zip(made["rooms"][:2], ["张三", "李四"], strict=True)
    ]
    named = (await agent.put(f"/api/groups/{made['id']}/rooming-list", json={"rooms": names})).json()
    assert [r["guest_name"] for r in named["rooms"][:3]] == ["张三", "李四", ""]

    assert (
        await groups.release(seeded, today=hotel_today() + timedelta(days=7)) == 0
    )  # not before the day is over
    assert await groups.release(seeded, today=hotel_today() + timedelta(days=8)) == 9
    assert (
        await held(seeded, king["room_type_id"]) == 2 * 2 and await held(seeded, suite["room_type_id"]) == 0
    )
    assert (
        await agent.post("/api/reservations", json=single)
    ).status_code == 201  # the suite is back on sale
    too_late = {"rooms": [{"room_id": made["rooms"][5]["id"], "guest_name": "王五"}]}
    late_name = await agent.put(f"/api/groups/{made['id']}/rooming-list", json=too_late)
    assert_problem(late_name, 422, "invalid-input", "body.rooms.0.room_id")

    cancelled = (await agent.post(f"/api/groups/{made['id']}/cancel")).json()
    assert cancelled["status"] == "cancelled" and await held(seeded, king["room_type_id"]) == 0
