"""Originations against the real engine: N outbound calls a second through a trunk, 0 failed?

    uv run python benchmarks/originate.py [--rates 100,200] [--seconds 20] [--hold 5] [--runs 3]

What a predictive dialer asks of the voice engine (issue 22: "100 outbound calls per second with
0 failed"). For each rate and run, a fresh engine process (the built-in SIP/RTP engine,
`SipServer`, pinned to CPU 0) originates `rate` calls a second for `seconds` seconds to numbers
behind an outbound trunk, as `Dialer` does (`engine.originate(number, caller=…, ring_for=30)`);
the far end is SIPp (CPU 1) as a carrier that rings for a second (180), answers (200 with SDP),
and takes our BYE after `hold` seconds of the call. At 100/s with 1 s ringing and 5 s held that
is ~600 calls up at once, each with its RTP port.

Reported per rate (median of the runs): calls placed, answered, failed (any `OriginateFailed`),
setup time from the originate call to the answered leg (p50, p99; the far end's 1 s ring
included), how late the dialing loop launched calls against its schedule (p99), and the
engine's CPU share.
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
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from voice import cpu_times, free_port  # noqa: E402

SCENARIO = ROOT / "benchmarks" / "scenarios" / "uas_ring_answer.xml"


def engine(port: int, far_port: int, rate: int, seconds: float, hold: float, out: Path) -> None:
    """The engine process: originate `rate` calls a second for `seconds`, each held `hold` s."""
    from hotline.voice.control import OriginateFailed
    from hotline.voice.sip.server import SipServer
    from hotline.voice.sip.trunk import Trunk

    trunk = Trunk("carrier", "127.0.0.1", port=far_port, dids={}, outbound=True, caller_id="4008001000")
    server = SipServer("127.0.0.1", port, "hotline", {}, trunks=[trunk], max_calls=10_000)
    setups: list[float] = []
    late: list[float] = []
    failures: dict[str, int] = {}

    async def call(number: str) -> None:
        started = time.perf_counter()
        try:
            leg = await server.engine.originate(number, caller="4008001000", ring_for=30.0)
        except OriginateFailed as exc:
            failures[exc.reason.value] = failures.get(exc.reason.value, 0) + 1
            return
        setups.append(time.perf_counter() - started)
        await asyncio.sleep(hold)
        await leg.hang_up()

    async def main() -> None:
        await server.start()
        await asyncio.sleep(0.5)
        total = int(rate * seconds)
        tasks = []
        begin = time.perf_counter()
        for i in range(total):
            due = begin + i / rate
            now = time.perf_counter()
            if due > now:
                await asyncio.sleep(due - now)
            late.append(max(0.0, time.perf_counter() - due))
            tasks.append(asyncio.ensure_future(call(f"+86138{i:08d}")))
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.sleep(1.0)
        summary = {"placed": total, "answered": len(setups), "failures": failures,
                   "setups": setups, "late": late, "legs_left": len(server.engine.legs)}  # fmt: skip
        await asyncio.to_thread(out.write_text, json.dumps(summary))
        await server.stop()

    asyncio.run(main())


def quantile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def run(rate: int, args: argparse.Namespace) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="hotline-originate-"))
    port, far_port = free_port(), free_port()
    scenario = SCENARIO
    out = work / "result.json"
    far = subprocess.Popen(
        ["taskset", "-c", "1", "sipp", "-sf", str(scenario), "-p", str(far_port), "-mp", str(free_port()),
         "-i", "127.0.0.1", "-nostdin", "-l", "100000", "-bg"],
        cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    time.sleep(1.0)
    env = {**os.environ, "HOTLINE_LOG_LEVEL": "WARNING"}
    command = [sys.executable, __file__, "engine", "--port", str(port), "--far-port", str(far_port),
               "--rate", str(rate), "--seconds", str(args.seconds), "--hold", str(args.hold),
               "--out", str(out)]  # fmt: skip
    try:
        process = subprocess.Popen(["taskset", "-c", "0", *command], env=env)
        started = time.monotonic()
        cpu0 = 0.0
        while process.poll() is None:
            time.sleep(0.5)
            with_cpu = cpu_times(process.pid)
            cpu0 = sum(with_cpu)
        wall = time.monotonic() - started
        result = json.loads(out.read_text())
    finally:
        subprocess.run(["pkill", "-f", f"sipp -sf {scenario} -p {far_port} "], check=False)
        far.kill()
    return {
        "rate": rate,
        "placed": result["placed"],
        "answered": result["answered"],
        "failed": sum(result["failures"].values()),
        "failures": result["failures"],
        "setup_p50_ms": quantile(result["setups"], 0.5) * 1000,
        "setup_p99_ms": quantile(result["setups"], 0.99) * 1000,
        "late_p99_ms": quantile(result["late"], 0.99) * 1000,
        "legs_left": result["legs_left"],
        "cpu_share": cpu0 / wall if wall else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("engine")
    serve.add_argument("--port", type=int, required=True)
    serve.add_argument("--far-port", type=int, required=True)
    serve.add_argument("--rate", type=int, required=True)
    serve.add_argument("--seconds", type=float, required=True)
    serve.add_argument("--hold", type=float, required=True)
    serve.add_argument("--out", type=Path, required=True)
    parser.add_argument("--rates", default="100,200")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--hold", type=float, default=5.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if args.command == "engine":
        engine(args.port, args.far_port, args.rate, args.seconds, args.hold, args.out)
        return
    print(f"{args.seconds:g} s of originations per run, each call rung 1 s and held {args.hold:g} s")
    print(f"{'rate/s':>7} {'run':>4} {'placed':>7} {'answered':>9} {'failed':>7} {'setup p50':>10} "
          f"{'setup p99':>10} {'late p99':>9} {'cpu':>5}")  # fmt: skip
    for rate in (int(r) for r in args.rates.split(",")):
        results = [run(rate, args) for _ in range(args.runs)]
        for i, r in enumerate(results, 1):
            print(f"{rate:7d} {i:4d} {r['placed']:7d} {r['answered']:9d} {r['failed']:7d} "
                  f"{r['setup_p50_ms']:8.1f}ms {r['setup_p99_ms']:8.1f}ms {r['late_p99_ms']:7.1f}ms "
                  f"{r['cpu_share']:5.0%}  {r['failures'] or ''}")  # fmt: skip
        keys = ("answered", "failed", "setup_p50_ms", "setup_p99_ms", "late_p99_ms", "cpu_share")
        med = {k: statistics.median(r[k] for r in results) for k in keys}
        print(f"{rate:7d} {'med':>4} {results[0]['placed']:7d} {med['answered']:9.0f} {med['failed']:7.0f} "
              f"{med['setup_p50_ms']:8.1f}ms {med['setup_p99_ms']:8.1f}ms {med['late_p99_ms']:7.1f}ms "
              f"{med['cpu_share']:5.0%}")  # fmt: skip


if __name__ == "__main__":
    main()
