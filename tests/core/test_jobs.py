"""Durable jobs: schedules in local time and China's calendar; each occurrence runs once."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.core.jobs import (
    DayFilter,
    InvalidSchedule,
    JobRun,
    JobScheduler,
    ScheduledJob,
    is_china_workday,
    job_handler,
    next_occurrence,
    schedule_cron,
    schedule_once,
)
from tests.conftest import PG_URL

SHANGHAI = ZoneInfo("Asia/Shanghai")
calls: list[dict[str, Any]] = []


@job_handler("test.note")
async def note(ctx: Context, payload: dict[str, Any]) -> None:
    calls.append(payload)


@job_handler("test.flaky")
async def flaky(ctx: Context, payload: dict[str, Any]) -> None:
    calls.append(payload)
    raise ConnectionError("gateway down")


def test_cron_fires_at_local_time_of_the_hotel() -> None:
    # "17:00 the day before departure" is 17:00 in Shanghai, 09:00 UTC.
    after = datetime(2025, 6, 1, 10, 0, tzinfo=UTC)
    fired = next_occurrence("0 17 * * *", "Asia/Shanghai", DayFilter.ANY, after)
    assert fired == datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
    assert fired.astimezone(SHANGHAI).hour == 17


def test_workday_jobs_follow_china_holidays_and_make_up_days() -> None:
    # National Day 2025: 1–8 October off; Sunday 28 September and Saturday 11 October are workdays.
    assert not is_china_workday(date(2025, 10, 1))
    assert is_china_workday(date(2025, 9, 28)) and is_china_workday(date(2025, 10, 11))
    after = datetime(2025, 9, 30, 12, 0, tzinfo=SHANGHAI)
    fired = next_occurrence("0 9 * * *", "Asia/Shanghai", DayFilter.WORKDAYS, after)
    assert fired.astimezone(SHANGHAI) == datetime(2025, 10, 9, 9, 0, tzinfo=SHANGHAI)
    holiday = next_occurrence(
        "0 9 * * *", "Asia/Shanghai", DayFilter.HOLIDAYS, datetime(2025, 9, 26, tzinfo=SHANGHAI)
    )
    assert holiday.astimezone(SHANGHAI).date() == date(2025, 9, 27)  # Saturday, not the make-up Sunday


@settings(max_examples=60, deadline=None)
@given(
    after=st.datetimes(
        min_value=datetime(2024, 1, 1), max_value=datetime(2026, 12, 1), timezones=st.just(UTC)
    ),
    minute=st.integers(0, 59),
    hour=st.integers(0, 23),
    days=st.sampled_from(list(DayFilter)),
)
def test_next_occurrence_is_later_matches_the_day_filter_and_the_clock(
    after: datetime, minute: int, hour: int, days: DayFilter
) -> None:
    fired = next_occurrence(f"{minute} {hour} * * *", "Asia/Shanghai", days, after)
    local = fired.astimezone(SHANGHAI)
    assert fired > after and (local.hour, local.minute) == (hour, minute)
    if days is DayFilter.WORKDAYS:
        assert is_china_workday(local.date())
    elif days is DayFilter.HOLIDAYS:
        assert not is_china_workday(local.date())


@pytest.mark.parametrize(
    ("cron", "tz", "field"),
    [
        ("61 * * * *", "Asia/Shanghai", "cron"),
        ("every day", "Asia/Shanghai", "cron"),
        ("0 9 * * *", "Mars/Olympus", "timezone"),
    ],
)
def test_bad_schedules_are_refused_with_the_field(cron: str, tz: str, field: str) -> None:
    with pytest.raises(InvalidSchedule) as error:
        next_occurrence(cron, tz, DayFilter.ANY, utcnow())
    assert error.value.field == field


async def test_a_one_off_job_runs_once_and_a_recurring_job_moves_to_its_next_time(
    ctx: Context,
) -> None:
    calls.clear()
    async with ctx.db.write() as session:
        await schedule_once(
            session, "remind:R1", "test.note", utcnow() - timedelta(seconds=1), payload={"r": 1}
        )
        recurring = await schedule_cron(session, "daily", "test.note", "0 17 * * *", payload={"r": 2})
        recurring.next_run_at = utcnow() - timedelta(seconds=1)
    scheduler = JobScheduler(ctx, node_id="n1")
    assert await scheduler.run_due() == 2
    assert await scheduler.run_due() == 0
    assert sorted(c["r"] for c in calls) == [1, 2]
    async with ctx.read() as session:
        jobs = {j.key: j for j in (await session.scalars(select(ScheduledJob))).all()}
    assert jobs["remind:R1"].next_run_at is None and jobs["remind:R1"].last_status == "done"
    assert jobs["daily"].next_run_at is not None
    assert jobs["daily"].next_run_at.astimezone(SHANGHAI).hour == 17 and jobs["daily"].lease_owner is None


async def test_a_failing_one_off_job_is_retried_with_backoff_then_given_up(ctx: Context) -> None:
    calls.clear()
    async with ctx.db.write() as session:
        job = await schedule_once(
            session, "sms:42", "test.flaky", utcnow(), payload={"n": 42}, max_attempts=2
        )
        job_id = job.id
    scheduler = JobScheduler(ctx, node_id="n1")
    assert await scheduler.run_due() == 1
    async with ctx.read() as session:
        job = await session.get(ScheduledJob, job_id)
    assert job is not None and job.attempts == 1 and job.last_status == "failed"
    assert (
        "gateway down" in (job.last_error or "")
        and job.next_run_at is not None
        and job.next_run_at > utcnow()
    )
    async with ctx.db.write() as session:
        (await session.get(ScheduledJob, job_id)).next_run_at = utcnow()  # type: ignore[union-attr]
    assert await scheduler.run_due() == 1
    async with ctx.read() as session:
        job = await session.get(ScheduledJob, job_id)
        runs = (await session.scalars(select(JobRun).where(JobRun.job_id == job_id))).all()
    assert job is not None and job.next_run_at is None and len(runs) == 2 and len(calls) == 2


async def test_a_job_whose_node_died_is_taken_over_after_the_lease(ctx: Context) -> None:
    calls.clear()
    async with ctx.db.write() as session:
        job = await schedule_once(session, "orphan", "test.note", utcnow(), payload={"r": 9})
        job.lease_owner, job.lease_until = "dead-node", utcnow() - timedelta(seconds=1)
    assert await JobScheduler(ctx, node_id="n2").run_due() == 1
    assert calls == [{"r": 9}]


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="needs HOTLINE_TEST_DATABASE_URL (make test starts PostgreSQL)")
async def test_two_processes_on_postgres_run_each_due_job_exactly_once(ctx: Context, tmp_path: Path) -> None:
    jobs = 60
    async with ctx.db.write() as session:
        for n in range(jobs):
            session.add(
                ScheduledJob(key=f"probe:{n}", handler="test.record", payload={"n": n}, next_run_at=utcnow())
            )
    out = tmp_path / "runs.txt"
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.core.jobs_worker",
                ctx.settings.database_url,
                "4",
                str(out),
            ]
        )
        for _ in range(2)
    ]
    for _ in range(6000):  # both started (a loaded machine may take seconds to import), then go
        if len(list(tmp_path.glob("runs.txt.ready.*"))) == 2:
            break
        await asyncio.sleep(0.01)
    (tmp_path / "runs.txt.go").touch()
    for worker in workers:  # waited for in a thread: the test's event loop must not stand still
        assert await asyncio.to_thread(worker.wait, 60) == 0
    lines = [line.split() for line in out.read_text().splitlines()]
    per_job = Counter(n for n, _ in lines)
    per_node = Counter(pid for _, pid in lines)
    assert sorted(per_job) == sorted(str(n) for n in range(jobs)) and set(per_job.values()) == {1}
    assert len(per_node) == 2, f"both processes should have taken work: {per_node}"
