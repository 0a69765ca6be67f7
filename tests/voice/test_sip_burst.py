"""SIP under bursts (issue 17, item 5): hundreds of requests within milliseconds are every one
answered — 200, or 503 with Retry-After when their source sent too many — and a source that
floods does not starve a trunk call or a registered phone beside it."""

from __future__ import annotations

import asyncio
import socket
import time
from collections import Counter
from collections.abc import AsyncIterator

import pytest
from prometheus_client import REGISTRY

from hotline.voice.control import Leg
from hotline.voice.sip.digest import hashed
from hotline.voice.sip.limits import SourceLimits
from hotline.voice.sip.message import SipResponse, parse
from hotline.voice.sip.server import SipServer
from tests.voice.softphone import TEST_TRUNK, Softphone


def options(port: int, n: int) -> bytes:
    return (
        f"OPTIONS sip:hotline@127.0.0.1 SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bKburst{n};rport\r\n"
        "Max-Forwards: 70\r\n"
        f"From: <sip:monitor@127.0.0.1>;tag=m{n}\r\nTo: <sip:hotline@127.0.0.1>\r\n"
        f"Call-ID: burst-{n}@127.0.0.1\r\nCSeq: {n + 1} OPTIONS\r\n"
        "User-Agent: burst-test\r\nAccept: application/sdp\r\nContent-Length: 0\r\n\r\n"
    ).encode()


class Flooder:
    """A raw UDP socket that sends a burst in one go (the event loop gets no turn meanwhile, as
    when the server is busy) and then reads every answer."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self.port = int(self.sock.getsockname()[1])

    def burst(self, server_port: int, count: int) -> float:
        """Send `count` OPTIONS; returns how long sending took, in seconds."""
        wires = [options(self.port, n) for n in range(count)]
        started = time.perf_counter()
        for wire in wires:
            self.sock.sendto(wire, ("127.0.0.1", server_port))
        return time.perf_counter() - started

    async def answers(self, count: int, *, within: float = 5.0) -> list[SipResponse]:
        replies: list[SipResponse] = []
        deadline = time.monotonic() + within
        while len(replies) < count and time.monotonic() < deadline:
            try:
                data = self.sock.recv(65535)
            except BlockingIOError:
                await asyncio.sleep(0.005)
                continue
            reply = parse(data)
            assert isinstance(reply, SipResponse)
            replies.append(reply)
        return replies

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
async def flooder() -> AsyncIterator[Flooder]:
    sender = Flooder()
    yield sender
    sender.close()


def refused(reason: str) -> float:
    return REGISTRY.get_sample_value("hotline_sip_requests_refused_total", {"reason": reason}) or 0.0


async def test_500_options_sent_within_10_ms_are_every_one_answered(flooder: Flooder) -> None:
    sip = SipServer("127.0.0.1", 0, "hotline", {})
    await sip.start()
    try:
        took = flooder.burst(sip.port, 500)
        replies = await flooder.answers(500)
        assert took < 0.05, f"sending took {took * 1000:.0f} ms: not a burst"
        assert Counter(r.status for r in replies) == {200: 500}
        assert len({r.call_id for r in replies}) == 500
        assert sip.transports.kernel_drops() == 0
        assert sip.transports.receive_buffer is not None and sip.transports.receive_buffer >= 2**20
        assert sip.stats.options == 500 and sip.transactions == 0  # answered without state
    finally:
        await sip.stop()


async def test_beyond_its_burst_a_source_is_refused_with_503_and_retry_after_and_counted(
    flooder: Flooder,
) -> None:
    sip = SipServer("127.0.0.1", 0, "hotline", {}, limits=SourceLimits(rate=20, burst=100))
    await sip.start()
    before = refused("rate-limited")
    try:
        flooder.burst(sip.port, 500)
        replies = await flooder.answers(500)
        statuses = Counter(r.status for r in replies)
        assert statuses[200] + statuses[503] == 500, statuses  # nothing lost
        assert 100 <= statuses[200] <= 110  # the burst, and what the rate refilled meanwhile
        busy = [r for r in replies if r.status == 503]
        assert {r.headers.get("Retry-After") for r in busy} == {"1"}
        assert refused("rate-limited") - before == statuses[503] == sip.stats.rate_limited
    finally:
        await sip.stop()


async def test_a_stateless_options_answer_is_the_same_when_the_request_is_sent_again(
    flooder: Flooder,
) -> None:
    sip = SipServer("127.0.0.1", 0, "hotline", {})
    await sip.start()
    try:
        for _ in range(2):
            flooder.sock.sendto(options(flooder.port, 7), ("127.0.0.1", sip.port))
        first, again = await flooder.answers(2)
        assert first.status == again.status == 200
        assert first.headers.get("To") == again.headers.get("To")  # RFC 3261 §8.2.7
        assert ";tag=" in (first.headers.get("To") or "")
    finally:
        await sip.stop()


async def test_a_flooding_port_does_not_starve_a_trunk_call_or_a_phone_on_the_same_address(
    flooder: Flooder,
) -> None:
    """Everything here comes from 127.0.0.1, like the demo trunk and every local test: the limit
    is per address *and port*, so only the flooding port is refused."""
    answered: list[Leg] = []

    async def answer(leg: Leg) -> None:
        await leg.answer()
        answered.append(leg)

    sip = SipServer(
        "127.0.0.1", 0, "hotline", hashed({"1001": "sip1001"}), trunks=[TEST_TRUNK], application=answer,
        limits=SourceLimits(rate=50, burst=50),
    )  # fmt: skip
    await sip.start()
    caller = await Softphone.open("13800138000", "", sip.port)
    agent = await Softphone.open("1001", "sip1001", sip.port)
    try:
        flooder.burst(sip.port, 2000)
        registered, dialled = await asyncio.gather(agent.register(), caller.dial("4008001000"))
        assert registered == 200
        assert dialled.status == 200
        for _ in range(100):  # the ACK reaches the engine, which marks the call answered
            if answered:
                break
            await asyncio.sleep(0.01)
        assert len(answered) == 1
        replies = await flooder.answers(2000)
        statuses = Counter(r.status for r in replies)
        assert statuses[200] + statuses[503] == 2000 and statuses[503] >= 1900, statuses
    finally:
        caller.close()
        agent.close()
        await sip.stop()


def test_a_token_bucket_refills_at_its_rate_and_forgets_idle_sources() -> None:
    now = [0.0]
    limits = SourceLimits(rate=10, burst=3, max_sources=4, clock=lambda: now[0])
    source = ("192.0.2.1", 5060)
    assert [limits.take(source) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limits.take(source) == pytest.approx(0.1)  # one token in a tenth of a second
    assert limits.retry_after(0.1) == 1
    now[0] += 0.1
    assert limits.take(source) == 0.0
    assert limits.take(("192.0.2.1", 5061)) == 0.0  # another port: its own bucket
    now[0] += 10  # everybody idle and refilled
    for port in range(4):
        limits.take(("198.51.100.7", port))
    assert len(limits) <= 4  # idle sources were forgotten to make room
    assert SourceLimits(rate=0).take(source) == 0.0  # 0: no limit


async def test_a_trunk_address_blocked_for_a_phones_wrong_passwords_still_delivers_calls() -> None:
    """The demo trunk is 127.0.0.1, where phones register too: a phone guessing passwords gets the
    address blocked, but calls from the trunk to its numbers still come in."""

    async def answer(leg: Leg) -> None:
        await leg.answer()

    sip = SipServer(
        "127.0.0.1", 0, "hotline", hashed({"1001": "sip1001"}), trunks=[TEST_TRUNK], application=answer
    )
    await sip.start()
    for _ in range(sip.guard.max_failures):
        sip.guard.failed("127.0.0.1")
    caller = await Softphone.open("13800138000", "", sip.port)
    phone = await Softphone.open("1001", "sip1001", sip.port)
    try:
        assert sip.guard.blocked("127.0.0.1")
        assert (await caller.dial("4008001000")).status == 200
        with pytest.raises(TimeoutError):  # the phone on the blocked address is still ignored
            await phone.register()
        assert sip.stats.dropped_blocked == 1
    finally:
        caller.close()
        phone.close()
        await sip.stop()
