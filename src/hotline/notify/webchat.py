"""The web chat (issue 24, item 1): a visitor on a hotel's or the agency's site starts a chat from
the widget (or the hosted page), and it is a conversation on the `web` channel like an SMS or a
WeChat thread: in 客户会话, on the customer's timeline once linked, answered by agents.

The visitor holds a token (shown once, kept in their browser; only its SHA-256 is stored): every
visitor call names the chat by it, so nobody reads or writes a chat they did not start. What the
visitor's window shows leaves no staff ids, only the answering agent's name. Typing and read
receipts go both ways: the visitor's window holds a long poll on `state` (chat_waits.py), the agent's thread
is told on the `conversations` feed and says what it has shown (`agent_seen`).

At the end the visitor may rate the chat (1–5 stars and a note) and have the transcript e-mailed
(service template `notify.chat_transcript.email`, through the outbox).

Before the chat the window asks whether an agent would answer (`agents_available`); when none
would, it offers a form to leave a message instead, which the tickets domain turns into a ticket
(tickets/chat_api.py).
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.admin import directory
from hotline.core.clock import utcnow
from hotline.core.context import Actor, Context
from hotline.core.errors import InvalidTransition, NotFound, PermissionDenied
from hotline.core.permissions import Permission
from hotline.crm import timeline
from hotline.notify import chat_files, defaults, timeline_titles
from hotline.notify.chat_waits import ChatWaits, hold_for
from hotline.notify.events import ChatWindowMoved, ConversationChanged, ConversationNotice
from hotline.notify.models import ChatVisitor, Conversation, ConversationMessage
from hotline.notify.outbox import enqueue, sms_address
from hotline.notify.schemas import (
    ChatEndIn,
    ChatLineOut,
    ChatStartedOut,
    ChatStartIn,
    ChatStateOut,
    ChatVisitorOut,
)
from hotline.notify.service import CHINA

TRANSCRIPT_TEMPLATE = "notify.chat_transcript.email"
TYPING_SECONDS = 6
"""A typing flag older than this is over (the windows refresh theirs every 3 seconds)."""
MAX_LINES = 200
"""Lines one poll returns; the window asks again from the last one."""
Staffing = Callable[[Context, str], Awaitable[bool]]
_staffing: list[Staffing] = []


def staffed_by(answer: Staffing) -> None:
    """The domain that knows who is at work answers `agents_available` (contact, above notify,
    registers at import; the last registered answers)."""
    _staffing.append(answer)


async def agents_available(ctx: Context, site: str) -> bool:
    """Whether a chat started now on `site` would find an agent; when not, the visitor is offered
    to leave a message. The one place that decides it (no answer registered: nobody)."""
    return bool(_staffing) and await _staffing[-1](ctx, site)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def start(ctx: Context, data: ChatStartIn) -> ChatStartedOut:
    """A visitor's pre-chat form and first question: a new conversation on the `web` channel;
    returns the token for the rest. The form's phone links the chat to no file: only a verified one
    does (chat_identity.py)."""
    token = secrets.token_urlsafe(24)
    now = utcnow()
    phone = sms_address(data.phone) if data.phone else ""
    async with ctx.write() as tx:
        conversation = Conversation(
            channel="web", address=f"web-{secrets.token_hex(8)}", status="open", created_at=now,
            last_message_at=now, customer_id=None,
        )  # fmt: skip
        tx.session.add(conversation)
        await tx.session.flush()
        tx.session.add(ChatVisitor(
            conversation_id=conversation.id, token_hash=_hash(token), name=data.name, phone=phone,
            email=data.email, topic=data.topic, site=data.site, page=data.page[:300], created_at=now,
        ))  # fmt: skip
        message = ConversationMessage(conversation_id=conversation.id, direction="in", body=data.text, at=now)
        tx.session.add(message)
        await tx.session.flush()
        tx.audit("notify.chat_started", "conversation", conversation.id,
                 after={"site": data.site, "topic": data.topic, "message": message.id})  # fmt: skip
        tx.publish(ConversationChanged(conversation_id=conversation.id, channel="web", action="received"))
        customer_id = conversation.customer_id
        state = await _state(tx.session, conversation, await _visitor_of(tx.session, conversation.id), 0)
    if customer_id is not None:
        await _on_timeline(ctx, customer_id, message.id, data.text)
    return ChatStartedOut(token=token, **state.model_dump())


async def state(
    ctx: Context, token: str, after: int, *, wait: float = 0.0, waits: ChatWaits | None = None
) -> ChatStateOut:
    """What the visitor's window shows: the lines after `after`, whether an agent is typing, how
    far the agents have read. With `wait`, nothing new is answered only after the chat moved or
    `wait` seconds passed (chat_waits.py: long polling)."""
    with contextlib.ExitStack() as watch:
        async with ctx.read() as session:
            visitor, conversation, answered = await _window_of(session, token)
            woken = watch.enter_context(waits.watching(conversation.id)) if waits and wait > 0 else None
            shown = await _state(session, conversation, visitor, after, answered=answered)
        if woken is None or shown.lines or shown.status == "closed":
            return shown
        if not await ChatWaits.until(woken, hold_for(wait, shown.agent_typing)) and not shown.agent_typing:
            return shown  # nothing moved (every change is an event, from any node): no second read
    async with ctx.read() as session:
        visitor, conversation, answered = await _window_of(session, token)
        return await _state(session, conversation, visitor, after, answered=answered)


async def say(ctx: Context, token: str, text: str) -> ChatStateOut:
    """The visitor writes: kept, announced to the agents, on the customer's timeline."""
    now = utcnow()
    async with ctx.write() as tx:
        visitor, conversation, answered = await _window_of(tx.session, token, lock=True)
        _still_open(conversation)
        message = ConversationMessage(conversation_id=conversation.id, direction="in", body=text, at=now)
        tx.session.add(message)
        conversation.last_message_at, visitor.visitor_typing_at = now, None
        await tx.session.flush()
        tx.publish(ConversationChanged(conversation_id=conversation.id, channel="web", action="received"))
        customer_id, after = conversation.customer_id, message.id - 1
        shown = await _state(tx.session, conversation, visitor, after, answered=answered)
    if customer_id is not None:
        await _on_timeline(ctx, customer_id, message.id, text)
    return shown


async def visitor_typing(ctx: Context, token: str) -> None:
    async with ctx.write() as tx:
        visitor, conversation = await _by_token(tx.session, token, lock=True)
        _still_open(conversation)
        visitor.visitor_typing_at = utcnow()
        tx.publish(ConversationChanged(conversation_id=conversation.id, channel="web", action="typing"))


async def visitor_read(ctx: Context, token: str, up_to: int) -> None:
    """The visitor's window showed the lines up to `up_to` (never beyond the last, never back)."""
    async with ctx.write() as tx:
        visitor, conversation = await _by_token(tx.session, token, lock=True)
        last = await _last_id(tx.session, conversation.id)
        seen = max(visitor.visitor_read_id, min(up_to, last))
        if seen != visitor.visitor_read_id:
            visitor.visitor_read_id = seen
            tx.publish(ConversationChanged(conversation_id=conversation.id, channel="web", action="read"))


async def end(ctx: Context, token: str, data: ChatEndIn) -> ChatStateOut:
    """The visitor ends the chat: closed, rated, and its transcript e-mailed when asked."""
    async with ctx.write() as tx:
        visitor, conversation = await _by_token(tx.session, token, lock=True)
        if visitor.ended_at is not None:
            raise InvalidTransition("The chat has ended", reason="chat-ended")
        now = utcnow()
        visitor.ended_at, visitor.rating, visitor.rating_note = now, data.rating, data.note.strip()
        if conversation.status == "open":
            conversation.status, conversation.closed_at = "closed", now
        if data.transcript_to:
            await _mail_transcript(tx.session, conversation, visitor, data.transcript_to)
        await tx.session.flush()
        tx.audit("notify.chat_ended", "conversation", conversation.id,
                 after={"rating": data.rating, "transcript": bool(data.transcript_to)})  # fmt: skip
        tx.publish(ConversationChanged(conversation_id=conversation.id, channel="web", action="closed"))
        return await _state(tx.session, conversation, visitor, await _last_id(tx.session, conversation.id))


# ---------------------------------------------------------------- the agent's side


async def agent_typing(ctx: Context, conversation_id: int) -> None:
    ctx.require(Permission.MESSAGES_SEND)
    async with ctx.write() as tx:
        visitor = await _web_visitor(tx.session, conversation_id)
        visitor.agent_typing_at = utcnow()
        tx.publish(ChatWindowMoved(conversation_id=conversation_id))


async def agent_seen(ctx: Context, conversation_id: int, up_to: int) -> None:
    """An agent's thread showed the messages up to `up_to`: the visitor sees them read."""
    ctx.require(Permission.MESSAGES_SEND)
    async with ctx.write() as tx:
        visitor = await _web_visitor(tx.session, conversation_id)
        seen = max(visitor.agent_read_id, min(up_to, await _last_id(tx.session, conversation_id)))
        if seen != visitor.agent_read_id:  # the visitor's waiting window wakes to show 已读
            visitor.agent_read_id = seen
            tx.publish(ChatWindowMoved(conversation_id=conversation_id))


async def agent_answered(session: AsyncSession, conversation_id: int) -> None:
    """An agent's answer is stored: their typing is over (the visitor's window would otherwise
    say so until the mark goes stale). In the answer's own transaction."""
    visitor = await _visitor_of(session, conversation_id)
    if visitor is not None:
        visitor.agent_typing_at = None


async def visitor_out(session: AsyncSession, conversation_id: int) -> ChatVisitorOut | None:
    """Who the visitor said they are, for the agent's thread."""
    visitor = await _visitor_of(session, conversation_id)
    if visitor is None:
        return None
    return ChatVisitorOut(
        name=visitor.name, phone=visitor.phone, email=visitor.email, topic=visitor.topic, site=visitor.site,
        page=visitor.page, typing=_fresh(visitor.visitor_typing_at), read_up_to=visitor.visitor_read_id,
        rating=visitor.rating, rating_note=visitor.rating_note, ended=visitor.ended_at is not None,
        verified_by=visitor.verified_by, verified_phone=visitor.verified_phone, member_id=visitor.member_id,
    )  # fmt: skip


async def visitor_names(session: AsyncSession, conversation_ids: list[int]) -> dict[int, str]:
    if not conversation_ids:
        return {}
    rows = await session.execute(
        select(ChatVisitor.conversation_id, ChatVisitor.name).where(
            ChatVisitor.conversation_id.in_(conversation_ids)
        )
    )
    return {conversation_id: name for conversation_id, name in rows.all()}


# ---------------------------------------------------------------- for chat_identity.py


async def window(session: AsyncSession, conversation: Conversation, visitor: ChatVisitor) -> ChatStateOut:
    """What the visitor's window shows after a call that added no line (it polls for lines)."""
    return await _state(session, conversation, visitor, await _last_id(session, conversation.id))


# ---------------------------------------------------------------- helpers


async def _by_token(
    session: AsyncSession, token: str, *, lock: bool = False
) -> tuple[ChatVisitor, Conversation]:
    visitor, conversation, _ = await _window_of(session, token, lock=lock)
    return visitor, conversation


async def _window_of(
    session: AsyncSession, token: str, *, lock: bool = False
) -> tuple[ChatVisitor, Conversation, bool]:
    """The visitor, their conversation and whether an agent has answered yet, in one round trip (a
    window asks every few seconds); `lock`: the visitor's row, for a change."""
    answered = exists().where(
        ConversationMessage.conversation_id == ChatVisitor.conversation_id,
        ConversationMessage.direction == "out",
    )
    query = (
        select(ChatVisitor, Conversation, answered.label("answered"))
        .join(Conversation, Conversation.id == ChatVisitor.conversation_id)
        .where(ChatVisitor.token_hash == _hash(token))
    )
    found = (await session.execute(query.with_for_update(of=ChatVisitor) if lock else query)).first()
    if found is None:
        raise PermissionDenied(
            "No chat has this token", field="header.X-Chat-Token", reason="chat-token-refused"
        )
    return found[0], found[1], bool(found[2])


async def _visitor_of(session: AsyncSession, conversation_id: int) -> ChatVisitor | None:
    return await session.scalar(select(ChatVisitor).where(ChatVisitor.conversation_id == conversation_id))


async def _web_visitor(session: AsyncSession, conversation_id: int) -> ChatVisitor:
    """The visitor of a web chat; an unknown conversation, or one on another channel, is none."""
    visitor = await _visitor_of(session, conversation_id)
    if visitor is None:
        raise NotFound(
            f"No web chat {conversation_id}", field="conversation_id", reason="no-conversation",
            params={"conversation_id": conversation_id},
        )  # fmt: skip
    return visitor


def _still_open(conversation: Conversation) -> None:
    if conversation.status != "open":
        raise InvalidTransition("The chat has ended", reason="chat-ended")


def _fresh(at: datetime | None) -> bool:
    """Whether a typing mark is recent enough to still mean someone is typing."""
    return at is not None and utcnow() - at < timedelta(seconds=TYPING_SECONDS)


async def _last_id(session: AsyncSession, conversation_id: int) -> int:
    found = await session.scalar(
        select(ConversationMessage.id)
        .where(ConversationMessage.conversation_id == conversation_id)
        .order_by(ConversationMessage.id.desc())
        .limit(1)
    )
    return int(found or 0)


async def _state(
    session: AsyncSession,
    conversation: Conversation,
    visitor: ChatVisitor | None,
    after: int,
    *,
    answered: bool | None = None,
) -> ChatStateOut:
    """The window's state after line `after`; `answered`, when the caller read it already."""
    rows = list(
        await session.scalars(
            select(ConversationMessage)
            .where(ConversationMessage.conversation_id == conversation.id, ConversationMessage.id > after)
            .order_by(ConversationMessage.id)
            .limit(MAX_LINES)
        )
    )
    names = await directory.names(session, {m.author_id for m in rows if m.author_id})
    if any(m.direction == "out" for m in rows):
        answered = True
    elif answered is None:
        out = (ConversationMessage.conversation_id == conversation.id) & (
            ConversationMessage.direction == "out"
        )
        answered = await session.scalar(select(ConversationMessage.id).where(out).limit(1)) is not None
    files = await chat_files.files_of(session, [m.id for m in rows])
    lines = [
        ChatLineOut(id=m.id, mine=m.direction == "in", text=m.body, at=m.at, file=files.get(m.id),
                    agent=names.get(m.author_id or 0, "") if m.direction == "out" else "")
        for m in rows
    ]  # fmt: skip
    return ChatStateOut(
        status="open" if conversation.status == "open" else "closed",
        lines=lines,
        agent_typing=visitor is not None and _fresh(visitor.agent_typing_at),
        read_up_to=visitor.agent_read_id if visitor is not None else 0,
        answered=bool(answered),
        verified=visitor.verified_by if visitor is not None else "",
    )


async def _mail_transcript(
    session: AsyncSession, conversation: Conversation, visitor: ChatVisitor, to: str
) -> None:
    template = await defaults.installed(session, TRANSCRIPT_TEMPLATE)
    if template is None:
        return
    rows = list(await session.scalars(
        select(ConversationMessage).where(ConversationMessage.conversation_id == conversation.id)
        .order_by(ConversationMessage.id)
    ))  # fmt: skip
    names = await directory.names(session, {m.author_id for m in rows if m.author_id})
    lines = [
        f"{m.at.astimezone(CHINA):%m-%d %H:%M} "
        f"{visitor.name if m.direction == 'in' else names.get(m.author_id or 0, '客服')}：{m.body}"
        for m in rows
    ]
    values = ConversationNotice(
        occasion="transcript", ref=f"conversation:{conversation.id}", customer_id=conversation.customer_id,
        email=to, customer_name=visitor.name, text="\n".join(lines),
    ).model_dump()  # fmt: skip
    await enqueue(
        session, key=f"chat-transcript:{conversation.id}", template=template, values=values, recipient=to,
        customer_id=conversation.customer_id, ref=values["ref"],
    )  # fmt: skip


async def _on_timeline(ctx: Context, customer_id: int, message_id: int, text: str) -> None:
    kind, title = timeline_titles.incoming("web")
    await timeline.add(
        ctx.as_actor(Actor.system("notify:web")), customer_id, kind, title, ref=f"web-in:{message_id}",
        detail=text[:200],
    )  # fmt: skip


# what chat_files.py (a visitor's images and PDFs) shares with the chat's lines
by_token, still_open, lines_state = _by_token, _still_open, _state
