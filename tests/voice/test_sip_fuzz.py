"""A socket-level SIP fuzz (issue 17, item 3): random and mutated real SIP messages go to a
running server over UDP and TCP, inside and outside calls, while SIPp keeps placing real calls
through the trunk. The server must answer every request it can parse (and 400 what it cannot,
when enough of it is there to address a reply), never stop answering, keep every SIPp call
working, and leave no call, transaction, task, connection or socket behind.

`make test` runs a few hundred messages (about a minute); a longer run:
`HOTLINE_SIP_FUZZ_EXAMPLES=20000 uv run pytest -q tests/voice/test_sip_fuzz.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import secrets
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Awaitable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotline.voice.control import Leg
from hotline.voice.sip.digest import hashed
from hotline.voice.sip.limits import SourceLimits
from hotline.voice.sip.message import SipParseError, SipRequest, SipResponse, StreamFramer, parse
from hotline.voice.sip.registrar import FailureGuard
from hotline.voice.sip.server import SipServer
from hotline.voice.sip.transport import bad_request
from tests.conftest import free_port
from tests.voice.sipfuzz import Dialog, fuzzed, seed
from tests.voice.softphone import TEST_TRUNK

EXAMPLES = int(os.environ.get("HOTLINE_SIP_FUZZ_EXAMPLES", "1500"))
SCENARIOS = Path(__file__).parents[1] / "interop" / "scenarios"
FUZZ = settings(
    max_examples=EXAMPLES, deadline=None, database=None,
    suppress_health_check=list(HealthCheck),
)  # fmt: skip
T = TypeVar("T")

pytestmark = [
    pytest.mark.skipif(shutil.which("sipp") is None, reason="needs sipp (make test installs it)"),
    # the server's RTP sessions (another thread) draw from `random` while hypothesis generates
    pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies"),
]


class Target:
    """The SIP server on an event loop of its own, in a thread: the fuzz reaches it through
    sockets only (blocking ones, so hypothesis drives it plainly) and reads its counts through
    `call`. Calls from SIPp and the calls the fuzzer sets up (`dialogs`) are answered and held
    until hung up; any other call is refused at once (480), as an IVR with nothing to say would
    (an answered call nobody ACKs would rightly stay for Timer H, 32 s)."""

    def __init__(self) -> None:
        self.offset = 0.0
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="sip-target", daemon=True)
        self.answered: dict[str, int] = {"sipp": 0, "dialog": 0}
        self.dialogs: set[str] = set()

    def start(self) -> SipServer:
        self.thread.start()
        self.server = self.call(self._start())
        return self.server

    async def _start(self) -> SipServer:
        server = SipServer(
            "127.0.0.1", 0, "hotline", hashed({"1001": "sip1001"}), trunks=[TEST_TRUNK],
            application=self.application, max_calls=500, clock=lambda: time.monotonic() + self.offset,
            guard=FailureGuard(max_failures=10**9),  # the guard would silence the fuzzer; tested apart
            limits=SourceLimits(rate=0),  # so would the per-source rate limit (test_sip_burst.py)
        )  # fmt: skip
        await server.start()
        return server

    async def application(self, leg: Leg) -> None:
        if leg.caller != "sipp" and getattr(leg, "call_id", None) not in self.dialogs:
            await leg.hang_up()
            return
        await leg.answer()
        self.answered["sipp" if leg.caller == "sipp" else "dialog"] += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(leg.ended.wait(), 60)  # the fuzzer hangs up; this is a backstop

    def call(self, work: Awaitable[T], timeout: float = 10.0) -> T:
        async def run() -> T:
            return await work

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(timeout)

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.call(self.server.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


class ValidCalls:
    """SIPp placing one short call after another through the trunk while the fuzz runs."""

    def __init__(self, port: int, folder: Path) -> None:
        self.port, self.folder = port, folder
        self.codes: list[int] = []
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sipp-calls", daemon=True)

    def _run(self) -> None:
        while not self._done.is_set():
            command = [
                "sipp", f"127.0.0.1:{self.port}", "-sf", str(SCENARIOS / "call_short.xml"),
                "-s", "4008001000", "-m", "1", "-i", "127.0.0.1", "-p", str(free_port()),
                "-mp", str(free_port()), "-nostdin", "-timeout", "10s", "-timeout_error",
            ]  # fmt: skip
            run = subprocess.run(command, cwd=self.folder, capture_output=True, timeout=30, check=False)
            self.codes.append(run.returncode)

    def __enter__(self) -> ValidCalls:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join(40)


@pytest.fixture
def target(tmp_path: Path) -> Iterator[tuple[Target, ValidCalls]]:
    fds = len(os.listdir("/proc/self/fd"))
    running = Target()
    server = running.start()
    try:
        with ValidCalls(server.port, tmp_path) as calls:
            yield running, calls
        assert calls.codes and set(calls.codes) == {0}, f"SIPp calls failed during the fuzz: {calls.codes}"
        assert running.answered["sipp"] == len(calls.codes)
        assert_nothing_left(running)
    finally:
        running.stop()
    assert len(os.listdir("/proc/self/fd")) <= fds, "file descriptors (RTP or TCP sockets) leaked"


def assert_nothing_left(running: Target) -> None:
    server = running.server

    async def settled() -> dict[str, int]:
        running.offset += 33  # past Timer J: every kept answer may go
        current = asyncio.current_task()
        left: dict[str, int] = {}
        for _ in range(100):  # calls just refused or hung up end within a few loop turns
            left = {
                "calls": len(server.engine.legs), "engine tasks": len(server.engine._tasks),
                "client transactions": len(server.engine.transactions._pending),
                "server transactions": server.transactions, "TCP connections": server.transports.connections,
                "loop tasks": len([t for t in asyncio.all_tasks() if t is not current]),
            }  # fmt: skip
            if not any(left.values()):
                break
            await asyncio.sleep(0.05)
        return left

    left = running.call(settled())
    assert left == dict.fromkeys(left, 0), left


# ---------------------------------------------------------------- what the server should answer


def expected(wire: bytes) -> str | None:
    """What a correct server does with `wire`: "answer" a request it can parse (all but ACK),
    "400" one it cannot but can address a reply to, None for anything else. Any exception
    other than SipParseError from the parser is itself a failure."""
    try:
        message = parse(wire)
    except SipParseError as error:
        return "400" if bad_request(wire, error) is not None else None
    if isinstance(message, SipRequest) and message.method != "ACK":
        return "answer"
    return None


def answers_to(wire: bytes) -> tuple[str | None, str | None]:
    """The Call-ID and the top Via branch of `wire`: an answer carries its Call-ID, or, when the
    message repeats an earlier transaction's branch, is that transaction's answer again (RFC 3261
    §17.2.3 matches retransmissions by branch, whatever else was mutated)."""
    try:
        message = parse(wire)
    except SipParseError:
        return None, None
    try:
        vias = message.vias
    except SipParseError:
        return message.call_id, None
    return message.call_id, (vias[0].branch if vias else None)


class UdpFuzzer:
    """Sends one datagram, then a probe OPTIONS; whatever arrives before the probe's answer is
    the answer to the datagram (the server handles a socket's datagrams in order)."""

    def __init__(self, server_port: int) -> None:
        self.server_port = server_port
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(10.0)
        self.port = int(self.sock.getsockname()[1])
        self.probes = itertools.count()

    def exchange(self, wire: bytes) -> list[SipResponse]:
        probe = f"probe-{next(self.probes)}-{secrets.token_hex(3)}"
        self.sock.sendto(wire, ("127.0.0.1", self.server_port))
        self.sock.sendto(seed("OPTIONS", self.port, probe), ("127.0.0.1", self.server_port))
        replies: list[SipResponse] = []
        while True:
            try:
                data = self.sock.recv(65535)
            except TimeoutError:
                raise AssertionError(f"the server stopped answering after {wire[:300]!r}") from None
            reply = parse(data)
            assert isinstance(reply, SipResponse), data[:200]
            if reply.call_id == probe:
                assert reply.status == 200
                return replies
            replies.append(reply)

    def final(self, call_id: str) -> SipResponse:
        """The next final response for `call_id` (answers of other messages are skipped)."""
        while True:
            reply = parse(self.sock.recv(65535))
            if isinstance(reply, SipResponse) and reply.call_id == call_id and reply.status >= 200:
                return reply

    def close(self) -> None:
        self.sock.close()


def check_answered(wire: bytes, replies: list[SipResponse]) -> None:
    wanted = expected(wire)
    if wanted == "400":
        assert any(r.status == 400 for r in replies), f"no 400 for {wire[:300]!r}: {replies}"
    elif wanted == "answer":
        call_id, branch = answers_to(wire)
        assert any(
            r.call_id == call_id or (branch and r.vias and r.vias[0].branch == branch) for r in replies
        ), f"no answer to {wire[:300]!r}: {replies}"


def test_udp_fuzz_every_request_answered_and_sipp_calls_keep_working(
    target: tuple[Target, ValidCalls],
) -> None:
    running, _ = target
    fuzzer = UdpFuzzer(running.server.port)

    @FUZZ
    @given(data=st.data())
    def one_message(data: st.DataObject) -> None:
        wire = data.draw(fuzzed(fuzzer.port, secrets.token_hex(6)))
        check_answered(wire, fuzzer.exchange(wire))

    try:
        one_message()
    finally:
        fuzzer.close()


def test_udp_fuzz_inside_calls_in_progress(target: tuple[Target, ValidCalls]) -> None:
    """A real call from the fuzzer, answered; then mutated INFO, REFER, re-INVITE, BYE, OPTIONS,
    CANCEL and ACK inside it; then a proper BYE. The call is gone afterwards, whatever came."""
    running, _ = target
    fuzzer = UdpFuzzer(running.server.port)

    @settings(FUZZ, max_examples=max(10, EXAMPLES // 8))
    @given(data=st.data(), count=st.integers(1, 8))
    def one_call(data: st.DataObject, count: int) -> None:
        call_id = "dialog-" + secrets.token_hex(6)
        # everything is drawn before the call starts: hypothesis may abandon an example midway
        # through its draws, which must not leave a call up
        planned = Dialog(call_id, "f" + call_id[:8], "TOTAG")
        wires = [data.draw(fuzzed(fuzzer.port, call_id, planned)) for _ in range(count)]
        running.dialogs.add(call_id)
        invite = seed("INVITE", fuzzer.port, call_id).replace(b"13800138000", b"dialog")
        fuzzer.sock.sendto(invite, ("127.0.0.1", running.server.port))
        ok = fuzzer.final(call_id)  # once the application has answered
        assert ok.status == 200, ok
        to_tag = (ok.headers.get("To") or "").split(";tag=")[1]
        dialog = Dialog(call_id, planned.from_tag, to_tag)
        fuzzer.sock.sendto(
            seed("ACK", fuzzer.port, call_id, dialog=dialog), ("127.0.0.1", running.server.port)
        )
        bye = seed("BYE", fuzzer.port, call_id, dialog=dialog, cseq=50)
        try:
            for wire in wires:
                wire = wire.replace(b"TOTAG", to_tag.encode())
                check_answered(wire, fuzzer.exchange(wire))
        finally:  # hang up also when a check failed, so the search for a smaller case starts clean
            assert any(r.call_id == call_id for r in fuzzer.exchange(bye))
        assert running.call(asyncio.sleep(0, result=call_id not in running.server.engine.legs))

    try:
        one_call()
    finally:
        fuzzer.close()


def tcp_exchange(port: int, wire: bytes) -> bytes:
    """Send `wire` on a new connection, say we are done, read until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=5.0) as conn:
        with contextlib.suppress(ConnectionError):
            conn.sendall(wire)
            conn.shutdown(socket.SHUT_WR)
        received = b""
        try:
            while chunk := conn.recv(65536):
                received += chunk
        except ConnectionResetError:
            pass
        except TimeoutError:
            raise AssertionError(f"the server held the connection open after {wire[:300]!r}") from None
    return received


def test_tcp_fuzz_every_framed_request_answered_and_connections_closed(
    target: tuple[Target, ValidCalls],
) -> None:
    running, _ = target
    port = running.server.port

    @settings(FUZZ, max_examples=max(20, EXAMPLES // 2))
    @given(data=st.data(), messages=st.integers(1, 3))
    def one_connection(data: st.DataObject, messages: int) -> None:
        wires = [data.draw(fuzzed(40000, secrets.token_hex(6))) for _ in range(messages)]
        stream = b"".join(wires)
        received = tcp_exchange(port, stream)
        try:
            framed = StreamFramer().feed(stream)
        except SipParseError:
            return  # the server closes an unframeable stream; nothing is owed
        replies: list[Any] = [parse(r) for r in StreamFramer().feed(received)] if received else []
        for wire in framed:
            check_answered(wire, replies)

    one_connection()
    assert running.call(asyncio.sleep(0.1, result=running.server.transports.connections)) == 0
