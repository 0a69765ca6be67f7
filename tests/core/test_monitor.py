"""The stall monitor and the suite's own guard: a loop held by code is caught with its stack,
whether the code runs or sleeps; time spent waiting for a CPU is told apart."""

from __future__ import annotations

import asyncio
import gc
import time
from pathlib import Path

import pytest

from hotline.core.monitor import LoopLagMonitor
from tests import conftest


def crunch(seconds: float) -> None:
    """Hold the thread for `seconds` of CPU time, however busy the machine is."""
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def doze(seconds: float) -> None:
    time.sleep(seconds)  # a blocking call: no CPU used, the loop held all the same


def watched(work: object) -> LoopLagMonitor:
    async def main() -> LoopLagMonitor:
        monitor = LoopLagMonitor(log_stalls=False)
        await monitor.start()
        await asyncio.sleep(0.1)
        work()  # type: ignore[operator]
        await asyncio.sleep(0.1)
        await monitor.stop()
        return monitor

    with asyncio.Runner(loop_factory=asyncio.SelectorEventLoop) as runner:  # not the suite's policy
        return runner.run(main())


def test_code_running_on_the_loop_is_a_stall_with_its_cpu_time_and_stack() -> None:
    [stall] = watched(lambda: crunch(0.4)).stalls
    assert stall.lag + 0.025 >= stall.held >= stall.ran >= 0.4  # (`ran` counts from the heartbeat before)
    assert "in crunch" in stall.stack and "test_monitor.py" in stall.stack
    if stall.waited_for_cpu is not None:
        assert stall.waited_for_cpu <= stall.lag - stall.ran + 0.05


def test_a_blocking_call_on_the_loop_is_a_stall_though_it_uses_no_cpu() -> None:
    [stall] = watched(lambda: doze(0.5)).stalls
    assert stall.ran < 0.1
    assert 0.3 <= stall.blocked <= stall.held <= stall.lag + 0.025
    assert "in doze" in stall.stack


def test_time_in_the_garbage_collector_is_told_apart() -> None:
    # Objects for a full collection to go through: ~0.2 s of it even when an app started earlier in
    # the process froze everything else (`gc.freeze()`), which left 1.5 million at the threshold.
    heap = [[n] for n in range(3_000_000)]
    [stall] = watched(lambda: gc.collect()).stalls
    del heap
    assert stall.collecting >= 0.1 and stall.collecting >= 0.6 * stall.ran


def test_the_suite_fails_a_test_whose_own_run_held_the_loop(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The guard in tests/conftest.py on sample tests: one holds its loop in its body (fails), one
    only in an async fixture's set-up (allowed: set-up may block, e.g. loading demo data)."""
    pytester.makeconftest(Path(conftest.__file__).read_text(encoding="utf-8"))
    pytester.makepyfile(
        """
        import asyncio
        import time
        import pytest

        def crunch(seconds):
            end = time.thread_time() + seconds
            while time.thread_time() < end:
                pass

        @pytest.fixture
        async def slow_setup():
            await asyncio.sleep(0.1)
            crunch(0.4)

        async def test_quiet(slow_setup):
            await asyncio.sleep(0.1)

        async def test_busy():
            await asyncio.sleep(0.1)
            crunch(0.4)
            await asyncio.sleep(0.1)
        """
    )
    monkeypatch.delenv("HOTLINE_TEST_SPLIT", raising=False)  # the inner run keeps all its tests
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-o", "asyncio_mode=auto")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*ERROR at teardown of test_busy*", "*event loop late by*", "*in crunch*"])
