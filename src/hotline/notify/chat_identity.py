"""Who a web chat visitor is (issue 24, item 1). The pre-chat form's phone is only what the
visitor says: anyone can type someone else's number, so it links the chat to nobody's file. A
visitor proves a phone one of two ways, and only then is the chat linked to the customer whose
file has that number (crm's `cards_by_phone`):

- **an SMS code**: `send_code` texts a 6-digit code to the phone through the outbox (service
  template `notify.chat_code.sms`); only its hash is kept, it is valid `CODE_TTL`, `MAX_TRIES` wrong
  tries use it up, a new one can be asked `RESEND_AFTER` after the last (to that number or in that
  chat — which also makes a retried request send nothing twice), and a number gets at most
  `PER_NUMBER_HOURLY` codes an hour, whichever chats ask (no SMS bombing through our gateway);
- **a member token** the partner site signed for its logged-in member (notify/member_token.py)
  with the secret an administrator set for that site (`chat_sites`, never shown back).

The agent's thread shows which (已验证（短信）/ 已验证（会员） and the member id) or that the
stated phone is 未验证; an agent may still link the chat by hand. Each verification is audited.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from datetime import timedelta

from sqlalchemy import func, or_, select

from hotline.core.clock import as_utc, utcnow
from hotline.core.context import Context, Tx
from hotline.core.errors import HotlineError, InvalidInput, NotFound, PermissionDenied
from hotline.core.permissions import Permission
from hotline.core.ratelimit import RateLimited
from hotline.crm import directory as customers
from hotline.notify import defaults, member_token, webchat
from hotline.notify.chat_identity_schemas import (
    ChatCodeIn,
    ChatCodeSentOut,
    ChatMemberIn,
    ChatSiteIn,
    ChatSiteOut,
    ChatVerifyIn,
)
from hotline.notify.events import ConversationChanged, ConversationNotice
from hotline.notify.models import ChatCode, ChatSite, ChatVisitor, Conversation
from hotline.notify.outbox import enqueue, sms_address
from hotline.notify.schemas import ChatStateOut

CODE_TEMPLATE = "notify.chat_code.sms"
CODE_TTL = timedelta(minutes=5)
MAX_TRIES = 5
RESEND_AFTER = timedelta(seconds=60)
PER_NUMBER_HOURLY = 5


async def send_code(ctx: Context, token: str, data: ChatCodeIn) -> ChatCodeSentOut:
    """Texts a new code to `data.phone` for this chat (the codes asked before in it are void)."""
    phone, now = sms_address(data.phone), utcnow()
    async with ctx.write() as tx:
        visitor, conversation = await webchat.by_token(tx.session, token, lock=True)
        webchat.still_open(conversation)
        await _may_send(tx, conversation.id, phone)
        template = await defaults.installed(tx.session, CODE_TEMPLATE)
        if template is None:
            raise InvalidInput("SMS codes are switched off", field="body.phone", reason="chat-code-off")
        code = f"{secrets.randbelow(1_000_000):06d}"
        row = ChatCode(conversation_id=conversation.id, phone=phone, code_hash=_hash(visitor, code),
                       sent_at=now, expires_at=now + CODE_TTL)  # fmt: skip
        tx.session.add(row)
        await tx.session.flush()
        values = ConversationNotice(occasion="chat_code", ref=f"conversation:{conversation.id}", phone=phone,
                                    code=code).model_dump()  # fmt: skip
        await enqueue(tx.session, key=f"chat-code:{row.id}", template=template, values=values,
                      recipient=phone, customer_id=None, ref=values["ref"])  # fmt: skip
        tx.audit("notify.chat_code_sent", "conversation", conversation.id, after={"code": row.id})
    return ChatCodeSentOut(phone=phone, expires_in=int(CODE_TTL.total_seconds()),
                           resend_in=int(RESEND_AFTER.total_seconds()))  # fmt: skip


async def verify_code(ctx: Context, token: str, data: ChatVerifyIn) -> ChatStateOut:
    """The code the visitor typed: right, the chat is theirs for that phone (and their file's, if
    a customer has it); wrong, one try fewer (kept, though the request is refused)."""
    refused: HotlineError | None = None
    async with ctx.write() as tx:
        visitor, conversation = await webchat.by_token(tx.session, token, lock=True)
        row = await tx.session.scalar(
            select(ChatCode)
            .where(ChatCode.conversation_id == conversation.id)
            .order_by(ChatCode.id.desc())
            .limit(1)
        )
        if (
            row is not None
            and row.used_at is not None
            and hmac.compare_digest(row.code_hash, _hash(visitor, data.code))
        ):
            return await webchat.window(
                tx.session, conversation, visitor
            )  # a retry of the request that verified
        if row is None or row.used_at is not None:
            raise InvalidInput("Ask for a code first", field="body.code", reason="chat-code-none")
        if as_utc(row.expires_at) <= utcnow():
            raise InvalidInput("The code has expired; ask for a new one", field="body.code",
                               reason="chat-code-expired")  # fmt: skip
        if row.tries >= MAX_TRIES:
            raise InvalidInput("Too many wrong codes; ask for a new one", field="body.code",
                               reason="chat-code-tries-used", params={"most": MAX_TRIES})  # fmt: skip
        if not hmac.compare_digest(row.code_hash, _hash(visitor, data.code)):
            row.tries += 1
            left = MAX_TRIES - row.tries
            refused = InvalidInput("The code is wrong", field="body.code", reason="chat-code-wrong",
                                   params={"left": left})  # fmt: skip
            if left == 0:
                refused = InvalidInput("Too many wrong codes; ask for a new one", field="body.code",
                                       reason="chat-code-tries-used", params={"most": MAX_TRIES})  # fmt: skip
        else:
            row.used_at = utcnow()
            await _identified(tx, conversation, visitor, "sms", row.phone, "")
            shown = await webchat.window(tx.session, conversation, visitor)
    if refused is not None:
        raise refused
    return shown


async def identify_member(ctx: Context, token: str, data: ChatMemberIn) -> ChatStateOut:
    """The partner site's signed token for its logged-in member (member_token.py)."""
    async with ctx.write() as tx:
        visitor, conversation = await webchat.by_token(tx.session, token, lock=True)
        site = await tx.session.get(ChatSite, visitor.site) if visitor.site else None
        try:
            member = member_token.check(data.member_token, secret=site.member_secret if site else "",
                                        site=visitor.site, now=utcnow())  # fmt: skip
        except member_token.MemberTokenRefused as error:
            raise PermissionDenied(str(error), field="body.member_token", reason=error.reason) from error
        if member.email and not visitor.email:
            visitor.email = member.email
        phone = sms_address(member.phone) if member.phone else ""
        await _identified(tx, conversation, visitor, "member", phone, member.id)
        return await webchat.window(tx.session, conversation, visitor)


async def _identified(
    tx: Tx, conversation: Conversation, visitor: ChatVisitor, by: str, phone: str, member_id: str
) -> None:
    """The visitor proved `phone` (or is `member_id` of the site): the chat becomes the file's of
    the customer with that number, unless an agent linked it already."""
    visitor.verified_by, visitor.verified_phone, visitor.member_id = by, phone, member_id
    visitor.verified_at = utcnow()
    card = (await customers.cards_by_phone(tx.session, [phone])).get(phone) if phone else None
    linked = conversation.customer_id is None and card is not None
    if linked and card is not None:
        conversation.customer_id = card.id
    await tx.session.flush()
    tx.audit("notify.chat_verified", "conversation", conversation.id,
             after={"by": by, "member_id": member_id, "customer_id": conversation.customer_id})  # fmt: skip
    tx.publish(ConversationChanged(conversation_id=conversation.id, channel="web",
                                   action="linked" if linked else "received"))  # fmt: skip


async def _may_send(tx: Tx, conversation_id: int, phone: str) -> None:
    now = utcnow()
    last = await tx.session.scalar(
        select(func.max(ChatCode.sent_at)).where(
            or_(ChatCode.conversation_id == conversation_id, ChatCode.phone == phone)
        )
    )
    if last is not None and now - as_utc(last) < RESEND_AFTER:
        seconds = max(1, math.ceil((RESEND_AFTER - (now - as_utc(last))).total_seconds()))
        raise RateLimited("A code was sent a moment ago", field="body.phone", reason="chat-code-too-soon",
                          params={"seconds": seconds}, retry_after=seconds)  # fmt: skip
    sent = await tx.session.scalar(
        select(func.count()).where(ChatCode.phone == phone, ChatCode.sent_at > now - timedelta(hours=1))
    )
    if (sent or 0) >= PER_NUMBER_HOURLY:
        raise RateLimited("This number had enough codes this hour", field="body.phone",
                          reason="chat-code-hourly-cap", params={"most": PER_NUMBER_HOURLY},
                          retry_after=3600)  # fmt: skip


def _hash(visitor: ChatVisitor, code: str) -> str:
    """Keyed by the chat's token hash: a code is worth nothing in another chat."""
    return hmac.new(visitor.token_hash.encode(), code.encode(), hashlib.sha256).hexdigest()


# ---------------------------------------------------------------- the sites (administrators)


async def sites(ctx: Context) -> list[ChatSiteOut]:
    ctx.require(Permission.GATEWAYS_WRITE)
    async with ctx.read() as session:
        return [_site_out(s) for s in await session.scalars(select(ChatSite).order_by(ChatSite.site))]


async def set_site(ctx: Context, site: str, data: ChatSiteIn) -> ChatSiteOut:
    """Names a site and sets (or, with "", removes) its member-token secret; left out, the stored
    secret stays."""
    ctx.require(Permission.GATEWAYS_WRITE)
    async with ctx.write() as tx:
        row = await tx.session.get(ChatSite, site, with_for_update=True)
        if row is None:
            row = ChatSite(site=site, name="", member_secret="")
            tx.session.add(row)
        row.name = data.name
        if data.member_secret is not None:
            row.member_secret = data.member_secret
        await tx.session.flush()
        return _site_out(row)


async def remove_member_secret(ctx: Context, site: str) -> ChatSiteOut:
    """The site takes no member tokens from now on (one sent is refused at `body.member_token`, as
    a wrongly signed one is); its chats are still taken. Audited when there was a secret."""
    ctx.require(Permission.GATEWAYS_WRITE)
    async with ctx.write() as tx:
        row = await tx.session.get(ChatSite, site, with_for_update=True)
        if row is None:
            raise NotFound(f"No chat site {site}", field="site", reason="no-chat-site", params={"site": site})
        if row.member_secret:
            row.member_secret = ""
            await tx.session.flush()
            tx.audit("notify.member_secret_removed", "chat_sites", site)
        return _site_out(row)


def _site_out(row: ChatSite) -> ChatSiteOut:
    return ChatSiteOut(site=row.site, name=row.name, has_member_secret=bool(row.member_secret))
