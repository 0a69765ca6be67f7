"""What agents read of conversations: the list (open first, with the customer's name and the last
message) and one thread with its files, authors and, for web chats, how far the visitor read.
Kept apart from conversations.py, which changes them."""

from __future__ import annotations

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.admin import directory
from hotline.core.context import Context
from hotline.core.errors import NotFound
from hotline.core.permissions import Permission
from hotline.crm import directory as customers
from hotline.notify import chat_files, webchat
from hotline.notify.models import Conversation, ConversationMessage, Message
from hotline.notify.outbox import opted_out_query
from hotline.notify.schemas import ChatFileOut, ConversationMessageOut, ConversationOut, ConversationThread


async def listing(
    ctx: Context, *, status: str | None = None, customer_id: int | None = None, waiting: bool | None = None,
    mine: bool | None = None, limit: int = 100,
) -> list[ConversationOut]:  # fmt: skip
    """Conversations, open ones first, then by the latest message, newest first; `mine`: those the
    ACD gave the agent (True), or the open ones with nobody yet (False)."""
    ctx.require(Permission.MESSAGES_SEND)
    query = select(Conversation).order_by(
        case((Conversation.status == "open", 0), else_=1), Conversation.last_message_at.desc(),
        Conversation.id.desc(),
    )  # fmt: skip
    if status:
        query = query.where(Conversation.status == status)
    if customer_id:
        query = query.where(Conversation.customer_id == customer_id)
    if mine is not None:
        query = query.where(Conversation.assigned_to == ctx.actor.user_id if mine else
                            Conversation.assigned_to.is_(None) & (Conversation.status == "open"))  # fmt: skip
    if waiting is not None:
        last = (
            select(ConversationMessage.direction)
            .where(ConversationMessage.conversation_id == Conversation.id)
            .order_by(ConversationMessage.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        query = query.where((last == "in") & (Conversation.status == "open") if waiting else
                            (last != "in") | (Conversation.status != "open"))  # fmt: skip
    async with ctx.read() as session:
        found = list((await session.scalars(query.limit(limit))).all())
        return await listed(session, found)


async def thread(ctx: Context, conversation_id: int) -> ConversationThread:
    """One conversation with all its messages, oldest first, and whether the number is opted out."""
    ctx.require(Permission.MESSAGES_SEND)
    async with ctx.read() as session:
        conversation = await load(session, conversation_id)
        rows = (await session.execute(
            select(ConversationMessage, Message.status)
            .outerjoin(Message, Message.id == ConversationMessage.message_id)
            .where(ConversationMessage.conversation_id == conversation_id)
            .order_by(ConversationMessage.at, ConversationMessage.id)
        )).all()  # fmt: skip
        opted = conversation.channel == "sms" and await session.scalar(
            opted_out_query("sms", conversation.customer_id, conversation.address)
        )
        authors = await directory.names(session, {m.author_id for m, _ in rows})
        files = await chat_files.files_of(session, [m.id for m, _ in rows])
        visitor = (
            await webchat.visitor_out(session, conversation_id) if conversation.channel == "web" else None
        )

        def status_of(m: ConversationMessage, outbox: str | None) -> str:
            if visitor is None or m.direction != "out":
                return outbox or ""
            return "read" if m.id <= visitor.read_up_to else "sent"

        return ConversationThread(
            conversation=(await listed(session, [conversation]))[0], opted_out=bool(opted),
            messages=[message_out(m, status_of(m, status), authors, files.get(m.id)) for m, status in rows],
            visitor=visitor,
        )  # fmt: skip


async def load(session: AsyncSession, conversation_id: int, *, lock: bool = False) -> Conversation:
    conversation = await session.get(Conversation, conversation_id, with_for_update=lock)
    if conversation is None:
        raise NotFound(
            f"No conversation {conversation_id}", field="conversation_id", reason="no-conversation",
            params={"conversation_id": conversation_id},
        )  # fmt: skip
    return conversation


async def listed(session: AsyncSession, found: list[Conversation]) -> list[ConversationOut]:
    """The conversations as the list shows them: the customer's name and the last message."""
    ids = [c.id for c in found]
    latest = select(func.max(ConversationMessage.id)).where(ConversationMessage.conversation_id.in_(ids))
    last = {
        m.conversation_id: m
        for m in await session.scalars(
            select(ConversationMessage).where(
                ConversationMessage.id.in_(latest.group_by(ConversationMessage.conversation_id))
            )
        )
    } if ids else {}  # fmt: skip
    names = await customers.cards(session, [c.customer_id for c in found if c.customer_id is not None])
    visitors = await webchat.visitor_names(session, [c.id for c in found if c.channel == "web"])
    agents = await directory.names(session, {c.assigned_to for c in found if c.assigned_to is not None})
    listed = []
    for c in found:
        message = last.get(c.id)
        direction = message.direction if message else "in"
        card = names.get(c.customer_id) if c.customer_id is not None else None
        listed.append(ConversationOut(
            id=c.id, channel=c.channel, customer_id=c.customer_id,
            customer_name=card.name if card and not card.anonymised else "", address=c.address,
            status=c.status, created_at=c.created_at, last_message_at=c.last_message_at,
            last_body=message.body[:200] if message else "", last_direction=direction,
            waiting=c.status == "open" and direction == "in", visitor_name=visitors.get(c.id, ""),
            queue=c.queue, queued_at=c.queued_at, assigned_to=c.assigned_to,
            assigned_name=agents.get(c.assigned_to or 0, ""), disposition=c.disposition,
            wrap_note=c.wrap_note or "",
        ))  # fmt: skip
    return listed


def message_out(
    message: ConversationMessage, status: str, authors: dict[int, str] | None = None,
    file: ChatFileOut | None = None,
) -> ConversationMessageOut:  # fmt: skip
    return ConversationMessageOut(
        id=message.id, direction=message.direction, body=message.body, at=message.at,
        author_id=message.author_id, message_id=message.message_id, status=status,
        author_name=(authors or {}).get(message.author_id or 0, ""), file=file,
    )  # fmt: skip
