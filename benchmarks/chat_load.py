"""Web chat at issue 24's size on one node: 1,000 concurrent visitors and 200 agents.

    make frontend && uv run python benchmarks/chat_load.py [--visitors 1000] [--agents 200] [--messages 1000]

A real server (`hotline serve`, SQLite, as `make run` starts it) with the demo data plus `--agents`
agents (extensions 3001…, skill hotel at level 3, room for 4 conversations each, ready). Then:

1. `--visitors` visitors start a web chat on the 酒店预订 queue, one after another; 4 × agents of
   them are given to agents, the rest wait in line. The server's resident memory is read before
   and after: memory per open conversation (the rows' cache, the router, the visitors' tokens).
2. Every visitor's window then holds a long poll (`state?wait=25`, as the chat page does), in
   `--window-processes` (2) processes of their own, as a thousand browsers are not one loop; each
   window's first question at a random moment of the first 25 s (visitors open their pages at
   different moments), and the messages begin once all ask (the steady state).
   Message delivery: visitors send `--messages` messages, arriving at random (Poisson) at `--rate`
   (30) a second all together — a thousand visitors each writing every half minute; each is timed
   from the visitor's POST to the moment the `conversations` feed of a supervisor's live socket (what the
   agents' screens listen to) says it arrived.
   And back: the supervisor answers 200 of them, each timed from the POST to the visitor's window
   returning the answer.
3. Assignment after capacity frees: the supervisor closes 100 conversations held by agents, one at
   a time; each is timed from the close request to the feed saying the next waiting conversation
   was given to an agent (the ACD's decision, its conditional write and the push).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import websockets
from served import start_server, stop_server  # benchmarks/served.py

CAPACITY = 4


def prepare(agents: int) -> Any:
    def seed(env: dict[str, str]) -> None:
        os.environ.update(env)
        from hotline.admin import users
        from hotline.admin.schemas import UserCreate
        from hotline.cli.common import with_context
        from hotline.contact.agents.schemas import AgentProfileIn
        from hotline.contact.agents.service import save_profile
        from hotline.contact.models import ContactEvent
        from hotline.core.clock import utcnow
        from hotline.telephony import service as telephony
        from hotline.telephony.schemas import ExtensionCreate

        async def work(ctx: Any) -> None:
            for n in range(1, agents + 1):
                user = await users.create_user(
                    ctx,
                    UserCreate(
                        username=f"chat{n:03d}", display_name=f"坐席{n:03d}", password="bench-pass-123",  # noqa: S106 (made-up agents of a benchmark)
                        roles=["agent"], work_number=f"{500 + n}",
                    ),
                )  # fmt: skip
                await telephony.create_extension(
                    ctx,
                    ExtensionCreate(
                        number=str(3000 + n),
                        display_name=f"坐席{n:03d}",
                        password=f"sip{3000 + n}x",
                        user_id=user.id,
                    ),
                )
                await save_profile(ctx, user.id, AgentProfileIn(skills={"hotel": 3}, chat_capacity=CAPACITY))
                async with ctx.write() as tx:
                    tx.session.add(
                        ContactEvent(
                            at=utcnow(), kind="agent", agent_id=user.id, state="ready", detail="bench"
                        )
                    )

        asyncio.run(with_context(work, "bench:chat"))

    return seed


def fresh_database(url: str) -> None:
    """Drop and create the URL's PostgreSQL database (a run starts from the demo data alone)."""
    import asyncpg

    base, _, name = url.replace("+asyncpg", "").rpartition("/")

    async def remake() -> None:
        connection = await asyncpg.connect(base + "/postgres")
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{name}"')
        await connection.close()

    asyncio.run(remake())


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds() -> float:
    """CPU time of every PostgreSQL process of the machine (0 with SQLite)."""
    total = 0.0
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and (proc / "comm").read_text().strip() == "postgres":
                total += cpu_seconds(int(proc.name))
        except OSError:
            continue
    return total


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def hold_windows(base: str, chats: list[tuple[int, str]], reports: Any, stop: Any) -> None:
    """A process of visitors' windows: each holds a long poll as the chat page does and reports
    every agent's line it is given, with when (perf_counter is the machine's monotonic clock, the
    same in every process)."""

    async def run() -> None:
        limits = httpx.Limits(max_connections=60, max_keepalive_connections=60, keepalive_expiry=2.0)
        # spread over clients of 50 each: one httpx pool of a thousand connections costs a scan of
        # them per request
        pools = [
            httpx.AsyncClient(base_url=base, timeout=40, limits=limits) for _ in range(len(chats) // 50 + 1)
        ]
        last = {cid: 0 for cid, _ in chats}

        async def window(n: int, cid: int, token: str) -> None:
            # each visitor opened their page at some moment of the last 25 s, not all in one instant:
            # a thousand windows asking together every 25 s is a load test's artefact, not a site's
            await asyncio.sleep(random.uniform(0, 25))
            while True:
                query = {"after": last[cid], "wait": 25}
                polled = await pools[n % len(pools)].get(
                    "/api/chat/state", params=query, headers={"X-Chat-Token": token}
                )
                arrived = time.perf_counter()
                for line in polled.json()["lines"]:
                    last[cid] = max(last[cid], line["id"])
                    if not line["mine"]:
                        reports.put((cid, line["text"], arrived))

        tasks = [asyncio.create_task(window(n, cid, token)) for n, (cid, token) in enumerate(chats)]
        await asyncio.to_thread(stop.wait)  # a multiprocessing event: waited for off the loop
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for pool in pools:
            await pool.aclose()

    asyncio.run(run())


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


class Feed:
    """A supervisor's live socket on the `conversations` feed: waiters by conversation and action."""

    def __init__(self) -> None:
        self.waiters: list[tuple[int | None, str, asyncio.Future[float]]] = []
        self.new: asyncio.Queue[int] = asyncio.Queue()
        self.seen: set[int] = set()

    async def listen(self, ws: Any) -> None:
        async for raw in ws:
            arrived = time.perf_counter()
            message = json.loads(raw)
            if message.get("name") != "notify.conversation_changed":
                continue
            data = message["data"]
            cid, action = data["conversation_id"], data["action"]
            if action == "received" and cid not in self.seen:
                self.seen.add(cid)
                self.new.put_nowait(cid)
            for waiter in list(self.waiters):
                want, kind, future = waiter
                if kind == action and (want is None or want == cid) and not future.done():
                    future.set_result(arrived)
                    self.waiters.remove(waiter)
                    break

    def wait(self, cid: int | None, action: str) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiters.append((cid, action, future))
        return future


async def measure(
    base: str, pid: int, visitors: int, messages: int, rate: float, window_processes: int
) -> dict[str, float]:
    async with httpx.AsyncClient(base_url=base, timeout=30) as boss:
        login = await boss.post(
            "/api/auth/login", json={"username": "supervisor", "password": "hotline-demo"}
        )
        login.raise_for_status()
        for open_one in (await boss.get("/api/notify/conversations", params={"status": "open"})).json():
            await boss.post(f"/api/notify/conversations/{open_one['id']}/close")
        ws = await websockets.connect(
            base.replace("http", "ws") + "/api/live",
            additional_headers={"Cookie": f"hotline_session={login.cookies['hotline_session']}"},
        )
        await ws.recv()
        await ws.send(json.dumps({"subscribe": "conversations"}))
        feed = Feed()
        listener = asyncio.create_task(feed.listen(ws))
        await asyncio.sleep(0.5)
        before = rss_kib(pid)
        tokens: dict[int, str] = {}
        # idle connections dropped before the server's keep-alive ends (else a request may go out on
        # a connection the server is closing: a ReadError no browser would show)
        limits = httpx.Limits(max_connections=60, max_keepalive_connections=60, keepalive_expiry=2.0)
        async with httpx.AsyncClient(base_url=base, timeout=40, limits=limits) as public:
            for n in range(visitors):
                form = {
                    "name": f"访客{n}",
                    "topic": "hotel",
                    "text": f"第{n}位访客的问题",
                    "site": "yingguan-hotels",
                }
                started = await public.post("/api/chat/start", json=form)
                started.raise_for_status()
                cid = await asyncio.wait_for(feed.new.get(), 10)
                tokens[cid] = started.json()["token"]
            await asyncio.sleep(3)  # the assignments written
            after = rss_kib(pid)

            # every visitor's window holds a long poll, as ChatView does (state?after=…&wait=25), in
            # processes of their own: a thousand browsers are not one Python loop, and the loop that
            # times the messages must not wait behind a thousand windows' answers
            answers: dict[str, asyncio.Future[float]] = {}
            loop = asyncio.get_running_loop()

            def heard(report: tuple[int, str, float]) -> None:
                waiter = answers.get(report[1])
                if waiter is not None and not waiter.done():
                    waiter.set_result(report[2])

            spawn = multiprocessing.get_context("spawn")
            reports, stop = spawn.Queue(), spawn.Event()
            chats = list(tokens.items())
            windows = [
                spawn.Process(target=hold_windows, args=(base, chats[n::window_processes], reports, stop))
                for n in range(window_processes)
            ]
            for process in windows:
                process.start()

            def relay() -> None:
                while (report := reports.get()) is not None:
                    loop.call_soon_threadsafe(heard, report)

            relaying = loop.run_in_executor(None, relay)
            await asyncio.sleep(27)  # every window asking, at its own pace (the steady state)

            delivery: list[float] = []
            ids = list(tokens)
            rng = random.Random(7)

            async def say(n: int, at: float) -> None:
                await asyncio.sleep(max(0.0, at - time.perf_counter()))
                cid = ids[rng.randrange(len(ids))]
                arrived = feed.wait(cid, "received")
                sent = time.perf_counter()
                answer = await public.post(
                    "/api/chat/messages",
                    json={"text": f"补充说明 {n}"},
                    headers={"X-Chat-Token": tokens[cid]},
                )
                answer.raise_for_status()
                delivery.append(await asyncio.wait_for(arrived, 10) - sent)

            server_cpu, own_cpu, database_cpu = (
                cpu_seconds(pid),
                cpu_seconds(os.getpid()),
                postgres_cpu_seconds(),
            )
            windows_cpu = sum(cpu_seconds(w.pid) for w in windows if w.pid)
            start, at, planned = time.perf_counter() + 0.5, 0.0, []
            for _ in range(messages):  # Poisson arrivals at `rate` messages a second, all visitors together
                at += rng.expovariate(rate)
                planned.append(start + at)
            await asyncio.gather(*(say(n, at) for n, at in enumerate(planned)))
            spent = time.perf_counter() - start
            server_cpu = (cpu_seconds(pid) - server_cpu) / spent  # cores the server kept busy
            database_cpu = (postgres_cpu_seconds() - database_cpu) / spent
            client_cpu = (
                cpu_seconds(os.getpid())
                - own_cpu
                + sum(cpu_seconds(w.pid) for w in windows if w.pid)
                - windows_cpu
            ) / spent

            # an agent's answer reaching the visitor's window
            replies: list[float] = []
            for n, cid in enumerate(ids[: min(200, len(ids))]):
                text = f"您好，第{n}条回复"
                answers[text] = loop.create_future()
                sent = time.perf_counter()
                url = f"/api/notify/conversations/{cid}/messages"
                (await boss.post(url, json={"body": text})).raise_for_status()
                replies.append(await asyncio.wait_for(answers[text], 10) - sent)
            stop.set()
            for process in windows:
                process.join(30)
            reports.put(None)
            await relaying

        assigned: list[float] = []
        missed = 0
        listed = (await boss.get("/api/notify/conversations", params={"status": "open"})).json()
        held = [c["id"] for c in listed if c["assigned_to"] is not None]
        queues = (await boss.get("/api/routing/queues")).json()
        waiting = next(q for q in queues if q["name"] == "hotel")["live"]["chats"]["waiting"]
        for cid in held[: min(100, waiting)]:  # each close gives the freed room to one who waits
            given = feed.wait(None, "assigned")
            sent = time.perf_counter()
            (await boss.post(f"/api/notify/conversations/{cid}/close")).raise_for_status()
            try:
                assigned.append(await asyncio.wait_for(given, 10) - sent)
            except TimeoutError:  # counted, and what the freed agent looked like, for the record
                missed += 1
                holder = next(c for c in listed if c["id"] == cid)
                agents = (await boss.get("/api/routing/agents")).json()
                agent = next((a for a in agents if a["user_id"] == holder["assigned_to"]), {})
                still = (await boss.get("/api/routing/queues")).json()
                left = next(q for q in still if q["name"] == "hotel")["live"]["chats"]
                print(f"no assignment 10 s after closing {cid} of {holder['assigned_name']}: agent "
                      f"{ {k: agent.get(k) for k in ('state', 'chats', 'chat_capacity')} }, hotel {left}",
                      flush=True)  # fmt: skip
                socket = "closed" if listener.done() else "open"
                print(f"the supervisor's live socket is {socket}", flush=True)
                feed.waiters.clear()
                if missed >= 3:
                    break
        listener.cancel()
        await ws.close()
    return {
        "memory_per_conversation_kib": (after - before) / visitors,
        "delivery_p50_ms": pct(delivery, 0.5) * 1000,
        "delivery_p99_ms": pct(delivery, 0.99) * 1000,
        "answer_p50_ms": pct(replies, 0.5) * 1000,
        "answer_p99_ms": pct(replies, 0.99) * 1000,
        "assign_p50_ms": pct(assigned, 0.5) * 1000,
        "assign_p99_ms": pct(assigned, 0.99) * 1000,
        "assign_count": len(assigned),
        "assign_missed": missed,
        "server_cores_busy": server_cpu,
        "client_cores_busy": client_cpu,
        "database_cores_busy": database_cpu,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--visitors", type=int, default=1000)
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--database", default="", help="a PostgreSQL URL whose database is made afresh (default: SQLite)"
    )
    parser.add_argument("--rate", type=float, default=30.0, help="visitors' messages a second, all together")
    parser.add_argument(
        "--window-processes", type=int, default=2, help="processes holding the visitors' windows"
    )
    parser.add_argument("--server-log", type=Path, help="where the server writes its log (its loop's stalls)")
    args = parser.parse_args()
    results = []
    for run in range(args.runs):
        with tempfile.TemporaryDirectory() as folder:
            extra = {"HOTLINE_RATE_LIMIT_CHAT": "100000", "HOTLINE_RATE_LIMIT_LOGIN": "10000"}
            if args.database:
                fresh_database(args.database)
                extra["HOTLINE_DATABASE_URL"] = args.database
            process, base, _ = start_server(
                Path(folder), extra, prepare=prepare(args.agents), log=args.server_log
            )
            try:
                figures = asyncio.run(
                    measure(base, process.pid, args.visitors, args.messages, args.rate, args.window_processes)
                )
            finally:
                stop_server(process)
        results.append(figures)
        print(f"run {run + 1}: " + ", ".join(f"{k} {v:.1f}" for k, v in figures.items()), flush=True)
    print(
        f"median of {args.runs}: "
        + ", ".join(f"{k} {statistics.median(r[k] for r in results):.1f}" for k in results[0])
    )


if __name__ == "__main__":
    main()
