"""CPU-heavy work off the event loop: worker processes with a time and a memory limit.

The event loop belongs to live calls: it paces every prompt frame and relays every RTP packet,
so a request that computes for 300 ms is 15 frames late for every caller on the node. Anything
whose cost grows with its input (staffing maths, PDFs, spreadsheets, file imports, later
recording analysis and reports) goes through `Context.compute` (or a `ComputePool` directly),
which runs it in a worker process and gives up after its time limit by killing that worker —
a thread cannot be stopped, a process can (docs/decisions/0003-compute-pool.md).

- Workers are forked from a fork server that has already imported Hotline, so one starts in
  milliseconds; they live until the pool stops, run at a lower CPU priority than the node
  (nice 5) and may use at most `memory_mib` of memory.
- A call waits for a free worker when all are busy; when `backlog` calls already wait, or none
  frees up within the limit, it fails at once with `ComputeBusy` (503 and Retry-After).
- A call that runs past its limit fails with `ComputeTooLong` (503) and its worker is killed; one
  that runs out of memory fails with `ComputeTooBig` (503) and its worker is replaced.
- What runs here must be a module-level function whose arguments and result pickle; domain
  errors raised in it reach the caller unchanged (HotlineError pickles with its fields). As with
  any use of multiprocessing, a script that starts a pool runs its main code under
  `if __name__ == "__main__":` (a worker imports the main script).
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import resource
import signal
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, TypeVar, TypeVarTuple

import structlog
from prometheus_client import Counter

from hotline.core.config import Settings
from hotline.core.errors import HotlineError

log = structlog.get_logger(__name__)
T = TypeVar("T")
Ts = TypeVarTuple("Ts")
WORKER_NICENESS = 5
REFUSED = Counter(
    "hotline_compute_refused_total",
    "Computations stopped at the time or memory limit, or refused with every worker busy",
    ["reason"],  # time, memory, busy
)
PRELOAD = ("hotline.api.app", "hotline.cli")
"""What the fork server imports before it forks any worker (it is one per process, started by
the first pool that needs a worker): all of Hotline, so a worker is ready in milliseconds."""


class ComputeTooLong(HotlineError):
    code = "computation-too-long"
    status = 503
    title = "The computation took too long and was stopped"


class ComputeTooBig(HotlineError):
    code = "computation-too-big"
    status = 503
    title = "The computation needed too much memory and was stopped"


class ComputeBusy(HotlineError):
    code = "compute-busy"
    status = 503
    title = "Busy with other computations, try again shortly"


def default_workers() -> int:
    """All cores but one: the event loop keeps a core of its own even when every worker is busy."""
    return max(1, (os.cpu_count() or 2) - 1)


def _serve(jobs: Connection, memory_bytes: int) -> None:
    """A worker: run one job at a time until the pool closes its end of the pipe."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the node, which stops us
    os.nice(WORKER_NICENESS)  # on a busy machine the node's event loop goes first
    if memory_bytes:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    while True:
        try:
            fn, args = jobs.recv()
        except EOFError:
            return
        try:
            answer: tuple[bool, Any] = (True, fn(*args))
        except BaseException as exc:  # everything goes back to the caller, MemoryError included
            answer = (False, exc)
        try:
            jobs.send(answer)
        except Exception as exc:  # a result or an exception that does not pickle
            jobs.send((False, RuntimeError(f"{type(exc).__name__}: {exc} (sending back {fn.__name__})")))


@dataclass(eq=False)
class _Worker:
    process: BaseProcess
    jobs: Connection
    busy: asyncio.Future[Any] | None = None
    """The thread writing to or reading from the pipe, while a job runs."""


class ComputePool:
    """Worker processes for CPU-heavy calls; `start()` and `stop()` are the owner's (the app's
    lifespan, the CLI, a test fixture), `run()` everyone's."""

    def __init__(
        self,
        workers: int | None = None,
        *,
        limit: float = 30.0,
        memory_mib: int = 1024,
        backlog: int = 32,
    ) -> None:
        self.workers = workers or default_workers()
        self.limit, self.memory_mib, self.backlog = limit, memory_mib, backlog
        self._idle: list[_Worker] = []
        self._size = 0  # workers alive or being started
        self._waiting: deque[asyncio.Future[_Worker]] = deque()
        self._chores: set[asyncio.Task[None]] = set()
        self._running = False
        self.stopped_for_time = 0
        """Calls stopped at their time limit since start (also in /metrics: REFUSED)."""

    @classmethod
    def from_settings(cls, settings: Settings) -> ComputePool:
        return cls(
            settings.compute_workers or None,
            limit=settings.compute_seconds,
            memory_mib=settings.compute_memory_mib,
        )

    async def start(self, *, warm: bool = False) -> None:
        """Ready to run; with `warm`, a first worker is started in the background at once (else on
        the first call: the first one in a process waits seconds for the fork server to import
        Hotline)."""
        self._running = True
        if warm and self._size == 0:
            self._size += 1
            self._chore(self._replace())

    async def stop(self) -> None:
        self._running = False
        for waiter in self._waiting:
            waiter.cancel()
        self._waiting.clear()
        # Workers being ended are waited for (killed, their pipe thread done); one being started
        # is ended as it arrives (`_give_back` sees the pool stopped).
        while self._chores:
            await asyncio.gather(*self._chores, return_exceptions=True)
        idle, self._idle = self._idle, []
        self._size -= len(idle)
        await asyncio.gather(*(self._end(worker) for worker in idle))

    async def run(self, fn: Callable[[*Ts], T], *args: *Ts, limit: float | None = None) -> T:
        """`fn(*args)` in a worker; its result, or its exception, or a 503 domain error when it
        overran `limit` seconds (the pool's limit by default) or the memory limit."""
        if not self._running:
            raise RuntimeError("the compute pool is not running")
        seconds = self.limit if limit is None else limit
        worker = await self._take(seconds)
        loop = asyncio.get_running_loop()
        finished = False
        try:
            # The pipe is written and read by threads: a large argument or result moves at the
            # worker's pace, which may be slow on a busy machine, and the loop must not wait for it.
            worker.busy = loop.run_in_executor(None, worker.jobs.send, (fn, args))
            await asyncio.shield(worker.busy)  # (if we are cancelled, `_end` waits for the thread)
            worker.busy = loop.run_in_executor(None, worker.jobs.recv)
            done, _ = await asyncio.wait({worker.busy}, timeout=seconds)
            if not done:
                self.stopped_for_time += 1
                REFUSED.labels("time").inc()
                log.warning("computation stopped at its time limit", function=fn.__qualname__, limit=seconds)
                raise ComputeTooLong(
                    f"{fn.__qualname__} ran for more than {seconds:g} s; narrow the request",
                    limit=seconds,
                    reason="ran-more-narrow-request",
                    params={"qualname": fn.__qualname__, "seconds": format(seconds, "g")},
                )
            try:
                ok, value = worker.busy.result()
            except (EOFError, OSError) as exc:
                raise RuntimeError(f"the compute worker running {fn.__qualname__} died") from exc
            worker.busy = None
            finished = not (not ok and isinstance(value, MemoryError))
        finally:
            if finished:
                self._give_back(worker)
            else:  # still computing, dead, or not to be trusted after running out of memory
                self._retire(worker)
        if ok:
            return value  # type: ignore[no-any-return]
        if isinstance(value, MemoryError):
            REFUSED.labels("memory").inc()
            raise ComputeTooBig(
                f"{fn.__qualname__} needed more than {self.memory_mib} MiB",
                reason="needed-more-mib",
                params={"qualname": fn.__qualname__, "memory_mib": self.memory_mib},
            ) from None
        raise value

    # ------------------------------------------------------------ workers

    async def _take(self, seconds: float) -> _Worker:
        if self._idle:
            return self._idle.pop()
        if self._size < self.workers:
            self._size += 1
            try:
                return await self._spawn()
            except BaseException:
                self._size -= 1
                raise
        if len(self._waiting) >= self.backlog:
            REFUSED.labels("busy").inc()
            raise ComputeBusy(
                f"{len(self._waiting)} computations are already waiting",
                retry_after=5,
                reason="computations-already-waiting",
                params={"count": len(self._waiting)},
            )
        turn: asyncio.Future[_Worker] = asyncio.get_running_loop().create_future()
        self._waiting.append(turn)
        try:
            return await asyncio.wait_for(asyncio.shield(turn), seconds)
        except (TimeoutError, asyncio.CancelledError) as exc:
            if turn.done() and not turn.cancelled():
                self._give_back(turn.result())  # handed to us just as we gave up
            turn.cancel()
            if isinstance(exc, TimeoutError):
                REFUSED.labels("busy").inc()
                log.warning(
                    "no compute worker came free", limit=seconds, workers=self._size,
                    waiting=len(self._waiting), idle=len(self._idle),
                )  # fmt: skip
                raise ComputeBusy(
                    f"no worker came free within {seconds:g} s",
                    retry_after=5,
                    reason="no-worker-came-free-within",
                    params={"seconds": format(seconds, "g")},
                ) from None
            raise
        finally:
            with contextlib.suppress(ValueError):
                self._waiting.remove(turn)

    def _give_back(self, worker: _Worker) -> None:
        if not self._running:  # a pool started again must not count it
            self._size -= 1
            self._chore(self._end(worker))
            return
        while self._waiting:
            turn = self._waiting.popleft()
            if not turn.done():
                turn.set_result(worker)
                return
        self._idle.append(worker)

    def _retire(self, worker: _Worker) -> None:
        self._size -= 1
        self._chore(self._end(worker, kill=True))
        if self._running and self._waiting and self._size < self.workers:
            self._size += 1
            self._chore(self._replace())

    async def _replace(self) -> None:
        try:
            worker = await self._spawn()
        except BaseException:
            self._size -= 1
            raise
        self._give_back(worker)

    async def _spawn(self) -> _Worker:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(list(PRELOAD))  # heeded when the fork server starts
        theirs_end, our_end = context.Pipe(duplex=True)
        memory = self.memory_mib * 1024 * 1024
        process = context.Process(
            target=_serve, args=(theirs_end, memory), name="hotline-compute", daemon=True
        )
        # Starting talks to the fork server (and starts it the first time): not on the loop.
        await asyncio.to_thread(process.start)
        theirs_end.close()
        return _Worker(process, our_end)

    async def _end(self, worker: _Worker, *, kill: bool = False) -> None:
        loop = asyncio.get_running_loop()
        if kill:
            worker.process.kill()
        if worker.busy is not None:  # the thread on the pipe ends once the process has gone
            await asyncio.wait({worker.busy})
            if not worker.busy.cancelled():
                worker.busy.exception()  # (EOF or a broken pipe: expected, and not to be logged)
        worker.jobs.close()  # an idle worker reads the end of its pipe and returns
        await loop.run_in_executor(None, worker.process.join, 5)
        if worker.process.exitcode is None:
            worker.process.kill()
            await loop.run_in_executor(None, worker.process.join, 5)

    def _chore(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self._chores.add(task)
        task.add_done_callback(self._chores.discard)
