"""Voice-engine benchmarks with SIPp on loopback: bridged+recorded calls, call setup rate, prompt
playing (IVR) load with pacing lateness, and DTMF detection over many calls.

    uv run python benchmarks/voice.py bridge [--calls 200] [--seconds 20] [--uvloop]
    uv run python benchmarks/voice.py setup  [--rate 100] [--seconds 60] [--uvloop]
    uv run python benchmarks/voice.py ivr    [--calls 300] [--seconds 20] [--uvloop]
    uv run python benchmarks/voice.py dtmf   [--calls 1000] [--uvloop]

The engine runs alone in a process pinned to CPU 0 (`taskset -c 0`); SIPp runs on CPU 1. The
engine's CPU time comes from /proc/<pid>/stat over a steady window; the engine process counts what
it did (packets relayed, frames sent and their lateness, digits collected) and reports it as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "benchmarks" / "scenarios"
TESTS = ROOT / "tests" / "interop" / "scenarios"
TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# ---------------------------------------------------------------- the engine process


def serve(
    mode: str, port: int, far_port: int, stats_path: Path, record_to: Path | None, use_uvloop: bool
) -> None:
    from hotline.voice.control import Leg
    from hotline.voice.media.g711 import tone, ulaw_encode
    from hotline.voice.rtp.pacer import LATENESS_BUCKETS, media_pacer
    from hotline.voice.sip.server import SipServer
    from hotline.voice.sip.trunk import Trunk

    stats: dict[str, Any] = {"relayed": 0, "frames": 0, "digits_ok": 0, "digits_bad": 0,
                             "answered": 0, "failed": 0}  # fmt: skip
    pacer = media_pacer()  # sends the prompts' frames and counts how late each left

    prompt = ulaw_encode(tone(440, 1000) + tone(660, 1000))
    calls = [0]

    async def application(leg: Leg) -> None:
        await leg.answer()
        stats["answered"] += 1
        if mode == "bridge":
            calls[0] += 1
            try:
                far = await server.engine.originate("7000", ring_for=10)
            except Exception:
                stats["failed"] += 1
                raise
            bridge = server.engine.bridge(
                leg, far, record_to=record_to / str(calls[0]) if record_to else None
            )
            try:
                await bridge.wait()
            finally:
                await bridge.stop()
                await far.hang_up()
        elif mode == "ivr":
            await leg.play(prompt, loop=True)
        elif mode == "dtmf":
            digits = await leg.collect(max_digits=8, first_timeout=10, next_timeout=5)
            stats["digits_ok" if digits == "81" else "digits_bad"] += 1
        else:
            await leg.ended.wait()

    trunks = [Trunk("load", "127.0.0.1", dids={"5000": mode}, outbound=False)]
    if mode == "bridge":
        trunks.append(Trunk("far", "127.0.0.1", port=far_port, dids={}, outbound=True))
    server = SipServer(
        "127.0.0.1", port, "hotline", {}, trunks=trunks, application=application, max_calls=5000
    )

    async def main() -> None:
        await server.start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        while not stop.is_set():
            legs = list(server.engine.legs.values())
            stats["relayed"] = sum(leg.rtp.sent_packets for leg in legs)  # bridge mode sends only relays
            stats["frames"], stats["pacer_pid"] = pacer.sent, pacer.pid
            await asyncio.to_thread(stats_path.write_text, json.dumps(stats | {"legs": len(legs)}))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)
        if pacer.sent:  # the histogram's bucket each quantile falls in, by its upper bound
            cumulative = list(itertools.accumulate(pacer.lateness))
            for name, share in (("p50", 0.5), ("p99", 0.99), ("p999", 0.999)):
                bucket = next(i for i, count in enumerate(cumulative) if count >= share * cumulative[-1])
                bound = LATENESS_BUCKETS[bucket] * 1000 if bucket < len(LATENESS_BUCKETS) else float("inf")
                stats[f"lateness_{name}_ms_at_most"] = bound
        stats["legs"] = len(server.engine.legs)
        await asyncio.to_thread(stats_path.write_text, json.dumps(stats))
        await server.stop()

    if use_uvloop:
        import uvloop

        uvloop.run(main())
    else:
        asyncio.run(main())


# ---------------------------------------------------------------- the orchestrator


def cpu_times(pid: int) -> tuple[float, float]:
    """User and system CPU seconds of a process (system time includes the loopback delivery of the
    packets it sends, which the kernel does in the sender's context)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) / TICKS, int(fields[12]) / TICKS


def cpu_seconds(pid: int) -> float:
    return sum(cpu_times(pid))


def read_stats(path: Path) -> dict[str, Any]:
    for _ in range(20):
        try:
            return dict(json.loads(path.read_text()))
        except (OSError, json.JSONDecodeError):
            time.sleep(0.05)
    return {}


def sipp(*args: str, cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        ["taskset", "-c", "1", "sipp", *args, "-nostdin", "-i", "127.0.0.1"],
        cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def hold_scenario(work: Path) -> None:
    """`uac_hold.xml` in `work`, streaming a 1 kHz μ-law tone in a loop."""
    from hotline.voice.media.g711 import tone, ulaw_encode

    stream = work / "tone.ulaw"
    stream.write_bytes(ulaw_encode(tone(1000, 2000)))
    hold = (SCENARIOS / "uac_hold.xml").read_text().replace("@STREAM@", f"{stream},-1,0")
    (work / "uac_hold.xml").write_text(hold)


def hold_load(
    work: Path,
    port: int,
    far_port: int | None,
    calls: int,
    seconds: int,
    helpers: list[subprocess.Popen[bytes]],
) -> int:
    """SIPp callers holding `calls` calls to `port` (ramped over ~10 s) with a tone each way, and,
    given `far_port`, the far SIPp that answers and echoes RTP; returns the calls per second."""
    if far_port is not None:
        far = ("-sf", str(SCENARIOS / "uas_answer.xml"), "-p", str(far_port), "-mp", str(free_port()))
        helpers.append(sipp(*far, "-rtp_echo", "-l", "100000", cwd=work))
    ramp = max(1, calls // 10)
    hold_ms = int((calls / ramp + seconds + 15) * 1000)
    helpers.append(sipp(f"127.0.0.1:{port}", "-sf", str(work / "uac_hold.xml"), "-s", "5000", "-r", str(ramp),
                        "-m", str(calls), "-l", str(calls), "-d", str(hold_ms),
                        "-p", str(free_port()), "-mp", str(free_port()), cwd=work))  # fmt: skip
    return ramp


def run(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix=f"hotline-bench-{kind}-"))
    port, far_port = free_port(), free_port()
    stats_path = work / "stats.json"
    env = {**os.environ, "HOTLINE_LOG_LEVEL": "WARNING"}
    command = [
        sys.executable, __file__, "serve", "--mode", kind, "--port", str(port), "--far-port", str(far_port),
        "--stats", str(stats_path),
    ]  # fmt: skip
    if not args.no_record:
        command += ["--record-to", str(work / "rec")]
    if args.uvloop:
        command.append("--uvloop")
    engine = subprocess.Popen(["taskset", "-c", "0", *command], env=env)
    helpers: list[subprocess.Popen[bytes]] = []
    try:
        time.sleep(1.5)
        hold_scenario(work)
        target = f"127.0.0.1:{port}"
        result: dict[str, Any] = {"kind": kind, "uvloop": args.uvloop, "recorded": not args.no_record}
        if kind in ("bridge", "ivr"):
            ramp = hold_load(
                work, port, far_port if kind == "bridge" else None, args.calls, args.seconds, helpers
            )
            time.sleep(args.calls / ramp + 5)  # all calls up, media flowing
            before, times0, t0 = read_stats(stats_path), cpu_times(engine.pid), time.monotonic()
            pacer_pid = before.get("pacer_pid")
            pacer_times0 = cpu_times(pacer_pid) if pacer_pid else (0.0, 0.0)
            time.sleep(args.seconds)
            after, times1, t1 = read_stats(stats_path), cpu_times(engine.pid), time.monotonic()
            pacer_times1 = cpu_times(pacer_pid) if pacer_pid else (0.0, 0.0)
            cpu0, cpu1 = sum(times0), sum(times1)
            busy = (cpu1 - cpu0) / (t1 - t0)
            result |= {"calls_up": after.get("legs"), "cpu_share": busy,
                       "user_share": (times1[0] - times0[0]) / (t1 - t0)}  # fmt: skip
            if kind == "bridge":
                relayed = after["relayed"] - before["relayed"]
                cost = (cpu1 - cpu0) / relayed  # seconds of CPU per relayed packet; a call relays 100/s
                result |= {"relayed_per_s": relayed / (t1 - t0), "us_per_packet": cost * 1e6,
                           "calls_at_80pct": 0.8 / (cost * 100)}  # fmt: skip
            else:  # the frames leave from the engine's media pacer process: its CPU counts too
                frames = after["frames"] - before["frames"]
                pacer = sum(pacer_times1) - sum(pacer_times0)
                cost = (cpu1 - cpu0 + pacer) / frames
                result |= {"frames_per_s": frames / (t1 - t0), "us_per_frame": cost * 1e6,
                           "pacer_share": pacer / (t1 - t0), "calls_at_80pct": 0.8 / (cost * 50)}  # fmt: skip
        elif kind == "setup":
            total = args.rate * args.seconds
            caller = sipp(target, "-sf", str(work / "uac_hold.xml"), "-s", "5000", "-r", str(args.rate),
                          "-m", str(total), "-d", "1000", "-p", str(free_port()), "-mp", str(free_port()),
                          "-trace_stat", "-fd", "1", cwd=work)  # fmt: skip
            cpu0, t0 = cpu_seconds(engine.pid), time.monotonic()
            code = caller.wait(timeout=args.seconds * 3 + 60)
            cpu1, t1 = cpu_seconds(engine.pid), time.monotonic()
            stat_files = list(work.glob("*_.csv"))
            failed = _last_stat(stat_files[0], "FailedCall(C)") if stat_files else -1
            ok = _last_stat(stat_files[0], "SuccessfulCall(C)") if stat_files else -1
            result |= {"sipp_exit": code, "calls": total, "successful": ok, "failed": failed,
                       "seconds": t1 - t0, "cpu_share": (cpu1 - cpu0) / (t1 - t0)}  # fmt: skip
        elif kind == "dtmf":
            keys = ("-sf", str(TESTS / "call_dtmf.xml"), "-s", "5000", "-r", "20", "-l", "200")
            caller = sipp(
                target,
                *keys,
                "-m",
                str(args.calls),
                "-p",
                str(free_port()),
                "-mp",
                str(free_port()),
                cwd=work,
            )
            code = caller.wait(timeout=args.calls / 20 * 3 + 120)
            time.sleep(1)
            after = read_stats(stats_path)
            result |= {"sipp_exit": code, "calls": args.calls, "digits_ok": after.get("digits_ok"),
                       "digits_bad": after.get("digits_bad")}  # fmt: skip
        for helper in helpers:
            helper.terminate()
        engine.send_signal(signal.SIGTERM)
        engine.wait(timeout=60)
        final = read_stats(stats_path)
        for key in (
            "lateness_p50_ms_at_most",
            "lateness_p99_ms_at_most",
            "lateness_p999_ms_at_most",
            "failed",
        ):
            if key in final:
                result[key if key != "failed" else "originate_failed"] = final[key]
        return result
    finally:
        for process in (*helpers, engine):
            if process.poll() is None:
                process.kill()


def _last_stat(path: Path, column: str) -> int:
    lines = [line.split(";") for line in path.read_text().splitlines() if line.strip()]
    index = lines[0].index(column)
    return int(lines[-1][index])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("kind", choices=["bridge", "setup", "ivr", "dtmf", "serve"])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--rate", type=int, default=100)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--uvloop", action="store_true")
    parser.add_argument("--no-record", action="store_true", help="bridge without recording")
    parser.add_argument("--mode", default="setup")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--far-port", type=int, default=0)
    parser.add_argument("--stats", type=Path)
    parser.add_argument("--record-to", type=Path)
    args = parser.parse_args()
    if args.kind == "serve":
        serve(args.mode, args.port, args.far_port, args.stats, args.record_to, args.uvloop)
        return
    results = [run(args.kind, args) for _ in range(args.runs)]
    for result in results:
        print(json.dumps(result))
    numeric = {k for k, v in results[0].items() if isinstance(v, int | float) and not isinstance(v, bool)}
    print(
        "median:",
        json.dumps({k: statistics.median(r[k] for r in results if k in r) for k in sorted(numeric)}),
    )


if __name__ == "__main__":
    main()
