"""The route that closes a conversation with its wrap-up (contact/chat_wrapup.py). It keeps notify's
path (`/api/notify/conversations/{id}/close`, where the conversation's other routes are), but is
contact's: only contact knows whether the conversation's queue requires a wrap-up."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends

from hotline.contact import chat_wrapup
from hotline.contact.chat_schemas import ConversationCloseIn
from hotline.core.context import Context
from hotline.core.permissions import Permission
from hotline.core.web import IdPath, requires
from hotline.notify.schemas import ConversationOut

router = APIRouter(prefix="/api/notify", tags=["notify"])
SEND = Annotated[Context, Depends(requires(Permission.MESSAGES_SEND))]


@router.post("/conversations/{conversation_id}/close")
async def close_conversation(
    conversation_id: IdPath, ctx: SEND, body: Annotated[ConversationCloseIn | None, Body()] = None
) -> ConversationOut:
    """Close it with its wrap-up: a call's disposition code (required where the conversation's
    queue requires a wrap-up of its calls) and a note; the customer's next message opens a new one."""
    return await chat_wrapup.close(ctx, conversation_id, body)
