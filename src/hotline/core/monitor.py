"""Event-loop lag: how late a timer fires tells how long the loop was blocked, and by what.

The API and the voice plane share one loop, so anything that blocks it delays prompts and RTP
as well as HTTP answers. A heartbeat on the loop measures how late it runs (exported to
Prometheus); a watchdog thread notices while the heartbeat is overdue and samples the stack of
the loop's thread, so the warning for a stall names the code that held the loop, not only its
size.

A late heartbeat is not always the code's fault: on a machine with more runnable threads than
cores, the loop's thread may be ready but waiting for a CPU, or waiting for the GIL held by a
thread that is itself waiting for a CPU. So each stall also says what the loop's thread did
meanwhile: how long it ran on a CPU (its own clock, /proc/thread-self/schedstat), how long it
was blocked in a system call of the code (the watchdog reads /proc/self/task/<id>/stat and
syscall while the heartbeat is overdue: asleep in one: sleeping, reading a file, waiting for a
process — but not waiting for a lock or the GIL, nor in the loop's own selector, nor ready in a
call and waiting for a CPU), and how long it waited for a CPU. `held`,
the first two together, is what the code cost the loop; the test suite judges stalls by it
(tests/conftest.py), so a busy machine alone does not fail a test. Time in the cyclic garbage
collector is counted too (`collecting`): it holds the GIL, so no stack can be sampled meanwhile,
and it is the one part of a stall that depends on everything the process holds rather than on
the code that happened to allocate.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import gc
import platform
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import structlog
from prometheus_client import Counter, Histogram

log = structlog.get_logger(__name__)

LOOP_LAG = Histogram(
    "hotline_event_loop_lag_seconds",
    "How late the event loop ran a timer (time it was blocked)",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
LOOP_STALLS = Counter(
    "hotline_event_loop_stalls_total",
    "Times the event loop was late by the warning threshold (100 ms) or more; each is logged with its stack",
)
_SCHEDSTAT = Path("/proc/thread-self/schedstat")
_WAITING = {  # system calls in which a thread waits for others (a lock, the GIL) or idles in a selector
    "x86_64": {202, 7, 23, 232, 270, 271, 281, 441},  # futex, poll, select, epoll_wait, pselect6, …
    "aarch64": {98, 22, 72, 73, 441},  # futex, epoll_pwait, pselect6, ppoll, epoll_pwait2
}.get(platform.machine())


_collecting: dict[int, float] = collections.defaultdict(float)  # seconds each thread spent collecting
_collection_started: dict[int, float] = {}
_ALL_THREADS = 0  # key of the total over every thread (no thread has ident 0)


def _time_collections(phase: str, info: dict[str, int]) -> None:
    thread = threading.get_ident()  # CPU time, comparable with `Stall.ran`, which includes it
    if phase == "start":
        _collection_started[thread] = time.thread_time()
    elif (started := _collection_started.pop(thread, None)) is not None:
        _collecting[thread] += time.thread_time() - started
        _collecting[_ALL_THREADS] += time.thread_time() - started


def _cpu_clocks() -> tuple[float, float | None]:
    """(seconds this thread ran, seconds it waited for a CPU); the wait is None where the kernel
    does not say (not Linux, or schedstats compiled out)."""
    try:
        ran, waited, _ = _SCHEDSTAT.read_text().split()
    except (OSError, ValueError):
        return time.thread_time(), None
    return int(ran) / 1e9, int(waited) / 1e9


@dataclass(frozen=True)
class Stall:
    """The loop ran its heartbeat `lag` seconds late."""

    started: float  # time.monotonic() at which it was due
    ended: float
    lag: float
    ran: float  # seconds the loop's thread was on a CPU, from its last heartbeat to this one
    blocked: float  # seconds it was seen blocked in a system call of the code while late
    collecting: float  # seconds of `ran` spent in the garbage collector
    collecting_elsewhere: float  # seconds other threads spent in it (holding the GIL the loop needs)
    waited_for_cpu: float | None  # seconds it was ready but had no CPU (None: unknown)
    stack: str  # where the loop's thread was while it was late ("" when no sample was taken)

    @property
    def held(self) -> float:
        """What the code cost the loop: time running on a CPU or blocked in a call."""
        return self.ran + self.blocked

    def describe(self) -> str:
        waited = (
            "" if self.waited_for_cpu is None else f", {self.waited_for_cpu * 1000:.0f} ms waiting for a CPU"
        )
        size = (
            f"{self.lag * 1000:.0f} ms, held {self.held * 1000:.0f} ms ({self.ran * 1000:.0f} ms on a CPU, "
            f"{self.blocked * 1000:.0f} ms blocked in a call{waited}; "
            f"{self.collecting * 1000:.0f} ms of it collecting garbage, "
            f"{self.collecting_elsewhere * 1000:.0f} ms collecting in other threads)"
        )
        return f"event loop late by {size} at:\n{self.stack or '(no stack sampled)'}"


_Sample = tuple[tuple[str, int | None, str], ...]  # (file, line, function), innermost last


@dataclass
class _Beat:
    due: float
    ran: float | None = None  # the thread's clocks at the previous heartbeat (None: none yet)
    waited: float | None = None
    collecting: float = 0.0
    collecting_everywhere: float = 0.0
    blocked: float = 0.0
    samples: list[_Sample] = field(default_factory=list)
    paused: bool = False
    """The loop stopped running meanwhile (a test between its phases): the lag means nothing."""


class LoopLagMonitor:
    """A heartbeat every `interval` seconds on a loop and a watchdog thread beside it.

    `start()`/`stop()` for a running loop (the app's lifespan); `attach(loop)` before a loop runs
    (the test suite watches every loop it creates). Each stall of `warn_after` or more is
    counted, logged with its stack, kept in `stalls` (the last 100) and passed to `on_stall`."""

    def __init__(
        self,
        interval: float = 0.025,
        warn_after: float = 0.1,
        *,
        on_stall: Callable[[Stall], None] | None = None,
        log_stalls: bool = True,
    ) -> None:
        self.interval, self.warn_after = interval, warn_after
        self.on_stall, self.log_stalls = on_stall, log_stalls
        self.worst = 0.0
        self.stalls: collections.deque[Stall] = collections.deque(maxlen=100)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._handle: asyncio.TimerHandle | None = None
        self._beat = _Beat(due=0.0)
        self._loop_thread: int | None = None
        self._task: Path | None = None  # /proc/self/task/<the loop thread id>
        self._watchdog: threading.Thread | None = None
        self._stopping = threading.Event()

    async def start(self) -> None:
        self.attach(asyncio.get_running_loop())

    async def stop(self) -> None:
        self.detach()

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        if _time_collections not in gc.callbacks:
            gc.callbacks.append(_time_collections)
        self._loop = loop
        self._stopping.clear()
        self._beat = _Beat(due=time.monotonic() + self.interval)
        self._handle = loop.call_later(self.interval, self._heartbeat)
        self._watchdog = threading.Thread(target=self._watch, name="hotline-loop-watchdog", daemon=True)
        self._watchdog.start()

    def detach(self) -> None:
        self._stopping.set()
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        if self._watchdog is not None and self._watchdog is not threading.current_thread():
            self._watchdog.join(timeout=1)
        self._watchdog = None

    # ------------------------------------------------------------ on the loop

    def _heartbeat(self) -> None:
        now = time.monotonic()
        ran, waited = _cpu_clocks()
        beat, self._loop_thread = self._beat, threading.get_ident()
        if self._task is None and _WAITING is not None:
            self._task = Path(f"/proc/self/task/{threading.get_native_id()}")
        lag = max(0.0, now - beat.due)
        collecting, everywhere = _collecting[self._loop_thread], _collecting[_ALL_THREADS]
        if beat.ran is not None and not beat.paused:  # the first beat only sets the clocks
            LOOP_LAG.observe(lag)
            self.worst = max(self.worst, lag)
            if lag >= self.warn_after:
                mine = collecting - beat.collecting
                stall = Stall(
                    started=beat.due, ended=now, lag=lag, ran=ran - beat.ran, blocked=beat.blocked,
                    collecting=mine, collecting_elsewhere=everywhere - beat.collecting_everywhere - mine,
                    waited_for_cpu=None if waited is None or beat.waited is None else waited - beat.waited,
                    stack=_most_seen(beat.samples),
                )  # fmt: skip
                self._stalled(stall)
        self._beat = _Beat(
            due=time.monotonic() + self.interval, ran=ran, waited=waited, collecting=collecting,
            collecting_everywhere=everywhere,
        )  # fmt: skip
        if self._loop is not None and not self._stopping.is_set() and not self._loop.is_closed():
            self._handle = self._loop.call_later(self.interval, self._heartbeat)

    def _stalled(self, stall: Stall) -> None:
        LOOP_STALLS.inc()
        self.stalls.append(stall)
        if self.log_stalls:
            waited = None if stall.waited_for_cpu is None else round(stall.waited_for_cpu * 1000)
            log.warning(
                "event loop was blocked", lag_ms=round(stall.lag * 1000), cpu_ms=round(stall.ran * 1000),
                blocked_ms=round(stall.blocked * 1000), collecting_ms=round(stall.collecting * 1000),
                collecting_elsewhere_ms=round(stall.collecting_elsewhere * 1000),
                waited_for_cpu_ms=waited, stack=stall.stack or None,
            )  # fmt: skip
        if self.on_stall is not None:
            self.on_stall(stall)

    # ------------------------------------------------------------ beside it

    def _watch(self) -> None:
        """While the heartbeat is overdue, note whether the loop's thread is blocked in a call, and
        once it is `warn_after` late, sample its stack (a dictionary of frames: only then)."""
        # Every 40 ms: often enough to see a 100 ms stall from its start, rare enough that taking
        # the GIL to look costs the loop nothing it would notice.
        tick = min(0.04, self.warn_after / 2)
        checked = sampled = 0.0
        while not self._stopping.wait(tick):
            loop = self._loop
            if loop is None or loop.is_closed():
                return
            beat, now = self._beat, time.monotonic()
            if not loop.is_running():
                beat.paused = True
                continue
            late = now - beat.due
            if beat.ran is None or late < self.interval:
                checked = now
                continue
            # The stack first, while this thread holds the GIL: reading /proc lets go of it, and a
            # loop thread running Python may keep it for a while once it has it back.
            if late >= self.warn_after and now - sampled >= self.interval:
                frame = sys._current_frames().get(self._loop_thread or -1)
                if frame is not None and beat is self._beat and len(beat.samples) < 50:
                    beat.samples.append(_sample(frame))
                    sampled = now
                del frame
            if self._blocked_in_a_call():
                beat.blocked += now - max(checked, beat.due)
            checked = now

    def _blocked_in_a_call(self) -> bool:
        if self._task is None or _WAITING is None:
            return False
        # Asleep first: a thread preempted inside a system call (ready, state R) is waiting for a
        # CPU, not blocked by the code, and one running in the kernel is counted by its CPU clock.
        try:
            if (self._task / "stat").read_text().rpartition(")")[2].split()[0] not in ("S", "D"):
                return False
            call = (self._task / "syscall").read_text().split(" ", 1)[0]
        except (OSError, IndexError):
            self._task = None  # not allowed to look (ptrace rules): count CPU time only
            return False
        return call.isdigit() and int(call) not in _WAITING  # else "running" (or -1: a fault)


def _sample(frame: FrameType) -> _Sample:
    """Where a thread is, without reading a source file: that would let go of the GIL, which a
    thread running Python may not give back before the stall is over."""
    sample = [(f.f_code.co_filename, line, f.f_code.co_name) for f, line in traceback.walk_stack(frame)]
    return tuple(reversed(sample[:30]))


def _most_seen(samples: list[_Sample]) -> str:
    """The stack sampled most often during the stall (the first of equals): where the time went.
    Formatted on the loop's thread, once per stall (the source lines come from linecache)."""
    if not samples:
        return ""
    counts = collections.Counter(samples)
    seen = max(samples, key=lambda sample: counts[sample])
    return "".join(
        traceback.StackSummary.from_list(
            [traceback.FrameSummary(f, line, name) for f, line, name in seen]
        ).format()
    )


with contextlib.suppress(OSError):
    _cpu_clocks()  # fail early (and cheaply) here rather than in the first heartbeat
