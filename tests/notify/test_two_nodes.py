"""Two sender processes on one database (PostgreSQL in CI, SQLite too) share a queue of 200
e-mails: every message is delivered exactly once."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from sqlalchemy import func, select

from hotline.core.config import Settings
from hotline.core.context import Context
from hotline.notify.models import Message
from hotline.notify.outbox import enqueue
from hotline.notify.templates import live
from tests.conftest import Users
from tests.notify.conftest import Inbox

HOTLINE = str(Path(sys.executable).with_name("hotline"))


async def test_two_sender_processes_deliver_each_message_exactly_once(
    seeded: Context, users: Users, settings: Settings, smtp: tuple[int, Inbox]
) -> None:
    port, inbox = smtp
    admin = await users("admin")
    await admin.put(
        "/api/notify/gateways/email", json={"kind": "smtp", "config": {"host": "127.0.0.1", "port": port}}
    )
    async with seeded.write() as tx:
        template = await live(tx.session, "reservation.confirmed.email")
        assert template is not None
        for n in range(200):
            await enqueue(
                tx.session, key=f"two-nodes:{n}", template=template, values={"number": f"{n:08d}"},
                recipient=f"guest{n}@example.cn", customer_id=None, ref=f"two-nodes:{n}",
            )  # fmt: skip
    env = {**os.environ, "HOTLINE_DATABASE_URL": settings.database_url, "HOTLINE_LOG_LEVEL": "WARNING"}
    env.pop("HOTLINE_TEST_DATABASE_URL", None)
    nodes = [
        await asyncio.create_subprocess_exec(HOTLINE, "notify", "drain", "--node", name, env=env,
                                             stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        for name in ("node-a", "node-b")
    ]  # fmt: skip
    outputs = [await node.communicate() for node in nodes]
    assert [node.returncode for node in nodes] == [0, 0], outputs
    received = [m["To"] for m in inbox.messages if str(m["To"]).startswith("guest")]
    assert len(received) == 200 and len(set(received)) == 200
    async with seeded.read() as session:
        sent = await session.scalar(
            select(func.count(Message.id)).where(Message.key.like("two-nodes:%"), Message.status == "sent")
        )
    assert sent == 200
