"""The `hotline` command: clear messages and non-zero exits on bad input."""

from __future__ import annotations

import os
import subprocess

import pytest

from hotline.core.context import Context


def cli_env(ctx: Context) -> dict[str, str]:
    """The test's database and audit files (never the checkout's var/)."""
    settings = ctx.settings
    return {
        "HOTLINE_DATABASE_URL": settings.database_url,
        "HOTLINE_ENVIRONMENT": "test",
        "HOTLINE_AUDIT_KEY_FILE": str(settings.audit_key_file),
        "HOTLINE_AUDIT_KEYRING_FILE": str(settings.audit_keyring_file),
        "HOTLINE_AUDIT_CHECKPOINT_FILE": str(settings.audit_checkpoint_file),
        "HOTLINE_RECORDINGS_DIR": str(settings.recordings_dir),
    }


def hotline(
    ctx: Context, *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        **cli_env(ctx),
        "HOTLINE_ARGON2_TIME_COST": "1",
        "HOTLINE_ARGON2_MEMORY_KIB": "1024",
        **(env or {}),
    }
    return subprocess.run(
        ["hotline", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


async def test_user_create_and_its_refusals(ctx: Context) -> None:
    ok = hotline(
        ctx,
        "user",
        "create",
        "nightaudit",
        "--name",
        "夜审",
        "--role",
        "finance",
        "--password-stdin",
        stdin="Moon-river-2026\n",
    )
    assert ok.returncode == 0, ok.stderr
    assert "created user nightaudit" in ok.stdout

    again = hotline(
        ctx,
        "user",
        "create",
        "nightaudit",
        "--name",
        "x",
        "--role",
        "agent",
        "--password-stdin",
        stdin="Moon-river-2026\n",
    )
    assert again.returncode == 1 and "is taken" in again.stderr

    weak = hotline(
        ctx,
        "user",
        "create",
        "newbie",
        "--name",
        "x",
        "--role",
        "agent",
        "--password-stdin",
        stdin="abc\n",
    )
    assert weak.returncode == 1 and "password" in weak.stderr

    role = hotline(
        ctx,
        "user",
        "create",
        "newbie",
        "--name",
        "x",
        "--role",
        "wizard",
        "--password-stdin",
        stdin="Moon-river-2026\n",
    )
    assert role.returncode == 1 and "wizard" in role.stderr

    name = hotline(
        ctx,
        "user",
        "create",
        "bad name",
        "--name",
        "x",
        "--role",
        "agent",
        "--password-stdin",
        stdin="Moon-river-2026\n",
    )
    assert name.returncode == 1 and "username" in name.stderr


async def test_demo_data_is_idempotent(ctx: Context) -> None:
    first = hotline(ctx, "demo-data")
    assert first.returncode == 0 and "13 new login(s)" in first.stdout
    second = hotline(ctx, "demo-data")
    assert second.returncode == 0 and "0 new login(s)" in second.stdout


def test_bad_commands_exit_non_zero() -> None:
    assert subprocess.run(["hotline", "no-such"], capture_output=True, check=False).returncode == 2
    bad_roles = subprocess.run(
        ["hotline", "serve", "--roles", "api,dance"], capture_output=True, text=True, check=False
    )
    assert bad_roles.returncode == 1 and "dance" in bad_roles.stderr
    bad_db = subprocess.run(
        ["hotline", "audit", "verify"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "HOTLINE_DATABASE_URL": "postgresql+asyncpg://nobody@127.0.0.1:1/none"},
    )
    assert bad_db.returncode == 1 and "database" in bad_db.stderr


def test_serve_refuses_to_start_when_the_sip_port_is_taken(tmp_path: object) -> None:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as holder:
        holder.bind(("127.0.0.1", 0))
        port = holder.getsockname()[1]
        result = subprocess.run(
            ["hotline", "serve", "--no-migrate"],
            capture_output=True, text=True, check=False, timeout=60,
            env={**os.environ, "HOTLINE_SIP_PORT": str(port), "HOTLINE_DATABASE_URL": "sqlite+aiosqlite:///:memory:"},
        )  # fmt: skip
    assert result.returncode == 1
    assert f"cannot listen for SIP on 127.0.0.1:{port}" in result.stderr


def test_serve_on_another_port_tells_the_cluster_that_port(monkeypatch: pytest.MonkeyPatch) -> None:
    """`hotline serve --port 8091` (scripts/cluster.sh's nodes): the address the node gives the
    cluster's other nodes (where the router's node is asked to act) is that port, not 8000."""
    import uvicorn

    from hotline.api.router_link import own_address
    from hotline.cli import serve
    from hotline.core.config import get_settings

    for name, value in (("HOTLINE_PORT", "8000"), ("HOTLINE_HOST", "127.0.0.1"), ("HOTLINE_ROLES", "[]")):
        monkeypatch.setenv(name, value)  # put back after the test, whatever serve sets
    monkeypatch.setenv("HOTLINE_DATABASE_URL", "sqlite+aiosqlite:///:memory:")
    started: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: started.update(kwargs))
    try:
        serve(host=None, port=8091, roles="api", migrate=False)
        assert started["port"] == 8091 and started["host"] == "127.0.0.1"
        assert own_address(get_settings()) == "http://127.0.0.1:8091"
    finally:
        get_settings.cache_clear()


async def test_ivr_dry_run_walks_the_hotel_flow_and_check_points_at_bad_nodes(
    ctx: Context, tmp_path: object
) -> None:
    walked = hotline(ctx, "ivr", "dry-run", "hotel", "--keys", "2")
    assert walked.returncode == 0, walked.stderr
    assert (
        " 1. welcome [menu] 欢迎词" in walked.stdout and " 2. to_agent [transfer] 人工服务" in walked.stdout
    )
    assert "下面由001号服务员为您服务" in walked.stdout and "answered by agent 001" in walked.stdout
    assert hotline(ctx, "ivr", "dry-run", "hotel", "--keys", "12a").returncode == 1

    from pathlib import Path

    broken = Path(str(tmp_path)) / "broken.yaml"
    broken.write_text("name: broken\nstart: hi\nnodes:\n  hi: {type: play, say: {text: 你好}, next: gone}\n")
    checked = hotline(ctx, "ivr", "check", str(broken))
    assert (
        checked.returncode == 1 and "node hi (next): goes to 'gone', which does not exist" in checked.stderr
    )
    assert hotline(ctx, "ivr", "check", "travel").returncode == 0


async def test_simulate_prints_the_figures_and_refuses_bad_options(ctx: Context) -> None:
    ran = hotline(ctx, "simulate", "--agents", "12", "--calls-per-hour", "200", "--calls", "3000")
    assert ran.returncode == 0, ran.stderr
    assert "service level (20 s)" in ran.stdout and "Erlang C: service level 64.0%" in ran.stdout
    bad = hotline(ctx, "simulate", "--strategy", "random")
    assert bad.returncode == 1 and "--strategy must be one of" in bad.stderr
    empty_day = hotline(ctx, "simulate", "--replay", "2026-01-01")
    assert empty_day.returncode == 1 and "no queued calls on 2026-01-01" in empty_day.stderr
    not_a_date = hotline(ctx, "simulate", "--replay", "yesterday")
    assert not_a_date.returncode == 1 and "YYYY-MM-DD" in not_a_date.stderr


async def test_audit_keygen_rotation_and_key_errors(ctx: Context, tmp_path: object) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path))
    made = hotline(ctx, "audit", "keygen", "--out", str(folder / "k1.pem"))
    assert made.returncode == 0, made.stderr
    first_id = made.stdout.split("key id:")[1].split()[0]
    assert "public key:" in made.stdout and (folder / "k1.pem").stat().st_mode & 0o777 == 0o600
    again = hotline(ctx, "audit", "keygen", "--out", str(folder / "k1.pem"))
    assert again.returncode == 1 and "is never overwritten" in again.stderr

    rotated = hotline(ctx, "audit", "keygen", "--out", str(folder / "k2.pem"))
    second_id = rotated.stdout.split("key id:")[1].split()[0]
    listed = hotline(ctx, "audit", "keys", env={"HOTLINE_AUDIT_KEY_FILE": str(folder / "k2.pem")})
    assert first_id in listed.stdout and f"{second_id}  " in listed.stdout
    assert "(signs now)" in listed.stdout.split(second_id)[1].splitlines()[0]

    (folder / "junk.pem").write_text("not a key")
    junk = hotline(ctx, "audit", "checkpoint", env={"HOTLINE_AUDIT_KEY_FILE": str(folder / "junk.pem")})
    assert junk.returncode == 1 and "is not an unencrypted PEM private key" in junk.stderr
    inline = hotline(ctx, "audit", "checkpoint", env={"HOTLINE_AUDIT_KEY": "c2hvcnQ="})
    assert inline.returncode == 1 and "must be a 32-byte seed" in inline.stderr
    production = hotline(
        ctx,
        "audit",
        "checkpoint",
        env={"HOTLINE_ENVIRONMENT": "production", "HOTLINE_AUDIT_KEY_FILE": str(folder / "none.pem")},
    )
    assert (
        production.returncode == 1 and "no audit signing key: run `hotline audit keygen" in production.stderr
    )
    unwritable = hotline(
        ctx, "audit", "checkpoint", env={"HOTLINE_AUDIT_CHECKPOINT_FILE": "/proc/nope/cp.jsonl"}
    )
    assert unwritable.returncode == 1 and "cannot open /proc/nope/cp.jsonl" in unwritable.stderr
