"""`core.tasks.stop` ends a task even when something inside it swallowed a cancellation (as
redis-py 8 does at times with a command in flight)."""

from __future__ import annotations

import asyncio

from hotline.core import tasks


async def test_a_task_that_swallows_its_cancellations_is_stopped_all_the_same() -> None:
    swallowed = 0

    async def stubborn() -> None:
        nonlocal swallowed
        while True:
            try:
                await asyncio.sleep(0.05)
            except asyncio.CancelledError:
                swallowed += 1
                if swallowed < 3:
                    continue  # what a library's bug does: the loop goes on
                raise

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0.01)
    await asyncio.wait_for(tasks.stop(task), 3)
    assert task.cancelled() and swallowed == 3
