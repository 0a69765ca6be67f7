"""Backup and restore (docs/operations.md): the database, the call recordings and the audit
checkpoint file, in one archive.

The database is copied as one consistent snapshot — SQLite's online backup API, or `pg_dump`
on a snapshot exported by a transaction that also reads the audit log's head — while the
checkpoint file is held, and a `backup` checkpoint of exactly that head is signed into it: the
archive's checkpoints end where its database ends, so the restored audit trail verifies.

The archive is a tar file (gzip when its name ends in .gz): the members, then `manifest.json`
with the SHA-256 and size of each and the row count of every table. A restore reads and checks
every member before it touches anything, and refuses a database that holds data unless forced.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import re
import shutil
import tarfile
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from hotline import __version__
from hotline.core.audit import GENESIS
from hotline.core.checkpoints import Checkpoint, Checkpointer, CheckpointFile, Head, read_head
from hotline.core.clock import utcnow
from hotline.core.config import Settings
from hotline.core.db import Base, Database
from hotline.core.dbcopy import (
    BackupError,
    first_line,
    pg_restore,
    pg_snapshot,
    sqlite_copy,
    sqlite_facts,
    sqlite_path,
    sqlite_restore,
)

log = structlog.get_logger(__name__)

FORMAT = "hotline-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database/hotline.sqlite"
PG_MEMBER = "database/hotline.pgdump"
CHECKPOINTS_MEMBER = "audit/checkpoints.jsonl"
RECORDINGS = "recordings/"
_SAFE_MEMBER = re.compile(r"^(database/hotline\.(sqlite|pgdump)|audit/checkpoints\.jsonl|recordings/[^\0]+)$")


@dataclass
class Snapshot:
    kind: str
    member: str
    path: Path
    head: Head
    counts: dict[str, int]
    revision: str | None
    server_major: int | None = None


@dataclass
class BackupResult:
    archive: Path
    head: Head
    counts: dict[str, int]
    checkpoint: Checkpoint | None
    recordings: int
    size: int


@dataclass
class RestoreResult:
    head: Head
    counts: dict[str, int]
    recordings: int
    checkpoint: Checkpoint | None
    set_aside: list[Path] = field(default_factory=list)


# ---------------------------------------------------------------- backup


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


async def backup(
    settings: Settings,
    db: Database,
    archive: Path,
    *,
    signer: Checkpointer | None,
    pg_bin: Path | None = None,
) -> BackupResult:
    """Write the archive. `signer` (None: no signing key here) adds a `backup` checkpoint."""
    if await asyncio.to_thread(archive.exists):
        raise BackupError(
            f"{archive} exists; give a new file name",
            reason="exists-give-new-file-name",
            params={"archive": archive},
        )
    if not await asyncio.to_thread(archive.parent.is_dir):
        raise BackupError(
            f"{archive.parent} is not a folder", reason="not-folder", params={"parent": archive.parent}
        )
    checkpoints = CheckpointFile(settings.audit_checkpoint_file)
    with tempfile.TemporaryDirectory(prefix="hotline-backup-", dir=archive.parent) as work:
        staging = Path(work)
        taken: Checkpoint | None = None
        async with checkpoints.locked():
            # Held from the snapshot to the copy of the file: every checkpoint in the archive read
            # its head before the snapshot, none after it.
            if db.is_sqlite:
                source = sqlite_path(db.url)
                if not source.is_file():
                    raise BackupError(
                        f"no database at {source}", reason="no-database", params={"source": source}
                    )
                copy = staging / "hotline.sqlite"
                await asyncio.to_thread(sqlite_copy, source, copy)
                head, counts, revision = await asyncio.to_thread(sqlite_facts, copy)
                snap = Snapshot("sqlite", SQLITE_MEMBER, copy, head, counts, revision)
            else:
                dump = staging / "hotline.pgdump"
                try:
                    async with pg_snapshot(db, dump, pg_bin) as (head, counts, revision, major):
                        snap = Snapshot("postgresql", PG_MEMBER, dump, head, counts, revision, major)
                except (OSError, DBAPIError) as exc:
                    raise BackupError(
                        f"cannot read the database: {first_line(exc)}",
                        reason="cannot-read-database",
                        params={"exc": first_line(exc)},
                    ) from exc
            if signer is not None:
                async with db.read() as session:
                    taken, _problems = await signer.take(session, "backup", head=snap.head, file_locked=True)
            else:
                log.warning("backup.unsigned", reason="no audit signing key on this machine")
            lines = await asyncio.to_thread(checkpoints.lines)
        (staging / "checkpoints.jsonl").write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
        partial = archive.with_name(archive.name + ".partial")
        audit = {
            "head_seq": snap.head.seq,
            "head_hash": snap.head.hash,
            "checkpoint": taken.n if taken else None,
        }
        recordings = await asyncio.to_thread(
            _write_archive, partial, snap, staging / "checkpoints.jsonl", settings.recordings_dir, audit
        )
        await asyncio.to_thread(os.replace, partial, archive)
        size = (await asyncio.to_thread(archive.stat)).st_size
    return BackupResult(archive, snap.head, snap.counts, taken, recordings, size)


def _write_archive(
    partial: Path, snap: Snapshot, checkpoints: Path, recordings_dir: Path, audit: dict[str, Any]
) -> int:
    """Members first, the manifest last: an archive cut short has none and is named corrupt."""
    files = [(snap.path, snap.member), (checkpoints, CHECKPOINTS_MEMBER)]
    if recordings_dir.is_dir():
        files += [
            (path, RECORDINGS + path.relative_to(recordings_dir).as_posix())
            for path in sorted(recordings_dir.rglob("*"))
            if path.is_file() and not path.is_symlink()
        ]
    members = {name: {"size": path.stat().st_size, "sha256": _sha256(path)} for path, name in files}
    manifest = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "created_at": utcnow().isoformat(),
        "hotline": __version__,
        "database": {
            "kind": snap.kind,
            "member": snap.member,
            "revision": snap.revision,
            "server_major": snap.server_major,
        },
        "audit": audit,
        "counts": snap.counts,
        "members": members,
    }
    gz = partial.name.removesuffix(".partial").endswith(".gz")
    with tarfile.open(partial, "w:gz") if gz else tarfile.open(partial, "w") as tar:
        for path, name in files:
            tar.add(path, arcname=name, recursive=False)
        _add_bytes(tar, MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2).encode())
    with partial.open("rb") as handle:
        os.fsync(handle.fileno())
    return len(files) - 2


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), int(utcnow().timestamp()), 0o644
    tar.addfile(info, io.BytesIO(data))


# ---------------------------------------------------------------- restore


def read_archive(archive: Path, staging: Path) -> dict[str, Any]:
    """Unpack into `staging`, checking every member against the manifest; a corrupt archive is
    named with what is wrong before anything is changed."""
    if not archive.is_file():
        raise BackupError(f"no archive at {archive}", reason="no-archive", params={"archive": archive})
    seen: dict[str, dict[str, Any]] = {}
    manifest: dict[str, Any] | None = None
    with archive.open("rb") as start:
        gzipped = start.read(2) == b"\x1f\x8b"
    try:
        with tarfile.open(archive, "r:gz") if gzipped else tarfile.open(archive, "r:") as tar:
            for member in tar:
                if member.name == MANIFEST:
                    handle = tar.extractfile(member)
                    if handle is None:
                        raise BackupError(
                            f"{archive} is corrupt: its manifest.json is not a file",
                            reason="corrupt-manifest-json-not-file",
                            params={"archive": archive},
                        )
                    manifest = json.loads(handle.read())
                    continue
                if (
                    not member.isfile()
                    or not _SAFE_MEMBER.match(member.name)
                    or ".." in member.name.split("/")
                ):
                    raise BackupError(
                        f"{archive} is corrupt or not a Hotline backup: unexpected member {member.name!r}",
                        reason="corrupt-not-hotline-backup-unexpected",
                        params={"archive": archive, "name": repr(member.name)},
                    )
                target = staging / member.name
                target.parent.mkdir(parents=True, exist_ok=True)
                handle = tar.extractfile(member)
                if handle is None:
                    raise BackupError(
                        f"{archive} is corrupt: {member.name} cannot be read",
                        reason="corrupt-cannot-read",
                        params={"archive": archive, "name": member.name},
                    )
                digest = hashlib.sha256()
                with target.open("wb") as out:
                    while chunk := handle.read(1 << 20):
                        digest.update(chunk)
                        out.write(chunk)
                seen[member.name] = {"size": member.size, "sha256": digest.hexdigest()}
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise BackupError(
            f"{archive} is corrupt or not a Hotline backup: {exc}",
            reason="corrupt-not-hotline-backup",
            params={"archive": archive, "exc": exc},
        ) from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BackupError(
            f"{archive} is corrupt: its manifest.json is unreadable ({exc})",
            reason="corrupt-manifest-json-unreadable",
            params={"archive": archive, "exc": exc},
        ) from exc
    if manifest is None:
        raise BackupError(
            f"{archive} is corrupt or not a Hotline backup: it has no manifest.json (cut short?)",
            reason="corrupt-not-hotline-backup-no",
            params={"archive": archive},
        )
    if manifest.get("format") != FORMAT or manifest.get("version") != FORMAT_VERSION:
        raise BackupError(
            f"{archive} is not a Hotline backup of format {FORMAT_VERSION}",
            reason="not-hotline-backup-format",
            params={"archive": archive, "format_version": FORMAT_VERSION},
        )
    for name, expected in manifest.get("members", {}).items():
        found = seen.get(name)
        if found is None:
            raise BackupError(
                f"{archive} is corrupt: {name} is missing",
                reason="corrupt-missing",
                params={"archive": archive, "name": name},
            )
        if found != expected:
            raise BackupError(
                f"{archive} is corrupt: {name} does not match its checksum",
                reason="corrupt-does-not-match-checksum",
                params={"archive": archive, "name": name},
            )
    extra = set(seen) - set(manifest.get("members", {}))
    if extra:
        raise BackupError(
            f"{archive} is corrupt: {sorted(extra)[0]} is not in its manifest",
            reason="corrupt-not-manifest",
            params={"archive": archive, "v0": sorted(extra)[0]},
        )
    return manifest


async def holds_data(db: Database) -> dict[str, int]:
    """Tables of the target database that hold rows (an empty, migrated schema holds none)."""
    tables = [t.name for t in Base.metadata.sorted_tables]
    found: dict[str, int] = {}
    async with db.engine.connect() as conn:
        if db.is_sqlite:
            existing = set(
                (await conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'"))).scalars()
            )
        else:
            existing = set(
                (
                    await conn.execute(
                        text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
                    )
                ).scalars()
            )
        for name in tables:
            if name in existing:
                count = int(await conn.scalar(text(f'SELECT count(*) FROM "{name}"')) or 0)  # noqa: S608
                if count:
                    found[name] = count
    return found


async def restore(
    settings: Settings,
    db: Database,
    archive: Path,
    *,
    force: bool = False,
    signer: Checkpointer | None,
    pg_bin: Path | None = None,
) -> RestoreResult:
    """Replace the database, the recordings and the checkpoint file with the archive's."""
    work_root = settings.recordings_dir.parent
    work_root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="hotline-restore-", dir=work_root) as work:
        staging = Path(work)
        manifest = await asyncio.to_thread(read_archive, archive, staging)
        kind = manifest["database"]["kind"]
        here = "sqlite" if db.is_sqlite else "postgresql"
        if kind != here:
            raise BackupError(
                f"{archive} holds a {kind} database; HOTLINE_DATABASE_URL is {here}",
                reason="holds-database-hotline-database-url",
                params={"archive": archive, "kind": kind, "here": here},
            )
        try:
            occupied = await holds_data(db)
        except (OSError, DBAPIError) as exc:
            raise BackupError(
                f"cannot use the target database: {first_line(exc)}",
                reason="cannot-use-target-database",
                params={"exc": first_line(exc)},
            ) from exc
        recordings_dir = settings.recordings_dir
        has_recordings = recordings_dir.is_dir() and any(recordings_dir.iterdir())
        if (occupied or has_recordings) and not force:
            what = ", ".join(f"{n} {t}" for t, n in sorted(occupied.items(), key=lambda i: -i[1])[:4])
            raise BackupError(
                f"the database is not empty ({what or 'recordings present'}); "
                "restore replaces everything: add --force to do so",
                reason="database-not-empty-restore-replaces",
                params={"value": what or "recordings present"},
            )
        member = staging / manifest["database"]["member"]
        if db.is_sqlite:
            await db.dispose()
            await asyncio.to_thread(sqlite_restore, member, sqlite_path(db.url))
        else:
            await pg_restore(db, member, int(manifest["database"]["server_major"] or 0), pg_bin)
        result = RestoreResult(Head(0, GENESIS, None), {}, 0, None)
        result.set_aside += _put_in_place(staging / "recordings", recordings_dir)
        result.recordings = (
            sum(1 for p in recordings_dir.rglob("*") if p.is_file()) if recordings_dir.is_dir() else 0
        )
        result.set_aside += _put_in_place(staging / CHECKPOINTS_MEMBER, settings.audit_checkpoint_file)
    async with db.read() as session:
        result.head = await read_head(session)
    result.counts = await _counts(db)
    expected = {name: int(n) for name, n in manifest["counts"].items()}
    different = {
        t: (expected[t], result.counts.get(t)) for t in expected if result.counts.get(t) != expected[t]
    }
    if different:
        table, (want, got) = next(iter(different.items()))
        raise BackupError(
            f"restored {table} holds {got} rows, the archive {want}",
            reason="restored-holds-rows-archive",
            params={"table": table, "got": got, "want": want},
        )
    if signer is not None:
        async with db.read() as session:
            result.checkpoint, _problems = await signer.take(session, "restore")
    return result


def _put_in_place(staged: Path, target: Path) -> list[Path]:
    """Move the archive's copy in; what was there is kept beside it, renamed, not deleted."""
    aside: list[Path] = []
    if target.exists() and (
        (target.is_file() and target.stat().st_size) or (target.is_dir() and any(target.iterdir()))
    ):
        stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
        moved = target.with_name(f"{target.name}.before-restore-{stamp}")
        os.replace(target, moved)
        aside.append(moved)
    elif target.is_dir():
        target.rmdir()
    elif target.exists():
        target.unlink()
    if staged.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(staged, target)
    return aside


async def _counts(db: Database) -> dict[str, int]:
    counts: dict[str, int] = {}
    async with db.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            counts[table.name] = int(await conn.scalar(text(f'SELECT count(*) FROM "{table.name}"')) or 0)  # noqa: S608
    return counts
