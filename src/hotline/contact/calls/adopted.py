"""Conversations a cluster's new router takes over (docs/routing.md, "One ACD for the site").

When the router's node dies, the calls it had connected go on on their voice nodes; the node
hands each conversation (caller, agent, bridge) to the new router, which sees it to its end: the
agent stays on the call (the reconciler leaves them alone), and when either side hangs up the
other is hung up, the recording is logged, the agent goes to wrap-up and the call is finished in
the log — the same lines as a call that never changed routers. The softphone's controls (hold,
transfer) do not reach a call taken over this way: it is only seen to its end.
"""

from __future__ import annotations

from typing import Protocol

import structlog
from sqlalchemy import select

from hotline.contact.events import CallRecorded
from hotline.contact.journal import StoredJournal
from hotline.contact.models import ContactEvent
from hotline.contact.queues.runner import QueueRunner
from hotline.core.context import Context
from hotline.voice.control import Bridge, Leg, settle

log = structlog.get_logger(__name__)


class Host(Protocol):
    ctx: Context
    journal: StoredJournal
    runner: QueueRunner | None


async def see_through(host: Host, caller: Leg, partner: Leg, bridge: Bridge) -> None:
    runner, call_id = host.runner, caller.id
    assert runner is not None  # noqa: S101 - adopted by a started router
    seat = next((s for s in runner.seats.values() if s.extension == partner.number), None)
    if seat is not None:
        runner.active[call_id] = seat.agent_id  # on this call: not cleared by the reconciler
    queue = await _queue_of(host.ctx, call_id)
    log.info("call taken over", call=call_id, agent=seat.agent_id if seat else None, queue=queue)
    try:
        ended = await bridge.wait()
        await settle((partner if ended is caller else caller).hang_up())
    finally:
        recording = await settle(bridge.stop())
        if recording is not None:
            agent_id = seat.agent_id if seat is not None else None
            host.journal.call(call_id, "recorded", queue=queue, detail=str(recording.mix), agent_id=agent_id)
            await host.ctx.bus.publish(CallRecorded(call_id=call_id))
        if seat is not None:
            runner.call_ended(call_id, seat, queue)
        host.journal.call(call_id, "finished", detail=f"transferred:queue:{queue}" if queue else "completed")


async def _queue_of(ctx: Context, call_id: str) -> str:
    """The queue the call was answered from, as the log has it ("" for a direct call)."""
    async with ctx.read() as session:
        queue = await session.scalar(
            select(ContactEvent.queue)
            .where(ContactEvent.call_id == call_id, ContactEvent.kind == "answered")
            .order_by(ContactEvent.id.desc())
            .limit(1)
        )
    return queue or ""
