"""`hotline audit …` (verify, checkpoint, keygen, keys) and `hotline backup` / `restore`."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from hotline.cli.common import fail, run, with_context
from hotline.core.config import get_settings

app = typer.Typer(help="The audit log.", no_args_is_help=True)


@app.command("verify")
def audit_verify() -> None:
    """Check the audit log's hash chain and compare it with the signed checkpoints; exit 1 naming
    every problem (an entry altered or removed, the newest entries cut off, a checkpoint forged,
    removed or missing) with the time window it concerns."""
    from hotline.admin import audit

    report, _row = run(lambda: with_context(lambda ctx: audit.verify(ctx, "cli"), "cli:audit"))
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


@app.command("checkpoint")
def audit_checkpoint() -> None:
    """Sign the audit log's head now and append it to the checkpoint file (the server does this
    every few minutes, at start-up and at shutdown)."""
    from hotline.admin import audit

    checkpoint = run(lambda: with_context(lambda ctx: audit.take_checkpoint(ctx, "manual"), "cli:audit"))
    if checkpoint is not None:
        typer.echo(
            f"checkpoint {checkpoint.n}: entry {checkpoint.seq} at "
            f"{checkpoint.at.isoformat(timespec='seconds')}, signed with key {checkpoint.key} "
            f"-> {get_settings().audit_checkpoint_file}"
        )


@app.command("keygen")
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


@app.command("keys")
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


def register(top: typer.Typer) -> None:
    """`hotline backup` and `hotline restore`, on the top-level command."""
    top.command("backup")(backup_command)
    top.command("restore")(restore_command)
