"""Images and PDFs in the web chat (issue 24, item 1): a visitor sends one from their window, an
agent answers with one from the thread. An agent may also answer a WeChat or WeCom customer with a
picture (sent through the outbox); an SMS conversation cannot carry a file (422
`chat-files-web-only`). Customers' pictures from WeChat and WeCom come in through chat_media.py.

What a file is comes from its bytes (notify/filetypes.py), never from its name or the declared
Content-Type: JPEG, PNG, GIF and WebP images up to `chat_image_max_bytes` and
`chat_image_max_pixels`, PDFs up to `chat_pdf_max_bytes`; anything else is refused (415) and
nothing is kept. A conversation holds at most `chat_files_per_conversation` files and
`chat_files_bytes_per_conversation` bytes. The bytes are read in a compute worker (their cost
grows with the file, core/compute.py), never on the event loop. Each file is kept once however
often it is sent (by SHA-256, table `chat_files`); the message that carries it names it
(`conversation_files`).

Files go out only as their sniffed type, with `nosniff` and a sandboxing CSP, PDFs always as
downloads (chat_files_api.py): a visitor reads their own chat's by their token, staff any by
`messages.send`, each read by staff audited (`notify.chat_file_read`) like a recording's.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.clock import utcnow
from hotline.core.config import Settings
from hotline.core.context import Actor, Context
from hotline.core.errors import InvalidInput, InvalidTransition, NotFound, TooLarge, UnsupportedMedia
from hotline.core.permissions import Permission
from hotline.crm import timeline
from hotline.notify import filetypes, replies, timeline_titles, webchat
from hotline.notify.events import ConversationChanged
from hotline.notify.models import ChatFile, Conversation, ConversationFile, ConversationMessage
from hotline.notify.schemas import ChatFileOut, ChatStateOut, ConversationMessageOut

FIELD = "body.file"
LABELS = timeline_titles.FILE_LABELS
"""How a file's message reads where only text goes: the list, the transcript, the timeline."""
SENDERS = {"web": "在线客服", "wechat": "微信", "wecom": "企业微信"}
"""The conversations an agent may send a file in, and how the timeline names them."""
TENCENT_IMAGES = {
    "wechat": ({"image/jpeg": "JPEG", "image/png": "PNG", "image/gif": "GIF"}, 10 * 1024 * 1024),
    "wecom": ({"image/jpeg": "JPEG", "image/png": "PNG"}, 2 * 1024 * 1024),
}
"""What WeChat's and WeCom's temporary-media upload takes as an `image`, and its largest size."""
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]")


@dataclass(frozen=True)
class Upload:
    """A file as the sender handed it over: the name they gave and at most the limit's bytes + 1."""

    name: str
    data: bytes


@dataclass(frozen=True)
class Served:
    data: bytes
    media_type: str
    filename: str
    attachment: bool
    """Always for a PDF; an image only when asked to download it."""


def upload_limit(settings: Settings) -> int:
    """The most bytes worth reading of an upload: one more than the largest file taken."""
    return max(settings.chat_image_max_bytes, settings.chat_pdf_max_bytes) + 1


@dataclass(frozen=True)
class Inspected:
    found: filetypes.Sniffed
    sha256: str


async def inspected(ctx: Context, upload: Upload) -> Inspected:
    """The file's type from its bytes, within the limits, and its hash; the fault at `body.file`
    otherwise. In a compute worker: reading 10 MB byte by byte is no work for the event loop."""
    s = ctx.settings
    return await ctx.compute(
        inspect, upload.data, s.chat_image_max_bytes, s.chat_pdf_max_bytes, s.chat_image_max_pixels, limit=10
    )


def inspect(data: bytes, image_most: int, pdf_most: int, pixels_most: int) -> Inspected:
    """`inspected`'s work, in the worker (module-level, its arguments and result pickle)."""
    if not data:
        raise InvalidInput("The file is empty", field=FIELD, reason="chat-file-empty")
    _within(len(data), max(image_most, pdf_most))
    try:
        found = filetypes.sniff(data)
    except ValueError as error:
        raise UnsupportedMedia(
            f"Only JPEG, PNG, GIF, WebP images and PDF files: {error}", field=FIELD, reason="chat-file-type"
        ) from error
    _within(len(data), image_most if found.kind == "image" else pdf_most)
    if found.pixels > pixels_most:
        raise InvalidInput(
            f"Images of at most {pixels_most} pixels", field=FIELD, reason="chat-image-too-many-pixels",
            params={"most_mp": pixels_most // 1_000_000},
        )  # fmt: skip
    return Inspected(found, hashlib.sha256(data).hexdigest())


def _within(size: int, most: int) -> None:
    if size > most:
        raise TooLarge(f"Files of at most {most} bytes", field=FIELD, reason="chat-file-too-large",
                       params={"most_mb": _mb(most)})  # fmt: skip


def clean_name(name: str, found: filetypes.Sniffed) -> str:
    """The name to show and to download under: no path, no control characters, at most 120
    characters, ending with the extension of what the file really is."""
    plain = _UNSAFE.sub("", unicodedata.normalize("NFC", name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1])).strip()
    stem = plain.rsplit(".", 1)[0] if "." in plain else plain
    extensions = {
        "jpg": ("jpg", "jpeg"),
        "png": ("png",),
        "gif": ("gif",),
        "webp": ("webp",),
        "pdf": ("pdf",),
    }
    if "." in plain and plain.rsplit(".", 1)[1].lower() in extensions[found.extension]:
        stem, extension = plain.rsplit(".", 1)
    else:
        extension = found.extension
    return f"{(stem or LABELS[found.kind])[: 119 - len(extension)]}.{extension}"


async def visitor_sends(ctx: Context, token: str, upload: Upload) -> ChatStateOut:
    """A visitor's image or PDF: kept (once by hash), a line of their chat, on the customer's
    timeline; nothing is kept when it is refused."""
    checked = await inspected(ctx, upload)
    found = checked.found
    async with ctx.write() as tx:
        visitor, conversation = await webchat.by_token(tx.session, token, lock=True)
        webchat.still_open(conversation)
        message = await _attach(tx.session, ctx.settings, conversation, "in", upload, checked, None)
        visitor.visitor_typing_at = None
        sent = {"message": message.id, "type": found.media_type, "size": len(upload.data)}
        tx.audit("notify.chat_file_sent", "conversation", conversation.id, after=sent)
        tx.publish(ConversationChanged(conversation_id=conversation.id, channel="web", action="received"))
        customer_id = conversation.customer_id
        shown = await webchat.lines_state(tx.session, conversation, visitor, message.id - 1)
    if customer_id is not None:
        kind, title = timeline_titles.incoming("web", found.kind)
        await timeline.add(
            ctx.as_actor(Actor.system("notify:web")), customer_id, kind, title, ref=f"web-in:{message.id}",
            detail=message.body[:200],
        )  # fmt: skip
    return shown


async def agent_sends(ctx: Context, conversation_id: int, upload: Upload) -> ConversationMessageOut:
    """An agent answers a web chat with an image or a PDF, a WeChat or WeCom customer with a
    picture of the types and size their API takes (`TENCENT_IMAGES`): sent through the outbox."""
    ctx.require(Permission.MESSAGES_SEND)
    checked = await inspected(ctx, upload)
    found = checked.found
    async with ctx.write() as tx:
        conversation = await tx.session.get(Conversation, conversation_id, with_for_update=True)
        if conversation is None:
            raise NotFound(
                f"No conversation {conversation_id}", field="conversation_id", reason="no-conversation",
                params={"conversation_id": conversation_id},
            )  # fmt: skip
        if conversation.channel not in SENDERS:
            raise InvalidInput(
                "Files cannot be sent in SMS conversations", field=FIELD, reason="chat-files-web-only"
            )
        _tencent_takes(conversation.channel, found, len(upload.data))
        if conversation.status != "open":
            raise InvalidTransition(
                "The conversation is closed", field="conversation_id", reason="conversation-closed"
            )
        message = await _attach(
            tx.session, ctx.settings, conversation, "out", upload, checked, ctx.actor.user_id
        )
        queued = None
        if conversation.channel == "web":
            await webchat.agent_answered(tx.session, conversation.id)
        else:  # the outbox hands the picture to WeChat's or WeCom's API (gateways.py)
            queued = await replies.queue_answer(tx.session, conversation, message.body, ctx)
            message.message_id = queued.id
        sent = {"message": message.id, "type": found.media_type, "size": len(upload.data),
                "outbox": queued.id if queued else None}  # fmt: skip
        tx.audit("notify.conversation_replied", "conversation", conversation.id, after=sent)
        tx.publish(ConversationChanged(conversation_id=conversation.id, channel=conversation.channel,
                                       action="replied"))  # fmt: skip
        channel = conversation.channel
        customer_id = conversation.customer_id
        file = (await files_of(tx.session, [message.id]))[message.id]
    if customer_id is not None:
        await timeline.add(
            ctx.as_actor(Actor.system("notify")), customer_id, "message",
            f"{SENDERS[channel]}：发送{LABELS[found.kind]}",
            ref=f"message:{queued.id}" if queued else f"chat-out:{message.id}", detail=message.body[:200],
            by=ctx.actor.user_id,
        )  # fmt: skip
    return ConversationMessageOut(
        id=message.id, direction="out", body=message.body, at=message.at, author_id=message.author_id,
        author_name=ctx.actor.display_name, message_id=queued.id if queued else None,
        status=queued.status if queued else "sent", file=file,
    )  # fmt: skip


def _tencent_takes(channel: str, found: filetypes.Sniffed, size: int) -> None:
    """The fault when WeChat's or WeCom's API would not take the file as a picture."""
    if channel not in TENCENT_IMAGES:
        return
    types, most = TENCENT_IMAGES[channel]
    if found.media_type not in types:
        raise UnsupportedMedia(
            f"Only {', '.join(types.values())} pictures can be sent on {channel}", field=FIELD,
            reason="chat-files-images-only", params={"types": "、".join(types.values())},
        )  # fmt: skip
    _within(size, most)


async def visitor_reads(ctx: Context, token: str, message_id: int, *, download: bool) -> Served:
    """A file of the visitor's own chat, by their token; another chat's is not found."""
    async with ctx.read() as session:
        _, conversation = await webchat.by_token(session, token)
        return await _served(session, conversation.id, message_id, download)


async def staff_reads(ctx: Context, conversation_id: int, message_id: int, *, download: bool) -> Served:
    """A file of a conversation, for staff who answer chats; audited like a recording's listen."""
    ctx.require(Permission.MESSAGES_SEND)
    async with ctx.write() as tx:
        served = await _served(tx.session, conversation_id, message_id, download)
        tx.audit("notify.chat_file_read", "conversation", conversation_id,
                 after={"message": message_id, "type": served.media_type})  # fmt: skip
        return served


async def files_of(session: AsyncSession, message_ids: list[int]) -> dict[int, ChatFileOut]:
    """The files the messages carry, by message id (for the visitor's lines and the thread)."""
    if not message_ids:
        return {}
    rows = await session.execute(
        select(ConversationFile.message_id, ConversationFile.name, ChatFile.kind, ChatFile.media_type,
               ChatFile.size, ChatFile.width, ChatFile.height)
        .join(ChatFile, ChatFile.id == ConversationFile.file_id)
        .where(ConversationFile.message_id.in_(message_ids))
    )  # fmt: skip
    return {
        row.message_id: ChatFileOut(
            id=row.message_id,
            name=row.name,
            kind=row.kind,
            media_type=row.media_type,
            size=row.size,
            width=row.width,
            height=row.height,
        )
        for row in rows
    }


async def forget_unused(session: AsyncSession) -> int:
    """Delete the stored files no message carries any more (after a customer is forgotten)."""
    unused = list(
        await session.scalars(
            select(ChatFile).where(
                ~select(ConversationFile.message_id).where(ConversationFile.file_id == ChatFile.id).exists()
            )
        )
    )
    for file in unused:
        await session.delete(file)
    return len(unused)


# ---------------------------------------------------------------- helpers


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:g}"


async def _attach(
    session: AsyncSession, settings: Settings, conversation: Conversation, direction: str,
    upload: Upload, checked: Inspected, author_id: int | None,
) -> ConversationMessage:  # fmt: skip
    await _room(session, settings, conversation.id, len(upload.data))
    now = utcnow()
    message = ConversationMessage(conversation_id=conversation.id, direction=direction, body="",
                                  author_id=author_id, at=now)  # fmt: skip
    session.add(message)
    conversation.last_message_at = now
    await session.flush()
    await _carry(session, message, upload, checked)
    return message


async def attach_received(
    session: AsyncSession, settings: Settings, message: ConversationMessage, upload: Upload,
    checked: Inspected,
) -> None:  # fmt: skip
    """A file that came after its message (a WeChat or WeCom picture read from Tencent's media
    API: notify/chat_media.py) now carried by it, within the conversation's limits (the fault
    at `body.file` otherwise, nothing changed)."""
    await _room(session, settings, message.conversation_id, len(upload.data))
    await _carry(session, message, upload, checked)


async def _room(session: AsyncSession, settings: Settings, conversation_id: int, size: int) -> None:
    """The fault when the conversation has no room for one more file of `size` bytes."""
    count, total = (await session.execute(
        select(func.count(ConversationFile.message_id), func.coalesce(func.sum(ChatFile.size), 0))
        .join(ChatFile, ChatFile.id == ConversationFile.file_id)
        .where(ConversationFile.conversation_id == conversation_id)
    )).one()  # fmt: skip
    if count >= settings.chat_files_per_conversation:
        raise InvalidInput(
            "The conversation holds as many files as it may", field=FIELD,
            reason="chat-files-too-many", params={"most": settings.chat_files_per_conversation},
        )  # fmt: skip
    if total + size > settings.chat_files_bytes_per_conversation:
        raise TooLarge(
            "The conversation's files would be too large together", field=FIELD,
            reason="chat-files-too-large-together",
            params={"most_mb": _mb(settings.chat_files_bytes_per_conversation)},
        )  # fmt: skip


async def _carry(
    session: AsyncSession, message: ConversationMessage, upload: Upload, checked: Inspected
) -> None:
    """The file kept (once by hash) and named by the message, which reads `[图片] name`."""
    stored = await _stored(session, upload.data, checked)
    name = clean_name(upload.name, checked.found)
    message.body = f"[{LABELS[checked.found.kind]}] {name}"
    session.add(ConversationFile(message_id=message.id, conversation_id=message.conversation_id,
                                 file_id=stored, name=name))  # fmt: skip
    await session.flush()


async def _stored(session: AsyncSession, data: bytes, checked: Inspected) -> int:
    """The stored file with these bytes: the one kept already, or a new one."""
    digest, found = checked.sha256, checked.found
    query = select(ChatFile.id).where(ChatFile.sha256 == digest)
    existing = await session.scalar(query)
    if existing is not None:
        return existing
    file = ChatFile(sha256=digest, kind=found.kind, media_type=found.media_type, size=len(data),
                    width=found.width, height=found.height, data=data)  # fmt: skip
    try:
        async with session.begin_nested():
            session.add(file)
        return file.id
    except IntegrityError:  # the same bytes sent at the same moment in another chat
        return int(await session.scalar(query) or 0)


async def _served(session: AsyncSession, conversation_id: int, message_id: int, download: bool) -> Served:
    row = (await session.execute(
        select(ConversationFile.name, ChatFile.kind, ChatFile.media_type, ChatFile.data)
        .join(ChatFile, ChatFile.id == ConversationFile.file_id)
        .where(ConversationFile.message_id == message_id, ConversationFile.conversation_id == conversation_id)
    )).first()  # fmt: skip
    if row is None:
        raise NotFound(f"No file {message_id} in this chat", field="file_id", reason="no-chat-file",
                       params={"file_id": message_id})  # fmt: skip
    return Served(row.data, row.media_type, row.name, attachment=download or row.kind != "image")
