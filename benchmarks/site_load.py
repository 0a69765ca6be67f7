"""The whole site on one machine: agents with SIP phones and desktops, callers through the IVR and
the queue, recorded, the wallboard open (issue 25's last benchmark).

    uv run python benchmarks/site_load.py [--agents 200] [--erlangs 200] [--minutes 5]
                                          [--layout single|cluster] [--runs 3] [--handle 90]

Needs PostgreSQL, Redis and SIPp (and Kamailio for `--layout cluster`). Each run starts a fresh
site on PostgreSQL + Redis (its own folder, ports below), then:

- `--layout single`: one `hotline serve` with every role (as `make run`, on PostgreSQL and Redis);
  `--layout cluster`: the site of `make cluster` (scripts/cluster.sh: Kamailio, two voice nodes,
  an API-and-jobs node). The demo data is loaded as `make run` loads it.
- `--agents` agents (site001…, password below) are made through the API as the admin: a user
  with the agent role, an extension (2001…, password sip + extension) and a profile with the hotel
  skill at level 5 and `--wrap` seconds of wrap-up. The demo's own logins are left as they are.
- Their phones: one SIPp (benchmarks/scenarios/site_agent.xml) answers every call offered to any
  of them at once, streams a μ-law tone while talking for a handle time drawn evenly within ±50 % of
  `--handle` seconds, and hangs up (behind the cluster's edge it first answers the re-INVITE that
  moves the call's media to rtpengine; callers answer theirs too). Before it starts, a SIPp on
  the same port registers the extensions with their passwords (site_register.xml, an injection
  file): the site reaches a phone at the address its REGISTER came from.
- Their desktops: another process signs each agent in, opens their live socket (`/api/live`, as
  the agent desktop does), sets them ready, and sets ready again any agent a missed offer left
  not ready; the supervisor's wallboard is subscribed to on one more socket, as the page does.
- Callers: SIPp (site_caller.xml) calls 4008001000 at an even rate chosen so that the offered load
  is `--erlangs` calls in the system (IVR, queue, talk and the survey after it: the rate is
  erlangs ÷ the expected time a caller spends, `--handle` + `--overhead`), presses 2 for an
  agent after a second (RFC 4733, the sip-tester pcaps), streams a tone, and stays until the site
  hangs up (the agent hangs up first; the flow's survey then times out and says goodbye).
- Calls arrive for `--minutes`; the run then waits for the last callers to finish.

Reported per run and as the median of `--runs`: calls offered, answered by agents, abandoned;
service level (answered within the queue's 20 s target) and average speed of answer from the
wallboard API (today's figures, the run's share: after − before) and from SIPp's own timings (key
pressed → the agent's phone rang, matched by the caller's number); offered Erlangs measured
(arrival rate × mean time in the system from SIPp); CPU per process (cores: user+system seconds ÷
wall seconds, children included, over the steady part of the run: after the first expected call
has ended) and the machine's idle share of its cores (/proc/stat); event-loop stall lines in the
nodes' logs; recordings written (mix.wav files).

Ports (this machine's share for the benchmark): HTTP 8090 (cluster: voice nodes 8091, 8092), SIP
5090 (cluster: the edge, voice nodes 5092, 5093), the phones' SIPp 5096 (registering from it
first), callers 5098, RTP 48000–49999 for the node (cluster: rtpengine 48000–48999, its ng port
2293, voice nodes 49000–49999), PostgreSQL 55482, Redis 56382 (--pg-port, --redis-port).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import websockets

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = Path(__file__).parent / "scenarios"
HOTLINE = ROOT / ".venv" / "bin" / "hotline"
TICKS = os.sysconf("SC_CLK_TCK")
PASSWORD = "site-bench-password"  # noqa: S105 - made-up benchmark agents
DEMO_PASSWORD = "hotline-demo"  # noqa: S105 - the demo's documented password (ARCHITECTURE.md)
HTTP_PORT, SIP_PORT, PHONES_PORT, CALLERS_PORT = 8090, 5090, 5096, 5098
RTP_FIRST, RTP_LAST = 48000, 49999
DEMO_NUMBER = "4008001000"


def cpu_seconds(pid: int) -> float:
    """User+system CPU seconds of a process, its waited-for children and its live children."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total = sum(int(f) for f in fields[11:15]) / TICKS  # utime stime cutime cstime
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(FileNotFoundError):
                for child in (task / "children").read_text().split():
                    total += cpu_seconds(int(child))
    except (FileNotFoundError, ProcessLookupError, ValueError):
        return 0.0
    return total


def machine_times() -> tuple[float, float]:
    """(idle, total) jiffies of all cores (/proc/stat); idle includes iowait."""
    fields = [int(f) for f in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return float(fields[3] + fields[4]), float(sum(fields[:8]))


class Site:
    """A fresh site in `folder`: PostgreSQL + Redis and one node with every role, or the
    `make cluster` site; `processes()` names the pids to measure."""

    def __init__(self, layout: str, folder: Path, pg_port: int, redis_port: int, max_calls: int) -> None:
        self.layout, self.folder, self.pg_port, self.redis_port = layout, folder, pg_port, redis_port
        self.recordings = folder / "recordings"
        self.services_dir = folder / ("cluster/services" if layout == "cluster" else "services")
        self.server: subprocess.Popen[bytes] | None = None
        self.env = {
            **os.environ, "HOTLINE_SIP_MAX_CALLS": str(max_calls), "HOTLINE_RATE_LIMIT_LOGIN": "0",
            "HOTLINE_RECORDINGS_DIR": str(self.recordings),
        }  # fmt: skip
        self.cluster_env = {
            **self.env, "CLUSTER_DIR": str(folder / "cluster"), "EDGE_PORT": str(SIP_PORT),
            "EDGE_TLS_PORT": "5099", "SIP_BASE": str(SIP_PORT + 1), "HTTP_PORT": str(HTTP_PORT),
            "CLUSTER_PG_PORT": str(pg_port), "CLUSTER_REDIS_PORT": str(redis_port),
            "RTP_BASE": str(RTP_FIRST + 1000), "RTP_SPAN": "500", "RTPENGINE_NG_PORT": "2293",
            "RTPENGINE_PORTS": f"{RTP_FIRST}-{RTP_FIRST + 999}",
        }  # fmt: skip

    def start(self) -> None:
        self.folder.chmod(0o755)  # PostgreSQL runs as its own user in it
        if self.layout == "cluster":
            subprocess.run([str(ROOT / "scripts" / "cluster.sh"), "start"], env=self.cluster_env, check=True,
                           capture_output=True)  # fmt: skip
            return
        services = subprocess.run(
            [str(ROOT / "scripts" / "services.sh"), "start"], check=True, capture_output=True, text=True,
            env={**self.env, "HOTLINE_SERVICES_DIR": str(self.services_dir),
                 "HOTLINE_TEST_PG_PORT": str(self.pg_port), "HOTLINE_TEST_REDIS_PORT": str(self.redis_port)},
        )  # fmt: skip
        urls = dict(re.findall(r"export (\w+)=(\S+)", services.stdout))
        self.env |= {
            "HOTLINE_DATABASE_URL": urls["HOTLINE_TEST_DATABASE_URL"],
            "HOTLINE_REDIS_URL": urls["HOTLINE_TEST_REDIS_URL"], "HOTLINE_SIP_PORT": str(SIP_PORT),
            "HOTLINE_RTP_PORTS": f"[{RTP_FIRST},{RTP_LAST}]",
            "HOTLINE_PROMPT_CACHE": str(self.folder / "prompts"),
        }  # fmt: skip
        subprocess.run([str(HOTLINE), "db", "upgrade"], env=self.env, check=True, capture_output=True)
        subprocess.run([str(HOTLINE), "demo-data"], env=self.env, check=True, capture_output=True)
        log = (self.folder / "node.log").open("wb")
        self.server = subprocess.Popen(
            [str(HOTLINE), "serve", "--no-migrate", "--port", str(HTTP_PORT)], env=self.env, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

    def processes(self) -> dict[str, int]:
        pids: dict[str, int] = {}
        if self.layout == "cluster":
            for name in ("kamailio", "rtpengine", "voice-1", "voice-2", "api"):
                with contextlib.suppress(FileNotFoundError, ValueError):
                    pids[name] = int((self.folder / "cluster" / f"{name}.pid").read_text())
        elif self.server is not None:
            pids["hotline node"] = self.server.pid
        with contextlib.suppress(FileNotFoundError, ValueError, IndexError):
            pids["postgresql"] = int((self.services_dir / "pg" / "postmaster.pid").read_text().split()[0])
        info = subprocess.run(["redis-cli", "-p", str(self.redis_port), "info", "server"],
                              capture_output=True, text=True, check=False).stdout  # fmt: skip
        if found := re.search(r"process_id:(\d+)", info):
            pids["redis"] = int(found.group(1))
        return pids

    def logs(self) -> list[Path]:
        if self.layout == "cluster":
            return sorted((self.folder / "cluster").glob("*.log"))
        return [self.folder / "node.log"]

    def stop(self) -> None:
        if self.layout == "cluster":
            subprocess.run([str(ROOT / "scripts" / "cluster.sh"), "stop"], env=self.cluster_env,
                           capture_output=True, check=False)  # fmt: skip
            return
        if self.server is not None and self.server.poll() is None:
            os.killpg(self.server.pid, signal.SIGTERM)
            try:
                self.server.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.server.pid, signal.SIGKILL)
        subprocess.run(
            [str(ROOT / "scripts" / "services.sh"), "stop"], capture_output=True, check=False,
            env={**self.env, "HOTLINE_SERVICES_DIR": str(self.services_dir),
                 "HOTLINE_TEST_PG_PORT": str(self.pg_port), "HOTLINE_TEST_REDIS_PORT": str(self.redis_port)},
        )  # fmt: skip


async def wait_for_api(base: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(base_url=base) as http:
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get("/healthz")).status_code == 200:
                    return
            await asyncio.sleep(0.5)
    raise RuntimeError(f"the API at {base} did not answer")


async def sign_in(http: httpx.AsyncClient, username: str, password: str) -> dict[str, str]:
    """A session cookie header of its own (the client keeps no cookies between sign-ins)."""
    login = await http.post("/api/auth/login", json={"username": username, "password": password})
    login.raise_for_status()
    http.cookies.clear()
    return {"Cookie": f"hotline_session={login.cookies['hotline_session']}"}


async def make_agents(base: str, count: int, wrap: int) -> list[str]:
    """`count` agents with an extension each and the hotel skill, made as the admin would."""
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        admin = await sign_in(http, "admin", DEMO_PASSWORD)
        limit = asyncio.Semaphore(4)

        async def one(n: int) -> str:
            username, extension = f"site{n:03d}", str(2000 + n)
            async with limit:
                user = await http.post("/api/users", headers=admin, json={
                    "username": username, "display_name": f"压测坐席{n}", "password": PASSWORD,
                    "roles": ["agent"], "work_number": f"9{n:03d}"})  # fmt: skip
                user.raise_for_status()
                user_id = user.json()["id"]
                phone = await http.post("/api/telephony/extensions", headers=admin, json={
                    "number": extension, "display_name": f"压测坐席{n}", "password": f"sip{extension}",
                    "user_id": user_id})  # fmt: skip
                phone.raise_for_status()
                profile = await http.put(f"/api/routing/agents/{user_id}/profile", headers=admin,
                                         json={"skills": {"hotel": 5}, "wrap_seconds": wrap})  # fmt: skip
                profile.raise_for_status()
            return username

        return list(await asyncio.gather(*(one(n) for n in range(1, count + 1))))


def desks(base: str, usernames: list[str], ready: Any, stop: Any, results: Any) -> None:
    """The browsers (a process of their own): a live socket per agent, set ready; the supervisor's
    wallboard; agents a missed offer left not ready are set ready again."""

    async def run() -> dict[str, Any]:
        counts: dict[str, int] = {}
        readied = 0
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            headers = [await sign_in(http, u, PASSWORD) for u in usernames]
            supervisor = await sign_in(http, "supervisor", DEMO_PASSWORD)
            url = base.replace("http", "ws") + "/api/live"
            sockets = [await websockets.connect(url, additional_headers=h, max_size=None) for h in headers]
            for ws in sockets:
                assert json.loads(await ws.recv())["name"] == "live.hello"
            for h in headers:
                put = await http.put("/api/routing/me/state", headers=h, json={"state": "ready"})
                put.raise_for_status()
            wall = await websockets.connect(url, additional_headers=supervisor, max_size=None)
            await wall.recv()
            await wall.send(json.dumps({"subscribe": "wallboard"}))

            async def listen(ws: Any) -> None:
                async for raw in ws:
                    name = json.loads(raw).get("name", "?")
                    counts[name] = counts.get(name, 0) + 1

            tasks = [asyncio.create_task(listen(ws)) for ws in [*sockets, wall]]
            by_id = {u: h for u, h in zip(usernames, headers, strict=True)}
            ready.set()
            while not stop.is_set():
                await asyncio.sleep(10)
                board = await http.get("/api/routing/agents", headers=supervisor)
                for agent in board.json() if board.status_code == 200 else []:
                    if agent["username"] in by_id and agent["state"] == "not_ready":
                        put = await http.put("/api/routing/me/state", headers=by_id[agent["username"]],
                                             json={"state": "ready"})  # fmt: skip
                        readied += put.status_code == 200
            for task in tasks:
                task.cancel()
            for ws in [*sockets, wall]:
                await ws.close()
        return {"messages": counts, "set ready again": readied}

    results.put(asyncio.run(run()))


def sipp(args: list[str], cwd: Path) -> subprocess.Popen[bytes]:
    name = Path(args[args.index("-sf") + 1]).stem
    with (cwd / f"{name}.out").open("wb") as out:
        return subprocess.Popen(
            ["sipp", *args, "-nostdin", "-i", "127.0.0.1", "-trace_err", "-trace_logs", "-trace_stat",
             "-fd", "5"],
            cwd=cwd, stdout=subprocess.DEVNULL, stderr=out,
        )  # fmt: skip


def scenario(folder: Path, name: str, **values: str) -> Path:
    text = (SCENARIOS / name).read_text(encoding="iso-8859-1")
    for key, value in values.items():
        text = text.replace(f"@{key}@", value)
    (folder / name).write_text(text, encoding="iso-8859-1")
    return folder / name


def logged(folder: Path, stem: str, what: str) -> dict[str, float]:
    """SIPp's log lines `what <seconds>.<microseconds> <number> …` → {number: time}."""
    times: dict[str, float] = {}
    for path in folder.glob(f"{stem}_*_logs.log"):
        for line in path.read_text(errors="replace").splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[0] == what:  # SIPp prints its variables as doubles: s.0.us.0
                seconds, _, micro, *_ = [*parts[1].split("."), "0", "0"]
                times.setdefault(parts[2], int(seconds) + int(micro) / 1e6)
    return times


def sipp_stats(folder: Path, stem: str) -> dict[str, str]:
    rows = [line.split(";") for p in folder.glob(f"{stem}_*_.csv") for line in p.read_text().splitlines()]
    return dict(zip(rows[0], rows[-1], strict=False)) if rows else {}


async def wallboard(base: str) -> dict[str, Any]:
    """Today's figures of the hotel queue, as the supervisor's wallboard shows them."""
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        supervisor = await sign_in(http, "supervisor", DEMO_PASSWORD)
        board = (await http.get("/api/routing/wallboard", headers=supervisor)).json()
    queue = next(q for q in board["queues"] if q["queue"] == "hotel")
    return dict(queue["today"] or {})


def run_share(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The run's own figures out of today's: counts subtracted, rates rebuilt from their parts."""

    def counted(f: dict[str, Any]) -> int:
        return int(f.get("offered", 0)) - int(f.get("short_abandoned", 0)) - int(f.get("callbacks", 0))

    def in_time(f: dict[str, Any]) -> float:
        return float(f.get("service_level") or 0) * counted(f)

    def waited(f: dict[str, Any]) -> float:
        return float(f.get("average_speed_of_answer") or 0) * int(f.get("answered", 0))

    share = {k: int(after.get(k, 0)) - int(before.get(k, 0))
             for k in ("offered", "answered", "abandoned", "short_abandoned", "callbacks")}  # fmt: skip
    base = counted(after) - counted(before)
    share["service_level"] = round((in_time(after) - in_time(before)) / base, 3) if base > 0 else None
    answered = share["answered"]
    share["asa_s"] = round((waited(after) - waited(before)) / answered, 1) if answered > 0 else None
    return share


def stalls(logs: list[Path], since: int) -> dict[str, Any]:
    """The nodes' event-loop stall warnings written after byte `since` of each log."""
    lags: list[int] = []
    for path in logs:
        with contextlib.suppress(FileNotFoundError), path.open("rb") as f:
            f.seek(since if path.stat().st_size >= since else 0)
            for line in f.read().decode(errors="replace").splitlines():
                if "event loop was blocked" in line:
                    found = re.search(r"lag_ms[=\"': ]+(\d+)", line)
                    lags.append(int(found.group(1)) if found else 0)
    return {"lines": len(lags), "max_lag_ms": max(lags, default=0)}


async def one_run(args: argparse.Namespace, number: int) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="site-load-"))
    site = Site(args.layout, folder, args.pg_port, args.redis_port, max_calls=int(4 * args.erlangs + 100))
    base = f"http://127.0.0.1:{HTTP_PORT}"
    spawn = multiprocessing.get_context("spawn")
    stop, ready, results = spawn.Event(), spawn.Event(), spawn.Queue()
    helpers: list[subprocess.Popen[bytes]] = []
    browsers = None
    try:
        await asyncio.to_thread(site.start)
        await wait_for_api(base)
        await asyncio.sleep(3)  # the voice node(s) listening
        usernames = await make_agents(base, args.agents, args.wrap)
        from hotline.voice.media.g711 import tone, ulaw_encode

        stream = folder / "tone.ulaw"
        stream.write_bytes(ulaw_encode(tone(440, 2000, amplitude=4000)))
        # handle times uniform within ±50 % of the mean: bounded, so the run's last calls end soon
        handle = f'distribution="uniform" min="{int(args.handle * 500)}" max="{int(args.handle * 1500)}"'
        reinvite = "20000" if args.layout == "cluster" else "1"  # rtpengine taking the bridge over
        phones = scenario(folder, "site_agent.xml", STREAM=f"{stream},-1,0", HANDLE=handle, REINVITE=reinvite)
        (folder / "extensions.csv").write_text("SEQUENTIAL\n" + "".join(
            f"{2000 + n};[authentication username={2000 + n} password=sip{2000 + n}]\n"
            for n in range(1, args.agents + 1)))  # fmt: skip
        # the site reaches a phone at the address its REGISTER came from (NAT-friendly), so the
        # extensions are registered from the port the phones' SIPp then answers on
        register = scenario(folder, "site_register.xml", PHONES=f"127.0.0.1:{PHONES_PORT}")
        registering = sipp([f"127.0.0.1:{SIP_PORT}", "-sf", str(register), "-inf",
                            str(folder / "extensions.csv"), "-m", str(args.agents), "-r", "50", "-p",
                            str(PHONES_PORT), "-timeout", "60s", "-timeout_error"], folder)  # fmt: skip
        registered = await asyncio.to_thread(registering.wait, 90)
        traces = ["-trace_msg"] if args.keep else []  # every SIP message of the phones, to debug with
        helpers.append(sipp(["-sf", str(phones), "-p", str(PHONES_PORT), "-mp", "40000", *traces], folder))
        browsers = spawn.Process(target=desks, args=(base, usernames, ready, stop, results))
        browsers.start()
        while not ready.is_set():  # a multiprocessing event
            if not browsers.is_alive():
                raise RuntimeError("the desktops' process failed")
            await asyncio.sleep(0.2)
        before = await wallboard(base)
        recorded_before = sum(1 for _ in site.recordings.glob("**/mix.wav"))  # the demo's own

        # callers: an even rate giving `--erlangs` calls in the system on average
        holding = args.handle + args.overhead
        rate = args.erlangs / holding
        calls = int(rate * args.minutes * 60)
        (folder / "callers.csv").write_text(
            "SEQUENTIAL\n" + "".join(f"{number:02d}{n:06d}\n" for n in range(1, calls + 1))
        )
        caller = scenario(folder, "site_caller.xml", STREAM=f"{stream},-1,0",
                          PATIENCE=str(int((args.patience) * 1000)))  # fmt: skip
        logs = site.logs()
        sizes = {p: p.stat().st_size for p in logs if p.exists()}
        started = time.time()
        callers = sipp([f"127.0.0.1:{SIP_PORT}", "-sf", str(caller), "-s", DEMO_NUMBER, "-inf",
                        str(folder / "callers.csv"), "-r", str(round(rate * 1000)), "-rp", "1000000",
                        "-m", str(calls), "-l", str(int(4 * args.erlangs + 50)), "-p", str(CALLERS_PORT),
                        "-mp", "42000", "-timeout", f"{int(args.minutes * 60 + args.patience + 300)}s"],
                       folder)  # fmt: skip
        steady = min(holding, args.minutes * 60 / 2)
        await asyncio.sleep(steady)
        processes = site.processes()
        processes |= {"sipp phones": helpers[0].pid, "sipp callers": callers.pid}
        if browsers.pid is not None:
            processes["desktops (load tool)"] = browsers.pid
        cpu_before = {name: cpu_seconds(pid) for name, pid in processes.items()}
        idle_before, total_before = machine_times()
        window_started = time.monotonic()
        await asyncio.sleep(max(1.0, started + args.minutes * 60 - time.time()))
        window = time.monotonic() - window_started
        cpu = {name: round((cpu_seconds(pid) - cpu_before[name]) / window, 3)
               for name, pid in processes.items()}  # fmt: skip
        idle_after, total_after = machine_times()
        idle = (idle_after - idle_before) / (total_after - total_before)
        code = await asyncio.to_thread(callers.wait, args.patience + 400)
        await asyncio.sleep(5)  # the last calls' records and recordings written
        after = await wallboard(base)
        stop.set()
        desk = await asyncio.to_thread(results.get, True, 120)

        pressed, ended = logged(folder, "site_caller", "pressed"), logged(folder, "site_caller", "ended")
        offered = logged(folder, "site_agent", "offered")
        waits = sorted(offered[n] - pressed[n] for n in offered if n in pressed)
        spent = [ended[n] - pressed[n] + 1.0 for n in ended if n in pressed]  # + the second before the key
        stats = sipp_stats(folder, "site_caller")
        result: dict[str, Any] = {
            "calls placed": calls, "rate per s": round(rate, 3), "sipp exit": code,
            "sipp successful": stats.get("SuccessfulCall(C)"), "sipp failed": stats.get("FailedCall(C)"),
            "phones registered (sipp exit)": registered,
            "app (wallboard, this run)": run_share(before, after),
            "sipp: rang an agent": len(waits),
            "sipp: service level 20 s": round(sum(w <= 20 for w in waits) / len(pressed), 3)
            if pressed else None,
            "sipp: asa s": round(statistics.mean(waits), 1) if waits else None,
            "sipp: p90 wait s": round(waits[int(len(waits) * 0.9)], 1) if waits else None,
            "offered erlangs (measured)": round(rate * statistics.mean(spent), 1) if spent else None,
            "mean time in system s": round(statistics.mean(spent), 1) if spent else None,
            "cpu (cores), steady window": cpu, "steady window s": round(window),
            "machine idle share": round(idle, 3), "machine cores": os.cpu_count(),
            "loop stalls": stalls(logs, min(sizes.values(), default=0)),
            "recordings (mix.wav)": sum(1 for _ in site.recordings.glob("**/mix.wav")) - recorded_before,
            "phones (sipp)": {k: v for k, v in sipp_stats(folder, "site_agent").items()
                              if k in ("SuccessfulCall(C)", "FailedCall(C)")},
            "desktops": desk,
        }  # fmt: skip
        return result
    finally:
        stop.set()
        if browsers is not None:
            browsers.join(10)
            if browsers.is_alive():
                browsers.kill()
        for helper in helpers:
            if helper.poll() is None:
                helper.terminate()
        site.stop()  # not in a thread: this also runs when the run is interrupted
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
        else:
            print(f"kept {folder}", file=sys.stderr)


def median_of(runs: list[dict[str, Any]], *path: str) -> float | None:
    values = []
    for run in runs:
        value: Any = run
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, int | float | str) and str(value).replace(".", "", 1).isdigit():
            values.append(float(value))
    return statistics.median(values) if values else None


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--erlangs", type=float, default=200)
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--layout", choices=["single", "cluster"], default="single")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--handle", type=float, default=90, help="agents' mean talk time, seconds")
    parser.add_argument(
        "--overhead", type=float, default=40, help="a caller's expected seconds besides talking (IVR, survey)"
    )
    parser.add_argument("--wrap", type=int, default=0, help="agents' wrap-up seconds")
    parser.add_argument(
        "--patience", type=float, default=900, help="SIPp's longest wait for the BYE, seconds"
    )
    parser.add_argument("--pg-port", type=int, default=55482)
    parser.add_argument("--redis-port", type=int, default=56382)
    parser.add_argument("--keep", action="store_true", help="keep each run's folder (logs, SIPp traces)")
    args = parser.parse_args()
    main_task = asyncio.current_task()
    if main_task is not None:  # SIGTERM cancels the run, whose `finally` stops its site
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main_task.cancel)
    for tool in ("sipp", "redis-server", "redis-cli") + (("kamailio",) if args.layout == "cluster" else ()):
        if shutil.which(tool) is None and not os.path.exists(f"/usr/sbin/{tool}"):  # noqa: ASYNC240
            raise SystemExit(f"{tool} is not installed (make cluster-deps)")
    runs = []
    for number in range(1, args.runs + 1):
        runs.append(await one_run(args, number))
        print(f"run {number}: {json.dumps(runs[-1], ensure_ascii=False)}", flush=True)
    summary = {
        "layout": args.layout, "agents": args.agents, "erlangs asked": args.erlangs, "minutes": args.minutes,
        "runs": len(runs),
        "median offered (app)": median_of(runs, "app (wallboard, this run)", "offered"),
        "median answered (app)": median_of(runs, "app (wallboard, this run)", "answered"),
        "median abandoned (app)": median_of(runs, "app (wallboard, this run)", "abandoned"),
        "median service level (app)": median_of(runs, "app (wallboard, this run)", "service_level"),
        "median asa s (app)": median_of(runs, "app (wallboard, this run)", "asa_s"),
        "median service level (sipp)": median_of(runs, "sipp: service level 20 s"),
        "median asa s (sipp)": median_of(runs, "sipp: asa s"),
        "median offered erlangs (measured)": median_of(runs, "offered erlangs (measured)"),
        "median machine idle share": median_of(runs, "machine idle share"),
        "median cpu (cores)": {name: median_of(runs, "cpu (cores), steady window", name)
                               for name in runs[0]["cpu (cores), steady window"]} if runs else {},
        "median loop stall lines": median_of(runs, "loop stalls", "lines"),
        "median recordings": median_of(runs, "recordings (mix.wav)"),
    }  # fmt: skip
    print(json.dumps(summary, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    asyncio.run(main())
