"""The compute pool: heavy work runs in worker processes while the event loop stays free; a call
past its time or memory limit is stopped with a clear error and the pool carries on."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from prometheus_client import REGISTRY

from hotline.core.compute import ComputeBusy, ComputePool, ComputeTooBig, ComputeTooLong
from hotline.core.errors import InvalidInput
from tests.core import compute_jobs


@pytest.fixture
async def pool() -> AsyncIterator[ComputePool]:
    running = ComputePool(1, limit=10, memory_mib=512, backlog=1)
    await running.start()
    yield running
    await running.stop()


async def longest_gap_while(work: asyncio.Future[object]) -> float:
    """The longest the loop went without running a 5 ms ticker while `work` was under way."""
    longest, last = 0.0, time.perf_counter()
    while not work.done():
        await asyncio.sleep(0.005)
        now = time.perf_counter()
        longest, last = max(longest, now - last), now
    return longest


async def test_heavy_work_runs_beside_the_loop_not_on_it(pool: ComputePool) -> None:
    await pool.run(compute_jobs.spin, 0.0)  # the first worker is started
    work = asyncio.ensure_future(pool.run(compute_jobs.spin, 1.2))
    gap = await longest_gap_while(work)
    assert await work == 1.2
    # on the loop, the loop would stand still for all 1.2 s; beside it, only for what a busy
    # machine's scheduler takes (a CI machine at load 10 once took 100+ ms)
    assert gap < 0.5, f"the loop stood still for {gap * 1000:.0f} ms"


async def test_a_domain_error_in_a_worker_reaches_the_caller_with_its_field(pool: ComputePool) -> None:
    with pytest.raises(InvalidInput) as raised:
        await pool.run(compute_jobs.refuse, 7)
    assert (raised.value.field, raised.value.extra, raised.value.detail) == (
        "body.value",
        {"rule": "demo"},
        "7 is not allowed here",
    )


def refused(reason: str) -> float:
    return REGISTRY.get_sample_value("hotline_compute_refused_total", {"reason": reason}) or 0.0


async def test_work_past_its_limit_is_stopped_and_the_pool_carries_on(pool: ComputePool) -> None:
    before, started = refused("time"), time.perf_counter()
    with pytest.raises(ComputeTooLong):
        await pool.run(compute_jobs.spin, 30.0, limit=0.5)
    assert time.perf_counter() - started < 5
    assert pool.stopped_for_time == 1 and refused("time") == before + 1
    assert await pool.run(compute_jobs.spin, 0.01) == 0.01


async def test_work_that_needs_too_much_memory_is_stopped(pool: ComputePool) -> None:
    with pytest.raises(ComputeTooBig):
        await pool.run(compute_jobs.hoard, 2048)
    assert await pool.run(compute_jobs.hoard, 16) == 16 * 1024 * 1024


async def test_when_every_worker_is_busy_and_the_backlog_full_callers_are_told_to_come_back(
    pool: ComputePool,
) -> None:
    first = asyncio.ensure_future(pool.run(compute_jobs.spin, 1.0))
    await asyncio.sleep(0.3)
    second = asyncio.ensure_future(pool.run(compute_jobs.spin, 0.1))  # waits for the worker
    await asyncio.sleep(0.05)
    with pytest.raises(ComputeBusy) as busy:
        await pool.run(compute_jobs.spin, 0.1)
    assert busy.value.extra["retry_after"] > 0
    assert (await first, await second) == (1.0, 0.1)


def test_large_arguments_and_results_cross_the_pipe_under_uvloop() -> None:
    """uvloop, as `hotline serve` runs it (it once made the pipe non-blocking under the pool)."""
    import uvloop

    async def main() -> bytes:
        running = ComputePool(1, limit=60)
        await running.start()
        try:
            return await running.run(compute_jobs.echo, bytes(range(256)) * 40_000)  # 10 MB each way
        finally:
            await running.stop()

    assert uvloop.run(main()) == (bytes(range(256)) * 40_000)[::-1]


async def test_a_pool_stopped_and_started_again_starts_new_workers() -> None:
    # The app's lifespan may stop and start the same pool (a test client per user did): it once
    # kept counting its ended workers, so every call then waited its whole limit for none.
    again = ComputePool(1, limit=5, memory_mib=512)
    await again.start()
    assert await again.run(compute_jobs.spin, 0.0) == 0.0
    await again.stop()
    await again.start()
    started = time.perf_counter()
    try:
        assert await again.run(compute_jobs.spin, 0.0) == 0.0
    finally:
        await again.stop()
    assert time.perf_counter() - started < 4
