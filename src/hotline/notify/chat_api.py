"""The web chat's visitor API (`/api/chat`, public): what the widget and the hosted chat page call.
A chat is named by the visitor's token (`X-Chat-Token`), given once when it starts; every call is
limited per client address as the `chat` kind (HOTLINE_RATE_LIMIT_CHAT) and, cross-site, allowed
only from the sites in HOTLINE_CORS_ORIGINS. Leaving a message when nobody is there makes a
ticket, so that route is the tickets domain's (tickets/chat_api.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request

from hotline.core.context import Actor, Context
from hotline.core.ratelimit import RouteKind
from hotline.core.schemas import MAX_ID
from hotline.core.web import public_as
from hotline.notify import webchat
from hotline.notify.chat_waits import MAX_WAIT, ChatWaits
from hotline.notify.schemas import (
    ChatAvailabilityOut,
    ChatEndIn,
    ChatReadIn,
    ChatSayIn,
    ChatStartedOut,
    ChatStartIn,
    ChatStateOut,
    SiteKey,
)

router = APIRouter(prefix="/api/chat", tags=["chat"])
VISITOR = Annotated[Context, Depends(public_as(RouteKind.CHAT))]
TOKEN = Annotated[
    str, Header(alias="X-Chat-Token", min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$",
                description="The token the chat's start gave")
]  # fmt: skip


def visitor_context(ctx: Context) -> Context:
    return ctx.as_actor(Actor.system("notify:web"))


_visitor = visitor_context


@router.get("/availability")
async def availability(ctx: VISITOR, site: Annotated[SiteKey, Query()] = "") -> ChatAvailabilityOut:
    """Whether an agent would answer a chat started now; if not, the window offers to leave a
    message (`/api/chat/leave-message`)."""
    return ChatAvailabilityOut(available=await webchat.agents_available(ctx, site))


@router.post("/start", status_code=201)
async def start(body: ChatStartIn, ctx: VISITOR) -> ChatStartedOut:
    """The pre-chat form and the first question: a new chat, and its token."""
    return await webchat.start(_visitor(ctx), body)


@router.get("/state")
async def state(
    token: TOKEN,
    ctx: VISITOR,
    request: Request,
    after: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    wait: Annotated[
        float,
        Query(ge=0, le=MAX_WAIT, description="Seconds to hold the answer while nothing is new (long poll)"),
    ] = 0,
) -> ChatStateOut:
    """The lines after `after`, whether an agent is typing and how far the agents have read; with
    `wait`, held until the chat moves (an answer, typing, read, closed) or `wait` runs out."""
    waits: ChatWaits | None = getattr(request.app.state.hotline, "chat_waits", None)
    return await webchat.state(ctx, token, after, wait=wait, waits=waits)


@router.post("/messages", status_code=201)
async def say(body: ChatSayIn, token: TOKEN, ctx: VISITOR) -> ChatStateOut:
    return await webchat.say(_visitor(ctx), token, body.text)


@router.post("/typing", status_code=204)
async def typing(token: TOKEN, ctx: VISITOR) -> None:
    await webchat.visitor_typing(_visitor(ctx), token)


@router.post("/read", status_code=204)
async def read(body: ChatReadIn, token: TOKEN, ctx: VISITOR) -> None:
    await webchat.visitor_read(_visitor(ctx), token, body.up_to)


@router.post("/end")
async def end(body: ChatEndIn, token: TOKEN, ctx: VISITOR) -> ChatStateOut:
    """Ends the chat: a rating (1–5) and a note, and the transcript e-mailed when asked."""
    return await webchat.end(_visitor(ctx), token, body)
