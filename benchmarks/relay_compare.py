"""The built-in relay against rtpengine (userspace) on the same SIPp load, in the same run.

    uv run python benchmarks/relay_compare.py [--calls 100] [--seconds 20] [--runs 3] [--uvloop]

For each run, with and without recording, the same load is relayed twice:

- **built-in**: benchmarks/voice.py's bridge (a SIPp caller per call streams a tone to Hotline's
  engine, which originates a far leg to a SIPp that echoes RTP, and relays raw RTP between them;
  recording: the engine's recorder taps, WAV files at hang-up);
- **rtpengine**: the same SIPp caller and echoing far SIPp, with a signalling-only relay between
  them (this script's `proxy`, on CPU 1 with SIPp) that anchors each call's media in rtpengine
  through Hotline's ng client (offer on the INVITE, answer on the 200, delete on the BYE;
  recording: `record call` in the offer, rtpengine's pcap per call).

The relaying process is pinned to CPU 0 in both cases (Hotline's engine; rtpengine with
`--table=-1 --num-threads=1`, so userspace forwarding on one core); SIPp runs on CPU 1. Over a
steady window: the process's CPU seconds (/proc/PID/stat utime+stime) ÷ the packets it relayed
(Hotline's own count; rtpengine's per-call `query` totals) = µs per packet, and the ratio built-in ÷
rtpengine. The medians of the runs are printed last.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import voice  # benchmarks/voice.py: the built-in bridge run, SIPp helpers, CPU readings
from hotline.voice.rtpengine.client import NgClient, NgError

# ---------------------------------------------------------------- the signalling-only relay


class Proxy:
    """Shovels SIP between the caller SIPp and the far SIPp; rewrites SDP through rtpengine."""

    def __init__(self, ng: NgClient, far: tuple[str, int], record: bool) -> None:
        self.ng, self.far, self.record = ng, far, record
        self.callers: dict[bytes, tuple[str, int]] = {}
        self.transport: asyncio.DatagramTransport | None = None
        self.errors = 0
        self.tasks: set[asyncio.Task[None]] = set()  # held until done (the loop keeps weak references)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        task = asyncio.get_running_loop().create_task(self.forward(data, addr))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def forward(self, data: bytes, addr: tuple[str, int]) -> None:
        assert self.transport is not None
        head, _, body = data.partition(b"\r\n\r\n")
        call_id = _header(head, b"Call-ID")
        from_far = addr == self.far
        if not from_far:
            self.callers[call_id] = addr
        try:
            if head.startswith(b"INVITE ") and body:
                options = {"record call": "yes"} if self.record else {}
                body = (
                    await self.ng.offer(call_id.decode(), _tag(head, b"From"), body.decode(), options)
                ).encode()
            elif head.startswith(b"SIP/2.0 200") and b"INVITE" in _header(head, b"CSeq") and body:
                sdp = await self.ng.answer(
                    call_id.decode(), _tag(head, b"From"), _tag(head, b"To"), body.decode()
                )
                body = sdp.encode()
            elif head.startswith(b"BYE "):
                await self.ng.delete(call_id.decode())
        except NgError:
            self.errors += 1
        head = re.sub(rb"(?im)^Content-Length:.*$", b"Content-Length: %d" % len(body), head)
        target = self.callers.get(call_id, addr) if from_far else self.far
        self.transport.sendto(head + b"\r\n\r\n" + body, target)


def _header(head: bytes, name: bytes) -> bytes:
    match = re.search(rb"(?im)^" + name + rb":\s*(.*?)\s*$", head)
    return match.group(1) if match else b""


def _tag(head: bytes, name: bytes) -> str:
    match = re.search(rb";tag=([^;>\s]+)", _header(head, name))
    return match.group(1).decode() if match else ""


def proxy(port: int, far_port: int, ng_port: int, record: bool) -> None:
    class Protocol(asyncio.DatagramProtocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            relay.transport = transport  # type: ignore[assignment]

        def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
            relay.datagram_received(data, addr)

    async def main() -> None:
        nonlocal relay
        async with NgClient(("127.0.0.1", ng_port), interval=0.2, attempts=50) as ng:
            await ng.ping()
            relay = Proxy(ng, ("127.0.0.1", far_port), record)
            loop = asyncio.get_running_loop()
            await loop.create_datagram_endpoint(Protocol, local_addr=("127.0.0.1", port))
            stop = asyncio.Event()
            loop.add_signal_handler(signal.SIGTERM, stop.set)
            await stop.wait()
            print(json.dumps({"ng_errors": relay.errors}), file=sys.stderr)

    relay: Proxy
    asyncio.run(main())


# ---------------------------------------------------------------- the rtpengine run


async def relayed_by_rtpengine(ng_port: int) -> tuple[int, int]:
    """Packets rtpengine has forwarded in the calls it holds now, and how many calls."""
    async with NgClient(("127.0.0.1", ng_port)) as ng:
        calls = await ng.list_calls(limit=100_000)
        answers = await asyncio.gather(*(ng.query(call) for call in calls))
    return sum(int(answer["totals"]["RTP"]["packets"]) for answer in answers), len(calls)


async def delete_all(ng_port: int) -> int:
    async with NgClient(("127.0.0.1", ng_port)) as ng:
        calls = await ng.list_calls(limit=100_000)
        await asyncio.gather(*(ng.delete(call) for call in calls), return_exceptions=True)
    return len(calls)


def run_rtpengine(args: argparse.Namespace, record: bool) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="hotline-bench-rtpengine-"))
    port, far_port, ng_port = voice.free_port(), voice.free_port(), voice.free_port()
    (work / "rec").mkdir()
    low = 42000
    daemon = subprocess.Popen(
        ["taskset", "-c", "0", "rtpengine", "--config-file=none", "--foreground", "--log-stderr",
         "--table=-1", "--num-threads=1", "--interface=127.0.0.1", f"--listen-ng=127.0.0.1:{ng_port}",
         f"--port-min={low}", f"--port-max={low + 4 * args.calls + 100}", "--delete-delay=0",
         f"--recording-dir={work / 'rec'}", "--recording-method=pcap", "--log-level=3"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=work,
    )  # fmt: skip
    relay = subprocess.Popen(
        ["taskset", "-c", "1", sys.executable, __file__, "proxy", "--port", str(port),
         "--far-port", str(far_port), "--ng-port", str(ng_port), *(["--record"] if record else [])],
    )  # fmt: skip
    helpers: list[subprocess.Popen[bytes]] = []
    try:
        time.sleep(1.5)
        voice.hold_scenario(work)
        ramp = voice.hold_load(work, port, far_port, args.calls, args.seconds, helpers)
        time.sleep(args.calls / ramp + 5)
        # The packets are counted over the queries' midpoints (100 queries take a moment), the CPU
        # over the window between them; the load is steady, so the rate times the window is exact.
        q0, (packets0, calls_up), q0_end = (
            time.monotonic(),
            asyncio.run(relayed_by_rtpengine(ng_port)),
            time.monotonic(),
        )
        times0, t0 = voice.cpu_times(daemon.pid), time.monotonic()
        time.sleep(args.seconds)
        times1, t1 = voice.cpu_times(daemon.pid), time.monotonic()
        q1, (packets1, _), q1_end = (
            time.monotonic(),
            asyncio.run(relayed_by_rtpengine(ng_port)),
            time.monotonic(),
        )
        rate = (packets1 - packets0) / ((q1 + q1_end) / 2 - (q0 + q0_end) / 2)
        cpu_share = (sum(times1) - sum(times0)) / (t1 - t0)
        result = {"relay": "rtpengine", "recorded": record, "calls_up": calls_up,
                  "relayed_per_s": rate, "cpu_share": cpu_share,
                  "user_share": (times1[0] - times0[0]) / (t1 - t0), "query_s": q0_end - q0,
                  "us_per_packet": cpu_share / rate * 1e6 if rate else float("nan")}  # fmt: skip
        for helper in helpers:
            helper.terminate()
        # rtpengine 10.5.3.5 crashes on SIGTERM while it holds recorded calls (recording_finish in
        # call_free): the calls SIPp left without a BYE are deleted first.
        result["deleted"] = asyncio.run(delete_all(ng_port))
        result["pcaps"] = len(list((work / "rec").glob("pcaps/*.pcap")))
        return result
    finally:
        for process in (*helpers, relay, daemon):
            if process.poll() is None:
                process.terminate()
        for process in (*helpers, relay, daemon):
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def run_builtin(args: argparse.Namespace, record: bool) -> dict[str, Any]:
    bridge = argparse.Namespace(
        calls=args.calls, seconds=args.seconds, no_record=not record, uvloop=args.uvloop
    )
    result = voice.run("bridge", bridge)
    return {"relay": "built-in", "recorded": record, "calls_up": result.get("calls_up"),
            "relayed_per_s": result["relayed_per_s"], "cpu_share": result["cpu_share"],
            "user_share": result["user_share"], "us_per_packet": result["us_per_packet"]}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("kind", nargs="?", default="compare", choices=["compare", "proxy"])
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--uvloop", action="store_true")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--far-port", type=int, default=0)
    parser.add_argument("--ng-port", type=int, default=0)
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    if args.kind == "proxy":
        proxy(args.port, args.far_port, args.ng_port, args.record)
        return
    rows: dict[tuple[str, bool], list[dict[str, Any]]] = {}
    for _ in range(args.runs):
        for record in (False, True):
            for relay in (run_builtin, run_rtpengine):
                result = relay(args, record)
                print(json.dumps(result), flush=True)
                rows.setdefault((result["relay"], record), []).append(result)
    print("medians:")
    for record in (False, True):
        builtin, rtpengine = (
            statistics.median(r["us_per_packet"] for r in rows[(relay, record)])
            for relay in ("built-in", "rtpengine")
        )
        print(json.dumps({"recorded": record, "built_in_us_per_packet": round(builtin, 2),
                          "rtpengine_us_per_packet": round(rtpengine, 2),
                          "ratio_built_in_over_rtpengine": round(builtin / rtpengine, 2),
                          "runs": {relay: [round(r["us_per_packet"], 2) for r in rows[(relay, record)]]
                                   for relay in ("built-in", "rtpengine")},
                          "user_us_per_packet": {relay: round(statistics.median(
                              r["user_share"] / r["relayed_per_s"] * 1e6 for r in rows[(relay, record)]), 2)
                                   for relay in ("built-in", "rtpengine")}}))  # fmt: skip


if __name__ == "__main__":
    os.environ.setdefault("HOTLINE_LOG_LEVEL", "WARNING")
    main()
