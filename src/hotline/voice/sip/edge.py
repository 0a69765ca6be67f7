"""Requests that reach a voice node through the site's SIP edge (Kamailio: deploy/kamailio).

Behind the edge every request arrives from the edge's address, so who really sent it travels in
a header the edge sets, `X-Hotline-Source: 203.0.113.5:5060;transport=udp` (the edge removes it
from whatever arrives from outside first). A node believes the header only on a request from an
edge it is configured with (HOTLINE_SIP_EDGE_PROXIES, UDP: the edge's own socket), and uses the
real sender for every decision about trust: a trunk is recognised by its own address, a scanner
is blocked and rate-limited by its own address (never the edge's, which would silence the site),
while answers still go back to the edge. Anything else carrying the header is judged by the
address it came from, as if the header were not there.

A phone registering through the edge has a Path (RFC 3327) naming the edge with its real address
(`add_path_received`); any node rings it by sending the INVITE to that edge with the Path as its
Route (dialing.py).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass

from hotline.voice.sip.message import SipRequest
from hotline.voice.sip.transport import Peer

SOURCE_HEADER = "X-Hotline-Source"
_TRANSPORTS = {"udp": "UDP", "tcp": "TCP", "tls": "TLS", "sctp": "SCTP", "ws": "WS", "wss": "WSS"}
_URI = re.compile(r"<?\s*sips?:(?:[^@;>]*@)?(\[[0-9A-Fa-f:.]+\]|[^:;>]+)(?::([0-9]{1,5}))?([^>]*)>?")


def _address(host: str) -> str | None:
    """A literal IP address, brackets removed (the edge never sends names); None otherwise."""
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


def _port(text: str) -> int | None:
    if not text.isascii() or not text.isdigit() or len(text) > 5:
        return None
    port = int(text)
    return port if 0 < port < 65536 else None


def parse_source(value: str) -> Peer | None:
    """The sender an edge names: `192.0.2.1:5060;transport=udp`, `[2001:db8::1]:5060;…` or
    Kamailio's `2001:db8::1:5060;…`; None for anything else."""
    address, _, params = value.strip().partition(";")
    host, colon, port_text = address.rpartition(":")
    port = _port(port_text) if colon else None
    host_address = _address(host) if port is not None else None
    if host_address is None or port is None:
        return None
    transport = "UDP"
    for param in params.split(";"):
        name, _, text = param.strip().partition("=")
        if name.lower() == "transport":
            found = _TRANSPORTS.get(text.strip().lower())
            if found is None:
                return None
            transport = found
    return Peer(transport, host_address, port)


def parse_edge(value: str) -> tuple[str, int]:
    """`host:port` of an edge (`127.0.0.1:5060`, `[::1]:5060`); ValueError when it is not one."""
    host, colon, port_text = value.strip().rpartition(":")
    port = _port(port_text) if colon else None
    address = _address(host) if port is not None else None
    if address is None or port is None:
        raise ValueError(f"{value!r} is not an edge address: IP:port, such as 127.0.0.1:5060")
    return address, port


def path_peer(path: str) -> Peer | None:
    """Where a request to a phone registered with this Path goes: its first URI (the edge)."""
    match = _URI.match(path.split(",")[0].strip())
    if match is None:
        return None
    host = _address(match.group(1))
    port = _port(match.group(2)) if match.group(2) else 5060
    if host is None or port is None:
        return None
    params = match.group(3).lower()
    transport = "TCP" if ";transport=tcp" in params else "UDP"
    return Peer(transport, host, port)


@dataclass(frozen=True)
class Edges:
    """The edges this node trusts to name a request's sender."""

    addresses: frozenset[tuple[str, int]] = frozenset()

    @classmethod
    def of(cls, values: Iterable[str]) -> Edges:
        return cls(frozenset(parse_edge(value) for value in values))

    def is_edge(self, peer: Peer) -> bool:
        return peer.transport == "UDP" and (peer.host, peer.port) in self.addresses

    def origin(self, request: SipRequest, peer: Peer) -> Peer:
        """Who sent `request`: the sender the edge names, or `peer` itself."""
        if not self.addresses or not self.is_edge(peer):
            return peer
        named = parse_source(request.headers.get(SOURCE_HEADER) or "")
        return peer if named is None else named
