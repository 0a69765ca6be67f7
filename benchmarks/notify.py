"""Outbox throughput (issue 7's benchmark).

    uv run python benchmarks/notify.py                                             # SQLite file
    uv run python benchmarks/notify.py --database-url postgresql+asyncpg://…/db    # PostgreSQL

N messages are queued (the idempotent `enqueue` of the rules, one transaction per 500), then one
sender drains the outbox: claim with a compare-and-set, hand over, record the outcome per
message. Reported: messages queued per second and sent per second, to the `log` gateway (the
issue's floor: 500/s) and to a real SMTP server on loopback (aiosmtpd), and exactly-once checked
from the database (every message sent once, none left) and, for SMTP, from what the server got.
Each run starts from a fresh database. One process.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import time
from email.parser import BytesHeaderParser
from typing import Any

from aiosmtpd.controller import Controller
from fresh_db import fresh  # benchmarks/fresh_db.py
from sqlalchemy import func, select

from hotline import domains
from hotline.core.config import Settings
from hotline.core.context import Actor, Context
from hotline.core.events import InProcessBus
from hotline.core.logging import configure_logging
from hotline.notify import defaults
from hotline.notify.models import GatewaySetting, Message
from hotline.notify.outbox import Sender, enqueue
from hotline.notify.templates import live


class Count:
    def __init__(self) -> None:
        self.ids: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.ids.append(str(BytesHeaderParser().parsebytes(envelope.content)["Message-ID"]))
        return "250 OK"


async def one_run(url: str, count: int, gateway: str, smtp_port: int, server: Count) -> tuple[float, float]:
    db = await fresh(url)
    ctx = Context(Settings(database_url=url), db, InProcessBus(), Actor.system("bench"))
    await defaults.load(ctx)
    if gateway == "smtp":
        async with ctx.write() as tx:
            tx.session.add(
                GatewaySetting(channel="email", kind="smtp", config={"host": "127.0.0.1", "port": smtp_port})
            )
    server.ids.clear()
    started = time.perf_counter()
    for first in range(0, count, 500):
        async with ctx.write() as tx:
            template = await live(tx.session, "reservation.confirmed.email")
            assert template is not None
            for n in range(first, min(first + 500, count)):
                await enqueue(
                    tx.session, key=f"bench:{n}", template=template, values={"number": str(n)},
                    recipient=f"guest{n}@example.cn", customer_id=None, ref=f"bench:{n}",
                )  # fmt: skip
    queued = count / (time.perf_counter() - started)
    sender = Sender(ctx, node_id="bench", batch=1000, concurrency=32 if gateway == "log" else 8)
    started = time.perf_counter()
    while await sender.send_due():
        pass
    sent = count / (time.perf_counter() - started)
    await sender.stop()
    async with ctx.read() as session:
        done = dict(
            (await session.execute(select(Message.status, func.count()).group_by(Message.status))).all()
        )
    expected = {"delivered": count} if gateway == "log" else {"sent": count}
    assert done == expected, done
    if gateway == "smtp":
        assert len(server.ids) == count and len(set(server.ids)) == count, "an e-mail went twice"
    await db.dispose()
    return queued, sent


async def main(url: str, count: int, runs: int) -> None:
    configure_logging(Settings(database_url=url, log_level="WARNING"))
    domains.load_models()
    domains.load_job_handlers()
    server = Count()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    controller = Controller(server, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        for gateway in ("log", "smtp"):
            results = [await one_run(url, count, gateway, port, server) for _ in range(runs)]
            print(f"{url.split('://')[0]}, {count} messages, {gateway} gateway, {runs} runs: "
                  f"queued {statistics.median(r[0] for r in results):,.0f}/s, "
                  f"sent {statistics.median(r[1] for r in results):,.0f}/s (median); "
                  f"runs {', '.join(f'{r[1]:,.0f}' for r in results)}; exactly once: yes")  # fmt: skip
    finally:
        controller.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default="sqlite+aiosqlite:////tmp/hotline-notify-bench.db")
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.database_url, args.messages, args.runs))
