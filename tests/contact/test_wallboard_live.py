"""The wallboard pushed over the live socket: a supervisor's screen gets the picture at once and
then every second; an agent may not subscribe."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import websockets

from hotline.core.context import Context
from tests.conftest import Users


async def pushes(url: str, cookie: str, seconds: float) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []
    async with websockets.connect(url, additional_headers={"Cookie": cookie}) as socket:
        await socket.recv()  # hello
        await socket.send(json.dumps({"subscribe": "wallboard"}))
        try:
            async with asyncio.timeout(seconds):
                async for raw in socket:
                    got.append(json.loads(raw))
        except TimeoutError:
            pass
    return got


async def test_supervisors_get_the_wallboard_pushed_and_agents_do_not(
    seeded: Context, users: Users, served: str
) -> None:
    supervisor, agent = await users("supervisor"), await users("agent1")
    url = served.replace("http", "ws") + "/api/live"
    watched = await pushes(url, f"hotline_session={supervisor.cookies.get('hotline_session')}", 2.5)
    boards = [m for m in watched if m["name"] == "routing.wallboard"]
    assert len(boards) >= 2  # the first at once, then every second
    assert {q["queue"] for q in boards[0]["data"]["queues"]} >= {"hotel", "travel"}
    refused = await pushes(url, f"hotline_session={agent.cookies.get('hotline_session')}", 1.5)
    assert [m for m in refused if m["name"] == "routing.wallboard"] == []


async def test_both_tabs_of_an_agent_learn_that_a_call_was_wrapped_up(
    seeded: Context, users: Users, served: str
) -> None:
    from hotline.contact.models import ContactEvent
    from hotline.core.clock import utcnow

    agent = await users("agent1")
    me = (await agent.get("/api/auth/me")).json()["id"]
    async with seeded.write() as tx:
        tx.session.add(
            ContactEvent(at=utcnow(), kind="answered", call_id="leg-tabs-1", agent_id=me, queue="hotel")
        )
    url = served.replace("http", "ws") + "/api/live"
    cookie = {"Cookie": f"hotline_session={agent.cookies.get('hotline_session')}"}
    async with (
        websockets.connect(url, additional_headers=cookie) as one,
        websockets.connect(url, additional_headers=cookie) as two,
    ):
        await one.recv(), await two.recv()  # hello
        done = await agent.post("/api/routing/calls/leg-tabs-1/wrap-up", json={"disposition": "enquiry"})
        assert done.status_code == 200
        for tab in (one, two):
            pushed = json.loads(await asyncio.wait_for(tab.recv(), timeout=5))
            assert pushed["name"] == "routing.wrapped" and pushed["data"]["call_id"] == "leg-tabs-1"
