"""The PMS webhook (H10): arrivals and departures posted with an API token, each event applied
once however often the PMS retries."""

from __future__ import annotations

import httpx

from hotline.core.context import Context
from tests.conftest import Users
from tests.hotels.test_reservations import ids, stay


async def test_the_pms_checks_guests_in_and_out_once_per_event(
    seeded: Context, users: Users, app: object
) -> None:
    frontdesk = await users("frontdesk")
    token = (await frontdesk.post("/api/tokens", json={"name": "PMS 外滩店"})).json()["token"]
    booking = {**await ids(seeded), **stay(0, 1), "guest_name": "周到", "guest_phone": "13600003333",
               "rooms": 1, "guests": 1}  # fmt: skip
    reservation = (await frontdesk.post("/api/reservations", json=booking)).json()
    other = (await frontdesk.post("/api/reservations", json=booking)).json()
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://hotline.test",
                                 headers={"Authorization": f"Bearer {token}"}) as pms:  # fmt: skip
        arrival = {"event_id": "opera-1001", "kind": "arrival", "reservation": reservation["number"]}
        first = (await pms.post("/api/pms/events", json=arrival)).json()
        assert first == {
            "event_id": "opera-1001",
            "applied": True,
            "duplicate": False,
            "result": "checked_in",
        }
        again = (await pms.post("/api/pms/events", json=arrival)).json()
        assert (again["applied"], again["duplicate"], again["result"]) == (False, True, "checked_in")
        departure = {"event_id": "opera-1002", "kind": "departure", "reservation": reservation["number"]}
        assert (await pms.post("/api/pms/events", json=departure)).json()["result"] == "checked_out"
        early = {"event_id": "opera-1003", "kind": "departure", "reservation": other["number"]}
        refused = (await pms.post("/api/pms/events", json=early)).json()
        assert refused["applied"] is False and refused["result"].startswith("refused")
        unknown = await pms.post(
            "/api/pms/events", json={**arrival, "event_id": "x", "reservation": "69999999"}
        )
        assert unknown.status_code == 404
    detail = (await frontdesk.get(f"/api/reservations/{reservation['id']}")).json()
    assert [c["after"] for c in detail["changes"]] == ["confirmed", "checked_in", "checked_out"]
    assert (await frontdesk.get(f"/api/reservations/{other['id']}")).json()["reservation"][
        "status"
    ] == "confirmed"
    async with httpx.AsyncClient(transport=transport, base_url="http://hotline.test") as stranger:
        assert (await stranger.post("/api/pms/events", json=arrival)).status_code == 401


async def test_the_front_desk_sees_its_days_arrivals_guests_in_house_and_departures(
    seeded: Context, users: Users
) -> None:
    frontdesk = await users("frontdesk")
    hotel = await ids(seeded)
    booking = {
        **hotel,
        **stay(0, 2),
        "guest_name": "前台",
        "guest_phone": "13600004444",
        "rooms": 1,
        "guests": 1,
    }
    arriving = (await frontdesk.post("/api/reservations", json=booking)).json()
    url = f"/api/hotels/{hotel['hotel_id']}/front-desk"
    today = (await frontdesk.get(url)).json()
    assert arriving["number"] in [r["number"] for r in today["arrivals"]]
    assert arriving["number"] not in [r["number"] for r in today["in_house"]]
    checked_in = f"/api/reservations/{arriving['id']}/transition"
    assert (await frontdesk.post(checked_in, json={"action": "check_in"})).status_code == 200
    today = (await frontdesk.get(url)).json()
    assert arriving["number"] not in [r["number"] for r in today["arrivals"]]
    assert arriving["number"] in [r["number"] for r in today["in_house"]]
    leaving_day = (await frontdesk.get(url, params={"day": arriving["departure"]})).json()
    assert [r["number"] for r in leaving_day["departures"]] == [arriving["number"]]
    assert (await frontdesk.get("/api/hotels/999999/front-desk")).status_code == 404
