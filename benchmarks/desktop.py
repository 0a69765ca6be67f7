"""Screen-pop latency and wallboard fan-out (issue 8's benchmarks).

    uv run python benchmarks/desktop.py [--agents 200] [--rate 20] [--seconds 30] [--runs 3]
                                        [--screens 500]

One Hotline app (uvicorn, SQLite) serves `/api/live`; another process holds one WebSocket per
agent — 200 agents, each signed in with their own session — as 200 desktops would. The app then
offers calls at 20 per second to agents chosen at random, exactly as the router does on an offer
(a `routing.offered` event on the bus, which the live hub pushes to that agent's sockets). Each
desktop measures the time from the offer (the event's timestamp) to the message's arrival.
Reported: p50 / p99 / max over all offers, median of the runs; every offer must arrive once.

Wallboard: 500 screens (a supervisor's sessions) subscribe to the wallboard feed; the app computes
it once a second and pushes it to all of them. Each screen measures from the update's timestamp to
its arrival, over the same seconds; p50 / p99 over all updates received.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import random
import socket
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn
import websockets

from hotline import domains
from hotline.admin.schemas import UserCreate
from hotline.admin.users import create_user
from hotline.api.app import create_app
from hotline.contact.events import CallOffered
from hotline.core.config import Settings
from hotline.core.context import Actor, Context
from hotline.core.db import Database
from hotline.core.events import InProcessBus
from hotline.core.logging import configure_logging
from hotline.core.migrate import upgrade

PASSWORD = "desk-bench-password"  # noqa: S105 - made-up benchmark users


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def signed_in_sockets(base: str, usernames: list[str]) -> list[Any]:
    """A live socket per sign-in (one session each), as that many browser tabs."""
    async with httpx.AsyncClient(base_url=base) as http:
        cookies = []
        for username in usernames:
            login = await http.post("/api/auth/login", json={"username": username, "password": PASSWORD})
            login.raise_for_status()
            cookies.append(login.cookies["hotline_session"])
    url = base.replace("http", "ws") + "/api/live"
    return [
        await websockets.connect(url, additional_headers={"Cookie": f"hotline_session={c}"}) for c in cookies
    ]


def screens(base: str, count: int, seconds: float, results: Any, ready: Any) -> None:
    """Wallboards: `count` sockets of the supervisor, subscribed to the feed."""

    async def run() -> list[float]:
        latencies: list[float] = []
        sockets = await signed_in_sockets(base, ["wall"] * count)
        for ws in sockets:
            await ws.recv()
            await ws.send(json.dumps({"subscribe": "wallboard"}))
        ready.set()

        async def listen(ws: Any) -> None:
            async for raw in ws:
                arrived = time.time()
                message = json.loads(raw)
                if message["name"] == "routing.wallboard":
                    latencies.append(arrived - message["at"])

        tasks = [asyncio.create_task(listen(ws)) for ws in sockets]
        await asyncio.sleep(seconds)
        for task in tasks:
            task.cancel()
        for ws in sockets:
            await ws.close()
        return latencies

    results.put(asyncio.run(run()))


def desktops(base: str, count: int, expected: int, results: Any, ready: Any) -> None:
    """The browsers: one process, one socket per agent; report every offer's latency."""

    async def run() -> list[float]:
        latencies: list[float] = []
        sockets = await signed_in_sockets(base, [f"desk{n:03d}" for n in range(count)])
        for ws in sockets:
            assert json.loads(await ws.recv())["name"] == "live.hello"
        ready.set()

        async def listen(ws: Any) -> None:
            async for raw in ws:
                arrived = time.time()
                message = json.loads(raw)
                if message["name"] == "routing.offered":
                    sent = message["data"]["occurred_at"]
                    from datetime import datetime

                    latencies.append(arrived - datetime.fromisoformat(sent).timestamp())

        tasks = [asyncio.create_task(listen(ws)) for ws in sockets]
        deadline = time.monotonic() + 120
        while len(latencies) < expected and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.1)
        for task in tasks:
            task.cancel()
        for ws in sockets:
            await ws.close()
        return latencies

    results.put(asyncio.run(run()))


async def one_run(
    agents: int, rate: float, seconds: float, walls: int
) -> tuple[float, float, float, int, int, float, float, int]:
    folder = Path(tempfile.mkdtemp())
    url = f"sqlite+aiosqlite:///{folder / 'desk.db'}"
    settings = Settings(
        database_url=url,
        roles=["api"],
        argon2_time_cost=1,
        argon2_memory_kib=1024,
        log_level="WARNING",
        frontend_dist=folder / "none",
        rate_limit_login=0,  # every desktop signs in from 127.0.0.1
    )  # type: ignore[call-arg]
    db = Database(url)
    await upgrade(db)
    ctx = Context(settings, db, InProcessBus(), Actor.system("bench"))
    ids = []
    for n in range(agents):
        user = await create_user(ctx, UserCreate(username=f"desk{n:03d}", display_name=f"坐席{n}",
                                                 password=PASSWORD, roles=["agent"]))  # fmt: skip
        ids.append(user.id)
    await create_user(
        ctx, UserCreate(username="wall", display_name="大屏", password=PASSWORD, roles=["supervisor"])
    )
    await db.dispose()
    app = create_app(settings)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
        await asyncio.sleep(0.05)
    offers = int(rate * seconds)
    spawn = multiprocessing.get_context("spawn")
    results, ready = spawn.Queue(), spawn.Event()
    browsers = spawn.Process(
        target=desktops, args=(f"http://127.0.0.1:{port}", agents, offers, results, ready)
    )
    browsers.start()
    while not ready.is_set():  # noqa: ASYNC110 - a multiprocessing event, not an asyncio one
        await asyncio.sleep(0.1)
    bus = app.state.hotline.bus
    rng = random.Random(8)  # who gets the call
    started = time.monotonic()
    for n in range(offers):
        await asyncio.sleep(max(0.0, started + n / rate - time.monotonic()))
        offer = CallOffered(
            audience=[rng.choice(ids)], call_id=f"bench-{n}", queue="hotel", caller="138****8000",
            caller_class="known", customer=None, path=["welcome", "to_agent"], waited=3.0, reason="benchmark",
        )  # fmt: skip
        await bus.publish(offer)
    latencies: list[float] = await asyncio.get_running_loop().run_in_executor(None, results.get)
    browsers.join()
    wall_results, wall_ready = spawn.Queue(), spawn.Event()
    boards = spawn.Process(
        target=screens, args=(f"http://127.0.0.1:{port}", walls, 20.0, wall_results, wall_ready)
    )
    boards.start()
    wall: list[float] = await asyncio.get_running_loop().run_in_executor(None, wall_results.get)
    boards.join()
    server.should_exit = True
    await serving
    latencies.sort()
    wall.sort()
    p50 = latencies[len(latencies) // 2] * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    w50, w99 = wall[len(wall) // 2] * 1000, wall[int(len(wall) * 0.99) - 1] * 1000
    return p50, p99, latencies[-1] * 1000, len(latencies), offers, w50, w99, len(wall)


async def main(agents: int, rate: float, seconds: float, runs: int, walls: int) -> None:
    configure_logging(Settings(log_level="WARNING"))
    domains.load_models()
    domains.load_job_handlers()
    results = [await one_run(agents, rate, seconds, walls) for _ in range(runs)]
    for p50, p99, worst, got, sent, w50, w99, updates in results:
        print(f"  run: pop p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {worst:.1f} ms, {got}/{sent} offers "
              f"arrived; wallboard p50 {w50:.1f} ms, p99 {w99:.1f} ms over {updates} updates")  # fmt: skip
    p50, p99 = statistics.median(r[0] for r in results), statistics.median(r[1] for r in results)
    print(f"{agents} desktops, {rate:g} offers/s for {seconds:g} s, {runs} runs: "
          f"p50 {p50:.1f} ms, p99 {p99:.1f} ms (median of runs; floor p99 < 300 ms)")  # fmt: skip
    w50, w99 = statistics.median(r[5] for r in results), statistics.median(r[6] for r in results)
    print(f"{walls} wallboards: p50 {w50:.1f} ms, p99 {w99:.1f} ms (median of runs; floor p99 < 500 ms)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--rate", type=float, default=20)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--screens", type=int, default=500)
    args = parser.parse_args()
    asyncio.run(main(args.agents, args.rate, args.seconds, args.runs, args.screens))
