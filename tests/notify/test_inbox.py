"""In-app notices for staff: a template waiting for approval rings the approver's bell at once
over the live socket (and is in their inbox after a reload); the decision goes back to the
author; a paper booking in conflict tells the hotel desk; colleagues named in a note (`@002`) are
told; nobody reads anyone else's notices."""

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
from tests.tickets.conftest import work_order
from tests.travel.test_workflow import enquiry, user_id

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


async def test_colleagues_named_in_a_note_are_told_once_and_nobody_else(
    seeded: Context, users: Users
) -> None:
    agent1, agent2, planner, lead = [await users(u) for u in ("agent1", "agent2", "planner", "teamlead")]

    async def mentions(http: Any) -> list[dict[str, Any]]:
        return [n for n in (await http.get("/api/notify/inbox")).json()["items"] if n["kind"] == "mention"]

    ticket = (await agent1.post("/api/tickets", json=work_order())).json()
    note = "@002 请协助核实房号；@planner 知悉。@001 @finance @nobody zhangwei@example.com"
    assert (await agent1.post(f"/api/tickets/{ticket['id']}/notes", json={"note": note})).status_code == 200
    [told] = await mentions(agent2)
    assert told["title"] == f"陈晓 在工单 {ticket['number']} 中提到您"
    assert (told["link"], told["body"], told["read_at"]) == (f"/tickets/{ticket['id']}", note, None)
    assert len(await mentions(planner)) == 1
    assert await mentions(agent1) == [] and await mentions(lead) == []  # the author, and who was not named
    assert await mentions(await users("finance")) == []  # named, but may not read tickets

    order = await enquiry(agent1)
    url = f"/api/travel/orders/{order['id']}"
    await lead.post(f"{url}/assign-planner", json={"planner_id": await user_id(seeded, "planner")})
    followed = await planner.post(f"{url}/follow-ups", json={"note": "@002 客人想要海景房，请回电确认"})
    assert followed.status_code == 201, followed.text
    latest = (await mentions(agent2))[0]
    assert latest["link"] == f"/travel/orders/{order['id']}" and "的跟单中提到您" in latest["title"]
    assert len(await mentions(agent2)) == 2 and len(await mentions(planner)) == 1
