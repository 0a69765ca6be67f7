"""Open ticket lists and boards hear that a ticket moved — only for people who may read tickets."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import websockets

from hotline.core.context import Context
from tests.conftest import Users
from tests.tickets.conftest import act, work_order


@contextlib.asynccontextmanager
async def feed(served: str, http: httpx.AsyncClient) -> AsyncIterator[Any]:
    cookie = f"hotline_session={http.cookies.get('hotline_session')}"
    url = served.replace("http", "ws") + "/api/live"
    async with websockets.connect(url, additional_headers={"Cookie": cookie}) as socket:
        assert json.loads(await socket.recv())["name"] == "live.hello"
        await socket.send(json.dumps({"subscribe": "tickets"}))
        await asyncio.sleep(0.2)  # the subscription is read before the first change
        yield socket


async def pushes(socket: Any, wait: float = 1.0) -> list[dict[str, Any]]:
    found = []
    with contextlib.suppress(TimeoutError):
        while True:
            found.append(json.loads(await asyncio.wait_for(socket.recv(), timeout=wait)))
    return [p for p in found if p["name"] == "tickets.changed"]


async def test_a_moved_ticket_is_pushed_to_open_lists_of_those_who_may_read_tickets(
    seeded: Context, users: Users, served: str
) -> None:
    agent, lead, finance = await users("agent1"), await users("teamlead"), await users("finance")
    async with feed(served, lead) as board, feed(served, finance) as outsider:
        ticket = (await agent.post("/api/tickets", json=work_order())).json()
        units = (await lead.get("/api/tickets/units")).json()
        area = next(u for u in units if u["kind"] == "work_area")
        assert (await act(lead, ticket["id"], "dispatch", unit_id=area["id"])).status_code == 200
        seen = await pushes(board)
        assert [(p["data"]["number"], p["data"]["action"]) for p in seen] == [
            (ticket["number"], "create"), (ticket["number"], "dispatch"),
        ]  # fmt: skip
        assert seen[-1]["data"]["status"] == "dispatched" and seen[-1]["data"]["unit_id"] == area["id"]
        assert (
            await pushes(outsider, wait=0.3) == []
        )  # finance may not read tickets: its subscription is ignored
