"""The wrap-up (会话小结) of a conversation (issue 24): an agent closing a chat, an SMS or a WeChat
thread says what it was with the codes calls use (calls/wrapup.py `DISPOSITIONS`: one list, not a
parallel one) and an optional note. Where the conversation's queue requires a wrap-up of its calls
(`QueueDef.wrap_required`), closing without a code is refused (422 on `body.disposition`). Notify
keeps it on the conversation, audits it and puts it on the customer's timeline
(`conversations.close`). A conversation that never entered a queue requires none. Closed with
`callback` (需回电), it opens a call task to ring the customer back (chat_callbacks.py), or is
refused when there is no number to ring."""

from __future__ import annotations

from sqlalchemy import select

from hotline.contact import chat_callbacks
from hotline.contact.calls.wrapup import DISPOSITIONS
from hotline.contact.chat_schemas import ConversationCloseIn
from hotline.contact.models import QueueDef
from hotline.core.context import Context
from hotline.core.errors import InvalidInput, InvalidTransition, NotFound
from hotline.core.permissions import Permission
from hotline.notify import conversations, tasks
from hotline.notify.schemas import ConversationOut


async def close(ctx: Context, conversation_id: int, data: ConversationCloseIn | None) -> ConversationOut:
    """Close a conversation with its wrap-up: refused without a code where its queue requires one,
    and refused (409) when it is closed already."""
    ctx.require(Permission.MESSAGES_SEND)
    data = data or ConversationCloseIn()
    task = await tasks.task(ctx, conversation_id)
    if task is None:
        raise NotFound(
            f"No conversation {conversation_id}", field="conversation_id", reason="no-conversation",
            params={"conversation_id": conversation_id},
        )  # fmt: skip
    if not task.open:
        raise InvalidTransition(
            "The conversation is closed", field="conversation_id", reason="conversation-closed"
        )
    if data.disposition is None and await wrap_required(ctx, task.queue):
        raise InvalidInput(
            "This conversation's queue requires a wrap-up code", field="body.disposition",
            reason="wrap-up-code-required", params={"queue": task.queue or ""},
        )  # fmt: skip
    number = await chat_callbacks.number_for(ctx, task) if data.disposition == "callback" else None
    if number is not None:  # before the close: a close that fails leaves the task, and a retry opens none
        await chat_callbacks.ring_back(ctx, task, number)
    wrap = None
    if data.disposition is not None:
        wrap = conversations.WrapUp(data.disposition, DISPOSITIONS[data.disposition], data.note)
    return await conversations.close(ctx, conversation_id, wrap)


async def wrap_required(ctx: Context, queue: str | None) -> bool:
    """Whether the queue requires a wrap-up of what it routes (False outside any queue)."""
    if queue is None:
        return False
    async with ctx.read() as session:
        required = await session.scalar(select(QueueDef.wrap_required).where(QueueDef.name == queue))
    return bool(required)
