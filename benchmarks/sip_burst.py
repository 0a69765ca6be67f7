"""SIP under bursts: how many of N OPTIONS sent at once are answered 200, refused 503, or lost.

    uv run python benchmarks/sip_burst.py [--sizes 100,500,1000,2000,5000,10000] [--runs 5] [--uvloop]

For each burst size and configuration a fresh SIP server process starts (pinned to CPU 0), and
this process (CPU 1) sends the burst from one UDP socket as fast as Python can (500 OPTIONS take
about 2–6 ms), while a thread reads the answers. Whatever has no answer 3 s after the last one
is lost; the server socket's kernel drop counter (/proc/net/udp) says where it was lost.
Configurations: `kernel default` (no SO_RCVBUF, no per-source limit: how Hotline was before
issue 17) and `hotline` (the defaults of core/config.py: 4 MiB buffer, 1,000 requests at once
and 500/s per source). Figures are medians over the runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CONFIGS: dict[str, dict[str, Any]] = {
    "kernel default": {"buffer": None, "rate": 0.0, "burst": 1},
    "hotline": {"buffer": 4 * 1024 * 1024, "rate": 500.0, "burst": 1000},
}


def serve(port: int, buffer: int | None, rate: float, burst: int, use_uvloop: bool) -> None:
    from hotline.voice.sip.limits import SourceLimits
    from hotline.voice.sip.server import SipServer

    async def main() -> None:
        sip = SipServer(
            "127.0.0.1",
            port,
            "hotline",
            {},
            receive_buffer=buffer,
            limits=SourceLimits(rate=rate, burst=burst),
        )
        await sip.start()
        print(json.dumps({"ready": True, "buffer": sip.transports.receive_buffer}), flush=True)
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()
        await sip.stop()

    if use_uvloop:
        import uvloop

        uvloop.run(main())
    else:
        asyncio.run(main())


def kernel_drops(port: int) -> int:
    """The drops column of the UDP socket bound to 127.0.0.1:port."""
    local = f"0100007F:{port:04X}"
    for line in Path("/proc/net/udp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] == local:
            return int(fields[-1])
    return 0


def options(port: int, n: int) -> bytes:
    return (
        f"OPTIONS sip:hotline@127.0.0.1 SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bKbench{n};rport\r\n"
        "Max-Forwards: 70\r\n"
        f"From: <sip:monitor@127.0.0.1>;tag=m{n}\r\nTo: <sip:hotline@127.0.0.1>\r\n"
        f"Call-ID: bench-{n}@127.0.0.1\r\nCSeq: 1 OPTIONS\r\n"
        "User-Agent: sip-burst-bench\r\nAccept: application/sdp\r\nContent-Length: 0\r\n\r\n"
    ).encode()


def one_run(size: int, config: dict[str, Any], use_uvloop: bool) -> dict[str, Any]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    command = [sys.executable, __file__, "serve", "--port", str(port), "--rate", str(config["rate"]),
               "--burst", str(config["burst"])]  # fmt: skip
    if config["buffer"]:
        command += ["--buffer", str(config["buffer"])]
    if use_uvloop:
        command.append("--uvloop")
    server = subprocess.Popen(
        ["taskset", "-c", "0", *command], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=ROOT
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        while not line.startswith(b"{"):  # the server's log lines come first
            line = server.stdout.readline()
        ready = json.loads(line)
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, 33, 64 * 1024 * 1024)  # SO_RCVBUFFORCE: our side loses nothing
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(3.0)
        counts = {"200": 0, "503": 0, "other": 0}
        last = [0.0]

        def read() -> None:
            while True:
                try:
                    data = sock.recv(65535)
                except TimeoutError:
                    return
                status = data[8:11].decode()
                counts[status if status in counts else "other"] += 1
                last[0] = time.perf_counter()

        reader = threading.Thread(target=read)
        reader.start()
        wires = [options(int(sock.getsockname()[1]), n) for n in range(size)]
        started = time.perf_counter()
        for wire in wires:
            sock.sendto(wire, ("127.0.0.1", port))
        sent_in = time.perf_counter() - started
        reader.join()
        sock.close()
        return {
            "answered": counts["200"], "refused": counts["503"],
            "lost": size - counts["200"] - counts["503"] - counts["other"],
            "kernel_drops": kernel_drops(port), "send_ms": sent_in * 1000,
            "drain_ms": (last[0] - started) * 1000 if last[0] else 0.0, "buffer": ready["buffer"],
        }  # fmt: skip
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", nargs="?", default="bench", choices=["bench", "serve"])
    parser.add_argument("--sizes", default="100,500,1000,2000,5000,10000")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--uvloop", action="store_true")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--buffer", type=int, default=None)
    parser.add_argument("--rate", type=float, default=0.0)
    parser.add_argument("--burst", type=int, default=1)
    args = parser.parse_args()
    if args.mode == "serve":
        serve(args.port, args.buffer, args.rate, args.burst, args.uvloop)
        return
    print(f"rmem_max={Path('/proc/sys/net/core/rmem_max').read_text().strip()} uvloop={args.uvloop}")
    print(
        "| configuration | burst | answered 200 | refused 503 | lost | kernel drops | sent in | answered in |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, config in CONFIGS.items():
        for size in (int(s) for s in args.sizes.split(",")):
            runs = [one_run(size, config, args.uvloop) for _ in range(args.runs)]

            def median(key: str, runs: list[dict[str, Any]] = runs) -> float:
                return statistics.median(r[key] for r in runs)

            lost = "/".join(str(r["lost"]) for r in runs)
            print(
                f"| {name} | {size} | {median('answered'):.0f} | {median('refused'):.0f} | "
                f"{median('lost'):.0f} (runs {lost}) | {median('kernel_drops'):.0f} | "
                f"{median('send_ms'):.1f} ms | {median('drain_ms'):.0f} ms |",
                flush=True,
            )


if __name__ == "__main__":
    os.environ.setdefault("HOTLINE_LOG_LEVEL", "WARNING")
    main()
