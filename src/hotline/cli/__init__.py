"""The `hotline` command: the server, the schema, users, demo data and notifications here;
the audit log, backups (cli/audit.py) and IVR flows and staffing (cli/contact.py) beside."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer

from hotline.cli.common import fail, run, with_context
from hotline.core.config import get_settings

app = typer.Typer(help="Hotline contact center.", no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
user_app = typer.Typer(help="User accounts.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")


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
    # the settings say where this node listens: the cluster's other nodes are told its address
    # from them (HOTLINE_INTERNAL_URL's default), so --host/--port must not stay out of them
    if host:
        os.environ["HOTLINE_HOST"] = host
    if port:
        os.environ["HOTLINE_PORT"] = str(port)
    get_settings.cache_clear()
    settings = get_settings()
    if "voice" in settings.roles:
        _check_sip_port(settings.sip_host, settings.sip_port)
    if migrate:
        db_upgrade()
    uvicorn.run(
        "hotline.api.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        proxy_headers=False,  # the app believes X-Forwarded-* from HOTLINE_TRUSTED_PROXIES only
        access_log=False,
        log_level="warning",
        # on SIGTERM, requests still running after 5 s are cut: web chat windows hold theirs up to
        # 25 s (notify/chat_waits.py) and ask again at once, another node or this one restarted
        timeout_graceful_shutdown=5,
        # an idle connection is kept longer than a client or proxy in front keeps it (nginx's upstream
        # keep-alive 60 s): with uvicorn's 5 s a request could go out on a connection the server was
        # closing at that moment and fail with a reset no user can retry
        timeout_keep_alive=75,
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

    from hotline.admin import users
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
    user = run(lambda: with_context(lambda ctx: users.create_user(ctx, data)))
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
    from hotline.contact import demo as calls_demo
    from hotline.hotels import demo as hotels_demo
    from hotline.outbound import surveys
    from hotline.tickets import demo as tickets_demo
    from hotline.travel import demo as travel_demo

    async def load(ctx: Any) -> tuple[list[str], int, int, int, int]:
        created = await demo.load(ctx)
        crowd = await demo.load_customers(ctx, customers)
        booked = await hotels_demo.load_reservations(ctx, reservations)
        await tickets_demo.load_staff(ctx)
        opened = await tickets_demo.load_tickets(ctx, tickets)
        await calls_demo.load_calls_today(ctx)  # the wallboard's service level through the day
        await calls_demo.load_ivr_today(ctx)  # the IVR report's nodes and enquiries
        travel = await travel_demo.load_orders(ctx, orders)
        await demo.load_agent_day(ctx)
        await surveys.collect_ivr(ctx)  # the post-call survey keys of the demo's calls, as responses
        return created, crowd, booked, opened, travel

    created, crowd, booked, opened, travel = run(lambda: with_context(load, "cli:demo-data"))
    typer.echo(
        f"demo data loaded; {len(created)} new login(s)"
        + (f": {', '.join(created)}" if created else "")
        + (f"; {crowd} customers" if crowd else "")
        + (f"; {booked} reservations" if booked else "")
        + (f"; {opened} tickets" if opened else "")
        + (f"; {travel} travel orders" if travel else "")
    )


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

    total = run(lambda: with_context(drain, f"cli:notify:{node}"))
    typer.echo(f"{total} event(s) and message(s) handled")


def main() -> None:
    app()


def _register_the_rest() -> None:
    from hotline.cli import audit, contact

    app.add_typer(audit.app, name="audit")
    audit.register(app)
    app.add_typer(contact.app, name="ivr")
    contact.register(app)


_register_the_rest()
