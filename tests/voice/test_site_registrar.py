"""The site's registrar (voice/sip/site.py) on a real Redis: a phone registered on one voice node
is reachable from every other at once, gone from all when it unregisters; a challenge from one
node is answered to another; after Redis loses everything (a restart), the nodes write back what
they hold, and a node started afterwards sees every phone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from hotline.voice.sip.digest import hashed
from hotline.voice.sip.server import SipServer
from tests.conftest import REDIS_URL
from tests.voice.conftest import Phone
from tests.voice.test_sip_server import answer_challenge, register

pytestmark = pytest.mark.skipif(REDIS_URL is None, reason="needs Redis: HOTLINE_TEST_REDIS_URL")


async def eventually(check: Callable[[], bool], within: float = 3.0) -> None:
    for _ in range(int(within / 0.02)):
        if check():
            return
        await asyncio.sleep(0.02)
    assert check()


async def node(name: str) -> SipServer:
    assert REDIS_URL is not None
    sip = SipServer(
        "127.0.0.1", 0, "hotline", hashed({"1001": "sip1001", "1002": "sip1002"}), receive_buffer=None,
        site_redis=REDIS_URL, node_id=name,
    )  # fmt: skip
    await sip.start()
    return sip


@pytest.fixture
async def site() -> AsyncIterator[list[SipServer]]:
    import redis.asyncio as redis

    client = redis.from_url(REDIS_URL or "")
    for key in await client.keys("hotline:sip:*"):
        await client.delete(key)
    await client.aclose()
    nodes = [await node("a"), await node("b")]
    yield nodes
    for sip in nodes:
        await sip.stop()


async def sign_in(phone: Phone, first: SipServer, second: SipServer, *, expires: int = 600) -> int:
    """REGISTER to `first`, and the answer to its challenge to `second` (as an edge may send it)."""
    challenge = await phone.ask(register(phone.port, "r1", expires=expires), first.port)
    auth = answer_challenge(challenge.headers.get("WWW-Authenticate") or "", "sip1001")
    return (
        await phone.ask(register(phone.port, "r2", auth=auth, cseq=2, expires=expires), second.port)
    ).status


async def test_a_phone_registered_on_one_node_is_reachable_from_every_node(
    site: list[SipServer], phone: Phone
) -> None:
    a, b = site
    assert not b.engine.reachable("1001")
    assert await sign_in(phone, a, b) == 200  # challenged by a, signed to b: the site's nonce key
    await eventually(lambda: a.engine.reachable("1001") and b.engine.reachable("1001"))
    [binding] = a.registrar.contacts("1001")
    assert binding.contact == f"sip:1001@127.0.0.1:{phone.port}" and binding.peer.port == phone.port
    assert 590 < binding.expires_at - a.registrar.clock() <= 600

    assert await sign_in(phone, b, a, expires=0) == 200
    await eventually(lambda: not a.engine.reachable("1001") and not b.engine.reachable("1001"))


async def test_after_redis_forgets_everything_the_nodes_write_back_and_a_new_node_sees_it(
    site: list[SipServer], phone: Phone
) -> None:
    import redis.asyncio as redis

    a, b = site
    assert await sign_in(phone, a, a) == 200
    await eventually(lambda: b.engine.reachable("1001"))
    client = redis.from_url(REDIS_URL or "")
    for key in await client.keys("hotline:sip:*"):
        await client.delete(key)  # what a restart without persistence leaves
    await client.client_kill_filter(_type="pubsub")  # and every node's connection cut
    await eventually(lambda: a.site is not None and a.site.reloads >= 2, within=5)
    assert await client.exists("hotline:sip:bindings:1001")
    await client.aclose()

    c = await node("c")  # started after the restart
    try:
        assert c.engine.reachable("1001")
        assert b.engine.reachable("1001")
    finally:
        await c.stop()
