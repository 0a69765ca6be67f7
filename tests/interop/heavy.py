"""Heavy requests against a node while callers listen to prompts (issue 17): the parts shared by
tests/interop/test_heavy_requests.py and benchmarks/heavy_requests.py.

- `Node`: `hotline serve` as a real process (uvicorn on uvloop, API + voice + jobs), on a
  database already migrated and filled.
- `prepare`: a flow that plays a prompt over and over, reached at BENCH_NUMBER on the demo trunk.
- `listeners`: SIPp callers that stay on the line; their SDP sends the prompt to
  tests/interop/pacing.py, which times every frame on arrival.
- `Load`: clients that fire the heaviest requests there are, several at a time, until stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import DEMO_PASSWORD, free_port

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = Path(__file__).parent / "scenarios"
BENCH_NUMBER = "4008009000"
BENCH_FLOW = {
    "name": "bench",
    "title": "提示音循环",
    "start": "notice",
    "nodes": {
        "notice": {
            "type": "play",
            "say": {"text": "您好，欢迎致电英冠酒店集团，现在是测试提示音，请您耐心收听，谢谢。"},
            "next": "notice",
        }
    },
}


@dataclass
class Node:
    """`hotline serve` on free ports; `url` for HTTP, `sip_port` for calls."""

    database_url: str
    workdir: Path
    port: int = field(default_factory=free_port)
    sip_port: int = field(default_factory=free_port)
    executable: str = str(Path(sys.executable).with_name("hotline"))
    """The `hotline` command to run (benchmarks/heavy_requests.py --hotline compares versions)."""
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.workdir / "node.log"

    async def start(self, *, niceness: int = 0, **settings: str) -> None:
        rtp = random.randrange(20000, 50000, 1000)  # several nodes may run at once
        env = {
            **os.environ,
            "HOTLINE_DATABASE_URL": self.database_url,
            "HOTLINE_SIP_PORT": str(self.sip_port),
            "HOTLINE_RTP_PORTS": f"[{rtp}, {rtp + 999}]",
            "HOTLINE_ROLES": '["api", "voice", "jobs"]',
            "HOTLINE_LOG_LEVEL": "WARNING",
            "HOTLINE_PROMPT_CACHE": str(self.workdir / "prompts"),
            "HOTLINE_RECORDINGS_DIR": str(self.workdir / "recordings"),
            "HOTLINE_FRONTEND_DIST": "/nonexistent",
            "HOTLINE_AUDIT_KEY_FILE": str(self.workdir / "audit" / "signing.key"),
            "HOTLINE_AUDIT_KEYRING_FILE": str(self.workdir / "audit" / "keyring.json"),
            "HOTLINE_AUDIT_CHECKPOINT_FILE": str(self.workdir / "audit" / "checkpoints.jsonl"),
            "HOTLINE_RATE_LIMIT_LOGIN": "10000",  # the tests sign in from 127.0.0.1 as often as they need
            **{f"HOTLINE_{key.upper()}": value for key, value in settings.items()},
        }
        env.pop("HOTLINE_REDIS_URL", None)
        command = [
            self.executable,
            "serve",
            "--no-migrate",
            "--port",
            str(self.port),
        ]
        if niceness:
            command = ["nice", "-n", str(niceness), *command]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        async with httpx.AsyncClient(base_url=self.url) as http:
            for _ in range(600):
                if self.process.poll() is not None:
                    raise RuntimeError(f"the node exited:\n{self.log.read_text()[-3000:]}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get("/readyz")).status_code == 200:
                        return
                await asyncio.sleep(0.2)
        raise RuntimeError("the node did not become ready in 120 s")

    async def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            for _ in range(100):
                if self.process.poll() is not None:
                    break
                await asyncio.sleep(0.1)
            else:
                self.process.kill()

    def stalls(self) -> int:
        """Event-loop stalls the node logged (lag of 100 ms or more)."""
        return self.log.read_text(errors="replace").count("event loop was blocked")

    def loop_clocks(self) -> tuple[float, float, float]:
        """(wall, seconds on a CPU, seconds waiting for one) of the node's main thread, its loop."""
        assert self.process is not None
        return self._clocks(self.process.pid)

    def pacer_clocks(self) -> tuple[float, float, float] | None:
        """The same for the node's media pacer process (None before it started)."""
        assert self.process is not None
        for proc in Path("/proc").iterdir():
            with contextlib.suppress(OSError):
                status = (proc / "status").read_text()
                if "Name:\thotline-pacer\n" in status and f"PPid:\t{self.process.pid}\n" in status:
                    ran, waited, _ = (proc / "schedstat").read_text().split()
                    return time.monotonic(), int(ran) / 1e9, int(waited) / 1e9
        return None

    def _clocks(self, tid: int) -> tuple[float, float, float]:
        assert self.process is not None
        ran, waited, _ = Path(f"/proc/{self.process.pid}/task/{tid}/schedstat").read_text().split()
        return time.monotonic(), int(ran) / 1e9, int(waited) / 1e9


async def signed_in(node: Node, username: str) -> httpx.AsyncClient:
    http = httpx.AsyncClient(base_url=node.url, timeout=120)
    answer = await http.post("/api/auth/login", json={"username": username, "password": DEMO_PASSWORD})
    answer.raise_for_status()
    return http


async def prepare(node: Node) -> None:
    """The looping prompt flow, published and reachable at BENCH_NUMBER through the demo trunk."""
    admin = await signed_in(node, "admin")
    try:
        draft = await admin.put("/api/routing/flows/bench/draft", json={"definition": BENCH_FLOW})
        draft.raise_for_status()
        (await admin.post("/api/routing/flows/bench/publish")).raise_for_status()
        trunks = (await admin.get("/api/telephony/trunks")).json()
        trunk = next(t for t in trunks if "4008001000" in str(t))
        did = {"number": BENCH_NUMBER, "trunk_id": trunk["id"], "entry_point": "bench"}
        (await admin.post("/api/telephony/dids", json=did)).raise_for_status()
    finally:
        await admin.aclose()


@dataclass
class Listeners:
    """SIPp callers and the pacing receiver their media goes to."""

    sipp: asyncio.subprocess.Process
    receiver: asyncio.subprocess.Process
    workdir: Path
    calls: int

    async def finish(self) -> tuple[dict[str, Any], dict[str, int]]:
        """Wait for the receiver's figures and SIPp's end; (pacing, {successful, failed, exit})."""
        await self.receiver.wait()
        pacing = json.loads((self.workdir / "pacing.json").read_text())
        code = await self.sipp.wait()
        counts = {"exit": code, "successful": -1, "failed": -1}
        stats = sorted(self.workdir.glob("*_.csv"))
        if stats:
            rows = [line.split(";") for line in stats[0].read_text().splitlines() if line.strip()]
            for key, column in (("successful", "SuccessfulCall(C)"), ("failed", "FailedCall(C)")):
                counts[key] = int(rows[-1][rows[0].index(column)])
        return pacing, counts

    async def kill(self) -> None:
        for process in (self.sipp, self.receiver):
            if process.returncode is None:
                process.kill()
                await process.wait()


async def listeners(node: Node, calls: int, warmup: float, seconds: float) -> Listeners:
    """`calls` callers on BENCH_NUMBER, all up within the warm-up, on the line for warm-up +
    `seconds` + a little, then hanging up; the receiver judges the last `seconds`."""
    workdir = Path(tempfile.mkdtemp(prefix="hotline-listen-"))
    media = free_port() & ~1
    scenario = (SCENARIOS / "call_listen.xml").read_text().replace("@MEDIA_PORT@", str(media))
    (workdir / "call_listen.xml").write_text(scenario)
    receiver = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.interop.pacing", str(media), str(warmup), str(seconds),
        str(workdir / "pacing.json"), cwd=ROOT,
    )  # fmt: skip
    await asyncio.sleep(0.5)
    rate = max(1, round(calls / max(1.0, warmup / 2)))  # all calls up in half the warm-up
    hold_ms = int((warmup + seconds + 3) * 1000)
    sipp = await asyncio.create_subprocess_exec(
        "sipp", f"127.0.0.1:{node.sip_port}", "-sf", str(workdir / "call_listen.xml"), "-s", BENCH_NUMBER,
        "-m", str(calls), "-l", str(calls), "-r", str(rate), "-d", str(hold_ms), "-i", "127.0.0.1",
        "-p", str(free_port()), "-nostdin", "-trace_stat", "-fd", "1",
        "-timeout", f"{int(warmup + seconds + 60)}s",
        cwd=workdir, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    return Listeners(sipp, receiver, workdir, calls)


# ---------------------------------------------------------------- the heaviest requests there are


def _staffing_body(rng: random.Random) -> dict[str, float]:
    """Random staffing questions within the schema's bounds, the corners more often than not."""

    def pick(low: float, high: float) -> float:
        return rng.choice([low, high, rng.uniform(low, high), rng.uniform(low, high)])

    body = {
        "calls_per_hour": pick(0.1, 100_000), "handle_seconds": pick(1, 14_400),
        "service_level": pick(0.01, 0.999), "target_seconds": pick(0, 3600), "shrinkage": pick(0, 0.9),
    }  # fmt: skip
    if rng.random() < 0.6:
        body["patience_seconds"] = pick(1, 3600)
    return body


def _customers_csv(rows: int, rng: random.Random) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["姓名", "电话", "城市", "等级"])
    for n in range(rows):
        writer.writerow([f"测试{n}", f"139{rng.randrange(10**8):08d}", "上海", "standard"])
    return text.getvalue().encode("utf-8")


@dataclass
class Load:
    """`concurrency` clients firing heavy requests until `stop()`; latency and status per kind."""

    node: Node
    concurrency: int = 6
    only: tuple[str, ...] = ()
    """Kinds of request to send (all when empty)."""
    seed: int = 17
    statuses: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _clients: list[httpx.AsyncClient] = field(default_factory=list)

    async def start(self) -> None:
        supervisor, teamlead, admin = [
            await signed_in(self.node, name) for name in ("supervisor", "teamlead", "admin")
        ]
        self._clients = [supervisor, teamlead, admin]
        orders = (await supervisor.get("/api/travel/orders", params={"limit": 500})).json()["items"]
        printable = ("signing", "signed", "reviewed", "return_visit", "closed")
        signed = [order["id"] for order in orders if order["state"] in printable]
        order_ids = [order["id"] for order in orders]
        rng = random.Random(self.seed)
        upload = _customers_csv(5000, rng)
        kinds: dict[str, Callable[[random.Random], Awaitable[httpx.Response]]] = {
            "staffing": lambda r: teamlead.post("/api/routing/staffing", json=_staffing_body(r)),
            "export-xlsx": lambda r: supervisor.get(
                "/api/customers/export", params={"format": "xlsx", "include_pii": "true"}
            ),
            "export-csv": lambda r: supervisor.get("/api/customers/export"),
            "import-check": lambda r: supervisor.post(
                "/api/customers/import", files={"file": ("big.csv", upload, "text/csv")}
            ),
            "contract-pdf": lambda r: supervisor.get(f"/api/travel/orders/{r.choice(signed)}/contract.pdf"),
            "itinerary-pdf": lambda r: supervisor.get(
                f"/api/travel/orders/{r.choice(order_ids)}/itinerary.pdf"
            ),
            "search": lambda r: supervisor.get("/api/customers", params={"q": r.choice("13张王李")}),
            "audit-page": lambda r: admin.get("/api/audit", params={"limit": r.choice([100, 500])}),
            "tickets-page": lambda r: supervisor.get("/api/tickets", params={"scope": "all", "limit": 500}),
            "orders-page": lambda r: supervisor.get("/api/travel/orders", params={"limit": 500}),
            "reservations": lambda r: supervisor.get("/api/reservations", params={"hotel_id": 1}),
        }
        if not order_ids:
            del kinds["itinerary-pdf"]
        if not signed:
            del kinds["contract-pdf"]
        if self.only:
            kinds = {kind: send for kind, send in kinds.items() if kind in self.only}
        for n in range(self.concurrency):
            self._tasks.append(asyncio.create_task(self._client(kinds, random.Random(self.seed + n))))

    async def _client(
        self, kinds: dict[str, Callable[[random.Random], Awaitable[httpx.Response]]], rng: random.Random
    ) -> None:
        names = sorted(kinds)
        while not self._stopping.is_set():
            kind = rng.choice(names)
            started = time.monotonic()
            try:
                status = (await kinds[kind](rng)).status_code
            except httpx.HTTPError:
                status = 0
            self.statuses[kind][status] += 1
            self.latencies[kind].append(time.monotonic() - started)

    async def stop(self) -> None:
        self._stopping.set()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for client in self._clients:
            await client.aclose()

    def report(self) -> dict[str, dict[str, object]]:
        out: dict[str, dict[str, object]] = {}
        for kind, latencies in sorted(self.latencies.items()):
            ordered = sorted(latencies)
            out[kind] = {
                "requests": len(ordered),
                "statuses": dict(self.statuses[kind]),
                "p50_s": round(ordered[len(ordered) // 2], 3),
                "max_s": round(ordered[-1], 3),
            }
        return out


@contextlib.asynccontextmanager
async def heavy_load(node: Node, concurrency: int, only: tuple[str, ...] = ()) -> AsyncIterator[Load]:
    load = Load(node, concurrency, only)
    await load.start()
    try:
        yield load
    finally:
        await load.stop()
