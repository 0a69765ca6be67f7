"""Signed checkpoints show what the hash chain alone cannot: the newest entries cut off, a chain
recomputed by someone with database access, checkpoints forged, removed or missing (issue 28)."""

from __future__ import annotations

import asyncio
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

from hotline.admin import audit
from hotline.admin.models import Department
from hotline.api.app import create_app
from hotline.core.audit import AuditEntry, link, verify_chain
from hotline.core.audit_keys import Keyring, generate_key, load_signing_key, verifying_keyring
from hotline.core.checkpoints import Checkpointer, CheckpointFile
from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.core.jobs import JobScheduler, ScheduledJob
from hotline.core.trail import TrailReport, verify_trail
from tests.conftest import make_settings


async def write_entries(ctx: Context, count: int, prefix: str = "d") -> None:
    async with ctx.write() as tx:
        for i in range(count):
            tx.session.add(Department(code=f"{prefix}{i}", name=f"部门{i}", kind="department"))


def signer(ctx: Context, key_file: Path | None = None) -> Checkpointer:
    settings = ctx.settings
    key = load_signing_key(
        settings.model_copy(update={"audit_key_file": key_file or settings.audit_key_file})
    )
    assert key is not None
    return Checkpointer(
        CheckpointFile(settings.audit_checkpoint_file), key, interval_seconds=300, node="test"
    )


async def checkpoint(
    ctx: Context, at: datetime | None = None, reason: str = "interval", **kw: object
) -> None:
    async with ctx.read() as session:
        taken, _problems = await signer(ctx, **kw).take(session, reason, now=at)  # type: ignore[arg-type]
    assert taken is not None


async def verify(ctx: Context, now: datetime | None = None) -> TrailReport:
    lines = CheckpointFile(ctx.settings.audit_checkpoint_file).lines()
    async with ctx.read() as session:
        return await verify_trail(session, lines, verifying_keyring(ctx.settings), now=now)


def kinds(report: TrailReport) -> list[str]:
    return [p.kind for p in report.problems]


async def test_given_a_checkpoint_when_the_last_five_entries_are_deleted_then_verify_names_them(
    ctx: Context,
) -> None:
    await write_entries(ctx, 30)
    await checkpoint(ctx)
    assert (await verify(ctx)).ok

    async with ctx.db.write() as session:  # an insider with database access, bypassing the app
        await session.execute(delete(AuditEntry).where(AuditEntry.seq > 25))
    async with ctx.read() as session:
        assert (await verify_chain(session)).ok  # what the chain alone says: nothing wrong

    report = await verify(ctx)
    assert kinds(report) == ["tail-cut"]
    problem = report.problems[0]
    assert "entries 26..30 are missing" in problem.message and problem.seq == 26
    assert problem.since is not None and problem.until is not None and problem.since <= problem.until


async def test_a_deleted_middle_entry_and_an_edited_one_are_named_with_their_window(ctx: Context) -> None:
    await write_entries(ctx, 30)
    await checkpoint(ctx)
    async with ctx.db.write() as session:
        await session.execute(update(AuditEntry).where(AuditEntry.seq == 12).values(actor_name="nobody"))
    edited = await verify(ctx)
    assert kinds(edited) == ["chain-broken"] and "entry 12: entry altered" in edited.problems[0].message

    async with ctx.db.write() as session:
        await session.execute(delete(AuditEntry).where(AuditEntry.seq == 12))
    removed = await verify(ctx)
    assert kinds(removed) == ["chain-broken"] and "entry 12: entry missing" in removed.problems[0].message
    assert removed.problems[0].since is not None and removed.problems[0].until is not None


async def test_a_chain_recomputed_after_an_edit_passes_the_chain_but_not_the_checkpoints(
    ctx: Context,
) -> None:
    await write_entries(ctx, 20)
    first = utcnow() - timedelta(minutes=10)
    await checkpoint(ctx, first)  # anchors entry 20
    await write_entries(ctx, 10, prefix="late")
    await checkpoint(ctx, utcnow() - timedelta(minutes=5))
    async with ctx.db.write() as session:
        # The insider edits entry 25 and recomputes every hash from there: the chain holds again.
        entries = (
            await session.scalars(select(AuditEntry).where(AuditEntry.seq >= 24).order_by(AuditEntry.seq))
        ).all()
        prev_hash = entries[0].hash
        for entry in entries[1:]:
            if entry.seq == 25:
                entry.actor_name = "someone-else"
            prev_hash = link(entry, entry.seq, prev_hash)
    async with ctx.read() as session:
        assert (await verify_chain(session)).ok

    report = await verify(ctx)
    assert kinds(report) == ["log-rewritten"]
    assert "entries 21..30 were altered" in report.problems[0].message
    assert report.problems[0].since == first


async def test_a_forged_removed_or_older_checkpoint_file_is_caught(ctx: Context, tmp_path: Path) -> None:
    path = ctx.settings.audit_checkpoint_file
    now = utcnow()
    await write_entries(ctx, 5)
    await checkpoint(ctx, now - timedelta(minutes=15))
    older = tmp_path / "older.jsonl"
    shutil.copy(path, older)
    for minutes in (10, 5, 0):
        await write_entries(ctx, 2, prefix=f"m{minutes}-")
        await checkpoint(ctx, now - timedelta(minutes=minutes))
    assert (await verify(ctx)).ok
    genuine = path.read_text().splitlines()

    # A checkpoint taken out of the middle of the file.
    path.write_text("\n".join(genuine[:1] + genuine[2:]) + "\n")
    assert kinds(await verify(ctx)) == ["checkpoints-broken"]

    # A checkpoint edited (its entry number lowered to hide a cut): its signature fails.
    path.write_text("\n".join([*genuine[:3], genuine[3].replace('"seq":11', '"seq":9')]) + "\n")
    assert "checkpoint-forged" in kinds(await verify(ctx))

    # The file replaced by an older copy, and the entries written since deleted.
    shutil.copy(older, path)
    async with ctx.db.write() as session:
        await session.execute(delete(AuditEntry).where(AuditEntry.seq > 5))
    report = await verify(ctx)
    assert kinds(report) == ["checkpoints-stale"]
    assert report.problems[0].since == now - timedelta(minutes=15)


async def test_a_file_signed_with_another_key_does_not_verify(ctx: Context, tmp_path: Path) -> None:
    await write_entries(ctx, 5)
    await checkpoint(ctx)
    assert (await verify(ctx)).ok
    # The insider cuts the log and signs a whole new checkpoint file with a key of their own.
    ctx.settings.audit_checkpoint_file.unlink()
    async with ctx.db.write() as session:
        await session.execute(delete(AuditEntry).where(AuditEntry.seq > 3))
    other = generate_key(tmp_path / "mine.key", tmp_path / "my-ring.json")
    await checkpoint(ctx, key_file=tmp_path / "mine.key")
    report = await verify(ctx)
    assert kinds(report) == ["checkpoint-forged", "no-checkpoints"]
    assert f"key {other.id}, which is not in the keyring" in report.problems[0].message


async def test_a_rotated_key_signs_on_and_the_old_one_still_verifies_its_checkpoints(
    ctx: Context, tmp_path: Path
) -> None:
    settings = ctx.settings
    now = utcnow()
    await write_entries(ctx, 5)
    await checkpoint(ctx, now - timedelta(minutes=5))
    old = load_signing_key(settings)
    new_file = tmp_path / "audit-2027.key"
    new = generate_key(new_file, settings.audit_keyring_file, note="rotation")
    rotated = Context(settings.model_copy(update={"audit_key_file": new_file}), ctx.db, ctx.bus, ctx.actor)
    await write_entries(rotated, 3, prefix="r")
    await checkpoint(rotated, now)

    report = await verify(rotated)
    assert report.ok, report.problems
    assert old is not None and report.keys == {old.id, new.id} and report.checkpoints == 2

    # Dropping the old public key from the keyring leaves its checkpoints unverifiable.
    keyring = Keyring.load(settings.audit_keyring_file)
    del keyring.entries[old.id]
    keyring.save(settings.audit_keyring_file)
    assert "checkpoint-forged" in kinds(await verify(rotated))


async def test_a_missing_interval_is_a_gap_but_a_clean_shutdown_is_not(ctx: Context) -> None:
    now = utcnow()
    await write_entries(ctx, 3)
    await checkpoint(ctx, now - timedelta(hours=2, minutes=5))
    await checkpoint(ctx, now - timedelta(hours=2), reason="shutdown")
    await checkpoint(ctx, now - timedelta(minutes=60), reason="startup")
    # Stopped cleanly for an hour, nothing was being written: no gap.
    assert (await verify(ctx, now=now - timedelta(minutes=58))).ok

    await checkpoint(ctx, now)  # the server ran for an hour without checkpoints
    report = await verify(ctx)
    assert kinds(report) == ["checkpoint-gap"]
    assert (report.problems[0].since, report.problems[0].until) == (now - timedelta(minutes=60), now)


async def test_the_checkpoint_job_runs_once_across_nodes_and_a_restart_leaves_no_gap(
    ctx: Context,
) -> None:
    # the scheduler polls once at start and then sleeps: only the test makes the job due
    settings = ctx.settings.model_copy(update={"roles": ["jobs"], "jobs_poll_seconds": 3600})
    ctx = Context(settings, ctx.db, ctx.bus, ctx.actor)
    file = CheckpointFile(settings.audit_checkpoint_file)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        state = app.state.hotline
        await write_entries(ctx, 4)
        # The interval job is due: two nodes race for it, one checkpoint is written.
        async with ctx.db.write() as session:
            await session.execute(
                update(ScheduledJob)
                .where(ScheduledJob.key == audit.CHECKPOINT_JOB)
                .values(next_run_at=utcnow() - timedelta(seconds=1))
            )
        await state.scheduler.stop()
        nodes = [JobScheduler(ctx, node_id=f"node-{i}") for i in range(2)]
        await asyncio.gather(*(node.run_due() for node in nodes))
    reasons = [line.split('"reason":"')[1].split('"')[0] for line in file.lines()]
    assert reasons == ["startup", "interval", "shutdown"]

    # Restarted at once: the shutdown checkpoint is recent, so no start-up one is needed.
    again = create_app(settings)
    async with again.router.lifespan_context(again):
        pass
    assert len(file.lines()) == 4

    report = await verify(ctx)
    assert report.ok and report.checkpoints == 4 and report.head.seq >= 4


@pytest.mark.parametrize("minutes", [7, 0, 61])
def test_the_interval_divides_the_hour(minutes: int) -> None:
    with pytest.raises(ValueError, match="audit_checkpoint_minutes"):
        make_settings("sqlite+aiosqlite:///:memory:", audit_checkpoint_minutes=minutes)
