"""In-app notices for staff: a template waiting for approval rings the approver's bell at once
over the live socket (and is in their inbox after a reload); the decision goes back to the
author; a paper booking in conflict tells the hotel desk; nobody reads anyone else's notices."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import websockets
import websockets.exceptions

from hotline.core.clock import utcnow
from hotline.core.context import Context
from tests.conftest import Users, assert_problem
from tests.hotels.test_reservations import ids, stay

CARE = {"code": "customer.hello.sms", "channel": "sms", "topic": "crm.customer", "name": "问候短信",
        "body": "【英冠酒店】{{customer_name}}{{title}}您好！"}  # fmt: skip


async def next_push(socket: Any) -> dict[str, Any]:
    return json.loads(await asyncio.wait_for(socket.recv(), timeout=5))  # type: ignore[no-any-return]


async def test_the_approvers_bell_rings_live_and_the_author_hears_the_decision(
    seeded: Context, users: Users, served: str
) -> None:
    admin, supervisor = await users("admin"), await users("supervisor")
    cookie = f"hotline_session={admin.cookies.get('hotline_session')}"
    url = served.replace("http", "ws") + "/api/live"
    async with websockets.connect(url, additional_headers={"Cookie": cookie}) as socket:
        assert (await next_push(socket))["name"] == "live.hello"
        made = (await supervisor.post("/api/notify/templates", json=CARE)).json()
        push = await next_push(socket)
        assert push["name"] == "notify.staff_notice" and push["data"]["title"] == "模板待审批：问候短信 v1"
    box = (await admin.get("/api/notify/inbox")).json()
    assert box["unread"] == 1 and box["items"][0]["link"] == "/messages"
    assert (await supervisor.get("/api/notify/inbox")).json()["unread"] == 0  # the author is not asked
    notice = box["items"][0]["id"]
    assert_problem(await supervisor.post(f"/api/notify/inbox/{notice}/read"), 404, "not-found")
    assert (await admin.post(f"/api/notify/inbox/{notice}/read")).json()["unread"] == 0
    await admin.post(f"/api/notify/templates/{made['id']}/decision", json={"approve": True})
    told = (await supervisor.get("/api/notify/inbox")).json()
    assert told["unread"] == 1 and told["items"][0]["title"] == "模板已批准，已生效：问候短信 v1"
    assert (await supervisor.post("/api/notify/inbox/read")).json()["unread"] == 0


async def test_a_socket_without_a_session_is_refused(served: str) -> None:
    url = served.replace("http", "ws") + "/api/live"
    for headers in ({}, {"Cookie": "hotline_session=forged"}):
        with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
            async with websockets.connect(url, additional_headers=headers):
                pass
        assert refused.value.response.status_code == 403


async def test_a_paper_conflict_tells_the_hotel_desk(seeded: Context, users: Users) -> None:
    agent, supervisor = await users("agent1"), await users("supervisor")
    suite = await ids(seeded, room="S", plan="RACK")
    dates = stay(8, 1)
    full = {**suite, **dates, "guest_name": "满", "guest_phone": "13900000040", "rooms": 3, "guests": 2}
    await agent.post("/api/reservations", json=full)
    taken = utcnow().isoformat()
    paper = {**suite, **dates, "guest_name": "纸", "guest_phone": "13900000041", "rooms": 1, "guests": 1,
             "taken_at": taken}  # fmt: skip
    made = (await agent.post("/api/reservations", json=paper)).json()
    assert made["status"] == "conflict"
    box = (await supervisor.get("/api/notify/inbox")).json()
    assert any(made["number"] in n["title"] and n["kind"] == "conflict" for n in box["items"])
    assert (await agent.get("/api/notify/inbox")).json()["unread"] == 0  # agents do not administer hotels
