"""The stored side of the contact event log: what the queue runner and the IVR record, appended
to `contact_events` in order, a batch at a time, off the call path.

The runner's clock is the event loop's (monotonic, virtual in a simulation); lines are stamped
with wall-clock time here, from the offset between the two taken when the journal starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import UTC, datetime

import structlog
from sqlalchemy import insert

from hotline.contact.metrics import AgentEvent, CallEvent
from hotline.contact.models import ContactEvent
from hotline.core.context import Context

log = structlog.get_logger(__name__)


class StoredJournal:
    def __init__(self, ctx: Context, *, every: float = 0.2) -> None:
        self.ctx, self.every = ctx, every
        self._pending: list[dict[str, object]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._offset = 0.0
        self._lock = asyncio.Lock()

    def start(self) -> None:
        self._offset = time.time() - asyncio.get_running_loop().time()
        self._task = asyncio.create_task(self._run(), name="contact-journal")

    def wall(self, at: float) -> datetime:
        return datetime.fromtimestamp(at + self._offset, UTC)

    def __call__(self, event: CallEvent | AgentEvent) -> None:
        if isinstance(event, CallEvent):
            row: dict[str, object] = {
                "at": self.wall(event.at), "kind": event.kind, "call_id": event.call_id,
                "agent_id": event.agent_id, "queue": event.queue, "state": event.state[:16],
                "detail": event.detail[:400],
            }  # fmt: skip
        else:
            row = {
                "at": self.wall(event.at), "kind": "agent", "call_id": event.call_id,
                "agent_id": event.agent_id, "queue": event.queues[:64], "state": event.state,
                "detail": event.reason[:400],
            }  # fmt: skip
        self._pending.append(row)
        self._wake.set()

    def call(
        self,
        call_id: str,
        kind: str,
        *,
        queue: str = "",
        detail: str = "",
        agent_id: int | None = None,
        state: str = "",
    ) -> None:
        """A call line from outside the runner (arrived, an IVR node with its kind in `state`, a
        transfer, the end of a flow)."""
        self(
            CallEvent(asyncio.get_running_loop().time(), call_id, kind, queue, agent_id, detail, state=state)
        )

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            await asyncio.sleep(self.every)
            try:
                await self.flush()
            except Exception as exc:  # the database is down: keep the lines and try again
                log.error("contact journal write failed", error=repr(exc), pending=len(self._pending))
                await asyncio.sleep(1.0)
                self._wake.set()

    async def flush(self) -> None:
        async with self._lock:
            if not self._pending:
                return
            batch = self._pending[:]
            async with self.ctx.db.write() as session:
                await session.execute(insert(ContactEvent), batch)
            del self._pending[: len(batch)]

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(Exception):
            await self.flush()
