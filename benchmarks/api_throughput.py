"""Authenticated read throughput of one uvicorn worker, measured with wrk on loopback.

    uv run python benchmarks/api_throughput.py [--runs 5] [--seconds 10] [--connections 100]

Starts `hotline serve` (one process, uvloop + httptools) on a fresh SQLite file and, when
HOTLINE_TEST_DATABASE_URL is set (scripts/services.sh start prints it), on PostgreSQL;
signs in as the demo admin and drives GET endpoints with wrk's cookie header.
Prints the median of the runs as a Markdown table (benchmarks/README.md holds the figures).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
ENDPOINTS = {
    "/api/auth/me": "who am I: answered from the cached session, no query",
    "/api/users?limit=20": "a page of users: three queries (count, page, lock-outs)",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def to_ms(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value)
    if match is None:
        raise ValueError(f"unexpected wrk latency {value!r}")
    number, unit = match.groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def tcp_retransmits() -> int:
    """The kernel's count of retransmitted TCP segments (all loopback here)."""
    lines = [
        line.split() for line in Path("/proc/net/snmp").read_text().splitlines() if line.startswith("Tcp:")
    ]
    return int(lines[1][lines[0].index("RetransSegs")])


def wrk(url: str, cookie: str, seconds: int, connections: int) -> tuple[float, float, float, int]:
    before = tcp_retransmits()
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-H",
            f"Cookie: hotline_session={cookie}",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = to_ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = to_ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"{errors.group(1)} error responses:\n{out}")
    return rps, p50, p99, tcp_retransmits() - before


Row = tuple[str, str, float, float, float, list[tuple[float, float, float, int]]]


def bench(database: str, url: str, args: argparse.Namespace) -> list[Row]:
    port = free_port()
    env = {
        **os.environ,
        "HOTLINE_DATABASE_URL": url,
        "HOTLINE_PORT": str(port),
        "HOTLINE_LOG_LEVEL": "WARNING",
        "HOTLINE_ROLES": '["api"]',
    }
    subprocess.run(["hotline", "db", "upgrade"], env=env, check=True, cwd=ROOT)
    subprocess.run(["hotline", "demo-data"], env=env, check=True, cwd=ROOT, capture_output=True)
    server_log = tempfile.NamedTemporaryFile("w+", suffix=".log")  # noqa: SIM115 - closed below
    server = subprocess.Popen(["hotline", "serve", "--no-migrate"], env=env, cwd=ROOT, stderr=server_log)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/readyz").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        login = httpx.post(f"{base}/api/auth/login", json={"username": "admin", "password": "hotline-demo"})
        login.raise_for_status()
        cookie = login.cookies["hotline_session"]
        rows = []
        for path, what in ENDPOINTS.items():
            wrk(base + path, cookie, 2, args.connections)  # warm-up
            runs = []
            for _ in range(args.runs):
                time.sleep(3)  # let the server finish with the previous run's connections
                runs.append(wrk(base + path, cookie, args.seconds, args.connections))
            rows.append(
                (database, path, *(statistics.median(run[i] for run in runs) for i in range(3)), runs)
            )
            print(f"{database} {path} {what}: runs {runs}", file=sys.stderr)
        return rows
    finally:
        server.terminate()
        server.wait(timeout=10)
        server_log.seek(0)
        stalls = server_log.read().count("event loop was blocked")
        print(
            f"{database}: event-loop stalls of 100 ms or more logged by the server: {stalls}", file=sys.stderr
        )
        server_log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=100)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        rows += bench("SQLite", f"sqlite+aiosqlite:///{tmp}/bench.db", args)
    if os.environ.get("HOTLINE_TEST_DATABASE_URL"):
        rows += bench("PostgreSQL", os.environ["HOTLINE_TEST_DATABASE_URL"], args)
    print(f"\n{args.runs} runs of {args.seconds} s, {args.connections} connections, median of the runs\n")
    print("| database | endpoint | requests/s | p50 ms | p99 ms | p99 per run (TCP retransmits) |")
    print("|---|---|---:|---:|---:|---|")
    for database, path, rps, p50, p99, runs in rows:
        per_run = ", ".join(f"{run[2]:.0f} ({run[3]})" for run in runs)
        print(f"| {database} | `GET {path}` | {rps:,.0f} | {p50:.1f} | {p99:.1f} | {per_run} |")


if __name__ == "__main__":
    main()
