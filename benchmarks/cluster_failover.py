"""Failover times of a cluster's contact layer, with real processes on loopback.

Two `hotline serve` voice nodes (`HOTLINE_CLUSTER=true`) share PostgreSQL and Redis. Each run:

1. **The router's node dies**: `kill -9` the node holding the router's lease; the time until the
   other node has taken the lease, started the site's contact layer and announced itself (the
   moment other nodes can forward to it), then a call to it answered by the IVR as a check.
2. **A voice node dies**: a caller sits in the IVR on the node that is not the router; `kill -9`
   that node; the time until the router has written the call's end (`finished`) to the event log.

    uv run python benchmarks/cluster_failover.py --database postgresql+asyncpg://…/failover \\
        --redis redis://127.0.0.1:6379/5 --runs 5

The database is emptied, migrated and loaded with the demo data first. Figures: median of the runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import redis.asyncio as redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import free_port  # noqa: E402
from tests.voice.softphone import Softphone  # noqa: E402


class Node:
    def __init__(self, name: str, env: dict[str, str], folder: Path) -> None:
        self.name, self.folder = name, folder
        self.http, self.sip = free_port(), free_port()
        self.env = {
            **env,
            "HOTLINE_NODE_ID": name,
            "HOTLINE_PORT": str(self.http),
            "HOTLINE_SIP_PORT": str(self.sip),
            "HOTLINE_RTP_PORTS": json.dumps(
                [20000 + 2000 * (name == "node-b"), 21998 + 2000 * (name == "node-b")]
            ),
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = open(self.folder / f"{self.name}.log", "ab")  # noqa: SIM115 - the child keeps it
        self.process = subprocess.Popen(
            ["hotline", "serve", "--no-migrate"], env=self.env, cwd=ROOT, stdout=log, stderr=log
        )

    async def ready(self) -> bool:
        try:
            async with httpx.AsyncClient(timeout=1) as http:
                return (await http.get(f"http://127.0.0.1:{self.http}/readyz")).status_code == 200
        except httpx.HTTPError:
            return False

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()
            self.process = None


async def router_of(client: redis.Redis, site: str) -> str | None:
    raw = await client.get(f"hotline:{site}:router:address")
    return json.loads(raw)["node"] if raw else None


async def until(check: object, seconds: float, every: float = 0.005) -> float:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        result = check()  # type: ignore[operator]
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return time.monotonic() - started
        await asyncio.sleep(every)
    raise TimeoutError


async def answered(node: Node, caller: str) -> Softphone:
    phone = await Softphone.open(caller, "", node.sip)
    reply = await phone.dial("4008001000")
    assert reply.status == 200, reply.status
    return phone


def prepare(env: dict[str, str]) -> None:
    subprocess.run(["hotline", "db", "upgrade"], env=env, check=True, cwd=ROOT, capture_output=True)
    subprocess.run(["hotline", "demo-data"], env=env, check=True, cwd=ROOT, capture_output=True)


async def run(args: argparse.Namespace) -> None:
    folder = Path(tempfile.mkdtemp(prefix="hotline-failover-"))
    env = {
        **os.environ,
        "HOTLINE_DATABASE_URL": args.database,
        "HOTLINE_REDIS_URL": args.redis,
        "HOTLINE_CLUSTER": "true",
        "HOTLINE_ROLES": '["api", "voice"]',
        "HOTLINE_LOG_LEVEL": "WARNING",
        "HOTLINE_RECORDINGS_DIR": str(folder / "recordings"),
        "HOTLINE_AUDIT_KEY_FILE": str(folder / "audit" / "signing.key"),
        "HOTLINE_AUDIT_KEYRING_FILE": str(folder / "audit" / "keyring.json"),
        "HOTLINE_AUDIT_CHECKPOINT_FILE": str(folder / "audit" / "checkpoints.jsonl"),
    }
    env.pop("HOTLINE_TEST_DATABASE_URL", None)
    engine = create_async_engine(args.database)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await asyncio.to_thread(prepare, env)
    client = redis.from_url(args.redis)
    takeovers, losses = [], []
    for run_number in range(args.runs):
        site = f"bench-{os.getpid()}-{run_number}"
        env["HOTLINE_CLUSTER_NAME"] = site
        nodes = {name: Node(name, env, folder) for name in ("node-a", "node-b")}
        for node in nodes.values():
            node.start()
        try:
            await until(lambda site=site: router_of(client, site), 60, every=0.1)
            await asyncio.sleep(2)  # both nodes up and heard
            leader = nodes[await router_of(client, site)]  # type: ignore[index]
            other = next(n for n in nodes.values() if n is not leader)

            leader.kill()
            took = await until(lambda site=site, name=other.name: _is(client, site, name), 10)
            phone = await answered(other, "13911112222")
            phone.close()
            takeovers.append(took)

            leader.start()  # back, as a voice node under the new router
            await until(leader.ready, 120, every=0.2)
            await asyncio.sleep(1.5)  # its heartbeats reach the router
            phone = await answered(leader, "13922223333")  # in the IVR, on the node to die
            since = time.time()
            await asyncio.sleep(0.5)
            leader.kill()
            lost = await until(lambda since=since: _finished_since(engine, since), 15, every=0.02)
            phone.close()
            losses.append(lost)
            print(
                f"run {run_number + 1}: router takeover {took * 1000:.0f} ms, "
                f"voice node's call ended {lost * 1000:.0f} ms"
            )
        finally:
            for node in nodes.values():
                node.stop()
    await client.aclose()
    await engine.dispose()
    print(
        f"median of {args.runs}: router takeover {statistics.median(takeovers) * 1000:.0f} ms "
        f"(max {max(takeovers) * 1000:.0f}), a dead voice node's call ended in the log "
        f"{statistics.median(losses) * 1000:.0f} ms (max {max(losses) * 1000:.0f})"
    )


async def _is(client: redis.Redis, site: str, name: str) -> bool:
    return await router_of(client, site) == name


async def _finished_since(engine: object, since: float) -> bool:
    async with engine.connect() as connection:  # type: ignore[attr-defined]
        found = await connection.scalar(
            text(
                "SELECT count(*) FROM contact_events WHERE kind = 'finished'"
                " AND at >= to_timestamp(:since) AT TIME ZONE 'UTC'"
            ),
            {"since": since},
        )
    return bool(found)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", required=True, help="a PostgreSQL URL of a database to empty and use")
    parser.add_argument("--redis", required=True, help="a Redis URL")
    parser.add_argument("--runs", type=int, default=5)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
