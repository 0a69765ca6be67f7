"""Rebuilding the agents' desks after a restart (issue 17): every desktop reconnects at once and
asks for its desk (`GET /api/routing/me/desk`), rebuilt from the event log.

    uv run python benchmarks/desk_rebuild.py [--agents 200] [--calls 8] [--history 200000] [--runs 3]

One Hotline app (uvicorn, SQLite, an API node: no voice role, so everything comes from the log)
with `--agents` agents, each of whom took `--calls` calls in the last hours (arrival, IVR, queue,
offer, answer, end; the newest and all but two wrapped up) from a customer's registered number, on
top of `--history` older log lines. A second process signs every agent in and asks for the desks,
as their browsers do on `live.hello` after a reload or a restart.
Each run first asks every desk in turn (one agent reloading: p50 / p99 of the answer), then all
at once (p50, and when the last desk arrived). Each desk must hold the two calls awaiting a
wrap-up and the last one. Median of the runs.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import socket
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy import insert

from hotline import domains
from hotline.admin.schemas import UserCreate
from hotline.admin.users import create_user
from hotline.api.app import create_app
from hotline.contact.models import ContactEvent
from hotline.core.clock import utcnow
from hotline.core.config import Settings
from hotline.core.context import Actor, Context
from hotline.core.db import Database
from hotline.core.events import InProcessBus
from hotline.core.logging import configure_logging
from hotline.core.migrate import upgrade
from hotline.crm import service as crm
from hotline.crm.schemas import CustomerIn, PhoneIn

PASSWORD = "desk-bench-password"  # noqa: S105 - made-up benchmark users


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


Run = tuple[list[float], list[float], float, int]
"""One desk at a time (sorted seconds), all at once (sorted seconds), the storm's length, the
fewest calls found on a desk."""


def browsers(base: str, agents: int, runs: int, results: Any) -> None:
    """Every agent signed in (a session each); per run, each asks for their desk in turn (a
    reload), then all at once (a restart)."""

    async def run() -> list[Run]:
        limits = httpx.Limits(max_connections=agents)
        clients = [httpx.AsyncClient(base_url=base, limits=limits, timeout=120) for _ in range(agents)]
        for n, http in enumerate(clients):
            login = await http.post(
                "/api/auth/login", json={"username": f"desk{n:03d}", "password": PASSWORD}
            )
            login.raise_for_status()

        async def ask(http: httpx.AsyncClient) -> tuple[float, int]:
            started = time.perf_counter()
            answer = await http.get("/api/routing/me/desk")
            answer.raise_for_status()
            return time.perf_counter() - started, len(answer.json()["calls"])

        out: list[Run] = []
        for _ in range(runs):
            alone = [await ask(http) for http in clients]
            started = time.perf_counter()
            storm = await asyncio.gather(*(ask(http) for http in clients))
            took = time.perf_counter() - started
            fewest = min(n for _, n in alone + storm)
            out.append((sorted(t for t, _ in alone), sorted(t for t, _ in storm), took, fewest))
            await asyncio.sleep(1)
        for http in clients:
            await http.aclose()
        return out

    try:
        results.put(asyncio.run(run()))
    except Exception as exc:  # say why rather than leave the app waiting
        results.put(exc)


def pct(sorted_seconds: list[float], share: float) -> float:
    return sorted_seconds[max(0, int(len(sorted_seconds) * share) - 1)] * 1000


async def fill(ctx: Context, agents: int, calls: int, history: int) -> None:
    ids = []
    for n in range(agents):
        user = await create_user(ctx, UserCreate(username=f"desk{n:03d}", display_name=f"坐席{n}",
                                                 password=PASSWORD, roles=["agent"]))  # fmt: skip
        await crm.create(ctx, CustomerIn(name=f"客户{n}", phones=[PhoneIn(number=f"1390000{n:04d}")]))
        ids.append(user.id)
    now = utcnow()
    old = now - timedelta(days=20)
    rows: list[dict[str, object]] = [
        {"at": old + timedelta(seconds=n), "kind": "ivr", "call_id": f"old-{n // 10}", "agent_id": None,
         "queue": "hotel", "state": "", "detail": "welcome"}
        for n in range(history)
    ]  # fmt: skip
    for n, agent in enumerate(ids):
        for c in reversed(range(calls)):  # oldest first, as the journal appends them
            call_id, at = f"c{n}-{c}", now - timedelta(minutes=5 + 60 * c)
            lines = [
                ("arrived", None, f"1390000{n:04d} → 4008001000"),
                ("identified", None, "known"),
                ("ivr", None, "welcome"),
                ("ivr", None, "to_agent"),
                ("queued", None, ""),
                ("offered", agent, "offered to bench"),
                ("answered", agent, ""),
                ("ended", agent, ""),
            ]
            if c not in (1, 2):  # two calls still await their wrap-up
                lines.append(("wrapped", agent, "咨询: "))
            rows += [{"at": at + timedelta(seconds=i), "kind": kind, "call_id": call_id, "agent_id": who,
                      "queue": "hotel", "state": "", "detail": detail}
                     for i, (kind, who, detail) in enumerate(lines)]  # fmt: skip
    async with ctx.db.write() as session:
        for start in range(0, len(rows), 5000):
            await session.execute(insert(ContactEvent), rows[start : start + 5000])


async def main(agents: int, calls: int, history: int, runs: int) -> None:
    configure_logging(Settings(log_level="WARNING"))
    domains.load_models()
    folder = Path(tempfile.mkdtemp())
    url = f"sqlite+aiosqlite:///{folder / 'desk.db'}"
    settings = Settings(database_url=url, roles=["api"], argon2_time_cost=1, argon2_memory_kib=1024,
                        log_level="WARNING", frontend_dist=folder / "none",
                        rate_limit_login=0)  # type: ignore[call-arg]  # fmt: skip  # all sign in from 127.0.0.1
    db = Database(url)
    await upgrade(db)
    await fill(Context(settings, db, InProcessBus(), Actor.system("bench")), agents, calls, history)
    await db.dispose()
    app = create_app(settings)
    port = free_port()
    # the sign-ins take a while: keep their connections open for the storm
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", timeout_keep_alive=300)
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
        await asyncio.sleep(0.05)
    spawn = multiprocessing.get_context("spawn")
    results = spawn.Queue()
    clients = spawn.Process(target=browsers, args=(f"http://127.0.0.1:{port}", agents, runs, results))
    clients.start()
    runs_out: list[Run] | Exception = await asyncio.get_running_loop().run_in_executor(None, results.get)
    clients.join()
    server.should_exit = True
    await serving
    if isinstance(runs_out, Exception):
        raise runs_out
    for alone, storm, took, fewest in runs_out:
        one = f"one desk p50 {pct(alone, 0.5):.0f} ms, p99 {pct(alone, 0.99):.0f} ms"
        storm_ = f"{agents} at once p50 {pct(storm, 0.5):.0f} ms, all in {took * 1000:.0f} ms"
        print(f"  run: {one}; {storm_}; fewest calls on a desk {fewest}")
        assert fewest == 3, f"a desk held {fewest} calls, not the two awaiting a wrap-up and the last one"
    one50 = statistics.median(pct(r[0], 0.5) for r in runs_out)
    one99 = statistics.median(pct(r[0], 0.99) for r in runs_out)
    all50 = statistics.median(pct(r[1], 0.5) for r in runs_out)
    took = statistics.median(r[2] for r in runs_out) * 1000
    print(f"{calls} calls per agent, {history} older log lines, {runs} runs (median of runs):\n"
          f"  one desk (a reload): p50 {one50:.0f} ms, p99 {one99:.0f} ms (floor: < 2000 ms)\n"
          f"  {agents} desks at once (a restart): p50 {all50:.0f} ms, the last in {took:.0f} ms")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--calls", type=int, default=8)
    parser.add_argument("--history", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.agents, args.calls, args.history, args.runs))
