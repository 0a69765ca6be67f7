"""Shared fixtures: a migrated database (SQLite by default, PostgreSQL when
HOTLINE_TEST_DATABASE_URL is set), the app, HTTP clients signed in as the demo users.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import shutil
import socket
import tempfile
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
import uvicorn
from hypothesis import settings as hypothesis_settings
from sqlalchemy import text

from hotline import demo, domains
from hotline.api.app import create_app
from hotline.core import migrate
from hotline.core.compute import ComputePool
from hotline.core.config import Settings
from hotline.core.context import Actor, Context
from hotline.core.db import Base, Database
from hotline.core.events import InProcessBus
from hotline.core.monitor import LoopLagMonitor, Stall

if TYPE_CHECKING:  # imported where used: tests/core/test_monitor.py copies this file alone
    from tests.voice.softphone import Softphone

# Speed is measured in benchmarks/, not in tests: hypothesis' per-example deadline only made
# tests fail when the machine was busy (a lunar-calendar example over 200 ms under load).
hypothesis_settings.register_profile("hotline", deadline=None)
hypothesis_settings.load_profile("hotline")

pytest_plugins = ["pytester"]  # tests/core/test_monitor.py runs the suite's guard on a sample test
PG_URL = os.environ.get("HOTLINE_TEST_DATABASE_URL")
STALL_LIMIT = 0.25
"""A test fails when, while it ran, the event loop was held this long (seconds; see below)."""
REDIS_URL = os.environ.get("HOTLINE_TEST_REDIS_URL")
DEMO_PASSWORD = demo.DEMO_PASSWORD


def audit_files(folder: Path) -> dict[str, object]:
    """The audit signing key, keyring and checkpoint file: never the checkout's var/ in tests."""
    return {
        "audit_key_file": folder / "signing.key",
        "audit_keyring_file": folder / "keyring.json",
        "audit_checkpoint_file": folder / "checkpoints.jsonl",
    }


# ---------------------------------------------------------------- the event loop belongs to live calls
#
# Every event loop the suite creates (pytest-asyncio's, and asyncio.run in synchronous tests)
# carries a LoopLagMonitor; a test during whose own run (the call phase: not its fixtures'
# set-up, which may legitimately block, e.g. loading the demo data) the loop was held for more
# than STALL_LIMIT fails with the stack that held it. Held is the time the loop's thread spent
# running on a CPU or blocked in a system call while the loop was late, not the lag itself: on
# this shared two-core machine a thread may wait hundreds of milliseconds for a CPU (or for the
# GIL held by a thread that waits for one), and that alone must not fail a test; code that runs,
# or sleeps, on the loop does (core/monitor.py says how each part is measured). Time in the
# garbage collector is left out too: its pauses grow with everything this test process holds
# (pytest, hypothesis, hundreds of apps), not with the code under test; a node freezes its
# start-up heap (gc.freeze) and benchmarks/heavy_requests.py measures a real node's pauses.

_STALLS: list[Stall] = []
_CALL_WINDOW = pytest.StashKey[tuple[float, float]]()


def _watched_loop() -> asyncio.AbstractEventLoop:
    loop = asyncio.SelectorEventLoop()
    LoopLagMonitor(on_stall=_STALLS.append, log_stalls=False).attach(loop)
    return loop


class _WatchedLoops(asyncio.DefaultEventLoopPolicy):
    def new_event_loop(self) -> asyncio.AbstractEventLoop:
        return _watched_loop()


asyncio.set_event_loop_policy(_WatchedLoops())  # asyncio.run in synchronous tests


def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item) -> dict[str, object]:
    return {"watched": _watched_loop}  # pytest-asyncio's loops


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`make test` runs the suite on SQLite and on PostgreSQL side by side (scripts/test-pair.sh
    sets HOTLINE_TEST_SPLIT to the run's name). A test that uses no database (no `database_url`
    among its fixtures, and its module never reads HOTLINE_TEST_DATABASE_URL: SIP parsers, the RTP
    engine, the media pacer…) would do the same thing twice: it runs in one of the two, chosen by
    a stable hash of its name, so each run has about half of them."""
    split = os.environ.get("HOTLINE_TEST_SPLIT")
    if split not in ("sqlite", "postgres"):
        return
    kept, dropped = [], []
    for item in items:
        module = item.nodeid.split("::")[0]
        once = "database_url" not in getattr(item, "fixturenames", ()) and not _reads_database_env(module)
        mine = zlib.crc32(item.nodeid.encode()) % 2 == (0 if split == "sqlite" else 1)
        (dropped if once and not mine else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@functools.cache
def _reads_database_env(module: str) -> bool:
    path = Path(__file__).parent.parent / module
    return path.is_file() and "HOTLINE_TEST_DATABASE_URL" in path.read_text(encoding="utf-8")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    started = time.monotonic()
    try:
        return (yield)
    finally:
        item.stash[_CALL_WINDOW] = (started, time.monotonic())


@pytest.fixture(autouse=True)
def no_loop_stalls(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fails the test if the event loop was held more than STALL_LIMIT while it ran."""
    _STALLS.clear()
    yield
    window = request.node.stash.get(_CALL_WINDOW, None)
    if window is None or request.node.get_closest_marker("blocks_the_loop"):
        return
    start, end = window
    held = [s for s in _STALLS if start <= s.ended <= end and s.held - s.collecting > STALL_LIMIT]
    if held:
        pytest.fail("\n".join(_innermost(stall.describe()) for stall in held), pytrace=False)


def _innermost(described: str, frames: int = 14) -> str:
    """A stall's description with only the innermost frames of its stack: the code that held the
    loop is there, and a shorter report keeps the test's name in view at the end of a CI log."""
    head, _, stack = described.partition("\n")
    lines = stack.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith('  File "')]
    if len(starts) <= frames:
        return described
    return "\n".join([head, f"  … {len(starts) - frames} outer frames …", *lines[starts[-frames] :]])


def make_settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "environment": "test",
        "database_url": database_url,
        "roles": ["api"],
        "frontend_dist": Path("/nonexistent"),
        # Argon2 at full cost makes a suite of hundreds of logins slow; the
        # algorithm is the same, only the work factor is lowered.
        "argon2_time_cost": 1,
        "argon2_memory_kib": 1024,
        "log_level": "WARNING",
        "session_cache_seconds": 0,
        # Every request comes from 127.0.0.1: one test signs in dozens of times (the demo users, the
        # lockout's tests), the fuzzers call the signed links hundreds of times.
        # tests/api/test_rate_limits.py sets low limits and proves them.
        "rate_limit_login": 10_000,
        "rate_limit_links": 10_000,
        "rate_limit_callbacks": 10_000,
        "rate_limit_chat": 10_000,
        # Each test's app would otherwise start a compute worker it mostly never uses.
        "compute_warm": False,
        "recordings_dir": Path(tempfile.gettempdir()) / "hotline-test-recordings",
        **audit_files(Path(tempfile.gettempdir()) / f"hotline-test-audit-{os.getpid()}"),
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def _template(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Migrate once per run; each test then starts from this empty, migrated schema."""
    import asyncio

    domains.load_models()
    url = PG_URL or f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'template.db'}"

    async def build() -> None:
        db = Database(url)
        try:
            if PG_URL:
                async with db.engine.begin() as conn:
                    await conn.execute(text("DROP SCHEMA public CASCADE"))
                    await conn.execute(text("CREATE SCHEMA public"))
            await migrate.upgrade(db)
        finally:
            await db.dispose()

    asyncio.run(build())
    return url


def reset_postgres() -> None:
    """Empty every table, so each test starts from the migrated, empty schema."""
    import asyncio

    assert PG_URL

    async def truncate() -> None:
        db = Database(PG_URL)
        try:
            async with db.engine.begin() as conn:
                tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
                await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        finally:
            await db.dispose()

    asyncio.run(truncate())


class _DemoSnapshot:
    """The demo data (`seeded`), loaded once and copied into each test that asks for it.

        Loading it takes ~4 s, and some 270 tests ask for it on each database; copying it takes a
        file copy on SQLite and one binary COPY per table on PostgreSQL. The demo is relative to now
        (today's arrivals, callbacks due within the hour), so the snapshot is loaded again when it is
        older than MAX_AGE or the site's date has changed since. The audit signing key the demo's
        rows were signed with is copied with it into the test's own audit folder (tests that keep the
    process's default folder share that key already).
    """

    MAX_AGE = 300.0

    def __init__(self, template: str, folder: Path) -> None:
        self.template, self.folder = template, folder
        self.loaded_at: float | None = None
        self.day: object = None
        self.tables: list[tuple[str, bytes]] = []
        self.sequences: list[tuple[str, int]] = []
        self.audit = Path(str(make_settings(template).audit_key_file)).parent

    @staticmethod
    def _today() -> object:
        from datetime import datetime
        from zoneinfo import ZoneInfo

        return datetime.now(ZoneInfo("Asia/Shanghai")).date()

    def copy_into(self, tmp_path: Path) -> str:
        if (
            self.loaded_at is None
            or time.monotonic() - self.loaded_at > self.MAX_AGE
            or self.day != self._today()
        ):
            self._load()
        (tmp_path / "audit").mkdir(exist_ok=True)
        for key in (self.folder / "audit").glob("*"):
            shutil.copy(key, tmp_path / "audit" / key.name)
        if PG_URL:
            asyncio.run(self._restore())
            return PG_URL
        path = tmp_path / "hotline.db"
        shutil.copy(self.folder / "seeded.db", path)
        return f"sqlite+aiosqlite:///{path}"

    def _load(self) -> None:
        self.day = self._today()
        if PG_URL:
            reset_postgres()
            url = PG_URL
        else:
            shutil.copy(self.template.split(":///", 1)[1], self.folder / "seeded.db")
            url = f"sqlite+aiosqlite:///{self.folder / 'seeded.db'}"

        async def load() -> None:
            settings = make_settings(url)
            db, bus = Database(url), InProcessBus()
            pool = ComputePool.from_settings(settings)
            await pool.start()
            try:
                await demo.load(Context(settings, db, bus, Actor.system("test"), pool=pool), hotel_days=30)
                if PG_URL:
                    await self._snapshot(db)
            finally:
                await pool.stop()
                await bus.stop()
                await db.dispose()

        asyncio.run(load())
        (self.folder / "audit").mkdir(exist_ok=True)
        for name in ("signing.key", "keyring.json"):  # the key the demo's audit rows were signed with
            if (self.audit / name).exists():
                shutil.copy(self.audit / name, self.folder / "audit" / name)
        self.loaded_at = time.monotonic()

    async def _snapshot(self, db: Database) -> None:
        import io

        async with db.engine.connect() as conn:
            raw = (await conn.get_raw_connection()).driver_connection
            self.tables = []
            for table in Base.metadata.sorted_tables:
                if await raw.fetchval(f'SELECT EXISTS (SELECT 1 FROM "{table.name}")'):  # noqa: S608 - table names from the models
                    data = io.BytesIO()
                    await raw.copy_from_table(table.name, output=data, format="binary")
                    self.tables.append((table.name, data.getvalue()))
            rows = await raw.fetch(
                "SELECT schemaname || '.' || quote_ident(sequencename) AS name, last_value "
                "FROM pg_sequences WHERE schemaname = 'public' AND last_value IS NOT NULL"
            )
            self.sequences = [(row["name"], row["last_value"]) for row in rows]

    async def _restore(self) -> None:
        import io

        assert PG_URL
        db = Database(PG_URL)
        try:
            async with db.engine.connect() as conn:
                raw = (await conn.get_raw_connection()).driver_connection
                async with raw.transaction():
                    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
                    await raw.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
                    await raw.execute("SET LOCAL session_replication_role = replica")  # rows in any order
                    for name, data in self.tables:
                        await raw.copy_to_table(name, source=io.BytesIO(data), format="binary")
                    for name, value in self.sequences:
                        await raw.execute("SELECT setval($1, $2, true)", name, value)
        finally:
            await db.dispose()


_SEEDED = pytest.StashKey[bool]()


@pytest.fixture(scope="session")
def _demo_snapshot(_template: str, tmp_path_factory: pytest.TempPathFactory) -> _DemoSnapshot:
    return _DemoSnapshot(_template, tmp_path_factory.mktemp("demo"))


@pytest.fixture
def database_url(_template: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if "seeded" in request.fixturenames:  # the demo data copied in; `seeded` then loads nothing
        request.node.stash[_SEEDED] = True
        return request.getfixturevalue("_demo_snapshot").copy_into(tmp_path)  # type: ignore[no-any-return]
    if PG_URL:
        reset_postgres()
        return PG_URL
    path = tmp_path / "hotline.db"
    shutil.copy(_template.split(":///", 1)[1], path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, exports_dir=tmp_path / "exports", **audit_files(tmp_path / "audit"))


@pytest.fixture
async def ctx(settings: Settings) -> AsyncIterator[Context]:
    """A system context for arranging data through the services."""
    db = Database(settings.database_url)
    bus = InProcessBus()
    pool = ComputePool.from_settings(settings)
    await pool.start()
    try:
        yield Context(settings, db, bus, Actor.system("test"), pool=pool)
    finally:
        await pool.stop()
        await bus.stop()
        await db.dispose()


@pytest.fixture
async def seeded(ctx: Context, request: pytest.FixtureRequest) -> Context:
    """The demo organisation and one login per role (ARCHITECTURE.md demo conventions), copied in
    by `database_url` from the run's snapshot (`_DemoSnapshot`) when this test's database is the
    one `ctx` opens; loaded here otherwise."""
    if not request.node.stash.get(_SEEDED, False) or ctx.settings.database_url != request.getfixturevalue(
        "database_url"
    ):
        await demo.load(ctx, hotel_days=30)  # 180 days in `make run`; a month is enough for the tests
    return ctx


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[object]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: object) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://hotline.test") as http:
        yield http


class Users:
    """Clients signed in as the named demo users: `await users("agent1")`."""

    def __init__(self, app: object) -> None:
        self.app = app
        self._clients: list[httpx.AsyncClient] = []

    async def __call__(self, username: str, password: str = DEMO_PASSWORD) -> httpx.AsyncClient:
        http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app),  # type: ignore[arg-type]
            base_url="http://hotline.test",
        )
        self._clients.append(http)
        response = await http.post("/api/auth/login", json={"username": username, "password": password})
        assert response.status_code == 200, response.text
        return http

    async def close(self) -> None:
        for http in self._clients:
            await http.aclose()


@pytest.fixture
async def users(app: object, seeded: Context) -> AsyncIterator[Users]:
    pool = Users(app)
    try:
        yield pool
    finally:
        await pool.close()


def assert_problem(
    response: httpx.Response, status: int, code: str, field: str | None = None
) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code, body
    assert body["status"] == status
    if field is not None:
        assert field in [e["field"] for e in body["errors"]], body
    return body  # type: ignore[no-any-return]


@pytest.fixture
async def served(app: object) -> AsyncIterator[str]:
    """The app on a real port (Kannel's delivery reports, WebSocket clients)."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    )  # type: ignore[arg-type]
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
        await asyncio.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    with contextlib.suppress(asyncio.CancelledError):
        await task


@pytest.fixture
async def phones(app: object, seeded: Context) -> AsyncIterator[Callable[[str], Awaitable[Softphone]]]:
    """SIP phones over loopback to the app's voice node (its settings give it the voice role): an
    extension of four digits registers with its demo password; any other name just dials."""
    port = app.state.hotline.sip.port  # type: ignore[attr-defined]
    from tests.voice.softphone import Softphone

    opened: list[Softphone] = []

    async def phone(extension: str) -> Softphone:
        handset = await Softphone.open(extension, f"sip{extension}", port)
        opened.append(handset)
        if extension.isdigit() and len(extension) == 4:
            assert await handset.register() == 200
        return handset

    yield phone
    for handset in opened:
        handset.close()


def free_port() -> int:
    """A loopback port free for both UDP and TCP: SIP listens on both, and so do baresip and SIPp."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp, socket.socket() as tcp:
            udp.bind(("127.0.0.1", 0))
            port = int(udp.getsockname()[1])
            try:
                tcp.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no port free for both UDP and TCP")
