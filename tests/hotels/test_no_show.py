"""The no-show sweep with a clock: a guest past the expected arrival becomes one call task; the
agent records delayed (the hold follows), unreachable (the SMS text is kept) or cancelled."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from hotline.core.context import Context
from hotline.hotels import noshow
from tests.conftest import Users, assert_problem
from tests.hotels.test_reservations import hotel_today, ids, stay

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(hhmm: str) -> datetime:
    hour, minute = (int(x) for x in hhmm.split(":"))
    return datetime.combine(hotel_today(), time(hour, minute), tzinfo=SHANGHAI)


async def test_late_guests_become_one_call_task_and_the_agent_records_what_they_said(
    seeded: Context, users: Users
) -> None:
    agent = await users("agent1")
    booking = {**await ids(seeded), **stay(0, 1), "guest_name": "陈晨", "guest_phone": "13600001111",
               "rooms": 1, "guests": 1, "expected_arrival": "18:00"}  # fmt: skip
    late = (await agent.post("/api/reservations", json=booking)).json()
    other = (await agent.post("/api/reservations", json={**booking, "guest_phone": "13600002222"})).json()

    assert await noshow.sweep(seeded, now=at("17:59")) == 0
    assert await noshow.sweep(seeded, now=at("18:15")) == 2
    assert await noshow.sweep(seeded, now=at("18:30")) == 0  # once
    tasks = (await agent.get("/api/routing/callbacks")).json()
    assert {(t["reason"], t["call_id"]) for t in tasks} >= {("no_show", f"reservation:{late['number']}")}

    url = f"/api/reservations/{late['id']}/late-outcome"
    assert_problem(await agent.post(url, json={"outcome": "delayed"}), 422, "invalid-input", "body.eta")
    delayed = (await agent.post(url, json={"outcome": "delayed", "eta": "22:00"})).json()
    assert delayed["expected_arrival"] == "22:00"
    assert datetime.fromisoformat(delayed["hold_until"]).astimezone(SHANGHAI).strftime("%H:%M") == "22:00"
    assert f"reservation:{late['number']}" not in {
        t["call_id"] for t in (await agent.get("/api/routing/callbacks")).json()
    }
    assert await noshow.sweep(seeded, now=at("21:00")) == 0
    assert await noshow.sweep(seeded, now=at("22:05")) == 1  # still not here: a new task

    unreachable = await agent.post(url, json={"outcome": "unreachable"})
    assert unreachable.status_code == 200
    detail = (await agent.get(f"/api/reservations/{late['id']}")).json()
    sms = next(c for c in detail["confirmations"] if c["kind"] == "unreachable")
    assert "我们未能联系到您" in sms["text"] and "021-63210000" in sms["text"]

    cancelled = (
        await agent.post(f"/api/reservations/{other['id']}/late-outcome", json={"outcome": "cancelled"})
    ).json()
    assert cancelled["status"] == "cancelled"
    again = await agent.post(f"/api/reservations/{other['id']}/late-outcome", json={"outcome": "unreachable"})
    assert_problem(again, 409, "invalid-transition")
