"""Conversations routed by the ACD on a voice node (issue 24, item 2), over HTTP as agents and
visitors see it: web chats go to the agents of the queue their topic names, up to each agent's
capacity; the next one waits, oldest first, and is given within a second of a conversation closing;
a conversation passed on to a queue keeps its place, to a colleague only if they have room; an
agent who takes no calls while chatting is offered none; the wallboard's queues count them."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from hotline.core.config import Settings
from hotline.core.context import Context
from hotline.notify import tasks
from hotline.notify.models import Conversation
from tests.conftest import Users, assert_problem, free_port, make_settings
from tests.contact.calls.test_controls import until


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url, roles=["api", "voice"], sip_port=free_port())


async def listed(http: httpx.AsyncClient, **params: object) -> list[dict[str, Any]]:
    response = await http.get("/api/notify/conversations", params={"status": "open", **params})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_chats_fill_an_agents_capacity_then_wait_oldest_first_and_go_as_room_frees(
    seeded: Context, users: Users, client: httpx.AsyncClient, app: object
) -> None:
    supervisor, agent1, agent4 = await users("supervisor"), await users("agent1"), await users("agent4")
    for open_one in await listed(supervisor):  # the demo's own conversations out of the way
        assert (await supervisor.post(f"/api/notify/conversations/{open_one['id']}/close")).status_code == 200
    everyone = {a["username"]: a for a in (await supervisor.get("/api/routing/agents")).json()}
    for name in ("agent2", "agent3", "agent5"):  # only agent1 serves the hotel queue's chats
        moved = await supervisor.put(
            f"/api/routing/agents/{everyone[name]['user_id']}/state",
            json={"state": "not_ready", "reason": "培训"},
        )
        assert moved.status_code == 200, moved.text
    me = everyone["agent1"]
    profile = {"skills": me["skills"], "chat_capacity": 2, "calls_while_chatting": False}
    assert (
        await supervisor.put(f"/api/routing/agents/{me['user_id']}/profile", json=profile)
    ).status_code == 204
    runner = app.state.hotline.router.runner  # type: ignore[attr-defined]
    await until(lambda: runner.seats[me["user_id"]].chat_capacity == 2)

    for name in ("甲", "乙", "丙"):
        form = {"name": name, "topic": "hotel", "text": f"{name}的问题", "site": "yingguan-hotels"}
        assert (await client.post("/api/chat/start", json=form)).status_code == 201
        await asyncio.sleep(0.01)  # distinct entry times

    async def mine() -> list[dict[str, Any]]:
        return await listed(agent1, mine=True)

    await until(lambda: _len(mine, 2))
    assert {c["visitor_name"] for c in await mine()} == {"甲", "乙"}  # the two oldest
    [waiting] = await listed(supervisor, mine=False)
    assert (waiting["visitor_name"], waiting["queue"], waiting["assigned_to"]) == ("丙", "hotel", None)
    hotel = next(q for q in (await supervisor.get("/api/routing/queues")).json() if q["name"] == "hotel")
    assert (hotel["live"]["chats"]["waiting"], hotel["live"]["chats"]["active"]) == (1, 2)
    board = (await supervisor.get("/api/routing/wallboard")).json()
    tile = next(q for q in board["queues"] if q["queue"] == "hotel")
    assert (tile["chats"]["waiting"], tile["chats"]["active"]) == (1, 2) and tile["chats"][
        "longest_wait"
    ] >= 0
    assert me["user_id"] not in runner.router.free  # holding chats, and no calls while chatting

    # agent1 closes 甲's chat: 丙's is theirs within a second
    first = next(c for c in await mine() if c["visitor_name"] == "甲")
    closed_at = time.monotonic()
    assert (await agent1.post(f"/api/notify/conversations/{first['id']}/close")).status_code == 200
    await until(lambda: _has(mine, "丙"), 1.0)
    assert time.monotonic() - closed_at < 1.0

    # passing one on: not someone else's, not to a colleague with no room, only a queue that takes chats
    second = next(c for c in await mine() if c["visitor_name"] == "乙")
    url = f"/api/routing/conversations/{second['id']}/transfer"
    assert_problem(await agent4.post(url, json={"queue": "travel"}), 403, "permission-denied")
    agent2_id = everyone["agent2"]["user_id"]
    assert_problem(await agent1.post(url, json={"agent_id": agent2_id}), 409, "conflict", "body.agent_id")
    assert_problem(await agent1.post(url, json={"queue": "emergency"}), 422, "invalid-input", "body.queue")
    assert_problem(
        await agent1.post(url, json={"queue": "travel", "agent_id": agent2_id}), 422, "validation-failed"
    )
    assert_problem(
        await agent1.post(url, json={"queue": "no such queue!"}), 422, "validation-failed", "body.queue"
    )
    # to the travel queue: agent4 (travel 5, ready) has it at once
    assert (await agent1.post(url, json={"queue": "travel"})).status_code == 204
    await until(lambda: _has(lambda: listed(agent4, mine=True), "乙"))
    [moved] = [c for c in await listed(agent4, mine=True) if c["visitor_name"] == "乙"]
    assert (moved["queue"], moved["assigned_name"]) == ("travel", everyone["agent4"]["display_name"])

    # agent1's last chat closes: calls may come again
    last = next(c for c in await mine() if c["visitor_name"] == "丙")
    assert (await agent1.post(f"/api/notify/conversations/{last['id']}/close")).status_code == 200
    await until(lambda: me["user_id"] in runner.router.free or me["user_id"] in runner.unreachable)


async def _only_agent1_serves_hotel_chats(supervisor: httpx.AsyncClient, app: Any, capacity: int) -> int:
    for open_one in await listed(supervisor):  # the demo's own conversations out of the way
        assert (await supervisor.post(f"/api/notify/conversations/{open_one['id']}/close")).status_code == 200
    everyone = {a["username"]: a for a in (await supervisor.get("/api/routing/agents")).json()}
    for name in ("agent2", "agent3", "agent5"):
        moved = await supervisor.put(
            f"/api/routing/agents/{everyone[name]['user_id']}/state",
            json={"state": "not_ready", "reason": "培训"},
        )
        assert moved.status_code == 200, moved.text
    me = everyone["agent1"]
    profile = {"skills": me["skills"], "chat_capacity": capacity, "calls_while_chatting": False}
    assert (
        await supervisor.put(f"/api/routing/agents/{me['user_id']}/profile", json=profile)
    ).status_code == 204
    runner = app.state.hotline.router.runner
    await until(lambda: runner.seats[me["user_id"]].chat_capacity == capacity)
    return int(me["user_id"])


async def test_the_reconciler_trusts_events_newer_than_its_read_and_mends_what_events_missed(
    seeded: Context, users: Users, client: httpx.AsyncClient, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The desk compares the rows with what it believes every few seconds. A chat given to an agent
    while the rows were being read is not taken away from them (the agent would then be given one
    more than their room); a conversation closed behind the desk's back frees the agent's room."""
    supervisor, agent1 = await users("supervisor"), await users("agent1")
    me = await _only_agent1_serves_hotel_chats(supervisor, app, capacity=1)
    desk = app.state.hotline.router.chats
    read, release = asyncio.Event(), asyncio.Event()
    reading = tasks.holders

    async def slow_read(ctx: Context) -> dict[int, int | None]:
        rows = await reading(ctx)
        read.set()
        await release.wait()
        return rows

    monkeypatch.setattr(tasks, "holders", slow_read)
    reconciling = asyncio.create_task(desk.reconcile())
    await read.wait()  # the rows are read: nobody is chatting yet
    form = {"name": "甲", "topic": "hotel", "text": "甲的问题", "site": "yingguan-hotels"}
    assert (await client.post("/api/chat/start", json=form)).status_code == 201
    await until(lambda: _len(lambda: listed(agent1, mine=True), 1))
    release.set()
    await reconciling
    assert desk.held(me) == 1  # 甲's chat still counts against agent1's room
    form = {"name": "乙", "topic": "hotel", "text": "乙的问题", "site": "yingguan-hotels"}
    assert (await client.post("/api/chat/start", json=form)).status_code == 201
    await until(lambda: _len(lambda: listed(supervisor, mine=False), 1))
    await asyncio.sleep(0.3)
    assert [c["visitor_name"] for c in await listed(agent1, mine=True)] == ["甲"]  # room for one: 乙 waits

    # 甲's chat is closed where the desk hears nothing of it (another node, an event lost)
    [held] = await listed(agent1, mine=True)
    async with seeded.write() as tx:
        await tx.session.execute(
            update(Conversation).where(Conversation.id == held["id"]).values(status="closed")
        )
    monkeypatch.setattr(tasks, "holders", reading)
    await desk.reconcile()
    await until(lambda: _has(lambda: listed(agent1, mine=True), "乙"), 1.0)


async def _len(fetch: Any, n: int) -> bool:
    return len(await fetch()) == n


async def _has(fetch: Any, name: str) -> bool:
    return any(c["visitor_name"] == name for c in await fetch())
