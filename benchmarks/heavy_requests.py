"""Prompt pacing on a node busy with the heaviest requests there are (issue 17).

    uv run python benchmarks/heavy_requests.py [--calls 50] [--seconds 30] [--runs 3] [--concurrency 6]
    uv run python benchmarks/heavy_requests.py --idle          # the same calls, no requests (baseline)

One `hotline serve` (uvicorn on uvloop; API, voice and jobs roles; SQLite, or PostgreSQL with
--database-url) on the demo data (`hotline demo-data`: 2,000 customers, 3,000 reservations, 300
tickets, 320 travel orders). SIPp places --calls calls to a flow that plays a prompt over and
over; their SDP sends the prompt to tests/interop/pacing.py, which takes each frame's kernel
arrival time. Once every call is up, --concurrency clients fire staffing questions fuzzed within
the schema's bounds, customer exports (XLSX with personal data, CSV), a 5,000-row import check,
contract and itinerary PDFs, customer searches and pages of 500 tickets, orders and audit
entries, for --seconds. Reported per run and as the median of the runs: the spread of the frames'
inter-arrival gaps against their RTP timestamps (p50, p99, p99.9, max), calls alive at the end,
SIPp's successful and failed calls, the stalls the node logged, what the requests got, and the
share of the window the node's loop thread ran on a CPU and waited for one (its schedstat: on a
shared machine the second is other programs' doing) with the machine's load average.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.interop.heavy import Node, heavy_load, listeners, prepare  # noqa: E402

HOTLINE = str(Path(sys.executable).with_name("hotline"))


def fill(database_url: str) -> None:
    env = {**os.environ, "HOTLINE_DATABASE_URL": database_url, "HOTLINE_LOG_LEVEL": "WARNING"}
    for command in (["db", "upgrade"], ["demo-data"]):
        subprocess.run([HOTLINE, *command], env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)


async def one_run(args: argparse.Namespace, database_url: str, first: bool) -> dict[str, Any]:
    node = Node(database_url, Path(tempfile.mkdtemp(prefix="hotline-heavy-")), executable=args.hotline)
    await node.start(niceness=args.node_nice - os.nice(0))  # (relative to this script's)
    try:
        if first:
            await prepare(node)
        calls = await listeners(node, args.calls, args.warmup, args.seconds)
        try:
            await asyncio.sleep(args.warmup)
            started = time.monotonic()
            before, machine = node.loop_clocks(), os.getloadavg()[0]
            if args.idle:
                await asyncio.sleep(args.seconds)
                load_report: dict[str, Any] = {}
            else:
                async with heavy_load(node, args.concurrency, tuple(args.only)) as load:
                    await asyncio.sleep(args.seconds - (time.monotonic() - started))
                load_report = load.report()
            after = node.loop_clocks()
            pacing, sipp = await calls.finish()
        finally:
            await calls.kill()
    finally:
        await node.stop()
    wall = after[0] - before[0]
    loop = {
        "busy": round((after[1] - before[1]) / wall, 3),
        "waiting_for_cpu": round((after[2] - before[2]) / wall, 3),
        "machine_load": machine,
    }
    return {
        "pacing": pacing,
        "sipp": sipp,
        "loop": loop,
        "node_stalls": node.stalls(),
        "requests": load_report,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--warmup", type=float, default=12)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=6)
    parser.add_argument("--idle", action="store_true", help="no requests: the baseline")
    parser.add_argument("--only", nargs="*", default=[], help="only these kinds of request (e.g. staffing)")
    parser.add_argument("--node-nice", type=int, default=0, help="the node's niceness (below 0 needs root)")
    parser.add_argument("--hotline", default=HOTLINE, help="the `hotline` command of the version to measure")
    parser.add_argument("--database-url", help="default: a fresh SQLite file with the demo data")
    args = parser.parse_args()
    # The callers, the receiver and the clients stand for machines elsewhere: on this shared box
    # they yield the CPU to the node (which runs at the usual priority) rather than compete.
    os.nice(10)
    database_url = args.database_url
    if database_url is None:
        database_url = f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='hotline-heavy-db-')}/hotline.db"
        fill(database_url)
    results = []
    for run in range(args.runs):
        result = asyncio.run(one_run(args, database_url, first=run == 0 and args.database_url is None))
        print(json.dumps(result, ensure_ascii=False), flush=True)
        results.append(result)
    keys = ("p50_ms", "p99_ms", "p999_ms", "max_ms", "alive_at_end", "streams")
    median = {key: statistics.median(r["pacing"][key] for r in results) for key in keys}
    median["sipp_successful"] = statistics.median(r["sipp"]["successful"] for r in results)
    median["sipp_failed"] = statistics.median(r["sipp"]["failed"] for r in results)
    median["node_stalls"] = statistics.median(r["node_stalls"] for r in results)
    for key in ("busy", "waiting_for_cpu", "machine_load"):
        median[f"loop_{key}"] = statistics.median(r["loop"][key] for r in results)
    print("median:", json.dumps(median))


if __name__ == "__main__":
    main()
