"""Call tasks (R5): callers to ring back, and calls other domains ask agents to make.

The public API other domains use is `open_call_task` and `close_call_task` (a late guest to ring,
a travel order's return visit, a complaint's result to tell), keyed by the caller's own
reference; the contact layer itself opens a task for every caller a queue left unanswered
(`missed_call`). Agents list the open tasks and mark them done.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.contact.metrics import CallEvent
from hotline.contact.models import CallbackTask, QueueDef
from hotline.contact.schemas import CallbackOut
from hotline.core import privacy
from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.core.errors import InvalidTransition
from hotline.core.permissions import Permission
from hotline.core.rows import get_or_404

REVEALABLE = privacy.revealable("callback", CallbackTask, Permission.CALLS_READ)
"""A callback task's number may be revealed (core/privacy.py)."""

MISSED = frozenset({"abandoned", "timed_out", "refused", "callback_failed", "voicemail"})
"""Lines of the event log that leave a caller unanswered: each opens (or counts on) a task."""


async def missed_call(ctx: Context, event: CallEvent) -> None:
    """A caller left a queue unanswered: open a callback task for the number, or count the miss
    on the open one. (The runner names no caller on abandons shorter than the short-abandon
    threshold: those are misdials, not tasks.)"""
    if event.kind not in MISSED or not event.caller:
        return
    async with ctx.write() as tx:
        task = await tx.session.scalar(
            select(CallbackTask).where(CallbackTask.phone == event.caller, CallbackTask.status == "open")
        )
        if task is None:
            tx.session.add(
                CallbackTask(phone=event.caller, call_id=event.call_id, queue=event.queue, reason=event.kind)
            )
        else:
            task.misses += 1
            task.last_missed_at = utcnow()


async def open_call_task(ctx: Context, phone: str, ref: str, reason: str, *, queue: str = "") -> bool:
    """A call for an agent to make that another domain asks for (a late guest to ring, H9): one
    open task per reference. False if it is open already."""
    async with ctx.write() as tx:
        open_task = select(CallbackTask.id).where(CallbackTask.call_id == ref, CallbackTask.status == "open")
        if await tx.session.scalar(open_task) is not None:
            return False
        tx.session.add(CallbackTask(phone=phone, call_id=ref, queue=queue, reason=reason))
    return True


async def close_call_task(ctx: Context, ref: str, note: str) -> None:
    """The task opened for `ref` is done (the guest arrived, the result was told); nothing when
    none is open."""
    async with ctx.write() as tx:
        task = await tx.session.scalar(
            select(CallbackTask).where(CallbackTask.call_id == ref, CallbackTask.status == "open")
        )
        if task is not None:
            task.status, task.note, task.done_at, task.done_by = "done", note, utcnow(), ctx.actor.user_id


async def list_callbacks(ctx: Context, *, status: str = "open", limit: int = 100) -> list[CallbackOut]:
    ctx.require(Permission.CALLS_READ)
    async with ctx.read() as session:
        rows = (
            await session.scalars(
                select(CallbackTask)
                .where(CallbackTask.status == status)
                .order_by(CallbackTask.created_at)
                .limit(limit)
            )
        ).all()
        titles = await queue_titles(session)
    out = [CallbackOut.model_validate(row) for row in rows]
    for task in out:
        task.queue_title = titles.get(task.queue, task.queue)
    return out


async def queue_titles(session: AsyncSession) -> dict[str, str]:
    """Each queue's name for people (酒店预订), by the name flows use (hotel)."""
    return {name: title for name, title in await session.execute(select(QueueDef.name, QueueDef.title))}


async def finish_callback(ctx: Context, task_id: int, note: str) -> CallbackOut:
    ctx.require(Permission.CALLS_HANDLE)
    async with ctx.write() as tx:
        task = await get_or_404(tx.session, CallbackTask, task_id, "callback task", field="task_id")
        if task.status == "done":
            raise InvalidTransition("This callback is done already", reason="callback-done-already")
        task.status, task.note, task.done_at, task.done_by = "done", note, utcnow(), ctx.actor.user_id
        await tx.session.flush()
        return CallbackOut.model_validate(task)


async def phone_to_dial(ctx: Context, task_id: int) -> str:
    """The number of an open callback task, for click-to-dial (it never reaches the agent)."""
    ctx.require(Permission.CALLS_HANDLE)
    async with ctx.read() as session:
        task = await get_or_404(session, CallbackTask, task_id, "callback task", field="body.callback_id")
        if task.status != "open":
            raise InvalidTransition("This callback is done already", reason="callback-done-already")
        return task.phone


async def count_open(ctx: Context) -> int:
    """How many callers wait for a callback (exact: the floor's alert says it as it is)."""
    ctx.require(Permission.CALLS_READ)
    async with ctx.read() as session:
        found = await session.scalar(select(func.count(CallbackTask.id)).where(CallbackTask.status == "open"))
    return int(found or 0)
