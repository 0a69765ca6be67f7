"""Durable scheduled jobs (cron or one-off), run by an in-process scheduler.

Jobs live in the database, so they survive restarts and are shared by every node.
A node claims a due job with a compare-and-set on (`next_run_at`, lease), and the
run history has one row per (job, occurrence): whichever database, however many
nodes, each occurrence runs once. A node that dies mid-run leaves its lease to
expire, and the occurrence is retried by another node.

Schedules are evaluated in the job's time zone (a hotel's), optionally only on
China's working days or public holidays, make-up workdays included.
"""

from __future__ import annotations

import asyncio
import contextlib
import traceback
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import structlog
from croniter import CroniterBadCronError, croniter
from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from hotline.core.clock import as_utc, utcnow
from hotline.core.context import Actor, Context
from hotline.core.db import Base
from hotline.core.errors import InvalidInput

log = structlog.get_logger(__name__)


class DayFilter(StrEnum):
    ANY = "any"
    WORKDAYS = "workdays"
    """China's working days: weekdays that are not public holidays, plus make-up Saturdays/Sundays."""
    HOLIDAYS = "holidays"
    """China's public holidays (春节, 国庆…), and weekends that are not make-up workdays."""


class ScheduledJob(Base):
    __tablename__ = "scheduled_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(160), unique=True)
    handler: Mapped[str] = mapped_column(String(120))
    cron: Mapped[str | None] = mapped_column(String(120))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    days: Mapped[str] = mapped_column(String(16), default=DayFilter.ANY.value)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    enabled: Mapped[bool] = mapped_column(default=True)
    next_run_at: Mapped[datetime | None] = mapped_column(index=True)
    lease_owner: Mapped[str | None] = mapped_column(String(120))
    lease_until: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=5)
    last_status: Mapped[str | None] = mapped_column(String(16))
    last_error: Mapped[str | None] = mapped_column(Text)
    last_finished_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class JobRun(Base):
    """One occurrence of a job. The unique key is what makes "exactly once" hold."""

    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("job_id", "scheduled_for"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("scheduled_jobs.id", ondelete="CASCADE"))
    scheduled_for: Mapped[datetime]
    node: Mapped[str] = mapped_column(String(120))
    attempt: Mapped[int] = mapped_column(default=1)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default="running")
    error: Mapped[str | None] = mapped_column(Text)


class InvalidSchedule(InvalidInput):
    code = "invalid-schedule"
    title = "Invalid schedule"


JobHandler = Callable[["Context", dict[str, Any]], Awaitable[None]]
"""A job handler gets a system context (actor `system:jobs`) and the job's payload."""

_HANDLERS: dict[str, JobHandler] = {}


def job_handler(name: str) -> Callable[[JobHandler], JobHandler]:
    def register(func: JobHandler) -> JobHandler:
        if name in _HANDLERS and _HANDLERS[name] is not func:
            raise ValueError(f"job handler {name!r} registered twice")
        _HANDLERS[name] = func
        return func

    return register


def registered_handlers() -> dict[str, JobHandler]:
    return dict(_HANDLERS)


# ---------------------------------------------------------------- calendar


def is_china_workday(day: date) -> bool:
    try:
        import chinese_calendar

        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        # Outside the years the State Council has published: fall back to weekdays.
        return day.weekday() < 5


def day_matches(day: date, days: DayFilter) -> bool:
    if days is DayFilter.ANY:
        return True
    workday = is_china_workday(day)
    return workday if days is DayFilter.WORKDAYS else not workday


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidSchedule(
            f"Unknown time zone {name!r}",
            field="timezone",
            reason="unknown-time-zone",
            params={"name": repr(name)},
        ) from exc


def next_occurrence(cron: str, tz: str, days: DayFilter, after: datetime) -> datetime:
    """The first time strictly after `after` that the cron expression fires on an allowed day."""
    if not croniter.is_valid(cron):
        raise InvalidSchedule(
            f"Invalid cron expression {cron!r}",
            field="cron",
            reason="invalid-cron-expression",
            params={"cron": repr(cron)},
        )
    zone = _zone(tz)
    try:
        it = croniter(cron, as_utc(after).astimezone(zone))
        for _ in range(2000):
            candidate: datetime = it.get_next(datetime)
            if day_matches(candidate.date(), days):
                return as_utc(candidate)
    except CroniterBadCronError as exc:
        raise InvalidSchedule(str(exc), field="cron") from exc
    raise InvalidSchedule(
        f"{cron!r} never fires on {days.value}",
        field="cron",
        reason="never-fires",
        params={"cron": repr(cron), "value": days.value},
    )


# ---------------------------------------------------------------- scheduling API (inside a transaction)


async def schedule_cron(
    session: AsyncSession,
    key: str,
    handler: str,
    cron: str,
    *,
    timezone: str = "Asia/Shanghai",
    days: DayFilter = DayFilter.ANY,
    payload: dict[str, Any] | None = None,
) -> ScheduledJob:
    """Create or update a recurring job, identified by `key`."""
    _check_handler(handler)
    first = next_occurrence(cron, timezone, days, utcnow())
    job = await session.scalar(select(ScheduledJob).where(ScheduledJob.key == key))
    if job is None:
        job = ScheduledJob(key=key, handler=handler)
        session.add(job)
    elif (job.cron, job.timezone, job.days) == (cron, timezone, days.value) and job.next_run_at:
        first = as_utc(job.next_run_at)
    job.cron, job.timezone, job.days, job.payload = cron, timezone, days.value, payload or {}
    job.handler, job.enabled, job.next_run_at = handler, True, first
    await session.flush()
    return job


async def schedule_once(
    session: AsyncSession,
    key: str,
    handler: str,
    run_at: datetime,
    *,
    payload: dict[str, Any] | None = None,
    max_attempts: int = 5,
) -> ScheduledJob:
    """Create (or move) a one-off job due at `run_at`."""
    _check_handler(handler)
    job = await session.scalar(select(ScheduledJob).where(ScheduledJob.key == key))
    if job is None:
        job = ScheduledJob(key=key, handler=handler)
        session.add(job)
    job.cron, job.payload, job.enabled, job.next_run_at = None, payload or {}, True, as_utc(run_at)
    job.handler, job.max_attempts, job.attempts = handler, max_attempts, 0
    await session.flush()
    return job


def _check_handler(name: str) -> None:
    if name not in _HANDLERS:
        raise InvalidSchedule(
            f"No job handler named {name!r}",
            field="handler",
            reason="no-job-handler-named",
            params={"name": repr(name)},
        )


# ---------------------------------------------------------------- the scheduler


class JobScheduler:
    """Polls for due jobs, claims them with a lease, and runs them; `stop()` cancels and awaits."""

    def __init__(
        self,
        ctx: Context,
        *,
        node_id: str,
        poll_seconds: float = 1.0,
        lease_seconds: int = 300,
        batch: int = 10,
    ) -> None:
        self.ctx = ctx.as_actor(Actor.system("system:jobs"))
        self.db, self.node_id = ctx.db, node_id
        self.poll_seconds, self.lease_seconds, self.batch = poll_seconds, lease_seconds, batch
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="hotline-jobs")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    def wake(self) -> None:
        self._wake.set()

    async def _loop(self) -> None:
        while True:
            try:
                ran = await self.run_due()
            except Exception:
                log.exception("job scheduler pass failed")
                ran = 0
            if ran:
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)

    async def run_due(self) -> int:
        """Claim and run what is due now; returns how many occurrences this node ran."""
        claimed = await self._claim()
        for job_id, scheduled_for, handler, payload, run_id in claimed:
            await self._run(job_id, scheduled_for, handler, payload, run_id)
        return len(claimed)

    async def _claim(self) -> list[tuple[int, datetime, str, dict[str, Any], int]]:
        now = utcnow()
        lease_until = now + timedelta(seconds=self.lease_seconds)
        free = or_(ScheduledJob.lease_until.is_(None), ScheduledJob.lease_until < now)
        claimed: list[tuple[int, datetime, str, dict[str, Any], int]] = []
        async with self.db.write() as session:
            due = (
                await session.execute(
                    select(
                        ScheduledJob.id,
                        ScheduledJob.next_run_at,
                        ScheduledJob.handler,
                        ScheduledJob.payload,
                    )
                    .where(ScheduledJob.enabled.is_(True), ScheduledJob.next_run_at <= now, free)
                    .order_by(ScheduledJob.next_run_at)
                    .limit(self.batch)
                )
            ).all()
            for job_id, next_run_at, handler, payload in due:
                won = await session.execute(
                    update(ScheduledJob)
                    .where(and_(ScheduledJob.id == job_id, ScheduledJob.next_run_at == next_run_at, free))
                    .values(lease_owner=self.node_id, lease_until=lease_until)
                )
                if won.rowcount != 1:  # type: ignore[attr-defined]
                    continue  # another node got there first
                scheduled_for = as_utc(next_run_at)
                run = await session.scalar(
                    select(JobRun).where(JobRun.job_id == job_id, JobRun.scheduled_for == scheduled_for)
                )
                if run is None:
                    run = JobRun(
                        job_id=job_id,
                        scheduled_for=scheduled_for,
                        node=self.node_id,
                        started_at=now,
                    )
                    session.add(run)
                else:  # a previous node died holding the lease: this is a retry
                    run.node, run.attempt, run.started_at, run.status = (
                        self.node_id,
                        run.attempt + 1,
                        now,
                        "running",
                    )
                await session.flush()
                claimed.append((job_id, scheduled_for, handler, dict(payload or {}), run.id))
        return claimed

    async def _run(
        self,
        job_id: int,
        scheduled_for: datetime,
        handler_name: str,
        payload: dict[str, Any],
        run_id: int,
    ) -> None:
        handler = _HANDLERS.get(handler_name)
        error: str | None = None
        try:
            if handler is None:
                raise LookupError(f"no job handler named {handler_name!r}")
            await handler(self.ctx, payload)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            error = "".join(traceback.format_exception_only(exc)).strip()
            log.warning("job failed", job_id=job_id, handler=handler_name, error=error)
        await self._finish(job_id, scheduled_for, run_id, error)

    async def _finish(self, job_id: int, scheduled_for: datetime, run_id: int, error: str | None) -> None:
        now = utcnow()
        async with self.db.write() as session:
            job = await session.get(ScheduledJob, job_id)
            run = await session.get(JobRun, run_id)
            if job is None or run is None or job.lease_owner != self.node_id:
                return  # deleted meanwhile, or our lease expired and another node took over
            run.finished_at, run.status, run.error = now, "failed" if error else "done", error
            job.lease_owner, job.lease_until = None, None
            job.last_status, job.last_error, job.last_finished_at = run.status, error, now
            if job.cron:
                # Missed occurrences (node down) are not replayed one by one: run once, then move on.
                job.next_run_at = next_occurrence(
                    job.cron, job.timezone, DayFilter(job.days), max(scheduled_for, now)
                )
                job.attempts = 0
            elif error and job.attempts + 1 < job.max_attempts:
                job.attempts += 1
                job.next_run_at = now + timedelta(seconds=min(3600, 10 * 2**job.attempts))
            else:
                job.attempts += 1 if error else 0
                job.next_run_at = None


async def list_jobs(ctx: Context) -> list[ScheduledJob]:
    async with ctx.read() as session:
        return list((await session.scalars(select(ScheduledJob).order_by(ScheduledJob.key))).all())
