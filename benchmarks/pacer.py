"""The media pacer against a busy event loop, without a node around it.

    uv run python benchmarks/pacer.py [--calls 50] [--seconds 20] [--busy 0.8] [--chunk-ms 10]
                                      [--switch-interval 0.0005] [--uvloop] [--runs 3]

One process plays a looping prompt on --calls RTP sessions (RtpSession.play, so the media pacer
process sends the frames) while its event loop computes in pure Python, holding the GIL, for
--chunk-ms at a time, --busy of the time (what a loop serving pages of 500 rows does). The
frames go to tests/interop/pacing.py in another process, which times each on arrival with the
kernel's timestamp: the deviation of consecutive frames from the 20 ms cadence, as in
heavy_requests.py. Also reported: how late the pacer itself sent the frames (its histogram), the
frames it dropped, the pacer's and the loop thread's CPU time and wait for a CPU (schedstat), and
the priority the pacer got.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def free_even_port() -> int:
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1]) // 2 * 2
        with (
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as one,
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as two,
        ):
            try:
                one.bind(("127.0.0.1", port))
                two.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port


def schedstat(path: str) -> tuple[float, float]:
    ran, waited, _ = Path(path, "schedstat").read_text().split()
    return int(ran) / 1e9, int(waited) / 1e9


def burn(seconds: float) -> None:
    """Pure-Python work holding the GIL, like building ORM objects and serialising them."""
    end = time.perf_counter() + seconds
    rows: list[dict[str, Any]] = []
    while time.perf_counter() < end:
        rows.append({"id": len(rows), "name": str(len(rows)) * 3})
        if len(rows) > 500:
            rows.clear()


async def one_run(args: argparse.Namespace) -> dict[str, Any]:
    from hotline.voice.media.g711 import tone, ulaw_encode
    from hotline.voice.rtp.pacer import media_pacer
    from hotline.voice.rtp.session import RtpSession

    port = free_even_port()
    out = Path(tempfile.mkdtemp(prefix="hotline-pacer-")) / "pacing.json"
    window = (str(args.warmup), str(args.seconds))
    listener = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.interop.pacing", str(port), *window, str(out), cwd=ROOT
    )
    await asyncio.sleep(0.5)
    prompt = ulaw_encode(tone(440, 700) + tone(660, 700))
    sessions = [RtpSession("127.0.0.1", ("127.0.0.1", port)) for _ in range(args.calls)]
    for session in sessions:
        await session.start()
    plays = [asyncio.ensure_future(s.play(prompt, loop=True)) for s in sessions]
    await asyncio.sleep(0.2)
    pacer = media_pacer()
    await asyncio.sleep(args.warmup - 0.7)
    assert pacer.pid is not None
    pacer_path, loop_path = f"/proc/{pacer.pid}", f"/proc/self/task/{threading.get_native_id()}"
    sent, dropped, lateness = pacer.sent, pacer.dropped, list(pacer.lateness)
    before = (time.monotonic(), schedstat(pacer_path), schedstat(loop_path), os.getloadavg()[0])
    end = time.monotonic() + args.seconds
    chunk = args.chunk_ms / 1000
    idle = chunk * (1 - args.busy) / args.busy if args.busy > 0 else 0.1
    while time.monotonic() < end:
        if args.busy > 0:
            burn(chunk)
        await asyncio.sleep(idle)
    await asyncio.sleep(1.1)  # the pacer's figures come once a second
    after = (time.monotonic(), schedstat(pacer_path), schedstat(loop_path))
    for play in plays:
        play.cancel()
    await asyncio.gather(*plays, return_exceptions=True)
    for session in sessions:
        session.close()
    await asyncio.wait_for(listener.wait(), args.warmup + args.seconds + 30)
    pacing = json.loads(out.read_text())
    wall = after[0] - before[0]
    counts = [b - a for a, b in zip(lateness, pacer.lateness, strict=True)]
    from hotline.voice.rtp.pacer import LATENESS_BUCKETS

    total = sum(counts) or 1
    cumulative = list(itertools.accumulate(counts))
    sender_p99 = next(
        (
            f"≤{bound * 1000:g}"
            for bound, c in zip(LATENESS_BUCKETS, cumulative, strict=False)
            if c >= 0.99 * total
        ),
        f">{LATENESS_BUCKETS[-1] * 1000:g}",
    )
    return {
        "pacing": {
            k: pacing[k]
            for k in ("streams", "alive_at_end", "pairs", "p50_ms", "p99_ms", "p999_ms", "max_ms")
        },
        "pacer": {
            "sent": pacer.sent - sent,
            "dropped": pacer.dropped - dropped,
            "lateness_p99_ms": sender_p99,
            "priority": pacer.priority,
            "busy": round((after[1][0] - before[1][0]) / wall, 3),
            "waited_for_cpu": round((after[1][1] - before[1][1]) / wall, 3),
        },
        "loop": {
            "busy": round((after[2][0] - before[2][0]) / wall, 3),
            "waited_for_cpu": round((after[2][1] - before[2][1]) / wall, 3),
        },
        "switch_interval": sys.getswitchinterval(),
        "machine_load": before[3],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--busy", type=float, default=0.8, help="share of the time the loop computes")
    parser.add_argument("--chunk-ms", type=float, default=10, help="how long the loop computes at a time")
    parser.add_argument("--switch-interval", type=float, default=0.0005)
    parser.add_argument("--uvloop", action="store_true")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    sys.setswitchinterval(args.switch_interval)
    results = []
    for _ in range(args.runs):
        if args.uvloop:
            import uvloop

            result = uvloop.run(one_run(args))
        else:
            result = asyncio.run(one_run(args))
        print(json.dumps(result, ensure_ascii=False), flush=True)
        results.append(result)
    median = {
        key: statistics.median(r["pacing"][key] for r in results)
        for key in ("p50_ms", "p99_ms", "p999_ms", "max_ms")
    }
    print("median:", json.dumps(median))


if __name__ == "__main__":
    main()
