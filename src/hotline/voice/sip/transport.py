"""SIP over UDP, TCP and WebSocket on asyncio (RFC 3261 §18, RFC 7118).

A transport receives bytes, parses them and hands messages to its owner; what cannot be
parsed is answered with 400 when enough of it can be read to address a response, and is
dropped otherwise. Responses go back where the request came from (the `rport` behaviour
of RFC 3581, which also gets them through NAT).

The UDP socket's receive buffer is sized for bursts (`receive_buffer`): while the event loop
is busy, datagrams wait in the kernel, and whatever does not fit is dropped there unseen. The
kernel's own default (about 208 KiB on Linux, some 250 small requests) loses most of a burst of
500 OPTIONS; see `size_receive_buffer` for how the size is asked for and what caps it.

WebSocket connections (browsers' phones, websocket.py) are opened by the web server, which hands
each one to `open_websocket`: its frames come in through `received` like datagrams, and what is
sent to its `Peer` is written back as one frame on that connection, never to an address.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog

from hotline.voice.sip.message import (
    Headers,
    SipParseError,
    SipRequest,
    SipResponse,
    StreamFramer,
    Via,
    canonical_name,
    parse,
    parse_cseq,
    split_values,
)
from hotline.voice.sip.metrics import REFUSED, UDP_SOCKETS, udp_drops
from hotline.voice.sip.websocket import WebSocketLink

log = structlog.get_logger(__name__)

SO_RCVBUFFORCE = 33  # Linux's <asm-generic/socket.h>; Python's socket module does not name it
TCP_IDLE_SECONDS = 600.0
"""A TCP connection that sends nothing for this long is closed (phones send a keep-alive CRLF
or re-register well within it); half-sent messages cannot hold a reader forever."""


@dataclass(frozen=True)
class Peer:
    """Where a message came from, and the way back."""

    transport: str  # "UDP" | "TCP" | "WS" | "WSS"
    host: str
    port: int
    connection: int = 0
    """Which WebSocket connection (0 for UDP and TCP): behind a proxy every browser may show the
    same address and port 0, and each socket is still a way back of its own."""

    @property
    def websocket(self) -> bool:
        return self.transport in ("WS", "WSS")

    @property
    def source(self) -> str:
        """Who sent a request, for scanner blocking and rate limits: the address for UDP and TCP;
        the connection for a WebSocket (an office's browsers share one address, and each socket
        was opened by a signed-in user)."""
        return f"{self.host}/ws{self.connection}" if self.connection else self.host

    @property
    def uri_params(self) -> str:
        """What the URI of a Contact Hotline sends this peer carries (RFC 7118 §5.4)."""
        return ";transport=ws" if self.websocket else ""


Receiver = Callable[[SipRequest | SipResponse, Peer], None]
Sender = Callable[[bytes, Peer], None]


def bad_request(data: bytes, error: SipParseError) -> bytes | None:
    """A 400 for a request we could not parse, if what a reply needs can be salvaged: Via (each
    one well-formed: the sender matches the reply by its branch), From, To, Call-ID and a valid
    CSeq. Never for a response or an ACK (RFC 3261 §17.2.1), nor with control characters copied
    into the reply's headers."""
    head, sep, _ = data.partition(b"\r\n\r\n")
    if not sep:
        head = data.partition(b"\n\n")[0]
    lines = head.decode("utf-8", "replace").replace("\r\n", "\n").split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines or lines[0].startswith("SIP/") or lines[0].split(" ", 1)[0].upper() == "ACK":
        return None
    found: dict[str, list[str]] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        canonical = canonical_name(name.strip())
        if colon and canonical in ("Via", "From", "To", "Call-ID", "CSeq"):
            found.setdefault(canonical, []).append(value.strip())
    salvaged = Headers()
    try:
        for value in found.get("Via", []):
            for via in split_values(value):
                salvaged.add("Via", str(Via.parse(via)))
        for name in ("From", "To", "Call-ID", "CSeq"):
            value = found.get(name, [""])[0]
            if not value or any(ord(c) < 32 and c != "\t" for c in value):
                return None
            salvaged.add(name, value)
        parse_cseq(salvaged.get("CSeq") or "")
    except SipParseError:
        return None
    if not salvaged.get("Via"):
        return None
    reason = "".join(c if c.isprintable() and c != '"' else " " for c in str(error))[:100]
    response = SipResponse(salvaged, b"", 400, "Bad Request")
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


def size_receive_buffer(sock: Any, wanted: int) -> int:
    """Ask the kernel for a receive buffer of `wanted` bytes; returns the bytes granted.

    Linux caps SO_RCVBUF at the sysctl `net.core.rmem_max` (208 KiB on a stock kernel) and keeps
    twice the value asked for (half of it pays for bookkeeping); getsockopt reports the doubled
    figure. When the cap bites, SO_RCVBUFFORCE sets the size anyway if the process may
    (CAP_NET_ADMIN: root outside a container): the size is the operator's own configuration, so
    it is honoured where the kernel lets it be. Otherwise a warning names the sysctl to raise.
    """
    doubled = sys.platform == "linux"
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, wanted)
    except OSError as exc:
        log.warning("cannot size the SIP receive buffer", wanted=wanted, error=str(exc))
    granted = int(sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)) // (2 if doubled else 1)
    if granted < wanted and doubled:
        with contextlib.suppress(OSError):  # EPERM without CAP_NET_ADMIN
            sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, wanted)
            granted = int(sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)) // 2
    if granted < wanted:
        log.warning(
            "the kernel capped the SIP receive buffer; bursts beyond it are dropped unseen",
            wanted=wanted, granted=granted, fix=f"sysctl -w net.core.rmem_max={wanted}",
        )  # fmt: skip
    return granted


class SipTransports:
    """UDP and TCP listeners on one address, and the WebSocket connections the web server hands
    over; `stop()` closes them all."""

    def __init__(
        self, host: str, port: int, receiver: Receiver, *, receive_buffer: int | None = None
    ) -> None:
        self.host, self.port, self.receiver = host, port, receiver
        self.receive_buffer = receive_buffer
        """Bytes of UDP receive buffer to ask for (None: the kernel's default)."""
        self._udp: _UdpProtocol | None = None
        self._tcp_server: asyncio.Server | None = None
        self._tcp: dict[tuple[str, int], asyncio.StreamWriter] = {}
        self._readers: set[asyncio.Task[None]] = set()
        self._websockets: dict[Peer, WebSocketLink] = {}
        self._connections = 0
        self.websocket_closed: list[Callable[[Peer], None]] = []
        """Told each WebSocket peer that went away (the registrar drops its bindings)."""
        self.malformed = 0
        self.tcp_idle_seconds = TCP_IDLE_SECONDS

    @property
    def udp_socket(self) -> Any:
        if self._udp is None or self._udp.transport is None:
            return None
        return self._udp.transport.get_extra_info("socket")

    @property
    def connections(self) -> int:
        """Open TCP connections."""
        return len(self._readers)

    def kernel_drops(self) -> int | None:
        """Datagrams the kernel dropped on the UDP socket (a full receive buffer); None if unknown."""
        sock = self.udp_socket
        return None if sock is None else udp_drops(sock)

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
                if self.receive_buffer is not None:
                    self.receive_buffer = size_receive_buffer(self.udp_socket, self.receive_buffer)
                UDP_SOCKETS.owners.add(self)
                return
            except OSError:
                # the UDP port's number is taken for TCP (another server): with any port, try another
                if protocol.transport is not None:
                    protocol.transport.close()
                if not any_port or attempt == 19:
                    raise

    def open_websocket(self, host: str, port: int, *, secure: bool, extension: str) -> WebSocketLink:
        """A browser's WebSocket as a SIP connection: a `Peer` of its own, for `extension` only."""
        self._connections += 1
        peer = Peer("WSS" if secure else "WS", host, port, self._connections)
        link = WebSocketLink(peer, extension)
        self._websockets[peer] = link
        return link

    def close_websocket(self, link: WebSocketLink) -> None:
        """The connection is gone: nothing more is sent to it, and whoever listens is told."""
        link.close()
        if self._websockets.pop(link.peer, None) is not None:
            for listener in self.websocket_closed:
                listener(link.peer)

    def websocket_extension(self, peer: Peer) -> str | None:
        """The extension the user who opened this WebSocket may register (None: not one open)."""
        link = self._websockets.get(peer)
        return None if link is None else link.extension

    @property
    def websockets(self) -> int:
        return len(self._websockets)

    async def stop(self) -> None:
        for link in list(self._websockets.values()):
            self.close_websocket(link)
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
        UDP_SOCKETS.owners.discard(self)

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._readers.add(task)
        host, port = writer.get_extra_info("peername")[:2]
        peer = Peer("TCP", str(host), int(port))
        self._tcp[(peer.host, peer.port)] = writer
        framer = StreamFramer()
        try:
            while data := await asyncio.wait_for(reader.read(65536), self.tcp_idle_seconds):
                try:
                    messages = framer.feed(data)
                except SipParseError as error:
                    self.malformed += 1
                    REFUSED.labels("unanswerable").inc()
                    log.info("closing TCP connection after unframeable data", peer=peer, error=str(error))
                    return
                for message in messages:
                    self.received(message, peer)
        except (ConnectionError, asyncio.IncompleteReadError, TimeoutError):
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
            REFUSED.labels("unanswerable" if reply is None else "malformed").inc()
            if reply is not None:
                self.send(reply, peer)
            return
        self.receiver(message, peer)

    def send(self, data: bytes, peer: Peer) -> None:
        if peer.websocket:
            link = self._websockets.get(peer)
            if link is not None:
                link.send(data)
            else:
                log.debug("SIP message for a closed WebSocket dropped", peer=peer)
            return
        if peer.transport == "TCP":
            writer = self._tcp.get((peer.host, peer.port))
            if writer is not None and not writer.is_closing():
                writer.write(data)
            return
        if self._udp is not None and self._udp.transport is not None:
            self._udp.transport.sendto(data, (peer.host, peer.port))
