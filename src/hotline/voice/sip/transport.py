"""SIP over UDP and TCP on asyncio (RFC 3261 §18).

A transport receives bytes, parses them and hands messages to its owner; what cannot be
parsed is answered with 400 when enough of it can be read to address a response, and is
dropped otherwise. Responses go back where the request came from (the `rport` behaviour
of RFC 3581, which also gets them through NAT).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from hotline.voice.sip.message import (
    Headers,
    SipParseError,
    SipRequest,
    SipResponse,
    StreamFramer,
    parse,
)

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Peer:
    """Where a message came from, and the way back."""

    transport: str  # "UDP" | "TCP"
    host: str
    port: int


Receiver = Callable[[SipRequest | SipResponse, Peer], None]
Sender = Callable[[bytes, Peer], None]


def bad_request(data: bytes, error: SipParseError) -> bytes | None:
    """A 400 for a message we could not parse, if its Via/From/To/Call-ID/CSeq can be salvaged."""
    try:
        head = data.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
    except Exception:  # pragma: no cover - decode with "replace" does not raise
        return None
    lines = head.split("\r\n")
    if not lines or lines[0].startswith("SIP/"):
        return None  # never answer a response
    wanted = {"via", "v", "from", "f", "to", "t", "call-id", "i", "cseq"}
    headers = Headers()
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep and name.strip().lower() in wanted:
            headers.add(name.strip(), value.strip())
    if not all(headers.get(h) for h in ("Via", "From", "To", "Call-ID", "CSeq")):
        return None
    reason = str(error).replace("\r", " ").replace("\n", " ")[:100]
    response = SipResponse(headers, b"", 400, "Bad Request")
    response.headers.add("Warning", f'399 hotline "{reason}"')
    return bytes(response)


class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, owner: SipTransports) -> None:
        self.owner = owner
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.owner.received(data, Peer("UDP", str(addr[0]), int(addr[1])))


class SipTransports:
    """UDP and TCP listeners on one address; `stop()` closes them and every TCP connection."""

    def __init__(self, host: str, port: int, receiver: Receiver) -> None:
        self.host, self.port, self.receiver = host, port, receiver
        self._udp: _UdpProtocol | None = None
        self._tcp_server: asyncio.Server | None = None
        self._tcp: dict[tuple[str, int], asyncio.StreamWriter] = {}
        self._readers: set[asyncio.Task[None]] = set()
        self.malformed = 0

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        any_port = self.port == 0  # tests: take a free port, the same number for UDP and TCP
        for attempt in range(20 if any_port else 1):
            _, protocol = await loop.create_datagram_endpoint(
                lambda: _UdpProtocol(self), local_addr=(self.host, 0 if any_port else self.port)
            )
            self._udp = protocol
            if any_port and protocol.transport is not None:
                self.port = int(protocol.transport.get_extra_info("sockname")[1])
            try:
                self._tcp_server = await asyncio.start_server(self._serve_tcp, self.host, self.port)
                return
            except OSError:
                # the UDP port's number is taken for TCP (another server): with any port, try another
                if protocol.transport is not None:
                    protocol.transport.close()
                if not any_port or attempt == 19:
                    raise

    async def stop(self) -> None:
        if self._tcp_server is not None:
            self._tcp_server.close()
        for writer in list(self._tcp.values()):
            writer.close()
        for task in list(self._readers):
            task.cancel()
        await asyncio.gather(*self._readers, return_exceptions=True)
        if self._tcp_server is not None:
            with contextlib.suppress(Exception):
                await self._tcp_server.wait_closed()
        if self._udp is not None and self._udp.transport is not None:
            self._udp.transport.close()

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._readers.add(task)
        host, port = writer.get_extra_info("peername")[:2]
        peer = Peer("TCP", str(host), int(port))
        self._tcp[(peer.host, peer.port)] = writer
        framer = StreamFramer()
        try:
            while data := await reader.read(65536):
                try:
                    messages = framer.feed(data)
                except SipParseError as error:
                    self.malformed += 1
                    log.info("closing TCP connection after unframeable data", peer=peer, error=str(error))
                    return
                for message in messages:
                    self.received(message, peer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._tcp.pop((peer.host, peer.port), None)
            writer.close()
            if task is not None:
                self._readers.discard(task)

    def received(self, data: bytes, peer: Peer) -> None:
        if not data.strip():
            return  # CRLF keep-alive
        try:
            message = parse(data)
        except SipParseError as error:
            self.malformed += 1
            reply = bad_request(data, error)
            if reply is not None:
                self.send(reply, peer)
            return
        self.receiver(message, peer)

    def send(self, data: bytes, peer: Peer) -> None:
        if peer.transport == "TCP":
            writer = self._tcp.get((peer.host, peer.port))
            if writer is not None and not writer.is_closing():
                writer.write(data)
            return
        if self._udp is not None and self._udp.transport is not None:
            self._udp.transport.sendto(data, (peer.host, peer.port))
