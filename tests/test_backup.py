"""`hotline backup` and `hotline restore`: one archive holds the database, the recordings and the
audit checkpoints; a restore into an empty database gives the same data and an audit trail that
verifies (issue 17, item 8)."""

from __future__ import annotations

import tarfile
from pathlib import Path

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from hotline import demo
from hotline.core.context import Context
from hotline.core.db import Database
from hotline.hotels import demo as hotels_demo
from hotline.travel import demo as travel_demo
from tests.conftest import PG_URL
from tests.test_cli import hotline

FACTS = {
    "customers": "SELECT member_number FROM customers ORDER BY member_number",
    "reservations": "SELECT number || ':' || status FROM reservations ORDER BY number",
    "orders": "SELECT number || ':' || state FROM travel_orders ORDER BY number",
}


async def facts(url: str) -> dict[str, list[str]]:
    db = Database(url)
    try:
        async with db.engine.connect() as conn:
            return {name: list((await conn.execute(text(sql))).scalars()) for name, sql in FACTS.items()}
    finally:
        await db.dispose()


async def empty_target(tmp_path: Path) -> str:
    """A database that does not exist yet: a new SQLite file, or a new PostgreSQL database."""
    if not PG_URL:
        return f"sqlite+aiosqlite:///{tmp_path / 'restored.db'}"
    url = make_url(PG_URL)
    name = f"{url.database}_restore"
    conn = await asyncpg.connect(
        host=url.host, port=url.port, user=url.username, password=url.password, database="postgres"
    )
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return url.set(database=name).render_as_string(hide_password=False)


async def test_a_backup_restored_into_an_empty_database_has_the_same_data_and_a_verified_audit_trail(
    seeded: Context, tmp_path: Path
) -> None:
    ctx = seeded
    await demo.load_customers(ctx, 25)
    await hotels_demo.load_reservations(ctx, 20)
    await travel_demo.load_orders(ctx, 12)
    before = await facts(ctx.settings.database_url)
    assert all(before.values())

    recordings = tmp_path / "recordings"
    (recordings / "call-1").mkdir(parents=True)
    (recordings / "call-1" / "mix.wav").write_bytes(b"RIFF" + bytes(range(256)) * 40)
    source = {"HOTLINE_RECORDINGS_DIR": str(recordings)}
    assert hotline(ctx, "audit", "checkpoint", env=source).returncode == 0
    archive = tmp_path / "hotline.tar.gz"
    made = hotline(ctx, "backup", str(archive), env=source)
    assert made.returncode == 0, made.stderr
    assert "1 recording file(s)" in made.stdout and ", checkpoint 2" in made.stdout
    again = hotline(ctx, "backup", str(archive), env=source)
    assert again.returncode == 1 and "exists; give a new file name" in again.stderr

    target_url = await empty_target(tmp_path)
    target = {
        "HOTLINE_DATABASE_URL": target_url,
        "HOTLINE_RECORDINGS_DIR": str(tmp_path / "restored-recordings"),
        "HOTLINE_AUDIT_CHECKPOINT_FILE": str(tmp_path / "restored-audit" / "checkpoints.jsonl"),
    }
    restored = hotline(ctx, "restore", str(archive), env=target)
    assert restored.returncode == 0, restored.stderr
    assert "1 recording file(s)" in restored.stdout and "checkpoint 3 signed" in restored.stdout

    assert await facts(target_url) == before
    copy = tmp_path / "restored-recordings" / "call-1" / "mix.wav"
    assert copy.read_bytes() == (recordings / "call-1" / "mix.wav").read_bytes()
    verified = hotline(ctx, "audit", "verify", env=target)
    assert verified.returncode == 0, verified.stderr
    assert "against 3 checkpoint(s)" in verified.stdout

    # Once it holds data, the target is not overwritten unless asked to.
    refused = hotline(ctx, "restore", str(archive), env=target)
    assert refused.returncode == 1 and "is not empty" in refused.stderr and "--force" in refused.stderr
    forced = hotline(ctx, "restore", str(archive), "--force", env=target)
    assert forced.returncode == 0, forced.stderr
    assert "kept what was there as" in forced.stdout
    assert await facts(target_url) == before


async def test_a_corrupt_or_foreign_archive_is_named_and_nothing_is_changed(
    ctx: Context, tmp_path: Path
) -> None:
    async with ctx.write() as tx:
        tx.audit("test.mark", "tests", 1)
    env = {"HOTLINE_RECORDINGS_DIR": str(tmp_path / "recordings")}
    archive = tmp_path / "b.tar"
    assert hotline(ctx, "backup", str(archive), env=env).returncode == 0
    data = archive.read_bytes()
    target = {
        "HOTLINE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}",
        "HOTLINE_RECORDINGS_DIR": str(tmp_path / "r2"),
        "HOTLINE_AUDIT_CHECKPOINT_FILE": str(tmp_path / "a2" / "checkpoints.jsonl"),
    }
    if PG_URL:
        target = {}  # the PostgreSQL archive into a SQLite target is refused below instead

    cut = tmp_path / "cut.tar"
    cut.write_bytes(data[: len(data) // 2])
    result = hotline(ctx, "restore", str(cut), env=target)
    assert result.returncode == 1 and f"{cut} is corrupt" in result.stderr

    with tarfile.open(archive) as tar:
        database = next(m for m in tar.getmembers() if m.name.startswith("database/"))
    flipped = bytearray(data)
    flipped[database.offset_data + database.size // 2] ^= 0xFF  # one bit flipped inside the database
    bad = tmp_path / "flipped.tar"
    bad.write_bytes(bytes(flipped))
    result = hotline(ctx, "restore", str(bad), env=target)
    assert result.returncode == 1
    assert f"{bad} is corrupt: database/hotline." in result.stderr and "checksum" in result.stderr

    other = tmp_path / "notes.txt"
    other.write_text("hello")
    result = hotline(ctx, "restore", str(other), env=target)
    assert result.returncode == 1 and "not a Hotline backup" in result.stderr
    assert hotline(ctx, "restore", str(tmp_path / "none.tar")).stderr.startswith("error: no archive at")

    if PG_URL:
        sqlite_target = {"HOTLINE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"}
        result = hotline(ctx, "restore", str(archive), env=sqlite_target)
        assert (
            result.returncode == 1
            and "holds a postgresql database; HOTLINE_DATABASE_URL is sqlite" in result.stderr
        )
    else:
        assert not (tmp_path / "empty.db").exists()  # nothing was touched
