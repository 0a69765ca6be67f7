"""Copying a database out and back in, for backup and restore (core/backup.py): SQLite's online
backup API, and `pg_dump` / `pg_restore` of the server's major version on a snapshot that a
transaction exports (so what it reads is exactly what the dump holds)."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url

from hotline.core.audit import GENESIS
from hotline.core.checkpoints import Head
from hotline.core.clock import as_utc
from hotline.core.db import Base, Database
from hotline.core.errors import HotlineError


class BackupError(HotlineError):
    code = "backup-error"
    status = 409
    title = "Backup or restore failed"


# ---------------------------------------------------------------- PostgreSQL tools


def libpq_url(url: str) -> str:
    """The SQLAlchemy URL as libpq takes it (`postgresql://…`, no driver)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def pg_tool(name: str, server_major: int, pg_bin: Path | None = None) -> str:
    """`pg_dump`/`pg_restore` of the server's major version (Debian keeps each version under
    /usr/lib/postgresql/N/bin); an older client cannot read a newer server's dump."""
    candidates = [pg_bin / name] if pg_bin else []
    candidates.append(Path(f"/usr/lib/postgresql/{server_major}/bin/{name}"))
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} not found: install the PostgreSQL {server_major} client tools",
            reason="not-found-install-postgresql-client",
            params={"name": name, "server_major": server_major},
        )
    return found


async def _tool_major(tool: str) -> int:
    process = await asyncio.create_subprocess_exec(
        tool, "--version", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, _ = await process.communicate()
    match = re.search(rb"(\d+)(?:\.\d+)?", out)
    if process.returncode != 0 or match is None:
        raise BackupError(f"{tool} --version failed", reason="version-failed", params={"tool": tool})
    return int(match.group(1))


async def _checked_tool(name: str, server_major: int, pg_bin: Path | None) -> str:
    tool = pg_tool(name, server_major, pg_bin)
    major = await _tool_major(tool)
    if major < server_major:
        raise BackupError(
            f"{tool} is version {major}, older than the server's {server_major}: "
            f"install postgresql-client-{server_major} or give --pg-bin",
            reason="version-older-server-install-postgresql",
            params={
                "tool": tool,
                "major": major,
                "server_major": server_major,
                "server_major2": server_major,
            },
        )
    return tool


async def _run(*args: str) -> None:
    process = await asyncio.create_subprocess_exec(
        *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    _out, err = await process.communicate()
    if process.returncode != 0:
        message = err.decode(errors="replace").strip().splitlines()
        raise BackupError(
            f"{Path(args[0]).name} failed: {' / '.join(message[-3:]) or process.returncode}",
            reason="tool-failed",
            params={"name": Path(args[0]).name, "value": " / ".join(message[-3:]) or process.returncode},
        )


def first_line(exc: Exception) -> str:
    return str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]


def sqlite_path(url: str) -> Path:
    path = url.split(":///", 1)[-1]
    if not path or path.startswith(":memory:"):
        raise BackupError(
            "an in-memory SQLite database cannot be backed up or restored",
            reason="memory-sqlite-database-cannot-backed",
        )
    return Path(path)


def sqlite_copy(source: Path, target: Path) -> None:
    """The online backup API: a consistent copy while the server keeps writing."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


def sqlite_facts(path: Path) -> tuple[Head, dict[str, int], str | None]:
    with sqlite3.connect(path) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        counts = {
            table.name: int(conn.execute(f'SELECT count(*) FROM "{table.name}"').fetchone()[0])  # noqa: S608
            for table in Base.metadata.sorted_tables
            if table.name in tables
        }
        row = (
            conn.execute("SELECT seq, hash, at FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
            if "audit_log" in tables
            else None
        )
        revision = (
            conn.execute("SELECT version_num FROM alembic_version").fetchone()
            if "alembic_version" in tables
            else None
        )
    conn.close()
    head = Head(0, GENESIS, None) if row is None else Head(int(row[0]), str(row[1]), _naive_utc(row[2]))
    return head, counts, revision[0] if revision else None


def _naive_utc(value: Any) -> datetime:
    return as_utc(value if isinstance(value, datetime) else datetime.fromisoformat(str(value)))


@asynccontextmanager
async def pg_snapshot(
    db: Database, target: Path, pg_bin: Path | None
) -> AsyncIterator[tuple[Head, dict[str, int], str | None, int]]:
    """pg_dump of a snapshot this transaction exports, so the head and counts read here are
    exactly those of the dump."""
    async with db.engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="REPEATABLE READ")
        async with conn.begin():
            server_major = int(str(await conn.scalar(text("SHOW server_version_num")))) // 10000
            tool = await _checked_tool("pg_dump", server_major, pg_bin)
            snapshot = str(await conn.scalar(text("SELECT pg_export_snapshot()")))
            counts = {}
            for table in Base.metadata.sorted_tables:
                counts[table.name] = int(await conn.scalar(text(f'SELECT count(*) FROM "{table.name}"')) or 0)  # noqa: S608
            row = (
                await conn.execute(text("SELECT seq, hash, at FROM audit_log ORDER BY seq DESC LIMIT 1"))
            ).first()
            revision = await conn.scalar(text("SELECT version_num FROM alembic_version"))
            await _run(
                tool, f"--snapshot={snapshot}", "--format=custom", "--no-owner", "--no-privileges",
                f"--file={target}", f"--dbname={libpq_url(db.url)}",
            )  # fmt: skip
            head = Head(0, GENESIS, None) if row is None else Head(row[0], row[1], as_utc(row[2]))
            yield head, counts, revision, server_major


def sqlite_restore(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    for leftover in (target, target.with_name(target.name + "-wal"), target.with_name(target.name + "-shm")):
        leftover.unlink(missing_ok=True)
    sqlite_copy(source, target)


async def pg_restore(db: Database, dump: Path, dump_major: int, pg_bin: Path | None) -> None:
    async with db.engine.connect() as conn:
        server_major = int(str(await conn.scalar(text("SHOW server_version_num")))) // 10000
    if dump_major and dump_major > server_major:
        raise BackupError(
            f"the archive comes from PostgreSQL {dump_major}; this server is {server_major}",
            reason="archive-comes-from-postgresql-server",
            params={"dump_major": dump_major, "server_major": server_major},
        )
    tool = await _checked_tool("pg_restore", max(server_major, dump_major), pg_bin)
    async with db.engine.begin() as conn:
        # Replace, do not merge: what the archive does not hold must not survive the restore.
        await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await db.dispose()
    await _run(
        tool, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
        f"--dbname={libpq_url(db.url)}", str(dump),
    )  # fmt: skip
