"""The SIP edge of a cluster on loopback, for tests/interop/test_cluster.py and
benchmarks/cluster_cps.py: Kamailio with the repository's configuration (deploy/kamailio), voice
nodes as processes of their own (cluster_node.py), and SIPp placing calls through the edge."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "deploy" / "kamailio" / "kamailio.cfg"
SCENARIOS = Path(__file__).parent / "scenarios"
KAMAILIO = shutil.which("kamailio") or next(
    (p for p in ("/usr/sbin/kamailio", "/usr/local/sbin/kamailio") if Path(p).exists()), None
)


def certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for the edge's TLS (as scripts/cluster.sh makes one)."""
    cert, key = folder / "edge.crt", folder / "edge.key"
    if not cert.exists():
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
             str(cert), "-days", "3650", "-subj", "/CN=hotline-edge"],
            check=True, capture_output=True,
        )  # fmt: skip
    return cert, key


@dataclass
class Node:
    port: int
    process: asyncio.subprocess.Process | None = None
    answered: int = 0
    ended: int = 0
    rang: asyncio.Queue[str] = field(default_factory=asyncio.Queue)
    took_a_call: asyncio.Event = field(default_factory=asyncio.Event)
    lines: list[str] = field(default_factory=list)
    _reader: asyncio.Task[None] | None = None
    _ready: asyncio.Event = field(default_factory=asyncio.Event)

    async def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        while line := (await self.process.stdout.readline()).decode():
            self.lines.append(line)
            if line.startswith("ready"):
                self._ready.set()
            elif line.startswith("answered"):
                self.answered += 1
                self.took_a_call.set()
            elif line.startswith("ended"):
                self.ended += 1
            elif line.startswith("rang"):
                self.rang.put_nowait(line.split()[-1])

    async def ring(self, extension: str) -> str:
        """The node calls `extension`: answered, unreachable, no-answer…"""
        assert self.process is not None and self.process.stdin is not None
        self.process.stdin.write(f"ring {extension}\n".encode())
        await self.process.stdin.drain()
        return await asyncio.wait_for(self.rang.get(), 8)


@dataclass
class Cluster:
    folder: Path
    redis_url: str
    nodes: int = 2
    edge_port: int = field(default_factory=free_port)
    tls_port: int = field(default_factory=free_port)
    members: list[Node] = field(default_factory=list)
    kamailio: subprocess.Popen[bytes] | None = None

    @property
    def edge(self) -> str:
        return f"127.0.0.1:{self.edge_port}"

    async def start(self) -> None:
        self.members = [Node(free_port()) for _ in range(self.nodes)]
        for node in self.members:
            await self.start_node(node)
        listing = self.folder / "dispatcher.list"
        listing.write_text("".join(f"1 sip:127.0.0.1:{n.port} 0 0 weight=50\n" for n in self.members))
        cert, key = certificate(self.folder)
        defines = {
            "EDGE_PORT": str(self.edge_port), "EDGE_TLS_PORT": str(self.tls_port),
            "DISPATCHER_LIST": f'"{listing}"', "TLS_CERTIFICATE": f'"{cert}"', "TLS_PRIVATE_KEY": f'"{key}"',
            "CTL_SOCKET": f'"unix:{self.folder / "kamailio.ctl"}"', "WORKERS": "4",
        }  # fmt: skip
        command = [str(KAMAILIO), "-DD", "-E", "-f", str(CONFIG), "-m", "128", "-M", "16"]
        for name, value in defines.items():
            command += ["-A", f"{name}={value}"]
        log = (self.folder / "kamailio.log").open("wb")
        self.kamailio = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        await self.wait_for_edge()

    async def wait_for_edge(self) -> None:
        """Until the edge answers an OPTIONS and has probed every node up."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.kamailio is not None and self.kamailio.poll() is not None:
                raise RuntimeError(f"kamailio exited:\n{(self.folder / 'kamailio.log').read_text()[-3000:]}")
            if await asyncio.to_thread(self._edge_answers):
                return
            await asyncio.sleep(0.1)
        raise RuntimeError("the edge did not answer")

    def _edge_answers(self) -> bool:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.settimeout(0.3)
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
            options = (
                f"OPTIONS sip:127.0.0.1:{self.edge_port} SIP/2.0\r\n"
                f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK{time.time_ns()}\r\n"
                f"From: <sip:probe@127.0.0.1>;tag=1\r\nTo: <sip:127.0.0.1>\r\n"
                f"Call-ID: {time.time_ns()}@probe\r\n"
                "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
            )
            probe.sendto(options.encode(), ("127.0.0.1", self.edge_port))
            try:
                return probe.recv(4096).startswith(b"SIP/2.0 200")
            except OSError:
                return False

    async def start_node(self, node: Node) -> None:
        node._ready = asyncio.Event()
        node.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.interop.cluster_node", str(node.port), self.edge, self.redis_url,
            f"node-{node.port}", cwd=ROOT, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(ROOT)},
        )  # fmt: skip
        node._reader = asyncio.ensure_future(node._read())
        await asyncio.wait_for(node._ready.wait(), 20)

    def kill(self, node: Node) -> None:
        assert node.process is not None
        node.process.send_signal(signal.SIGKILL)

    async def stop(self) -> None:
        for node in self.members:
            if node.process is not None and node.process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    node.process.kill()
                await node.process.wait()
            if node._reader is not None:
                node._reader.cancel()
        if self.kamailio is not None:
            self.kamailio.terminate()
            try:
                await asyncio.to_thread(self.kamailio.wait, 5)
            except subprocess.TimeoutExpired:
                self.kamailio.kill()

    async def sipp(self, *, calls: int, rate: float, hold_ms: int = 200, extra: tuple[str, ...] = ()) -> Sipp:
        """SIPp calling the demo number through the edge; `await result.done()` for its outcome."""
        return await start_sipp(self.folder, self.edge, calls=calls, rate=rate, hold_ms=hold_ms, extra=extra)


async def start_sipp(
    folder: Path, edge: str, *, calls: int, rate: float, hold_ms: int = 200, extra: tuple[str, ...] = ()
) -> Sipp:
    """SIPp calling the demo number (4008001000) at `edge`: answered, `hold_ms` of line, BYE."""
    stats = folder / f"sipp-{time.time_ns()}"
    stats.mkdir()
    process = await asyncio.create_subprocess_exec(
        "sipp", edge, "-sf", str(SCENARIOS / "call_edge.xml"), "-s", "4008001000",
        "-m", str(calls), "-r", str(rate), "-d", str(hold_ms), "-i", "127.0.0.1", "-p", str(free_port()),
        "-mp", str(free_port()), "-nostdin", "-timeout", "120s", "-timeout_error",
        "-recv_timeout", "15000", "-trace_stat", "-fd", "1", "-trace_err", *extra,
        cwd=stats, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    return Sipp(process, stats)


@dataclass
class Sipp:
    process: asyncio.subprocess.Process
    folder: Path

    async def done(self) -> tuple[int, int, int]:
        """(exit code, successful calls, failed calls) from SIPp's last statistics line."""
        code = await asyncio.wait_for(self.process.wait(), 150)
        rows = [line.split(";") for p in self.folder.glob("*_.csv") for line in p.read_text().splitlines()]
        header, last = rows[0], rows[-1]
        return code, int(last[header.index("SuccessfulCall(C)")]), int(last[header.index("FailedCall(C)")])


@dataclass
class Failover:
    out_after: float
    """Seconds from the kill to the last new call that still reached the dead node."""
    lost: int
    """Calls in progress on it when it died (they die with it)."""
    back_in: float
    """Seconds from its restart to the first call it answered again."""


async def fail_over(cluster: Cluster, victim: Node, *, watch: float = 5.0) -> Failover:
    """Kill `victim` (SIGKILL) while calls come in, watch its port for new calls, restart it and
    wait for it to take one again."""
    cluster.kill(victim)
    killed = time.monotonic()
    trap = await InviteTrap.on(victim.port)  # a hung node: takes packets, answers nothing
    await asyncio.sleep(watch)
    lost = victim.answered - victim.ended  # all it said before dying has been read by now
    last = max(trap.invites.values(), default=killed)
    if time.monotonic() - last < 1.5:
        raise AssertionError(
            f"calls still reach the dead node {time.monotonic() - killed:.1f} s after the kill"
        )
    trap.close()
    victim.took_a_call.clear()
    await cluster.start_node(victim)
    back = time.monotonic()
    await asyncio.wait_for(victim.took_a_call.wait(), 5)
    return Failover(last - killed, lost, time.monotonic() - back)


class InviteTrap(asyncio.DatagramProtocol):
    """Sits on a dead node's port and notes when INVITEs still arrive (and answers nothing)."""

    def __init__(self) -> None:
        self.invites: dict[bytes, float] = {}
        """When each call's INVITE first arrived (by Call-ID: the edge's retransmissions aside)."""
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if data.startswith(b"INVITE "):
            lines = data.split(b"\r\n")
            call_id = next((line for line in lines if line.lower().startswith(b"call-id:")), b"")
            self.invites.setdefault(call_id, time.monotonic())

    @classmethod
    async def on(cls, port: int) -> InviteTrap:
        loop = asyncio.get_running_loop()
        for _ in range(50):  # the killed process' socket may take a moment to go
            try:
                _, trap = await loop.create_datagram_endpoint(cls, local_addr=("127.0.0.1", port))
                return trap
            except OSError:
                await asyncio.sleep(0.01)
        raise RuntimeError(f"port {port} stayed taken")

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
