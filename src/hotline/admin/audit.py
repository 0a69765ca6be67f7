"""The audit trail as administrators see it: the log, its checkpoints and its verification.

Every few minutes (the durable job `admin.audit_checkpoint`, so once across all nodes), at
start-up when the last checkpoint is older than the interval, and at shutdown, the chain's head
is signed and written outside the database (core/checkpoints.py). Verification — the nightly
job, `hotline audit verify`, the button on the audit page — reads the whole log against the
checkpoints; its result is kept for the page, and a failure is told to everyone who may read
the audit log (in-app) and to the auditors' mailbox.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy import Select, func, select

from hotline.admin.events import AuditFailed, AuditProblem
from hotline.admin.models import AuditVerification
from hotline.admin.schemas import (
    AuditCheckpointOut,
    AuditFilter,
    AuditKinds,
    AuditProblemOut,
    AuditStatusOut,
    AuditVerifyOut,
)
from hotline.core.audit import AuditEntry
from hotline.core.audit_keys import AuditKeyError, load_signing_key, verifying_keyring
from hotline.core.checkpoints import (
    Checkpoint,
    Checkpointer,
    CheckpointFile,
    Head,
    Problem,
    registered_copies,
)
from hotline.core.config import Settings
from hotline.core.context import Context
from hotline.core.permissions import Permission
from hotline.core.trail import TrailReport, verify_trail

log = structlog.get_logger(__name__)

CHECKPOINT_JOB = "admin.audit_checkpoint"
VERIFY_JOB = "admin.audit_verify"


def checkpoint_file(settings: Settings) -> CheckpointFile:
    return CheckpointFile(settings.audit_checkpoint_file)


def checkpointer(settings: Settings) -> Checkpointer:
    key = load_signing_key(settings)
    if key is None:
        raise AuditKeyError(
            f"no audit signing key: run `hotline audit keygen --out {settings.audit_key_file}` "
            "or set HOTLINE_AUDIT_KEY_FILE",
            reason="no-audit-signing-key-run",
            params={"audit_key_file": settings.audit_key_file},
        )
    return Checkpointer(
        checkpoint_file(settings),
        key,
        interval_seconds=settings.audit_checkpoint_minutes * 60,
        node=settings.node_id,
        copies=registered_copies(settings),
    )


async def take_checkpoint(
    ctx: Context, reason: str, *, head: Head | None = None, only_if_stale: bool = False
) -> Checkpoint | None:
    """Sign the head now; with `only_if_stale`, only when the last checkpoint is older than the
    interval (a node starting while another keeps the file current adds nothing)."""
    ctx.require(Permission.AUDIT_READ)
    signer = checkpointer(ctx.settings)
    quiet = timedelta(minutes=ctx.settings.audit_checkpoint_minutes) if only_if_stale else None
    async with ctx.read() as session:
        checkpoint, problems = await signer.take(session, reason, head=head, unless_newer_than=quiet)
    alarming = [p for p in problems if p.kind != "copy-failed"]
    if alarming and checkpoint is not None:
        report = TrailReport(
            head=Head(checkpoint.seq, checkpoint.hash, checkpoint.head_at), problems=alarming
        )
        report.last_checkpoint, report.checkpoints = checkpoint, 1
        await _record(ctx, "checkpoint", report)
    return checkpoint


async def checkpoint_safely(ctx: Context, reason: str, *, only_if_stale: bool = False) -> None:
    """Start-up and shutdown: a checkpoint that cannot be taken is logged, not fatal."""
    try:
        await take_checkpoint(ctx, reason, only_if_stale=only_if_stale)
    except Exception as exc:
        log.error("audit.checkpoint_failed", reason=reason, error=str(exc))


async def verify(ctx: Context, trigger: str) -> tuple[TrailReport, AuditVerification]:
    """The whole log against the checkpoint file; the result is kept, and a failure told."""
    ctx.require(Permission.AUDIT_READ)
    lines = await asyncio.to_thread(checkpoint_file(ctx.settings).lines)
    keyring = verifying_keyring(ctx.settings)
    async with ctx.read() as session:
        report = await verify_trail(session, lines, keyring)
    return report, await _record(ctx, trigger, report)


def _problem_out(problem: Problem) -> dict[str, object]:
    return AuditProblemOut(
        kind=problem.kind, message=problem.message, seq=problem.seq, since=problem.since, until=problem.until
    ).model_dump(mode="json")


async def _record(ctx: Context, trigger: str, report: TrailReport) -> AuditVerification:
    problems = [_problem_out(p) for p in report.problems]
    async with ctx.write() as tx:
        previous = await tx.session.scalar(
            select(AuditVerification).order_by(AuditVerification.id.desc()).limit(1)
        )
        row = AuditVerification(
            trigger=trigger,
            actor_name=ctx.actor.username,
            ok=report.ok,
            entries=report.entries,
            head_seq=report.head.seq,
            checkpoints=report.checkpoints,
            last_checkpoint_at=report.last_checkpoint.at if report.last_checkpoint else None,
            problems=problems,
        )
        tx.session.add(row)
        known = {(p["kind"], p["seq"]) for p in (previous.problems if previous else [])}
        news = [p for p in report.problems if (p.kind, p.seq) not in known]
        if not report.ok and news:  # one alarm per new finding, not one every few minutes
            found = [AuditProblem(kind=p.kind, message=p.message, seq=p.seq, window=p.window()) for p in news]
            tx.publish(AuditFailed(problems=found))
    return row


def _checkpoint_out(settings: Settings, checkpoint: Checkpoint | None) -> AuditCheckpointOut | None:
    if checkpoint is None:
        return None
    genuine = verifying_keyring(settings).verify(checkpoint.key, checkpoint.sig, checkpoint.message()) is None
    return AuditCheckpointOut(
        n=checkpoint.n, seq=checkpoint.seq, at=checkpoint.at, reason=checkpoint.reason,
        key_id=checkpoint.key, node=checkpoint.node, genuine=genuine,
    )  # fmt: skip


async def status(ctx: Context) -> AuditStatusOut:
    """What the audit page shows above the log: the last checkpoint and the last verification."""
    ctx.require(Permission.AUDIT_READ)
    settings = ctx.settings
    last = await asyncio.to_thread(checkpoint_file(settings).last)
    try:
        key = load_signing_key(settings, create=False)
    except AuditKeyError:
        key = None
    async with ctx.read() as session:
        verification = await session.scalar(
            select(AuditVerification).order_by(AuditVerification.id.desc()).limit(1)
        )
    return AuditStatusOut(
        interval_minutes=settings.audit_checkpoint_minutes,
        signing_key_id=key.id if key else None,
        last_checkpoint=_checkpoint_out(settings, last),
        last_verification=None if verification is None else AuditVerifyOut.model_validate(verification),
    )


def _audit_filtered(query: Select[Any], data: AuditFilter) -> Select[Any]:
    if data.actor_id is not None:
        query = query.where(AuditEntry.actor_id == data.actor_id)
    if data.entity_type:
        query = query.where(AuditEntry.entity_type == data.entity_type)
    if data.entity_id:
        query = query.where(AuditEntry.entity_id == data.entity_id)
    if data.action:
        query = query.where(AuditEntry.action.like(f"{data.action}%"))
    if data.since:
        query = query.where(AuditEntry.at >= data.since)
    if data.until:
        query = query.where(AuditEntry.at < data.until)
    return query


KINDS_SHOWN = 500
"""At most this many actions and object kinds offered (the code knows a few hundred at most)."""


async def audit_kinds(ctx: Context) -> AuditKinds:
    """The actions and object kinds the log holds, so the filters offer choices, not typed codes."""
    ctx.require(Permission.AUDIT_READ)
    async with ctx.read() as session:
        actions = await session.scalars(
            select(AuditEntry.action).distinct().order_by(AuditEntry.action).limit(KINDS_SHOWN)
        )
        types = await session.scalars(
            select(AuditEntry.entity_type).distinct().order_by(AuditEntry.entity_type).limit(KINDS_SHOWN)
        )
        return AuditKinds(actions=list(actions.all()), entity_types=list(types.all()))


async def list_audit(ctx: Context, data: AuditFilter) -> tuple[list[AuditEntry], int]:
    ctx.require(Permission.AUDIT_READ)
    async with ctx.read() as session:
        total = await session.scalar(_audit_filtered(select(func.count(AuditEntry.seq)), data))
        entries = (
            await session.scalars(
                _audit_filtered(select(AuditEntry), data)
                .order_by(AuditEntry.seq.desc())
                .limit(data.limit)
                .offset(data.offset)
            )
        ).all()
    return list(entries), int(total or 0)
