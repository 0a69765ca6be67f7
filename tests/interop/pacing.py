"""How evenly the prompt frames reach the callers: an RTP receiver that keeps each packet's kernel
receive time (SO_TIMESTAMPNS, so its own scheduling does not matter) and compares consecutive
packets of a stream with their RTP timestamps:

    deviation = (arrival_i − arrival_i−1) − (timestamp_i − timestamp_i−1) / 8000

0 for a perfect 20 ms cadence; a frame sent 7 ms late gives +7 then −7. Pairs across a marker bit
(a new prompt starts, after a silence that is not jitter) or a lost packet are left out.

    python -m tests.interop.pacing PORT WARMUP SECONDS OUT.json   # on 127.0.0.1:PORT (and PORT+1)

It listens for WARMUP + SECONDS and judges only the last SECONDS (the calls are being set up and
their prompts spoken for the first time during the warm-up).

The callers' SDP names PORT as their media address, so every call's prompt arrives here and the
streams are told apart by SSRC.
"""

from __future__ import annotations

import json
import select
import socket
import struct
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)  # Linux; the constant is missing in some builds
RATE = 8000


@dataclass
class _Stream:
    last: tuple[float, int, int] | None = None  # arrival, sequence, timestamp
    packets: int = 0
    first: float = 0.0
    latest: float = 0.0
    deviations: list[float] = field(default_factory=list)


def _quantile(values: list[float], share: float) -> float:
    return values[min(len(values) - 1, int(len(values) * share))] if values else 0.0


def summary(streams: dict[int, _Stream], ended: float) -> dict[str, object]:
    every = sorted(abs(d) for s in streams.values() for d in s.deviations)
    return {
        "streams": len(streams),
        "alive_at_end": sum(1 for s in streams.values() if s.latest >= ended - 1.0),
        "packets": sum(s.packets for s in streams.values()),
        "pairs": len(every),
        "p50_ms": _quantile(every, 0.5) * 1000,
        "p99_ms": _quantile(every, 0.99) * 1000,
        "p999_ms": _quantile(every, 0.999) * 1000,
        "max_ms": (every[-1] if every else 0.0) * 1000,
        "over_5ms": sum(1 for d in every if d > 0.005),
    }


def listen(port: int, warmup: float, seconds: float, out: Path) -> None:
    sockets = []
    for offset in (0, 1):  # RTP, and RTCP (read and dropped, so the engine gets no ICMP errors)
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        sock.bind(("127.0.0.1", port + offset))
        sock.setblocking(False)
        sockets.append(sock)
    rtp = sockets[0]
    streams: dict[int, _Stream] = {}
    judged_from = time.time() + warmup
    end = time.monotonic() + warmup + seconds
    ancillary = socket.CMSG_SPACE(16)
    while (left := end - time.monotonic()) > 0:
        ready, _, _ = select.select(sockets, [], [], min(left, 0.5))
        for sock in ready:
            while True:
                try:
                    data, cmsgs, _, _ = sock.recvmsg(2048, ancillary)
                except BlockingIOError:
                    break
                if sock is not rtp or len(data) < 12:
                    continue
                arrival = time.time()
                for level, kind, value in cmsgs:
                    if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                        sec, nsec = struct.unpack("qq", value[:16])
                        arrival = sec + nsec / 1e9
                marker = bool(data[1] & 0x80)
                sequence, timestamp, ssrc = struct.unpack("!HII", data[2:12])
                stream = streams.setdefault(ssrc, _Stream(first=arrival))
                stream.packets += 1
                stream.latest = arrival
                if stream.last is not None and not marker:
                    before, last_sequence, last_timestamp = stream.last
                    if sequence == (last_sequence + 1) & 0xFFFF and before >= judged_from:
                        expected = ((timestamp - last_timestamp) & 0xFFFFFFFF) / RATE
                        stream.deviations.append((arrival - before) - expected)
                stream.last = (arrival, sequence, timestamp)
    out.write_text(json.dumps(summary(streams, time.time())))


if __name__ == "__main__":
    listen(int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), Path(sys.argv[4]))
