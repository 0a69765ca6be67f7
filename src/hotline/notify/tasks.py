"""Conversations as the ACD's tasks, notify's side (issue 24): what the chat desk of the contact
layer (contact/chat_desk.py) reads of the open conversations and writes back — the queue a
conversation entered and when (its place in line, kept across transfers and restarts), and the
agent who has it. The decisions are the contact layer's; the rows are notify's.

Every write is conditional on the row as the desk saw it (still open, still with nobody or with
the agent it names), so a conversation closed or taken in the meantime is never given twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update

from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.notify.events import ConversationChanged
from hotline.notify.models import ChatVisitor, Conversation


@dataclass(frozen=True)
class Task:
    id: int
    channel: str
    customer_id: int | None
    topic: str
    """Web chat: what the visitor chose in the pre-chat form (hotel, travel, complaint, other)."""
    queue: str | None
    priority: int
    queued_at: datetime | None
    assigned_to: int | None
    open: bool


def _task(row: Conversation, topic: str | None) -> Task:
    return Task(
        row.id, row.channel, row.customer_id, topic or "", row.queue, row.priority, row.queued_at,
        row.assigned_to, row.status == "open",
    )  # fmt: skip


async def open_tasks(ctx: Context) -> list[Task]:
    """Every open conversation, oldest in line first: what a desk starting up routes again."""
    async with ctx.read() as session:
        rows = await session.execute(
            select(Conversation, ChatVisitor.topic)
            .outerjoin(ChatVisitor, ChatVisitor.conversation_id == Conversation.id)
            .where(Conversation.status == "open")
            .order_by(Conversation.queued_at, Conversation.created_at, Conversation.id)
        )
        return [_task(row, topic) for row, topic in rows.all()]


async def holders(ctx: Context) -> dict[int, int | None]:
    """Every open conversation and the agent who has it (None: nobody): what the desk's reconciler
    compares with what it believes, every few seconds — two columns, not a thousand rows' objects."""
    async with ctx.read() as session:
        rows = await session.execute(
            select(Conversation.id, Conversation.assigned_to).where(Conversation.status == "open")
        )
        return {int(cid): agent for cid, agent in rows.all()}


async def task(ctx: Context, conversation_id: int) -> Task | None:
    async with ctx.read() as session:
        found = (
            await session.execute(
                select(Conversation, ChatVisitor.topic)
                .outerjoin(ChatVisitor, ChatVisitor.conversation_id == Conversation.id)
                .where(Conversation.id == conversation_id)
            )
        ).first()
    return _task(*found) if found is not None else None


async def enter(ctx: Context, conversation_id: int, queue: str, priority: int) -> datetime | None:
    """The conversation waits in this queue from now, unless it has a place already (it keeps
    it); returns its entry time, None when it is closed or has an agent."""
    async with ctx.write() as tx:
        row = await tx.session.get(Conversation, conversation_id, with_for_update=True)
        if row is None or row.status != "open" or row.assigned_to is not None:
            return None
        if row.queued_at is None or row.queue != queue:
            row.queue, row.priority = queue, priority
            row.queued_at = row.queued_at or utcnow()
        return row.queued_at


async def assign(ctx: Context, conversation_id: int, agent_id: int, queue: str) -> bool:
    """The ACD gives the conversation to an agent: only if it is still open and with nobody."""
    async with ctx.write() as tx:
        done = await tx.session.execute(
            update(Conversation)
            .where(
                Conversation.id == conversation_id,
                Conversation.status == "open",
                Conversation.assigned_to.is_(None),
            )
            .values(
                assigned_to=agent_id,
                assigned_at=utcnow(),
                queue=queue,
                first_assigned_at=func.coalesce(Conversation.first_assigned_at, utcnow()),
            )
        )
        if not done.rowcount:  # type: ignore[attr-defined]
            return False
        channel = await tx.session.scalar(
            select(Conversation.channel).where(Conversation.id == conversation_id)
        )
        tx.publish(
            ConversationChanged(conversation_id=conversation_id, channel=channel or "", action="assigned")
        )
        return True


async def hand_over(
    ctx: Context, conversation_id: int, *, from_agent: int | None, to_agent: int | None, queue: str | None
) -> bool:
    """A transfer: to another agent by name, or back into a queue (keeping its place in line)."""
    async with ctx.write() as tx:
        row = await tx.session.get(Conversation, conversation_id, with_for_update=True)
        if row is None or row.status != "open" or row.assigned_to != from_agent:
            return False
        before = {"agent": row.assigned_to, "queue": row.queue}
        row.assigned_to = to_agent
        row.assigned_at = utcnow() if to_agent is not None else None
        row.first_assigned_at = row.first_assigned_at or row.assigned_at
        if queue is not None:
            row.queue = queue
        row.queued_at = row.queued_at or utcnow()
        tx.audit(
            "notify.conversation_transferred", "conversation", row.id, before=before,
            after={"agent": row.assigned_to, "queue": row.queue},
        )  # fmt: skip
        tx.publish(ConversationChanged(conversation_id=row.id, channel=row.channel, action="transferred"))
        return True


async def number_to_ring(ctx: Context, conversation_id: int) -> str | None:
    """The number the conversation itself gives to ring its customer back on (需回电): an SMS
    thread's own (its address), else the phone a web chat visitor proved (an SMS code, a member
    token's); None for WeChat and WeCom (an OpenID is no number) and for a visitor who proved none
    (the pre-chat form's phone proves nothing)."""
    async with ctx.read() as session:
        found = (
            await session.execute(
                select(Conversation.channel, Conversation.address, ChatVisitor.verified_phone)
                .outerjoin(ChatVisitor, ChatVisitor.conversation_id == Conversation.id)
                .where(Conversation.id == conversation_id)
            )
        ).first()
    if found is None:
        return None
    channel, address, verified = found
    if channel == "sms" and address:
        return str(address)
    return str(verified) if verified else None
