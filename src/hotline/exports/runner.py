"""Writing an export: rows read a page at a time on the loop, written by a process of its own.

`ExportRunner` is owned by the app (started and stopped in its lifespan): it runs each job
submitted on this node as a task, at most `exports_parallel` at once, and cancels and awaits them
on stop. `produce` is one job from start to file: it feeds the writer process
(exports/writer.py) through its stdin, with backpressure (the loop waits while the pipe is full),
records progress about once a second — and, at the same time, learns whether the person
cancelled — and stops the writer at the time limit. A job that fails or is cancelled leaves no
file behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import pickle
import secrets
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import update

from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.core.rows import get_or_404
from hotline.exports.errors import ExportNotFound
from hotline.exports.models import ExportJob
from hotline.exports.service import filters_of, subject_of
from hotline.exports.state import EXPORT

log = structlog.get_logger(__name__)
PAGE = 1000
"""Rows read per query: about 5 ms of the loop for a ten-column page, then the loop is free."""
BEAT_SECONDS = 1.0


@dataclass
class Written:
    rows: int
    max_rss_kib: int
    seconds: float


class _Cancelled(Exception):
    """The person cancelled the job (seen at a progress update)."""


class ExportRunner:
    def __init__(self, parallel: int = 2) -> None:
        self._slots = asyncio.Semaphore(parallel)
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self.last: dict[int, Written] = {}
        """What the writer of each job run here reported (rows, its peak memory): benchmarks read it."""

    def submit(self, ctx: Context, job_id: int) -> None:
        task = asyncio.create_task(self._run(ctx, job_id), name=f"hotline-export-{job_id}")
        self._tasks[job_id] = task
        task.add_done_callback(lambda _: self._tasks.pop(job_id, None))

    def cancel(self, job_id: int) -> None:
        task = self._tasks.get(job_id)
        if task is not None:
            task.cancel()

    async def wait(self, job_id: int) -> None:
        """Until the job run here has ended (tests, benchmarks, the CLI)."""
        task = self._tasks.get(job_id)
        if task is not None:
            await asyncio.wait({task})

    async def stop(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _run(self, ctx: Context, job_id: int) -> None:
        async with self._slots:
            try:
                written = await produce(ctx, job_id)
            except Exception:
                log.exception("export failed", job_id=job_id)
                return
            if written is not None:
                self.last[job_id] = written


async def _move(ctx: Context, job_id: int, action: str, **values: Any) -> bool:
    """Take a step of the job's lifecycle; False if its state no longer allows it (cancelled)."""
    async with ctx.write() as tx:
        job = await get_or_404(tx.session, ExportJob, job_id, "export", for_update=True, error=ExportNotFound)
        target = EXPORT.transitions[action]
        if job.status not in target.sources:
            return False
        EXPORT.check(job.status, action)
        job.status = target.target or job.status
        for name, value in values.items():
            setattr(job, name, value)
        if action == "finish":
            what = {"subject": job.subject, "format": job.format, "filters": job.filters, "pii": job.pii,
                    "rows": job.rows_done}  # fmt: skip
            tx.audit("exports.written", "export", job.id, after=what)
    return True


async def _beat(ctx: Context, job_id: int, rows: int) -> None:
    async with ctx.write() as tx:
        result = await tx.session.execute(
            update(ExportJob)
            .where(ExportJob.id == job_id, ExportJob.status == "running")
            .values(rows_done=rows, heartbeat_at=utcnow())
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise _Cancelled


async def produce(ctx: Context, job_id: int) -> Written | None:
    """Write export `job_id` (queued) to its file; None if it did not end with one."""
    settings = ctx.settings
    async with ctx.read() as session:
        job = await get_or_404(session, ExportJob, job_id, "export", error=ExportNotFound)
    subject = subject_of(job.subject)
    filters = filters_of(subject, dict(job.filters or {}))
    name = f"{job.id}-{secrets.token_hex(8)}.{job.format}"
    path = settings.exports_dir / name
    if not await _move(
        ctx, job_id, "start", node=settings.node_id, started_at=utcnow(), heartbeat_at=utcnow()
    ):
        return None
    started = time.monotonic()
    settings.exports_dir.mkdir(parents=True, exist_ok=True)
    spec = {
        "format": job.format, "path": str(path), "sheet": subject.sheet_name(job.locale),
        "locale": job.locale,
        "timezone": settings.default_timezone, "pii": job.pii, "memory_mib": settings.compute_memory_mib,
        "columns": [(c.header(job.locale), c.type, c.personal.value if c.personal else None, c.width)
                    for c in subject.columns],
    }  # fmt: skip
    writer = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hotline.exports.writer",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    error: str | None = None
    written: Written | None = None
    rows = 0
    try:
        async with asyncio.timeout(settings.exports_seconds):
            assert writer.stdin is not None  # noqa: S101 - asked for above
            writer.stdin.write(pickle.dumps(spec))
            beat = time.monotonic()
            async for page in (await subject.source(ctx, filters)).pages(ctx, PAGE):
                writer.stdin.write(pickle.dumps(page, protocol=pickle.HIGHEST_PROTOCOL))
                await writer.stdin.drain()  # the writer's pace: at most a pipe's worth ahead
                rows += len(page)
                if time.monotonic() - beat >= BEAT_SECONDS:
                    await _beat(ctx, job_id, rows)
                    beat = time.monotonic()
            writer.stdin.write(pickle.dumps(None))
            await writer.stdin.drain()
            writer.stdin.close()
            out, err = await writer.communicate()
        if writer.returncode != 0:
            tail = err.decode(errors="replace").strip().splitlines()[-1:] or ["(no message)"]
            error = f"the writer stopped: {tail[0]}"[:500]
        else:
            report = json.loads(out.decode().strip().splitlines()[-1])
            written = Written(report["rows"], report["max_rss_kib"], time.monotonic() - started)
    except TimeoutError:
        error = f"stopped at the time limit of {settings.exports_seconds:g} s"
    except _Cancelled:
        written = None
    except asyncio.CancelledError:
        # Cancelled by its owner: the person (the job is already cancelled) or the node stopping.
        await _end(writer, path)
        with contextlib.suppress(Exception):
            await asyncio.shield(_move(ctx, job_id, "fail", finished_at=utcnow(), error="the node stopped"))
        raise
    except (BrokenPipeError, ConnectionResetError):
        await writer.wait()
        said = (await writer.stderr.read()).decode(errors="replace") if writer.stderr else ""
        error = f"the writer stopped: {(said.strip().splitlines() or ['(no message)'])[-1]}"[:500]
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
    if written is None:
        await _end(writer, path)
        if error is not None:
            log.warning("export failed", job_id=job_id, error=error)
            await _move(ctx, job_id, "fail", finished_at=utcnow(), error=error, rows_done=rows)
        return None
    now = utcnow()
    done = await _move(
        ctx, job_id, "finish", rows_done=written.rows, file=name, size=path.stat().st_size, finished_at=now,
        expires_at=now + timedelta(hours=settings.exports_keep_hours),
    )  # fmt: skip
    if not done:  # cancelled just as it finished
        _remove(path)
        return None
    return written


async def _end(writer: asyncio.subprocess.Process, path: Path) -> None:
    if writer.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            writer.kill()
        await writer.wait()
    _remove(path)


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)
