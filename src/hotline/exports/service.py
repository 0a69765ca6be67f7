"""Exports asked for, listed, downloaded and cancelled: check, then do, audit.

`start_export` checks the subject, its permission and filters, counts the rows and records a
queued job; the node's `ExportRunner` (exports/runner.py) writes it. Only the person who asked
for an export sees it and downloads it, and only while they still hold the subject's permission
(and customers.read_pii for one with personal data); every request and every download is audited.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, ValidationError
from sqlalchemy import select

from hotline.core.clock import as_utc, utcnow
from hotline.core.context import Context
from hotline.core.errors import FieldProblems, InvalidInput
from hotline.core.privacy import REVEAL
from hotline.core.rows import get_or_404
from hotline.exports import subjects
from hotline.exports.errors import ExportNotFound, ExportNotReady, UnknownSubject
from hotline.exports.models import ExportJob
from hotline.exports.schemas import ExportIn, ExportOut, SubjectOut
from hotline.exports.state import ACTIVE, EXPORT
from hotline.exports.subjects import Subject

MEDIA_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}
LISTED = 50
"""Exports shown in 我的导出: the latest."""


class Runner(Protocol):
    def submit(self, ctx: Context, job_id: int) -> None: ...
    def cancel(self, job_id: int) -> None: ...


def subject_of(name: str) -> Subject:
    found = subjects.named(name)
    if found is None:
        known = ", ".join(s.name for s in subjects.every())
        raise UnknownSubject(
            f"No export named {name!r}; the exports are {known}",
            field="body.subject",
            reason="export-unknown-subject",
            params={"name": repr(name), "known": known},
        )
    return found


def filters_of(subject: Subject, raw: dict[str, Any]) -> BaseModel:
    """The subject's filters checked; each wrong one named as body.filters.<name>."""
    try:
        return subject.filters.model_validate(raw)
    except ValidationError as exc:
        problems = FieldProblems()
        for error in exc.errors():
            name = ".".join(str(part) for part in error["loc"]) or "filters"
            problems.add(
                InvalidInput(
                    f"Filter {name}: {error['msg']}",
                    field=f"body.filters.{name}",
                    reason="export-filter-invalid",
                    params={"name": name},
                )
            )
        problems.raise_any()
        raise  # (raise_any raised)


def readable(ctx: Context, subject: Subject, *, pii: bool) -> None:
    ctx.require(subject.permission)
    if pii:
        ctx.require(REVEAL)


def shown(job: ExportJob, locale: str = "zh-CN") -> ExportOut:
    found = subjects.named(job.subject)
    title = found.sheet_name(locale) if found else job.subject
    return ExportOut(
        id=job.id, subject=job.subject, title=title, format=job.format, filters=dict(job.filters or {}),
        include_pii=job.pii, status=job.status, rows_done=job.rows_done, rows_total=job.rows_total,
        size=job.size, created_at=as_utc(job.created_at),
        finished_at=as_utc(job.finished_at) if job.finished_at else None,
        expires_at=as_utc(job.expires_at) if job.expires_at else None, error=job.error,
        download=f"/api/exports/{job.id}/file" if job.status == "done" else None,
    )  # fmt: skip


def list_subjects(ctx: Context) -> list[SubjectOut]:
    """The exports this person may ask for."""
    return [
        SubjectOut(name=s.name, title=s.sheet_name(ctx.locale), personal=s.personal)
        for s in subjects.every()
        if ctx.actor.can(s.permission)
    ]


async def start_export(ctx: Context, body: ExportIn, runner: Runner) -> ExportOut:
    subject = subject_of(body.subject)
    pii = body.include_pii and subject.personal
    readable(ctx, subject, pii=pii)
    filters = filters_of(subject, body.filters)
    if ctx.actor.user_id is None:  # an export belongs to the person who downloads it
        raise InvalidInput(
            "Exports are asked for by a signed-in person", field="body", reason="export-needs-person"
        )
    total = await (await subject.source(ctx, filters)).count(ctx)
    most = ctx.settings.exports_max_rows
    if total > most:
        raise InvalidInput(
            f"{total:,} rows: narrow the filters to at most {most:,}",
            field="body.filters",
            reason="export-too-many-rows",
            params={"total": format(total, ","), "most": format(most, ",")},
        )
    stored = filters.model_dump(mode="json", exclude_none=True)
    async with ctx.write() as tx:
        job = ExportJob(
            user_id=ctx.actor.user_id, subject=subject.name, format=body.format, filters=stored, pii=pii,
            locale=ctx.locale, status="queued", rows_total=total,
        )  # fmt: skip
        tx.session.add(job)
        await tx.session.flush()
        what = {"subject": subject.name, "format": body.format, "filters": stored, "pii": pii, "rows": total}
        tx.audit("exports.requested", "export", job.id, after=what)
    runner.submit(ctx, job.id)
    return shown(job, ctx.locale)


async def _mine(ctx: Context, job_id: int) -> ExportJob:
    async with ctx.read() as session:
        return await get_or_404(
            session, ExportJob, job_id, "export", where=ExportJob.user_id == ctx.actor.user_id,
            error=ExportNotFound,
        )  # fmt: skip


async def my_exports(ctx: Context) -> list[ExportOut]:
    async with ctx.read() as session:
        jobs = (
            await session.scalars(
                select(ExportJob)
                .where(ExportJob.user_id == ctx.actor.user_id)
                .order_by(ExportJob.id.desc())
                .limit(LISTED)
            )
        ).all()
    return [shown(job, ctx.locale) for job in jobs]


async def get_export(ctx: Context, job_id: int) -> ExportOut:
    return shown(await _mine(ctx, job_id), ctx.locale)


async def export_file(ctx: Context, job_id: int) -> tuple[Path, str, str]:
    """The file of one of my finished exports (path, download name, media type); audited."""
    job = await _mine(ctx, job_id)
    subject = subject_of(job.subject)
    readable(ctx, subject, pii=job.pii)  # still allowed now, not only when asked
    path = ctx.settings.exports_dir / (job.file or "")
    if job.status != "done" or not job.file or not path.is_file():
        raise ExportNotReady(
            f"Export {job.id} is {job.status}: there is no file to download",
            field="export_id",
            reason="export-no-file",
            params={"id": job.id, "status": job.status},
        )
    async with ctx.write() as tx:
        what = {"subject": job.subject, "format": job.format, "rows": job.rows_done, "pii": job.pii}
        tx.audit("exports.downloaded", "export", job.id, after=what)
    stamp = as_utc(job.created_at).strftime("%Y%m%d-%H%M")
    return path, f"{subject.name}-{stamp}-{job.id}.{job.format}", MEDIA_TYPES[job.format]


async def cancel_export(ctx: Context, job_id: int, runner: Runner) -> ExportOut:
    job = await _mine(ctx, job_id)
    EXPORT.check(job.status, "cancel")
    async with ctx.write() as tx:
        job = await get_or_404(tx.session, ExportJob, job_id, "export", for_update=True, error=ExportNotFound)
        EXPORT.check(job.status, "cancel")
        job.status, job.finished_at = "cancelled", utcnow()
        tx.audit("exports.cancelled", "export", job.id, after={"rows": job.rows_done})
    runner.cancel(job_id)  # the job's own node also sees it at its next progress update
    return shown(job, ctx.locale)


async def purge_expired(ctx: Context, *, lost_after: timedelta = timedelta(minutes=2)) -> int:
    """Remove the files of expired exports (their rows stay: what was exported, by whom), and fail
    jobs whose node stopped beating. Returns how many files went."""
    now = utcnow()
    gone = 0
    async with ctx.write() as tx:
        stale = (
            await tx.session.scalars(
                select(ExportJob).where(
                    ExportJob.status.in_(ACTIVE),
                    ExportJob.created_at < now - lost_after,
                    (ExportJob.heartbeat_at.is_(None)) | (ExportJob.heartbeat_at < now - lost_after),
                )
            )
        ).all()
        for job in stale:
            EXPORT.check(job.status, "fail")
            job.status, job.finished_at, job.error = "failed", now, "lost: its node stopped while writing it"
            job.expires_at = now
        expired = (
            await tx.session.scalars(
                select(ExportJob).where(
                    ExportJob.status.in_(("done", "failed", "cancelled")), ExportJob.expires_at < now
                )
            )
        ).all()
        for job in expired:
            EXPORT.check(job.status, "expire")
            if job.file:
                path = ctx.settings.exports_dir / job.file
                if path.is_file():
                    path.unlink()
                    gone += 1
            job.status, job.file = "expired", None
    return gone
