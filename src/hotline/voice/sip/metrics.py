"""Prometheus figures of the SIP side: requests refused (and why) and what the kernel dropped.

The kernel drops UDP datagrams when a socket's receive buffer is full, without telling the
process; Linux counts them per socket in /proc/net/udp (the `drops` column), which is read here
at scrape time so that a burst the buffer could not hold shows on the dashboard.
"""

from __future__ import annotations

import os
import socket
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from prometheus_client import REGISTRY, Counter
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

REFUSED = Counter(
    "hotline_sip_requests_refused_total",
    "SIP requests not served: rate-limited and call-limit (answered 503), malformed (answered 400), "
    "unanswerable (malformed beyond reply), blocked (a scanner's address, ignored)",
    ["reason"],
)


class UdpSocketOwner(Protocol):
    @property
    def udp_socket(self) -> Any:
        """The listening UDP socket (asyncio's or uvloop's wrapper of it), or None."""
        ...


def udp_drops(sock: Any) -> int | None:
    """Datagrams the kernel dropped on this socket since it was opened (None: not on Linux)."""
    inode = os.fstat(sock.fileno()).st_ino
    table = "udp6" if sock.family == socket.AF_INET6 else "udp"
    try:
        lines = Path(f"/proc/net/{table}").read_text().splitlines()[1:]
    except OSError:
        return None
    for line in lines:
        fields = line.split()
        if len(fields) >= 13 and fields[9] == str(inode):
            return int(fields[-1])
    return None


class _UdpSockets(Collector):
    """Receive buffer size and kernel drops of every open SIP UDP socket, by port."""

    def __init__(self) -> None:
        self.owners: weakref.WeakSet[UdpSocketOwner] = weakref.WeakSet()

    def collect(self) -> Iterator[Metric]:
        drops = CounterMetricFamily(
            "hotline_sip_udp_kernel_drops",
            "SIP datagrams the kernel dropped because the socket's receive buffer was full",
            labels=["port"],
        )
        size = GaugeMetricFamily(
            "hotline_sip_udp_receive_buffer_bytes",
            "The SIP UDP socket's receive buffer as the kernel granted it",
            labels=["port"],
        )
        for owner in list(self.owners):
            sock = owner.udp_socket
            if sock is None or sock.fileno() < 0:
                continue
            port = str(sock.getsockname()[1])
            dropped = udp_drops(sock)
            if dropped is not None:
                drops.add_metric([port], dropped)
            size.add_metric([port], sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF))
        yield drops
        yield size


UDP_SOCKETS = _UdpSockets()
REGISTRY.register(UDP_SOCKETS)
