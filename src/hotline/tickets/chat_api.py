"""The web chat's 留言 (`/api/chat/leave-message`, public): when no agent is there to chat, the
visitor's window offers a form whose message becomes a ticket (tickets/intake.py). Beside the
chat's own routes (notify/chat_api.py) and limited like them, as the `chat` kind per client
address; here because a ticket is made, which notify, below tickets, cannot."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from hotline.core.context import Actor, Context
from hotline.core.ratelimit import RouteKind
from hotline.core.web import public_as
from hotline.tickets import intake
from hotline.tickets.schemas import LeaveMessageIn, MessageLeftOut

router = APIRouter(prefix="/api/chat", tags=["chat"])
VISITOR = Annotated[Context, Depends(public_as(RouteKind.CHAT))]


@router.post("/leave-message", status_code=201)
async def leave_message(body: LeaveMessageIn, ctx: VISITOR) -> MessageLeftOut:
    """A message for the agents: one ticket per `key` (a retry answers the same number)."""
    return await intake.leave_message(ctx.as_actor(Actor.system("tickets:web")), body)
