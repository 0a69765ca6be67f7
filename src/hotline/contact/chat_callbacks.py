"""需回电 on a conversation (issue 24): an agent closing a chat, an SMS or a WeChat thread with the
wrap-up code `callback` asks for the customer to be rung back, as the call's wrap-up does
(calls/wrapup.py): a call task (callbacks.py `open_call_task`) in the conversation's queue,
referenced `conversation:<id>` — one per conversation, a retry opens no second one.

The number is the linked customer's preferred phone (crm), else the SMS thread's own number, else
the phone a web chat visitor proved (notify/tasks.py `number_to_ring`). Without any, the close is
refused before anything changes: the agent links the customer first."""

from __future__ import annotations

from hotline.contact import callbacks
from hotline.core.context import Context
from hotline.core.errors import InvalidInput
from hotline.crm import directory as customers
from hotline.notify import tasks

REASON = "chat_callback"
"""The call task's reason (坐席会话约回电), beside the call's `agent_callback`."""


def reference(conversation_id: int) -> str:
    return f"conversation:{conversation_id}"


async def number_for(ctx: Context, task: tasks.Task) -> str:
    """The number to ring the conversation's customer back on; 422 on `body.disposition` when the
    conversation gives none."""
    number: str | None = None
    if task.customer_id is not None:
        async with ctx.read() as session:
            number = await customers.preferred_phone(session, task.customer_id)
    number = number or await tasks.number_to_ring(ctx, task.id)
    if not number:
        raise InvalidInput(
            "There is no number to ring back: link the conversation to its customer first",
            field="body.disposition", reason="no-callback-number",
        )  # fmt: skip
    return number


async def ring_back(ctx: Context, task: tasks.Task, number: str) -> bool:
    """Open the call task (False: the conversation has an open one already)."""
    return await callbacks.open_call_task(ctx, number, reference(task.id), REASON, queue=task.queue or "")
