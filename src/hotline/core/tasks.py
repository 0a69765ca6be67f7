"""Stopping background tasks for certain.

A cancelled task normally ends at its next `await`. redis-py 8's asyncio client at times swallows
the cancellation of a command in flight (seen here: about one cancel in seventy, during `eval` or
`get_message`), and a loop around such a command then simply goes on — a node's shutdown, or a
router stepping down, would wait for it forever. `stop` cancels again until the task has ended.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import structlog

log = structlog.get_logger(__name__)


async def stop(*tasks: asyncio.Task[Any] | None, seconds: float = 5.0) -> None:
    """Cancel the tasks and wait until each has ended, cancelling again every 0.1 s those that
    go on; after `seconds` the ones still running are left (and logged)."""
    running = {task for task in tasks if task is not None}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while running and loop.time() < deadline:
        for task in running:
            task.cancel()
        await asyncio.wait(running, timeout=0.1)
        running = {task for task in running if not task.done()}
    for left in running:
        log.error("task did not stop", task=left.get_name())
    for given in tasks:
        if given is not None and given.done() and not given.cancelled():
            with contextlib.suppress(Exception):
                given.result()  # retrieved: no "exception never retrieved" at exit
