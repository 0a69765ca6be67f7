"""Routes of the web chat's identification (notify/chat_identity.py): the visitor's (public,
`/api/chat`, named by the chat's token and limited like the chat's other calls) and the
administrators' chat sites (`/api/notify/chat-sites`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from hotline.core.context import Context
from hotline.core.permissions import Permission
from hotline.core.web import requires
from hotline.notify import chat_identity
from hotline.notify.chat_api import TOKEN, VISITOR, visitor_context
from hotline.notify.chat_identity_schemas import (
    ChatCodeIn,
    ChatCodeSentOut,
    ChatMemberIn,
    ChatSiteIn,
    ChatSiteOut,
    ChatVerifyIn,
)
from hotline.notify.schemas import ChatStateOut, SiteKey

visitors = APIRouter(prefix="/api/chat", tags=["chat"])
admins = APIRouter(prefix="/api/notify", tags=["notify"])
SITES = Annotated[Context, Depends(requires(Permission.GATEWAYS_WRITE))]


@visitors.post("/verify/send", status_code=202)
async def send_code(body: ChatCodeIn, token: TOKEN, ctx: VISITOR) -> ChatCodeSentOut:
    """Texts a 6-digit code to the phone (valid 5 minutes; one a minute, five an hour a number)."""
    return await chat_identity.send_code(visitor_context(ctx), token, body)


@visitors.post("/verify")
async def verify(body: ChatVerifyIn, token: TOKEN, ctx: VISITOR) -> ChatStateOut:
    """The code texted: the visitor is verified for that phone (five wrong tries use a code up)."""
    return await chat_identity.verify_code(visitor_context(ctx), token, body)


@visitors.post("/identify")
async def identify(body: ChatMemberIn, token: TOKEN, ctx: VISITOR) -> ChatStateOut:
    """The partner site's signed member token (JWT HS256, `aud` = the site key, 15 minutes at most)."""
    return await chat_identity.identify_member(visitor_context(ctx), token, body)


@admins.get("/chat-sites")
async def get_sites(ctx: SITES) -> list[ChatSiteOut]:
    """The sites carrying the chat widget; member-token secrets are never shown, only whether set."""
    return await chat_identity.sites(ctx)


@admins.put("/chat-sites/{site}")
async def put_site(site: Annotated[SiteKey, Path(min_length=1)], body: ChatSiteIn, ctx: SITES) -> ChatSiteOut:
    return await chat_identity.set_site(ctx, site, body)


@admins.delete("/chat-sites/{site}/member-secret")
async def remove_member_secret(site: Annotated[SiteKey, Path(min_length=1)], ctx: SITES) -> ChatSiteOut:
    """The site takes no member tokens any more (one sent is refused like a wrongly signed one)."""
    return await chat_identity.remove_member_secret(ctx, site)
