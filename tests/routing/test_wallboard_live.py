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
