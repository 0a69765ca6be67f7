"""Conversations with customers (issue 24): their SMS replies, threaded by number, their messages
to the hotel's WeChat official account, threaded by OpenID, and the agents' answers on the same
channel; web chat will share the model. What each gateway brings is checked and read in
notify/channels.py, then `receive`d here.

An incoming message is kept once per gateway id (Kannel and WeChat both deliver again when they did
not hear our answer; the second delivery changes nothing). An SMS finds the customer by number
(crm's `cards_by_phone`, the same as a call); a WeChat customer has no number to be found by: an
agent links the conversation to the customer (`link_customer`), and the customer's later
conversations from that OpenID keep the link. It joins the address's open conversation on its
channel or opens one, and goes on the customer's timeline.

An SMS that says TD or 退订 (`is_opt_out`) opts the number — and its customer, when known — out of
marketing SMS at once and is answered with one confirmation (`notify.opt_out_confirmed.sms`,
through the outbox under a key made of the incoming message's id). Service messages still go.

A conversation is open until an agent closes it (`CLOSE`); a message after that opens a new one.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.clock import utcnow
from hotline.core.context import Actor, Context
from hotline.core.errors import InvalidInput, InvalidTransition, NotFound
from hotline.core.permissions import Permission
from hotline.core.privacy import mask_phone
from hotline.crm import directory as customers
from hotline.crm import timeline
from hotline.notify import chat_files, chat_media, defaults, timeline_titles, webchat
from hotline.notify import conversation_views as views
from hotline.notify.events import ConversationChanged, ConversationNotice
from hotline.notify.models import Conversation, ConversationMessage
from hotline.notify.outbox import OPENID, enqueue, sms_address
from hotline.notify.replies import queue_answer
from hotline.notify.schemas import ConversationMessageOut, ConversationOut
from hotline.notify.service import opt_out
from hotline.notify.timeline_titles import CHANNEL_NAMES

OPT_OUT_TEMPLATE = "notify.opt_out_confirmed.sms"
MAX_TEXT = 1600
"""The longest incoming text kept: ten parts of a concatenated SMS, with room to spare."""

OPT_OUT_WORDS = frozenset(
    {"TD", "T", "N", "0000", "退订", "退订短信", "TD退订", "退订TD", "STOP", "UNSUBSCRIBE"}
)
"""Whole replies that mean "no more marketing": TD and 退订 as our SMS ask, and the variants the
Chinese carriers teach their customers (T, N, 0000 — China Mobile's "cancel everything"), STOP.
Only the whole reply counts: "我不想退订" or "TD是什么" are threaded for an agent, not obeyed."""
TRAILING = ".。!！~～ "


def is_opt_out(text: str) -> bool:
    """Whether a reply asks to opt out: one of `OPT_OUT_WORDS`, whatever the case, the width
    (ＴＤ), the spaces inside and around, and a full stop or exclamation mark after it."""
    plain = unicodedata.normalize("NFKC", text)
    word = "".join(plain.split()).rstrip(TRAILING).upper()
    return word in OPT_OUT_WORDS


CLOSE = {"open": "closed"}
"""The one move of a conversation's life: open → closed (a new message opens a new one)."""


@dataclass(frozen=True)
class Incoming:
    """A customer's message as the gateway hands it over."""

    sender: str
    """Their number (SMS), OpenID (WeChat) or external_userid (WeCom)"""
    text: str
    gateway_id: str
    """The gateway's own id for it, unique: `kannel:<%I>`, `wechat:<MsgId>`, `wecom:<msgid>`"""
    channel: str = "sms"
    media: chat_media.MediaRef | None = None
    """A picture or file still on Tencent's side, read after the message is stored (chat_media.py)"""


@dataclass(frozen=True)
class Received:
    conversation_id: int
    message_id: int
    duplicate: bool
    opted_out: bool


async def receive(ctx: Context, incoming: Incoming) -> Received:
    """An SMS from a customer: threaded into their number's open conversation (or a new one), on
    their timeline, and a TD/退订 obeyed at once. A gateway id seen before is not stored again."""
    if incoming.channel in ("wechat", "wecom"):
        address = incoming.sender
        if not OPENID.fullmatch(address):
            raise InvalidInput(
                "The sender is not an OpenID", field="body.FromUserName", reason="wechat-sender-not-openid"
            )
    else:
        address = sms_address(incoming.sender)
        if not address.startswith("+"):
            raise InvalidInput(
                "The sender is not a phone number", field="query.from", reason="sms-sender-not-number"
            )
    gateway_id = incoming.gateway_id
    try:
        received, card_id = await _store(ctx, incoming, address)
    except IntegrityError:
        # delivered twice at once (the other delivery stored it), or two messages of one number
        # opening its conversation at once (the other opened it: join it)
        async with ctx.read() as session:
            seen = await _seen(session, gateway_id)
        if seen is not None:
            return seen
        received, card_id = await _store(ctx, incoming, address)
    if card_id is not None and not received.duplicate:
        system = ctx.as_actor(Actor.system(f"notify:{incoming.channel}"))
        kind, title = timeline_titles.incoming(incoming.channel)
        await timeline.add(
            system,
            card_id,
            kind,
            title,
            ref=f"{incoming.channel}-in:{received.message_id}",
            detail=incoming.text[:200],
        )
        if received.opted_out:
            await timeline.add(
                system, card_id, "opt-out", "回复退订：不再接收营销短信",
                ref=f"sms-opt-out:{received.message_id}", detail=incoming.text[:200],
            )  # fmt: skip
    return received


async def _store(ctx: Context, incoming: Incoming, address: str) -> tuple[Received, int | None]:
    gateway_id = incoming.gateway_id
    async with ctx.write() as tx:
        seen = await _seen(tx.session, gateway_id)
        if seen is not None:
            return seen, None
        channel = incoming.channel
        card = await _customer_of(tx.session, channel, address)
        now = utcnow()
        conversation = await tx.session.scalar(
            select(Conversation).where(
                Conversation.channel == channel,
                Conversation.address == address,
                Conversation.status == "open",
            )
        )
        if conversation is None:
            conversation = Conversation(channel=channel, address=address, status="open", created_at=now,
                                        customer_id=card.id if card else None)  # fmt: skip
            tx.session.add(conversation)
        elif conversation.customer_id is None and card is not None:
            conversation.customer_id = card.id
        conversation.last_message_at = now
        await tx.session.flush()
        message = ConversationMessage(conversation_id=conversation.id, direction="in", body=incoming.text,
                                      gateway_id=gateway_id, at=now)  # fmt: skip
        tx.session.add(message)
        await tx.session.flush()
        if incoming.media is not None:
            await chat_media.schedule(tx.session, message.id, incoming.media)
        tx.audit(f"notify.{channel}_received", "conversation", conversation.id, after={"message": message.id})
        tx.publish(ConversationChanged(conversation_id=conversation.id, channel=channel, action="received"))
        opted = (
            channel == "sms"
            and is_opt_out(incoming.text)
            and await opt_out(
                tx.session, "sms", customer_id=conversation.customer_id, address=address, note="回复短信退订"
            )
        )
        if opted:
            await _confirm_opt_out(tx.session, conversation, card, gateway_id)
            after = {"channel": "sms", "number": mask_phone(address), "message": message.id}
            tx.audit("notify.opted_out_by_reply", "conversation", conversation.id, after=after)
        return Received(
            conversation.id, message.id, duplicate=False, opted_out=opted
        ), card.id if card else None


async def _customer_of(session: AsyncSession, channel: str, address: str) -> customers.Card | None:
    """Whose message it is: the file with the number (SMS), or the customer an agent linked the
    latest conversation from this OpenID to (WeChat)."""
    if channel == "sms":
        return (await customers.cards_by_phone(session, [address])).get(address)
    linked = await session.scalar(
        select(Conversation.customer_id)
        .where(Conversation.channel == channel, Conversation.address == address,
               Conversation.customer_id.is_not(None))
        .order_by(Conversation.id.desc()).limit(1)
    )  # fmt: skip
    return None if linked is None else await customers.card(session, linked)


async def _seen(session: AsyncSession, gateway_id: str) -> Received | None:
    """The message kept under a gateway id already, as a duplicate's outcome."""
    found = (await session.execute(
        select(ConversationMessage.conversation_id, ConversationMessage.id)
        .where(ConversationMessage.gateway_id == gateway_id)
    )).first()  # fmt: skip
    return None if found is None else Received(found[0], found[1], duplicate=True, opted_out=False)


async def _confirm_opt_out(
    session: AsyncSession, conversation: Conversation, card: customers.Card | None, gateway_id: str
) -> None:
    """One confirmation per opt-out, whatever happens to the reply after: its key is the reply's."""
    template = await defaults.installed(session, OPT_OUT_TEMPLATE)
    if template is None:
        return
    values = ConversationNotice(
        occasion="opted_out", ref=f"conversation:{conversation.id}", customer_id=conversation.customer_id,
        phone=conversation.address, customer_name=card.name if card else "",
    ).model_dump()  # fmt: skip
    sent = await enqueue(
        session, key=f"sms-opt-out:{gateway_id}", template=template, values=values,
        recipient=conversation.address, customer_id=conversation.customer_id, ref=values["ref"],
    )  # fmt: skip
    if sent is not None:
        session.add(ConversationMessage(conversation_id=conversation.id, direction="out", body=sent.body,
                                        message_id=sent.id, at=sent.created_at))  # fmt: skip


async def reply(ctx: Context, conversation_id: int, body: str) -> ConversationMessageOut:
    """An agent's answer in a conversation, on its channel: through the outbox (a service message;
    an SMS with the signature, a WeChat customer-service message), or kept for the visitor's
    window to fetch (web chat); shown in the thread and on the customer's timeline."""
    ctx.require(Permission.MESSAGES_SEND)
    async with ctx.write() as tx:
        conversation = await views.load(tx.session, conversation_id, lock=True)
        if conversation.status != "open":
            raise InvalidTransition(
                "The conversation is closed", field="conversation_id", reason="conversation-closed"
            )
        sent = (
            None if conversation.channel == "web" else await queue_answer(tx.session, conversation, body, ctx)
        )
        message = ConversationMessage(
            conversation_id=conversation.id, direction="out", body=sent.body if sent else body.strip(),
            message_id=sent.id if sent else None, author_id=ctx.actor.user_id,
            at=sent.created_at if sent else utcnow(),
        )  # fmt: skip
        tx.session.add(message)
        conversation.last_message_at = message.at
        if conversation.channel == "web":
            await webchat.agent_answered(tx.session, conversation.id)
        await tx.session.flush()
        tx.publish(
            ConversationChanged(
                conversation_id=conversation.id, channel=conversation.channel, action="replied"
            )
        )
        tx.audit("notify.conversation_replied", "conversation", conversation.id,
                 after={"message": message.id, "outbox": sent.id if sent else None})  # fmt: skip
        out = views.message_out(message, sent.status if sent else "sent",
                           {ctx.actor.user_id or 0: ctx.actor.display_name})  # fmt: skip
        customer_id, channel = conversation.customer_id, conversation.channel
    if customer_id is not None:
        await timeline.add(
            ctx.as_actor(Actor.system("notify")), customer_id, "message",
            f"{CHANNEL_NAMES[channel]}：回复客户",
            ref=f"message:{out.message_id}" if out.message_id else f"chat-out:{out.id}",
            detail=out.body[:200], by=ctx.actor.user_id,
        )  # fmt: skip
    return out


async def link_customer(ctx: Context, conversation_id: int, customer_id: int | None) -> ConversationOut:
    """Say whose conversation it is (a WeChat customer has no number to be found by), or that it
    is nobody's known; the customer's later conversations from the same address keep the link."""
    ctx.require(Permission.MESSAGES_SEND)
    async with ctx.write() as tx:
        conversation = await views.load(tx.session, conversation_id, lock=True)
        if customer_id is not None and await customers.card(tx.session, customer_id) is None:
            raise NotFound(
                f"No customer {customer_id}", field="body.customer_id", reason="no-customer",
                params={"customer_id": customer_id},
            )  # fmt: skip
        before = conversation.customer_id
        conversation.customer_id = customer_id
        await tx.session.flush()
        tx.publish(
            ConversationChanged(
                conversation_id=conversation.id, channel=conversation.channel, action="linked"
            )
        )
        tx.audit("notify.conversation_linked", "conversation", conversation.id,
                 before={"customer_id": before}, after={"customer_id": customer_id})  # fmt: skip
        return (await views.listed(tx.session, [conversation]))[0]


@dataclass(frozen=True)
class WrapUp:
    """What the agent says of a conversation on closing it: a call's disposition code (contact
    checks it, and whether its queue requires one: contact/chat_wrapup.py), its words, a note."""

    disposition: str
    label: str
    note: str = ""


async def close(ctx: Context, conversation_id: int, wrap: WrapUp | None = None) -> ConversationOut:
    """An agent closes a conversation, with its wrap-up if given (kept on it, audited, on the
    customer's timeline); the customer's next SMS opens a new one."""
    ctx.require(Permission.MESSAGES_SEND)
    async with ctx.write() as tx:
        conversation = await views.load(tx.session, conversation_id, lock=True)
        if conversation.status not in CLOSE:
            raise InvalidTransition(
                "The conversation is closed", field="conversation_id", reason="conversation-closed"
            )
        conversation.status = CLOSE[conversation.status]
        conversation.closed_at, conversation.closed_by = utcnow(), ctx.actor.user_id
        if wrap is not None:
            conversation.disposition, conversation.wrap_note = wrap.disposition, wrap.note.strip()
        await tx.session.flush()
        tx.audit("notify.conversation_closed", "conversation", conversation.id,
                 after={"disposition": conversation.disposition, "note": conversation.wrap_note})  # fmt: skip
        tx.publish(
            ConversationChanged(
                conversation_id=conversation.id, channel=conversation.channel, action="closed"
            )
        )
        closed = (await views.listed(tx.session, [conversation]))[0]
    if wrap is not None and closed.customer_id is not None:
        detail = f"{wrap.label} · {closed.wrap_note}" if closed.wrap_note else wrap.label
        await timeline.add(
            ctx.as_actor(Actor.system("notify")), closed.customer_id, "message",
            f"{CHANNEL_NAMES[closed.channel]}会话小结：{wrap.label}", ref=f"conversation:{closed.id}:wrap",
            detail=detail, by=ctx.actor.user_id,
        )  # fmt: skip
    return closed


async def erase_customer(ctx: Context, customer_id: int, phones: list[str]) -> int:
    """Delete the conversations of a customer who asked to be forgotten (their file's and their
    numbers'), messages and all; returns how many."""
    numbers = {sms_address(p) for p in phones if p}
    async with ctx.write() as tx:
        found = (await tx.session.scalars(
            select(Conversation).where(
                or_(Conversation.customer_id == customer_id, Conversation.address.in_(numbers))
            )
        )).all()  # fmt: skip
        for conversation in found:
            await tx.session.delete(conversation)
        await tx.session.flush()
        await chat_files.forget_unused(tx.session)
        return len(found)


async def exists(session: AsyncSession, conversation_id: int) -> bool:
    """Whether there is such a conversation (another domain's record names it), in its session."""
    return await session.get(Conversation, conversation_id) is not None
