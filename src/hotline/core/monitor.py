"""Event-loop lag: how late a timer fires tells how long the loop was blocked.

The API and the voice plane share one loop, so anything that blocks it delays prompts
and RTP as well as HTTP answers. The lag is exported to Prometheus and long stalls are
logged with their size, which is how a stall seen in a benchmark is told apart from one
outside the process.
"""

from __future__ import annotations

import asyncio
import time

import structlog
from prometheus_client import Histogram

log = structlog.get_logger(__name__)

LOOP_LAG = Histogram(
    "hotline_event_loop_lag_seconds",
    "How late the event loop ran a timer (time it was blocked)",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)


class LoopLagMonitor:
    """Samples the loop's lag every `interval` seconds; `stop()` cancels and awaits its task."""

    def __init__(self, interval: float = 0.25, warn_after: float = 0.1) -> None:
        self.interval, self.warn_after = interval, warn_after
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="hotline-loop-lag")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(self.interval)
            lag = max(0.0, time.perf_counter() - started - self.interval)
            LOOP_LAG.observe(lag)
            self.worst = max(self.worst, lag)
            if lag >= self.warn_after:
                log.warning("event loop was blocked", lag_ms=round(lag * 1000))
