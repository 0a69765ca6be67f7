"""The outbox across nodes (issue 25): two nodes' senders, each with its own connections to the
same database, work the same outbox at once; every confirmation SMS reaches the carrier once."""

from __future__ import annotations

import asyncio
import os

import pytest

from hotline.core.context import Context
from hotline.core.db import Database
from hotline.notify import rules
from hotline.notify.outbox import Sender
from tests.conftest import Users
from tests.hotels.test_reservations import ids, stay
from tests.notify.conftest import Kannel
from tests.notify.test_delivery import sms_about

# nodes share PostgreSQL (an SQLite file is one machine's): the PostgreSQL run only
pytestmark = pytest.mark.skipif(
    "HOTLINE_TEST_DATABASE_URL" not in os.environ, reason="runs in the PostgreSQL run"
)


async def test_two_nodes_senders_at_once_send_each_message_once(
    seeded: Context, users: Users, served: str, kannel: Kannel
) -> None:
    admin, agent = await users("admin"), await users("agent1")
    sms = {"kind": "kannel", "secret": "kannel-secret",
           "config": {"url": kannel.sendsms_url, "username": "hotline", "dlr_base": served}}  # fmt: skip
    assert (await admin.put("/api/notify/gateways/sms", json=sms)).status_code == 200
    zhang = (await agent.get("/api/customers", params={"q": "88000001"})).json()[0]
    numbers = []
    for n in range(6):
        booking = {**await ids(seeded), **stay(5 + n, 1), "customer_id": zhang["id"], "guest_name": "张伟",
                   "guest_phone": "13800138000", "rooms": 1, "guests": 1}  # fmt: skip
        made = await agent.post("/api/reservations", json=booking)
        assert made.status_code == 201, made.text
        numbers.append(made.json()["number"])

    other = Database(seeded.settings.database_url)  # the second node's own pool
    node_b = Context(seeded.settings, other, seeded.bus, seeded.actor)
    senders = [
        Sender(ctx, node_id=name, handlers=rules.handlers())
        for ctx, name in ((seeded, "node-a"), (node_b, "node-b"))
    ]
    try:
        for _ in range(3):
            await asyncio.gather(*(sender.run_once() for sender in senders))
    finally:
        for sender in senders:
            await sender.stop()
        await other.dispose()

    for number in numbers:
        texts = await sms_about(kannel, number)
        assert len(texts) == 1, (number, texts)
