"""Calls are safe from the API (issue 17): while SIPp callers listen to prompts on a real node,
the heaviest requests there are (fuzzed staffing, exports, a 5,000-row import check, PDFs, pages
of 500) are fired at it; every call survives and the prompt frames keep their pace.

benchmarks/heavy_requests.py is the long version with 50 calls and the figures: on the project's
shared two-core machine, the frames' p99 deviation is about 3 ms with no requests and about 30 ms
under six clients of heavy requests (it was about 500 ms, with 35 stalls of 100 ms and more,
before the compute pool). Here the bound is 100 ms: this test shares the two cores with SIPp, the
receiver, the load clients, the test process itself and whatever else the machine runs, and the
node's loop then waits tens of milliseconds for a CPU at a time whatever Hotline does. What it
must catch is work computing on the event loop again: that holds it for hundreds of milliseconds
per request and puts the p99 well above the bound.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from hotline import demo
from hotline.core.config import Settings
from hotline.core.context import Context
from hotline.travel import demo as travel_demo
from tests.interop.heavy import Node, heavy_load, listeners, prepare

pytestmark = pytest.mark.skipif(
    shutil.which("sipp") is None or shutil.which("espeak-ng") is None,
    reason="needs sipp and espeak-ng (make test installs them)",
)
CALLS, WARMUP, SECONDS = 30, 10.0, 15.0
P99_BOUND_MS = 100.0


@pytest.fixture
async def crowd(seeded: Context) -> Context:
    """Customers to export and search, orders to print (set-up: loading blocks the test's loop)."""
    await demo.load_customers(seeded, 500)
    await travel_demo.load_orders(seeded, 40)
    return seeded


async def test_calls_listening_to_prompts_survive_the_heaviest_requests(
    crowd: Context, settings: Settings, tmp_path: Path
) -> None:
    node = Node(settings.database_url, tmp_path)
    await node.start()
    try:
        await prepare(node)
        calls = await listeners(node, CALLS, WARMUP, SECONDS)
        try:
            await asyncio.sleep(WARMUP)
            async with heavy_load(node, concurrency=4) as load:
                await asyncio.sleep(SECONDS)
            pacing, sipp = await calls.finish()
        finally:
            await calls.kill()
    finally:
        await node.stop()
    report = load.report()
    assert (pacing["streams"], pacing["alive_at_end"]) == (CALLS, CALLS), pacing
    assert (sipp["successful"], sipp["failed"], sipp["exit"]) == (CALLS, 0, 0), sipp
    assert pacing["pairs"] > CALLS * SECONDS * 40, pacing  # frames kept coming to every caller
    assert pacing["p99_ms"] < P99_BOUND_MS, (pacing, report)
    assert sum(report[kind]["requests"] for kind in report) > 20, report  # type: ignore[misc]
    for kind, figures in report.items():
        statuses = figures["statuses"]
        assert isinstance(statuses, dict)
        assert all(0 < status < 500 for status in statuses), (kind, figures)  # answered, never broken
