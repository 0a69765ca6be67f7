"""The `hotline` command."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Coroutine
from typing import Annotated, Any, TypeVar

import typer

from hotline.core.config import get_settings
from hotline.core.errors import HotlineError

app = typer.Typer(help="Hotline contact center.", no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
user_app = typer.Typer(help="User accounts.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit log.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(audit_app, name="audit")
ivr_app = typer.Typer(help="IVR flows.", no_args_is_help=True)
app.add_typer(ivr_app, name="ivr")

T = TypeVar("T")


def fail(message: str, code: int = 1) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def run(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine; domain errors become a clear message and exit status 1."""
    try:
        return asyncio.run(make())
    except HotlineError as exc:
        fail(f"{exc.detail}" + (f" ({exc.field})" if exc.field else ""))
        raise  # unreachable: fail() exits
    except OSError as exc:
        fail(f"cannot reach the database: {exc}")
        raise


async def _with_context(work: Callable[[Any], Awaitable[T]], actor_name: str = "cli") -> T:
    from hotline import domains
    from hotline.core.compute import ComputePool
    from hotline.core.context import Actor, Context
    from hotline.core.db import Database
    from hotline.core.events import InProcessBus

    settings = get_settings()
    domains.load_models()
    db = Database(settings.database_url)
    bus = InProcessBus()
    pool = ComputePool.from_settings(settings)
    await pool.start()
    try:
        return await work(Context(settings, db, bus, Actor.system(actor_name), pool=pool))
    finally:
        await pool.stop()
        await bus.stop()
        await db.dispose()


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (default from settings).")] = None,
    port: Annotated[int | None, typer.Option(min=1, max=65535)] = None,
    roles: Annotated[str | None, typer.Option(help="Comma-separated node roles: api,voice,jobs.")] = None,
    migrate: Annotated[bool, typer.Option(help="Upgrade the schema before starting.")] = True,
) -> None:
    """Start the server (web UI, API, voice plane, jobs)."""
    import os

    import uvicorn

    if roles:
        wanted = [r.strip() for r in roles.split(",") if r.strip()]
        bad = [r for r in wanted if r not in {"api", "voice", "jobs"}]
        if bad or not wanted:
            fail(f"unknown role(s): {', '.join(bad) or '(none)'}; use api, voice, jobs")
        os.environ["HOTLINE_ROLES"] = json.dumps(wanted)
        get_settings.cache_clear()
    settings = get_settings()
    if "voice" in settings.roles:
        _check_sip_port(settings.sip_host, settings.sip_port)
    if migrate:
        db_upgrade()
    uvicorn.run(
        "hotline.api.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
    )


def _check_sip_port(host: str, port: int) -> None:
    """Fail before starting anything when another program holds the SIP port."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        with socket.socket(family, kind) as probe:
            if kind == socket.SOCK_STREAM:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError as exc:
                fail(
                    f"cannot listen for SIP on {host}:{port} ({exc.strerror}): another SIP server runs "
                    "there; stop it, or set HOTLINE_SIP_PORT (or HOTLINE_ROLES without voice)"
                )


@app.command()
def openapi() -> None:
    """Print the OpenAPI document (used to generate the web UI's API client)."""
    from hotline.api.app import create_app

    typer.echo(json.dumps(create_app().openapi(), ensure_ascii=False, indent=2))


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Apply migrations up to REVISION (default: head)."""
    from hotline.core import migrate
    from hotline.core.db import Database

    async def work() -> None:
        db = Database(get_settings().database_url)
        try:
            await migrate.upgrade(db, revision)
        finally:
            await db.dispose()

    try:
        run(work)
    except Exception as exc:  # alembic raises plain errors for unknown revisions
        if isinstance(exc, typer.Exit | SystemExit):
            raise
        fail(f"migration failed: {exc}")


@db_app.command("check")
def db_check() -> None:
    """Fail if the models and the migrated schema differ (a migration is missing)."""
    from hotline.core import migrate
    from hotline.core.db import Database

    async def work() -> list[object]:
        db = Database(get_settings().database_url)
        try:
            return await migrate.drift(db)
        finally:
            await db.dispose()

    diff = run(work)
    if diff:
        for change in diff:
            typer.echo(f"  {change}", err=True)
        fail("models and migrations differ; generate a migration")
    typer.echo("schema matches the models")


@user_app.command("create")
def user_create(
    username: str,
    display_name: Annotated[str, typer.Option("--name", help="Display name.")],
    role: Annotated[list[str], typer.Option("--role", help="Role code; repeat for several.")],
    work_number: Annotated[str | None, typer.Option(help="工号 (agents).")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Create a user. The password is prompted for, or read from stdin."""
    from pydantic import ValidationError

    from hotline.admin import service
    from hotline.admin.schemas import UserCreate

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        data = UserCreate(
            username=username,
            display_name=display_name,
            password=password,
            roles=role,
            work_number=work_number,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        fail(f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}")
        return
    user = run(lambda: _with_context(lambda ctx: service.create_user(ctx, data)))
    typer.echo(f"created user {user.username} (id {user.id}) with roles {', '.join(user.roles) or 'none'}")


@app.command("demo-data")
def demo_data(
    customers: Annotated[int, typer.Option(min=0, max=100_000, help="Made-up customers besides 张伟")] = 2000,
    reservations: Annotated[
        int, typer.Option(min=0, max=100_000, help="Made-up past and future bookings")
    ] = 3000,
    tickets: Annotated[int, typer.Option(min=0, max=10_000, help="Made-up tickets of the last weeks")] = 300,
    orders: Annotated[
        int, typer.Option(min=0, max=10_000, help="Made-up travel orders in every state")
    ] = 320,
) -> None:
    """Load the demo organisation, logins and sample data (idempotent)."""
    from hotline import demo
    from hotline.hotels import demo as hotels_demo
    from hotline.tickets import demo as tickets_demo
    from hotline.travel import demo as travel_demo

    async def load(ctx: Any) -> tuple[list[str], int, int, int, int]:
        created = await demo.load(ctx)
        crowd = await demo.load_customers(ctx, customers)
        booked = await hotels_demo.load_reservations(ctx, reservations)
        await tickets_demo.load_staff(ctx)
        opened = await tickets_demo.load_tickets(ctx, tickets)
        return created, crowd, booked, opened, await travel_demo.load_orders(ctx, orders)

    created, crowd, booked, opened, travel = run(lambda: _with_context(load, "cli:demo-data"))
    typer.echo(
        f"demo data loaded; {len(created)} new login(s)"
        + (f": {', '.join(created)}" if created else "")
        + (f"; {crowd} customers" if crowd else "")
        + (f"; {booked} reservations" if booked else "")
        + (f"; {opened} tickets" if opened else "")
        + (f"; {travel} travel orders" if travel else "")
    )


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the audit log's hash chain and compare it with the signed checkpoints; exit 1 naming
    every problem (an entry altered or removed, the newest entries cut off, a checkpoint forged,
    removed or missing) with the time window it concerns."""
    from hotline.admin import audit

    report, _row = run(lambda: _with_context(lambda ctx: audit.verify(ctx, "cli"), "cli:audit"))
    if not report.ok:
        for problem in report.problems:
            window = problem.window()
            typer.secho(
                f"  [{problem.kind}] {problem.message}" + (f" (window: {window})" if window else ""), err=True
            )
        fail(
            f"audit trail does not verify: {len(report.problems)} problem(s); "
            f"{report.entries} entries and {report.checkpoints} checkpoints read"
        )
    last = report.last_checkpoint
    typer.echo(
        f"audit log intact: {report.entries} entries verified against {report.checkpoints} checkpoint(s)"
        + (
            f"; last checkpoint {last.n} at {last.at.isoformat(timespec='seconds')} (entry {last.seq}, "
            f"key {last.key})"
            if last
            else ""
        )
        + (f"; {report.unanchored} newer entries not yet checkpointed" if report.unanchored else "")
    )


@audit_app.command("checkpoint")
def audit_checkpoint() -> None:
    """Sign the audit log's head now and append it to the checkpoint file (the server does this
    every few minutes, at start-up and at shutdown)."""
    from hotline.admin import audit

    checkpoint = run(lambda: _with_context(lambda ctx: audit.take_checkpoint(ctx, "manual"), "cli:audit"))
    if checkpoint is not None:
        typer.echo(
            f"checkpoint {checkpoint.n}: entry {checkpoint.seq} at "
            f"{checkpoint.at.isoformat(timespec='seconds')}, signed with key {checkpoint.key} "
            f"-> {get_settings().audit_checkpoint_file}"
        )


@audit_app.command("keygen")
def audit_keygen(
    out: Annotated[
        str | None, typer.Option(help="Where to write the private key (default: HOTLINE_AUDIT_KEY_FILE).")
    ] = None,
) -> None:
    """Make a new Ed25519 key for signing checkpoints: the private key to OUT (never overwritten,
    mode 0600), its public key added to the keyring and printed. To rotate, make one to a new file
    and point HOTLINE_AUDIT_KEY_FILE at it; the keyring keeps the old public key."""
    from pathlib import Path

    from hotline.core.audit_keys import AuditKeyError, generate_key, public_text

    settings = get_settings()
    path = Path(out) if out else settings.audit_key_file
    try:
        key = generate_key(path, settings.audit_keyring_file, note=f"hotline audit keygen --out {path}")
    except AuditKeyError as exc:
        fail(exc.detail)
        return
    typer.echo(f"private key: {path} (keep it off the database server's backups, mode 0600)")
    typer.echo(f"key id:      {key.id}")
    typer.echo(f"public key:  {public_text(key.public)}")
    typer.echo(f"keyring:     {settings.audit_keyring_file}")


@audit_app.command("keys")
def audit_keys() -> None:
    """List the keyring: the public keys checkpoints may be signed with."""
    from hotline.core.audit_keys import AuditKeyError, Keyring, load_signing_key, public_text

    settings = get_settings()
    try:
        keyring = Keyring.load(settings.audit_keyring_file)
        current = load_signing_key(settings, create=False)
    except AuditKeyError as exc:
        fail(exc.detail)
        return
    if not keyring.entries:
        typer.echo(f"the keyring {settings.audit_keyring_file} is empty")
    for entry in keyring.entries.values():
        mark = " (signs now)" if current is not None and current.id == entry.id else ""
        typer.echo(f"{entry.id}  {public_text(entry.public)}  added {entry.added_at}{mark}  {entry.note}")
    if current is not None and current.id not in keyring.entries:
        typer.secho(
            f"the signing key {current.id} is not in the keyring: its checkpoints will not verify", err=True
        )


def _signer_or_none(settings: Any) -> Any:
    """The checkpoint signer, or None (with a warning) where this machine holds no key."""
    from hotline.admin import audit
    from hotline.core.audit_keys import AuditKeyError

    try:
        return audit.checkpointer(settings)
    except AuditKeyError as exc:
        typer.secho(f"warning: {exc.detail}; no checkpoint is signed", err=True)
        return None


@app.command("backup")
def backup_command(
    archive: Annotated[str, typer.Argument(help="The archive to write (.tar, or .tar.gz to compress)")],
    pg_bin: Annotated[
        str | None, typer.Option(help="Folder of pg_dump (default: the server's version from Debian)")
    ] = None,
) -> None:
    """Back up the database, the call recordings and the audit checkpoints into one archive,
    while the server runs; a `backup` checkpoint of the archived audit log is signed."""
    from pathlib import Path

    from hotline import domains
    from hotline.core import backup
    from hotline.core.db import Database

    settings = get_settings()
    domains.load_models()

    async def work() -> Any:
        db = Database(settings.database_url)
        try:
            return await backup.backup(
                settings, db, Path(archive), signer=_signer_or_none(settings),
                pg_bin=Path(pg_bin) if pg_bin else None,
            )  # fmt: skip
        finally:
            await db.dispose()

    result = run(work)
    typer.echo(
        f"backed up to {result.archive} ({result.size / 1e6:.1f} MB): "
        f"{sum(result.counts.values())} rows in {len(result.counts)} tables, "
        f"{result.recordings} recording file(s), audit log to entry {result.head.seq}"
        + (f", checkpoint {result.checkpoint.n}" if result.checkpoint else ", no checkpoint (no key)")
    )


@app.command("restore")
def restore_command(
    archive: Annotated[str, typer.Argument(help="An archive made by `hotline backup`")],
    force: Annotated[
        bool, typer.Option("--force", help="Replace a database that holds data (kept nowhere else!)")
    ] = False,
    pg_bin: Annotated[str | None, typer.Option(help="Folder of pg_restore")] = None,
) -> None:
    """Restore an archive into an empty database (stop the server first). Every member is checked
    before anything changes; recordings and the checkpoint file already there are set aside."""
    from pathlib import Path

    from hotline import domains
    from hotline.core import backup
    from hotline.core.db import Database

    settings = get_settings()
    domains.load_models()

    async def work() -> Any:
        db = Database(settings.database_url)
        try:
            return await backup.restore(
                settings, db, Path(archive), force=force, signer=_signer_or_none(settings),
                pg_bin=Path(pg_bin) if pg_bin else None,
            )  # fmt: skip
        finally:
            await db.dispose()

    result = run(work)
    for moved in result.set_aside:
        typer.echo(f"kept what was there as {moved}")
    typer.echo(
        f"restored {sum(result.counts.values())} rows, {result.recordings} recording file(s), "
        f"audit log to entry {result.head.seq}"
        + (f"; checkpoint {result.checkpoint.n} signed" if result.checkpoint else "")
        + ". Run `hotline db upgrade`, then `hotline audit verify`."
    )


def _flow(name_or_file: str) -> Any:
    from pathlib import Path

    import yaml

    from hotline.routing.flow import SHIPPED, parse
    from hotline.routing.service import lookup_names

    path = Path(name_or_file)
    if not path.is_file():
        path = SHIPPED / f"{name_or_file}.yaml"
    if not path.is_file():
        fail(f"no flow file {name_or_file!r} and no shipped flow of that name (hotel, travel)")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        fail(f"{path} is not YAML: {exc}")
    flow, problems = parse(data, functions=lookup_names())  # lookups named must exist
    for problem in problems:
        where = f"node {problem.node}" if problem.node else "flow"
        typer.secho(f"{where}{f' ({problem.field})' if problem.field else ''}: {problem.message}", err=True)
    if flow is None or problems:
        fail(f"{path}: {len(problems)} problem(s)")
    return flow


@ivr_app.command("check")
def ivr_check(flow: Annotated[str, typer.Argument(help="A flow file, or a shipped flow's name")]) -> None:
    """Validate a flow; every problem is printed with its node, exit 1 if there are any."""
    checked = _flow(flow)
    typer.echo(f"{checked.name}: {len(checked.nodes)} nodes, no problems")


@ivr_app.command("dry-run")
def ivr_dry_run(
    flow: Annotated[str, typer.Argument(help="A flow file, or a shipped flow's name")],
    keys: Annotated[str, typer.Option(help="The keys the caller presses, in order, e.g. 18800123#2")] = "",
    no_agent: Annotated[bool, typer.Option(help="No agent answers transfers")] = False,
) -> None:
    """Walk a flow as a caller pressing KEYS (simulated, in virtual time) and print the path."""
    import re

    from hotline.domains import ivr_lookups
    from hotline.routing.transfer import dry_run

    async def nothing_found(variables: object) -> None:  # the dry run reads no data: lookups find nothing
        return None

    if not re.fullmatch(r"[0-9*#]*", keys):
        fail("--keys takes only 0-9, * and #")
    checked = _flow(flow)
    lookups = dict.fromkeys(ivr_lookups(), nothing_found)
    result = dry_run(checked, keys, agent_answers=not no_agent, lookups=lookups)
    for step, node_id in enumerate(result.path, 1):
        node = checked.nodes[node_id]
        typer.echo(f"{step:>2}. {node_id} [{node.type}] {node.label}")
    typer.echo("said:")
    for line in result.said:
        typer.echo(f"    {line}")
    typer.echo(f"outcome: {result.outcome}")


@app.command("simulate")
def simulate(
    agents: Annotated[int, typer.Option(min=1, max=5000, help="Agents on duty")] = 12,
    calls_per_hour: Annotated[float, typer.Option(min=0.1, max=1_000_000)] = 200.0,
    handle: Annotated[float, typer.Option(min=1, max=36_000, help="Mean handle time, seconds")] = 180.0,
    calls: Annotated[int, typer.Option(min=1, max=10_000_000)] = 20_000,
    patience: Annotated[
        float, typer.Option(min=0, max=36_000, help="Mean patience, seconds (0: nobody gives up)")
    ] = 0.0,
    wrap: Annotated[float, typer.Option(min=0, max=3600, help="Wrap-up after each call, seconds")] = 0.0,
    strategy: Annotated[
        str, typer.Option(help="longest-idle, round-robin, fewest-calls, skill-level-first")
    ] = ("longest-idle"),
    seed: Annotated[int, typer.Option()] = 1,
    replay_day: Annotated[
        str, typer.Option("--replay", help="Replay this day (YYYY-MM-DD) of the event log instead")
    ] = "",
) -> None:
    """Run the real routing code on simulated calls in virtual time and print service level, ASA,
    abandon rate and occupancy; with --replay, a recorded day as it was and under --strategy."""
    import datetime as dt

    from hotline.routing import erlang
    from hotline.routing.acd import Strategy
    from hotline.routing.simulate import Scenario
    from hotline.routing.simulate import simulate as simulate_scenario

    try:
        chosen = Strategy(strategy)
    except ValueError:
        fail(f"--strategy must be one of {', '.join(s.value for s in Strategy)}")
    if replay_day:
        try:
            day = dt.date.fromisoformat(replay_day)
        except ValueError:
            fail("--replay takes a date as YYYY-MM-DD")
        _replay(day, chosen)
        return
    scenario = Scenario(
        agents, calls_per_hour, handle, calls, patience or None, wrap, seed=seed, strategy=chosen
    )
    result = simulate_scenario(scenario)
    m = result.metrics
    typer.echo(
        f"{calls:,} calls over {result.simulated_hours:.1f} simulated hours, {agents} agents, {chosen}"
    )
    typer.echo(f"  service level (20 s)  {_pct(m.service_level)}")
    typer.echo(f"  waited at all         {result.waited:.1%}")
    typer.echo(f"  ASA                   {m.average_speed_of_answer or 0:.1f} s")
    typer.echo(f"  abandon rate          {_pct(m.abandon_rate)}")
    typer.echo(f"  occupancy             {_pct(m.occupancy)}")
    if not patience and not wrap:
        theory = erlang.erlang_c_staffing(agents, calls_per_hour, handle, 20)
        typer.echo(
            f"  Erlang C: service level {_pct(theory.service_level)}, waited {theory.wait_probability:.1%}"
        )


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _replay(day: Any, strategy: Any) -> None:
    from hotline.routing import center
    from hotline.routing.simulate import replay

    recorded = run(lambda: _with_context(lambda ctx: center.recorded_day(ctx, day)))
    if not recorded.calls:
        fail(f"the event log has no queued calls on {day}")
    as_was = replay(recorded)
    other = replay(recorded, strategy=strategy)
    typer.echo(f"{day}: {len(recorded.calls)} queued calls, {len(recorded.agents)} agents")
    typer.echo(f"{'queue':<12}{'':<14}{'offered':>8}{'SL':>8}{'ASA s':>8}{'abandon':>9}")
    for queue, actual in recorded.actual.items():
        rows = (
            ("recorded", actual),
            ("simulated", as_was.by_queue[queue]),
            (str(strategy), other.by_queue[queue]),
        )
        for label, m in rows:
            typer.echo(
                f"{queue:<12}{label:<14}{m.offered:>8}{_pct(m.service_level):>8}"
                f"{(m.average_speed_of_answer or 0):>8.1f}{_pct(m.abandon_rate):>9}"
            )


def main() -> None:
    app()


notify_app = typer.Typer(help="Notifications (SMS and e-mail).", no_args_is_help=True)
app.add_typer(notify_app, name="notify")


@notify_app.command("drain")
def notify_drain(
    node: Annotated[str, typer.Option(help="This sender's name in leases and logs.")] = "cli",
) -> None:
    """Handle pending events and send every due message now, then stop (what a `jobs` node does
    continuously). Safe beside running nodes: each message is claimed by one sender."""
    from hotline import domains
    from hotline.notify.outbox import Sender
    from hotline.notify.rules import handlers

    domains.load_job_handlers()

    async def drain(ctx: Any) -> int:
        sender = Sender(ctx, node_id=node, handlers=handlers())
        total = 0
        try:
            while done := await sender.run_once():
                total += done
        finally:
            await sender.stop()
        return total

    total = run(lambda: _with_context(drain, f"cli:notify:{node}"))
    typer.echo(f"{total} event(s) and message(s) handled")
