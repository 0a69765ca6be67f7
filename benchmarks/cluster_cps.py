"""Two voice nodes behind Kamailio: calls per second through the SIP edge, and a node's failover.

    uv run python benchmarks/cluster_cps.py [--rate 200] [--seconds 60] [--hold-ms 1000] [--runs 3]
                                            [--failovers 5] [--site bare|full]

Needs kamailio, sipp and a Redis (HOTLINE_TEST_REDIS_URL, or `scripts/services.sh start`). The
site is tests/interop/cluster.py's: Kamailio with deploy/kamailio/kamailio.cfg (4 workers) in
front of two voice-node processes (tests/interop/cluster_node.py: the SIP server and RTP of
`hotline serve --roles voice`, the edge and the site's registrar on Redis, answering every call
without an IVR or database), and SIPp on the same machine calling the demo number: INVITE,
answer, `--hold-ms` of line (silence), BYE.

`--site full` runs the site `make cluster` starts instead (scripts/cluster.sh, on other ports):
`hotline serve --roles voice` nodes running the demo's IVR (greeting prompt) and writing call
records to PostgreSQL, an API-and-jobs node, PostgreSQL and Redis, Kamailio; 40 calls at 5 a
second warm it up first (the greeting's prompt is synthesised on the first call).

Load: SIPp at `--rate` calls a second for `--seconds`; reported per run: calls placed, succeeded,
failed, SIPp's own retransmissions, and the CPU of each process (user+system
seconds over the run ÷ its length: 1.0 = a whole core); medians over `--runs`.

Failover: SIPp at 20 calls a second; one voice node is killed (SIGKILL) and a socket on its port
notes every new call that still reaches it; the time from the kill to the last one, then the node
is restarted and the time to its first call measured; median over `--failovers`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import free_port  # noqa: E402
from tests.interop.cluster import Cluster, fail_over, start_sipp  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User+system CPU of a process and its children that were waited for, and of its live
    children (Kamailio's workers), in seconds."""
    total = 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += sum(int(f) for f in fields[11:15]) / TICKS  # utime stime cutime cstime
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    for task in Path(f"/proc/{pid}/task").iterdir():  # children of any thread (uv spawns from one)
        with contextlib.suppress(FileNotFoundError):
            for child in (task / "children").read_text().split():
                total += cpu_seconds(int(child))
    return total


async def load_run(
    folder: Path, edge: str, processes: dict[str, int], rate: float, seconds: float, hold_ms: int
) -> dict[str, object]:
    """SIPp through `edge` for `seconds`; its outcome and the CPU of each of `processes`."""
    calls = int(rate * seconds)
    before = {name: cpu_seconds(pid) for name, pid in processes.items()}
    started = time.monotonic()
    sipp = await start_sipp(
        folder, edge, calls=calls, rate=rate, hold_ms=hold_ms, extra=("-l", str(int(rate * 4)))
    )
    sipp_cpu = 0.0
    while sipp.process.returncode is None:  # SIPp's own CPU, read while it still runs
        sipp_cpu = cpu_seconds(sipp.process.pid) or sipp_cpu
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(sipp.process.wait(), 0.5)
    code, succeeded, failed = await sipp.done()
    elapsed = time.monotonic() - started
    cpu = {name: (cpu_seconds(pid) - before[name]) / elapsed for name, pid in processes.items()}
    cpu["sipp"] = sipp_cpu / elapsed
    stats = sipp_stats(sipp.folder)
    return {
        "calls": calls, "succeeded": succeeded, "failed": failed, "sipp exit": code,
        "seconds": round(elapsed, 1), "retransmissions": stats.get("Retransmissions(C)"),
        "unexpected messages": stats.get("FailedUnexpectedMessage(C)"),
        "timeouts": stats.get("FailedMaxUDPRetrans(C)"),
        "cpu (cores)": {name: round(value, 3) for name, value in cpu.items()},
    }  # fmt: skip


async def bare_run(redis_url: str, rate: float, seconds: float, hold_ms: int) -> dict[str, object]:
    """Two bare voice-node processes (cluster_node.py) behind the edge."""
    with tempfile.TemporaryDirectory() as folder:
        site = Cluster(Path(folder), redis_url)
        await site.start()
        try:
            await asyncio.sleep(2)
            processes = {"kamailio": site.kamailio.pid if site.kamailio else 0}
            for i, node in enumerate(site.members, 1):
                assert node.process is not None
                processes[f"voice node {i}"] = node.process.pid
            result = await load_run(Path(folder), site.edge, processes, rate, seconds, hold_ms)
            result["answered per node"] = [n.answered for n in site.members]
            return result
        finally:
            await site.stop()


async def full_run(rate: float, seconds: float, hold_ms: int) -> dict[str, object]:
    """The site `make cluster` starts (scripts/cluster.sh): `hotline serve` voice nodes with the
    demo's IVR and call records in PostgreSQL, an API-and-jobs node, Kamailio; other ports."""
    with tempfile.TemporaryDirectory() as folder:
        await asyncio.to_thread(Path(folder).chmod, 0o755)  # PostgreSQL runs as its own user in it
        edge_port = free_port()
        env = {
            **os.environ, "CLUSTER_DIR": folder, "EDGE_PORT": str(edge_port),
            "EDGE_TLS_PORT": str(free_port()), "HTTP_PORT": "8300", "SIP_BASE": "5380",
            "CLUSTER_PG_PORT": "55492", "CLUSTER_REDIS_PORT": "56392",
            "RTPENGINE_NG_PORT": str(free_port()), "RTPENGINE_PORTS": "41000-41999",
        }  # fmt: skip
        script = str(ROOT / "scripts" / "cluster.sh")
        await asyncio.to_thread(subprocess.run, [script, "start"], env=env, check=True, capture_output=True)
        try:
            await asyncio.sleep(3)
            warm_up = await start_sipp(Path(folder), f"127.0.0.1:{edge_port}", calls=40, rate=5, hold_ms=1000)
            await warm_up.done()  # the greeting's prompt synthesised once, as on a site running for a while
            processes = {
                name: int((Path(folder) / f"{pid}.pid").read_text())
                for name, pid in (("kamailio", "kamailio"), ("voice node 1", "voice-1"),
                                  ("voice node 2", "voice-2"), ("api+jobs node", "api"))
            }  # fmt: skip
            result = await load_run(Path(folder), f"127.0.0.1:{edge_port}", processes, rate, seconds, hold_ms)
            if result["failed"]:  # the nodes' and the edge's logs, and SIPp's errors, for a look later
                result["logs kept in"] = await asyncio.to_thread(keep_logs, Path(folder))
            return result
        finally:
            await asyncio.to_thread(subprocess.run, [script, "stop"], env=env, capture_output=True)


def keep_logs(folder: Path) -> str:
    kept = ROOT / "var" / "bench" / f"cluster_cps-{time.strftime('%Y%m%d-%H%M%S')}"
    kept.mkdir(parents=True, exist_ok=True)
    for log in [*folder.glob("*.log"), *folder.glob("sipp-*/*errors.log")]:
        shutil.copy(log, kept / log.name)
    return str(kept)


def sipp_stats(folder: Path) -> dict[str, str]:
    rows = [line.split(";") for p in folder.glob("*_.csv") for line in p.read_text().splitlines()]
    return dict(zip(rows[0], rows[-1], strict=False)) if rows else {}


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--hold-ms", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--failovers", type=int, default=5)
    parser.add_argument("--site", choices=["bare", "full"], default="bare")
    args = parser.parse_args()
    redis_url = os.environ.get("HOTLINE_TEST_REDIS_URL")
    if not redis_url:
        raise SystemExit('set HOTLINE_TEST_REDIS_URL (eval "$(scripts/services.sh start)")')
    results: dict[str, object] = {"cpus": os.cpu_count(), "site": args.site, "rate": args.rate,
                                  "seconds": args.seconds}  # fmt: skip
    runs = []
    for run in range(args.runs):
        if args.site == "bare":
            runs.append(await bare_run(redis_url, args.rate, args.seconds, args.hold_ms))
        else:
            runs.append(await full_run(args.rate, args.seconds, args.hold_ms))
        print(f"run {run + 1}: {json.dumps(runs[-1], ensure_ascii=False)}", flush=True)
    results["load runs"] = runs
    if runs:
        results["median failed"] = statistics.median(int(str(r["failed"])) for r in runs)
    failovers = []
    with tempfile.TemporaryDirectory() as folder:
        if not args.failovers:
            print(json.dumps(results, ensure_ascii=False, indent=1))
            return
        site = Cluster(Path(folder), redis_url)
        await site.start()
        try:
            for attempt in range(args.failovers):
                calls = await site.sipp(calls=20 * 12, rate=20)
                await asyncio.sleep(3)
                failover = await fail_over(site, site.members[attempt % 2])
                _, _, failed = await calls.done()
                failovers.append({"out after s": round(failover.out_after, 2), "lost": failover.lost,
                                  "back in s": round(failover.back_in, 2), "failed": failed})  # fmt: skip
                print(f"failover {attempt + 1}: {failovers[-1]}", flush=True)
        finally:
            await site.stop()
    results["failovers"] = failovers
    if failovers:
        results["median out after s"] = statistics.median(float(f["out after s"]) for f in failovers)
    print(json.dumps(results, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    asyncio.run(main())
