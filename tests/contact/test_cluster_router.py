"""One contact layer for several voice nodes, over real Redis and real SIP phones on loopback.

Node A holds the router's lease; node B is a voice node whose calls A's contact layer drives over
Redis: a caller on B goes through the IVR and the queue to agent 001's phone on B, both hear each
other, the records are the same as on one node. Then A dies without a word: B takes the lease
within 3 s and answers the next call itself. And a voice node that falls silent has its calls
ended (`node-lost`): the caller's call is finished in the log and the agent is free again.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from hotline.api.app import create_app
from hotline.api.voice_plane import _deposed
from hotline.core import tasks
from hotline.core.config import Settings
from hotline.core.context import Context
from hotline.voice.media.g711 import ulaw_decode
from hotline.voice.remote.wire import NODE_LOST_SECONDS
from tests.conftest import DEMO_PASSWORD, REDIS_URL, free_port, make_settings
from tests.redis_server import PrivateRedis
from tests.voice.audio import tone_share
from tests.voice.softphone import Softphone

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(not REDIS_URL, reason="needs HOTLINE_TEST_REDIS_URL (make test starts redis-server)"),
    # a cluster's nodes share PostgreSQL (an SQLite file is one machine's): the PostgreSQL run only
    pytest.mark.skipif("HOTLINE_TEST_DATABASE_URL" not in os.environ, reason="runs in the PostgreSQL run"),
]
CALLER, AGENT = 1000, 600  # the tone each phone sends, in Hz


@asynccontextmanager
async def voice_node(
    database_url: str, site: str, name: str, redis_url: str | None = REDIS_URL
) -> AsyncIterator[FastAPI]:
    """A voice node of the cluster `site`, its API served on a real port (other nodes forward to
    it what only the router does)."""
    port = free_port()
    settings = make_settings(
        database_url,
        roles=["api", "voice"],
        sip_port=free_port(),
        cluster=True,
        redis_url=redis_url,
        cluster_name=site,
        node_id=name,
        internal_url=f"http://127.0.0.1:{port}",
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
        )
        serving = asyncio.create_task(server.serve())
        try:
            yield app
        finally:
            server.should_exit = True
            await asyncio.gather(serving, return_exceptions=True)


def state(app: FastAPI) -> Any:
    return app.state.hotline


async def until(check: Callable[[], Awaitable[bool]] | Callable[[], bool], seconds: float = 10) -> float:
    """Wait for `check`; the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        result = check()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            return time.monotonic() - started
        await asyncio.sleep(0.02)
    raise AssertionError("timed out")


@asynccontextmanager
async def signed_in(app: FastAPI, username: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hotline.test") as http:
        response = await http.post("/api/auth/login", json={"username": username, "password": DEMO_PASSWORD})
        assert response.status_code == 200, response.text
        yield http


def heard(phone: Softphone, since: int) -> list[int]:
    return ulaw_decode(b"".join(p.payload for _, p in phone.rtp.packets[since:] if p.payload_type == 0))


async def phone_on(app: FastAPI, extension: str, password: str = "") -> Softphone:
    handset = await Softphone.open(extension, password, state(app).sip.port)
    if password:
        assert await handset.register() == 200
    return handset


async def call_lines(http: httpx.AsyncClient, call_id: str) -> list[dict[str, Any]]:
    response = await http.get(f"/api/routing/calls/{call_id}/events")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def call_events(http: httpx.AsyncClient, call_id: str) -> list[str]:
    return [event["kind"] for event in await call_lines(http, call_id)]


Site = tuple[FastAPI, FastAPI, list[Softphone]]


@pytest.fixture
async def site(seeded: Context, settings: Settings, request: pytest.FixtureRequest) -> AsyncIterator[Site]:
    """Node A holding the router's lease, node B a voice node A's router has heard (started in
    set-up: a node's start may hold the loop, the test's calls may not); the phones opened
    meanwhile are closed at the end. A test that asks for `private_redis` gets its nodes on it."""
    name = f"test-{secrets.token_hex(4)}"
    url = (
        request.getfixturevalue("private_redis").url if "private_redis" in request.fixturenames else REDIS_URL
    )
    opened: list[Softphone] = []
    try:
        async with voice_node(settings.database_url, name, "node-a", url) as a:
            await until(lambda: state(a).router is not None, 5)
            async with voice_node(settings.database_url, name, "node-b", url) as b:
                await until(lambda: "node-b" in state(a).router.voice.nodes, 3)
                yield a, b, opened
    finally:
        for handset in opened:
            handset.close()


async def agent_takes_a_call(a: FastAPI, b: FastAPI, opened: list[Softphone]) -> tuple[Softphone, Softphone]:
    """001's phone and a caller, both on B: the caller presses 2 in A's IVR and reaches 001."""
    agent = await phone_on(b, "1001", "sip1001")
    opened.append(agent)
    await until(lambda: state(a).router.voice.reachable("1001"), 3)  # A learnt it from B
    caller = await phone_on(b, "13911112222")
    opened.append(caller)
    assert (await caller.dial("4008001000")).status == 200  # B's call, A's IVR
    await asyncio.sleep(0.5)
    await caller.send_keys("2")
    await until(lambda: agent.answered.is_set(), 20)
    live = state(a).router.live
    await until(lambda: any(call.bridge is not None for call in live.values()), 20)
    return agent, caller


async def test_a_router_on_another_node_runs_the_call_and_a_survivor_takes_over(site: Site) -> None:
    a, b, opened = site
    assert state(b).router is None  # one router for the site
    agent, caller = await agent_takes_a_call(a, b, opened)
    await asyncio.sleep(0.3)

    # the media is B's: both hear each other through B's relay
    mark_agent, mark_caller = len(agent.rtp.packets), len(caller.rtp.packets)
    await asyncio.gather(caller.send_tone(CALLER, 600), agent.send_tone(AGENT, 600))
    await asyncio.sleep(0.3)
    assert tone_share(heard(agent, mark_agent), CALLER) > 0.5
    assert tone_share(heard(caller, mark_caller), AGENT) > 0.5

    # the agent's desktop talks to B, which has no router: B has A do it (no 503)
    async with signed_in(b, "agent1") as agent1:
        call = (await agent1.get("/api/routing/me/call")).json()
        assert call is not None
        assert (call["queue"], call["caller"]) == ("hotel", "139****2222")
        held = await agent1.post("/api/routing/me/call/hold", json={"held": True})
        assert held.status_code == 200 and held.json()["mode"] == "held", held.text
        mark_caller = len(caller.rtp.packets)
        await agent.send_tone(AGENT, 400)
        assert tone_share(heard(caller, mark_caller), AGENT) < 0.1  # on hold: music only
        resumed = await agent1.post("/api/routing/me/call/hold", json={"held": False})
        assert resumed.status_code == 200 and resumed.json()["mode"] == "talking", resumed.text
    call_id = call["call_id"]

    # a second caller waits in the queue (001 is talking) when A dies without a word
    # (no release, no bye): B takes over once the lease lapses
    caller2 = await phone_on(b, "13922223333")
    opened.append(caller2)
    assert (await caller2.dial("4008001000")).status == 200
    await asyncio.sleep(0.5)
    await caller2.send_keys("2")
    await until(lambda: any(w for w in state(a).router.runner._waits), 10)
    await _die(a)
    took = await until(lambda: state(b).router is not None, 5)
    assert took < 3.0, f"takeover took {took:.2f} s"
    router_b, remote_b = state(b).router, state(b).router.voice

    # the conversation goes on, now B's to see to its end: 001 stays on the call
    await until(lambda: call_id in router_b.runner.active, 10)
    assert _state_of(router_b, "1001") == "on_call"
    mark_agent = len(agent.rtp.packets)
    await caller.send_tone(CALLER, 400)
    assert tone_share(heard(agent, mark_agent), CALLER) > 0.5
    # the waiting caller is offered to B's router instead of being lost (the flow
    # starts again for them)
    await until(lambda: any(leg.caller == "13922223333" for leg in remote_b.legs.values()), 10)
    await asyncio.sleep(0.5)
    await caller2.send_keys("2")

    # the first caller hangs up: B hangs up 001's phone, logs the end, 001 wraps up
    agent.answered.clear()
    caller.send(caller.in_dialog("BYE", cseq=2))
    await until(lambda: agent.hung_up.is_set(), 10)
    await until(lambda: _state_of(router_b, "1001") == "wrap_up", 5)
    await router_b.flush()
    async with signed_in(b, "agent1") as agent1:
        kinds = await call_events(agent1, call_id)
        for kind in ("arrived", "queued", "offered", "answered", "ended", "finished"):
            assert kind in kinds, kinds
        # 001 says ready to B: B's contact layer gives them the waiting caller
        ready = await agent1.put("/api/routing/me/state", json={"state": "ready"})
        assert ready.status_code == 200, ready.text
    await until(lambda: agent.answered.is_set(), 20)
    caller2.send(caller2.in_dialog("BYE", cseq=2))


async def test_a_voice_node_that_falls_silent_has_its_calls_ended_and_its_agent_freed(site: Site) -> None:
    a, b, opened = site
    router = state(a).router
    await agent_takes_a_call(a, b, opened)
    (call_id,) = [cid for cid, call in router.live.items() if call.bridge is not None]

    await _silence(b)  # B's process hangs: no heartbeat, no reply
    lost = await until(lambda: "node-b" not in router.voice.nodes, 5)
    assert lost < NODE_LOST_SECONDS + 1.0
    await until(lambda: call_id not in router.live, 5)
    await until(lambda: _state_of(router, "1001") != "on_call", 5)
    await router.flush()
    async with signed_in(a, "supervisor") as supervisor:
        kinds = await call_events(supervisor, call_id)
    assert "ended" in kinds and "finished" in kinds, kinds


async def test_after_redis_restarts_empty_a_router_takes_the_conversation_to_its_end(
    private_redis: PrivateRedis, site: Site
) -> None:
    a, b, opened = site
    agent, caller = await agent_takes_a_call(a, b, opened)
    call_id = next(cid for cid, call in state(a).router.live.items() if call.bridge is not None)

    private_redis.crash()  # gone, and back empty: no lease, no epoch
    await until(lambda: state(a).router is None, 3)  # A could not renew: it stepped down
    private_redis.start()
    await until(lambda: state(a).router is not None or state(b).router is not None, 15)
    router = state(a).router or state(b).router

    # the voice nodes found Redis again and handed the conversation to the router: it goes on
    await until(lambda: call_id in router.runner.active, 15)
    mark = len(agent.rtp.packets)
    await caller.send_tone(CALLER, 400)
    assert tone_share(heard(agent, mark), CALLER) > 0.5
    caller.send(caller.in_dialog("BYE", cseq=2))
    await until(lambda: agent.hung_up.is_set(), 10)
    await until(lambda: _state_of(router, "1001") != "on_call", 5)  # wrap-up, then ready
    await router.flush()
    async with signed_in(a, "supervisor") as supervisor:
        lines = await call_lines(supervisor, call_id)
    kinds = [line["kind"] for line in lines]
    assert kinds.count("finished") == 1 and "ended" in kinds, kinds
    ended = next(line for line in reversed(lines) if line["kind"] == "ended")
    assert ended["queue"] == "hotel", ended  # the queue it was answered from, as before


def _state_of(router: Any, extension: str) -> str:
    seat = next(seat for seat in router.runner.seats.values() if seat.extension == extension)
    return str(router.runner.presence.agent(seat.agent_id).state.value)


async def _die(app: FastAPI) -> None:
    """What a killed process leaves: the lease unrenewed, the node silent, its router gone."""
    cluster = state(app).cluster
    await tasks.stop(cluster.leadership._task)
    cluster.leadership._task = None
    cluster.leadership.epoch = None  # stop() must not release the lease either
    await _deposed(state(app))  # its contact layer is gone with it
    await _silence(app)


async def _silence(app: FastAPI) -> None:
    server = state(app).cluster.server
    await tasks.stop(server._heartbeat, server._listener)
