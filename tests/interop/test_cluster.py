"""The cluster's SIP edge on loopback: Kamailio (deploy/kamailio/kamailio.cfg) in front of two
voice nodes, SIPp calling the demo trunk's number through it, a phone registered through it.

What a site notices: calls reach both nodes and are answered; a phone registered on one node is
rung by the other; a phone on SIP over TLS (ended at the edge) is rung through its connection; a
node killed mid-load gets no new call within 3 seconds while every call still succeeds on the
other, and gets calls again once it is back.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hotline.voice.sip.digest import answer_challenges
from hotline.voice.sip.message import SipRequest, SipResponse, StreamFramer, parse, response_to
from tests.conftest import REDIS_URL
from tests.interop.cluster import KAMAILIO, Cluster, fail_over
from tests.voice.softphone import SDP, Softphone

pytestmark = [
    # the edge's nodes use no database: run once, in the SQLite run of the suite
    pytest.mark.skipif("HOTLINE_TEST_DATABASE_URL" in os.environ, reason="runs in the SQLite run"),
    pytest.mark.skipif(KAMAILIO is None, reason="needs Kamailio (make cluster-deps installs it)"),
    pytest.mark.skipif(shutil.which("sipp") is None, reason="needs sipp (make test installs sip-tester)"),
    pytest.mark.skipif(
        REDIS_URL is None, reason="needs Redis: HOTLINE_TEST_REDIS_URL (make test starts one)"
    ),
]


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    import redis.asyncio as redis

    assert REDIS_URL is not None
    client = redis.from_url(REDIS_URL)
    for key in await client.keys("hotline:sip:*"):
        await client.delete(key)
    await client.aclose()
    site = Cluster(tmp_path, REDIS_URL)
    try:
        await site.start()
        yield site
    finally:
        await site.stop()


async def test_calls_through_the_edge_reach_both_nodes_and_are_answered(cluster: Cluster) -> None:
    code, succeeded, failed = await (await cluster.sipp(calls=20, rate=20)).done()
    assert (code, succeeded, failed) == (0, 20, 0)
    answered = [node.answered for node in cluster.members]
    assert sum(answered) == 20 and min(answered) >= 3, answered


async def test_a_phone_registered_through_the_edge_on_one_node_is_rung_by_the_other(cluster: Cluster) -> None:
    import redis.asyncio as redis

    phone = await Softphone.open("1001", "sip1001", cluster.edge_port)
    try:
        assert await phone.register() == 200
        client = redis.from_url(cluster.redis_url)
        stored = {
            k.decode(): json.loads(v) for k, v in (await client.hgetall("hotline:sip:bindings:1001")).items()
        }
        await client.aclose()
        [(contact, binding)] = stored.items()
        assert contact == f"sip:1001@127.0.0.1:{phone.port}"
        assert binding["path"] == [
            f"<sip:127.0.0.1:{cluster.edge_port};lr;received=sip:127.0.0.1:{phone.port}>"
        ]
        registered_on = next(n for n in cluster.members if binding["node"] == f"node-{n.port}")
        other = next(n for n in cluster.members if n is not registered_on)

        assert await other.ring("1001") == "answered"
        assert phone.answered.is_set()
        await asyncio.wait_for(phone.hung_up.wait(), 5)  # the node's BYE came back through the edge
        phone.hung_up.clear()
        assert await registered_on.ring("1001") == "answered"
        await asyncio.wait_for(phone.hung_up.wait(), 5)
        assert [r.method for r in phone.requests] == ["INVITE", "ACK", "BYE"] * 2
        assert all(r.vias[0].port == cluster.edge_port for r in phone.requests)  # all through the edge

        phone.answered.clear()
        assert await phone.register(expires=0) == 200  # gone from every node at once
        await asyncio.sleep(0.3)
        assert await other.ring("1001") == "unreachable"
        assert not phone.answered.is_set()
    finally:
        phone.close()


async def test_a_killed_node_gets_no_new_call_within_3_seconds_and_calls_go_on(cluster: Cluster) -> None:
    victim, _ = cluster.members
    calls = await cluster.sipp(calls=320, rate=20)
    await asyncio.sleep(3)
    failover = await fail_over(cluster, victim)  # restarted, and it took a call again
    assert failover.out_after < 3.0, f"new calls reached the dead node for {failover.out_after:.2f} s"
    code, succeeded, failed = await calls.done()
    assert succeeded + failed == 320 and failed <= failover.lost, (code, succeeded, failed, failover)
    print(f"\n{failover}")


class TlsPhone:
    """A desk phone on SIP over TLS to the edge: registers with digest, answers what it is sent."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.port = int(writer.get_extra_info("sockname")[1])
        self.framer = StreamFramer()
        self.waiting: list[SipRequest | SipResponse] = []
        self.methods: list[str] = []

    @classmethod
    async def connect(cls, port: int) -> TlsPhone:
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE  # the cluster's self-signed one
        return cls(*await asyncio.open_connection("127.0.0.1", port, ssl=context))

    async def next(self) -> SipRequest | SipResponse:
        while not self.waiting:
            data = await asyncio.wait_for(self.reader.read(65536), 5)
            assert data, "the edge closed the connection"
            self.waiting += [parse(m) for m in self.framer.feed(data)]
        return self.waiting.pop(0)

    def send(self, message: SipRequest | SipResponse) -> None:
        self.writer.write(bytes(message))

    async def register(self, extension: str, password: str) -> int:
        challenge: SipResponse | None = None
        for cseq in (1, 2):
            request = SipRequest(method="REGISTER", uri="sip:127.0.0.1")
            request.headers.add("Via", f"SIP/2.0/TLS 127.0.0.1:{self.port};branch=z9hG4bK{cseq}tls;rport")
            request.headers.add("From", f"<sip:{extension}@127.0.0.1>;tag=tls")
            request.headers.add("To", f"<sip:{extension}@127.0.0.1>")
            request.headers.add("Call-ID", "tls-register")
            request.headers.add("CSeq", f"{cseq} REGISTER")
            request.headers.add("Contact", f"<sip:{extension}@127.0.0.1:{self.port};transport=tls>")
            request.headers.add("Expires", "300")
            if challenge is not None:
                value = answer_challenges(
                    challenge.headers.get_all("WWW-Authenticate"), username=extension, password=password,
                    method="REGISTER", uri="sip:127.0.0.1",
                )  # fmt: skip
                assert value is not None
                request.headers.add("Authorization", value)
            self.send(request)
            reply = await self.next()
            assert isinstance(reply, SipResponse)
            if reply.status != 401:
                return reply.status
            challenge = reply
        return 401

    async def answer_a_call(self) -> None:
        """Answer the INVITE that comes, then take its ACK and BYE."""
        while (request := await self.next()) is not None:
            if not isinstance(request, SipRequest):
                continue
            self.methods.append(request.method)
            if request.method == "INVITE":
                ok = response_to(request, 200, "OK", to_tag="tls")
                for route in request.headers.get_all("Record-Route"):
                    ok.headers.add("Record-Route", route)
                ok.headers.add("Contact", f"<sip:1003@127.0.0.1:{self.port};transport=tls>")
                ok.headers.add("Content-Type", "application/sdp")
                ok.body = SDP.format(port=40000, codec=0).encode()
                self.send(ok)
            elif request.method == "BYE":
                self.send(response_to(request, 200, "OK"))
                return

    def close(self) -> None:
        self.writer.close()


async def test_a_phone_on_tls_to_the_edge_registers_and_is_rung_through_it(cluster: Cluster) -> None:
    phone = await TlsPhone.connect(cluster.tls_port)
    try:
        assert await phone.register("1002", "sip1002") == 200
        answering = asyncio.ensure_future(phone.answer_a_call())
        await asyncio.sleep(0.2)  # the binding reaches every node
        assert await cluster.members[0].ring("1002") == "answered"
        await asyncio.wait_for(answering, 5)
        assert phone.methods == ["INVITE", "ACK", "BYE"]  # all over the phone's own TLS connection
    finally:
        phone.close()
