"""Pictures and files customers send through WeChat (公众号) and WeCom (微信客服), shown in the
agent's thread as the web chat's are (issue 24; docs/channels.md "Pictures and files").

A customer's `image` (WeChat, WeCom) or `file` (WeCom) message brings only Tencent's `media_id`.
Its message is stored at once with its placeholder ([图片], [文件]) — WeChat wants the callback
answered within 5 s — and, in the same transaction, a one-off durable job (core/jobs.py,
`notify.chat_media`, key `chat-media:<message id>`) is scheduled to read the media: it survives
a restart and runs once across nodes, and a message delivered twice (the same MsgId / msgid) is
stored once, so its media is read once.

The job reads the media through Tencent's temporary-media API (notify/tencent_media.py) with the
account's access token, kept per account by this process. What it reads is judged as a web
chat's file is (notify/chat_files.py: its type from its bytes, the size and pixel limits, the
conversation's limits, kept once by SHA-256, in a compute worker) and carried by the message,
which then reads `[图片] 图片.png` and shows the picture or the PDF in the thread. A file refused
— another type (an HTML page named .jpg), too large, the conversation's limits — leaves the
placeholder with a note: `[图片] 图片无法显示：…`. A media Tencent no longer has (40007: its 3
days are over) is noted at once; anything else (the API unreachable, an error) is tried again
after 20, 40 and 80 s (the job's backoff), then noted. Nothing is ever lost: the message stays.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core import jobs
from hotline.core.clock import utcnow
from hotline.core.context import Context, Tx
from hotline.core.errors import HotlineError, TooLarge, UnsupportedMedia
from hotline.core.i18n import reason_message
from hotline.notify import chat_files, tencent_media
from hotline.notify.events import ConversationChanged
from hotline.notify.models import Conversation, ConversationFile, ConversationMessage, GatewaySetting
from hotline.notify.wechat import ApiError, TokenClient, WeChatClient, WeChatError
from hotline.notify.wecom import API_BASE, WeComClient

log = structlog.get_logger(__name__)
HANDLER = "notify.chat_media"
ATTEMPTS = 4
"""Reads of one media at most: at once, then after 20, 40 and 80 s (core/jobs.py's backoff)."""
MEDIA_KINDS = {"wechat": frozenset({"image"}), "wecom": frozenset({"image", "file"})}
"""The messages whose media is read: pictures, and WeCom's files (kept when a PDF or a picture)."""
PLACEHOLDERS = {"image": "[图片]", "file": "[文件]"}
NOUNS = {"image": "图片", "file": "文件"}
ACCOUNTS = {"wechat": "微信公众平台", "wecom": "企业微信"}
WRONG_TYPE = "不是 JPEG、PNG、GIF、WebP 图片或 PDF 文件（按文件内容判断）"
AGAIN = "，可请客户重新发送"
MAX_NOTE = 300


@dataclass(frozen=True)
class MediaRef:
    """A customer's picture or file still on Tencent's side."""

    channel: str
    """wechat | wecom"""
    kind: str
    """image | file"""
    media_id: str


def ref_of(channel: str, kind: str, media_id: str) -> MediaRef | None:
    """The media to read for a message of this kind, or None (text, voice, a location…)."""
    if kind not in MEDIA_KINDS.get(channel, ()) or not media_id or len(media_id) > 256:
        return None
    return MediaRef(channel, kind, media_id)


async def schedule(session: AsyncSession, message_id: int, ref: MediaRef) -> None:
    """In the transaction that stores the message: its media read soon, off the request."""
    payload = {"message_id": message_id, "channel": ref.channel, "kind": ref.kind, "media_id": ref.media_id}
    await jobs.schedule_once(
        session, f"chat-media:{message_id}", HANDLER, utcnow(), payload=payload, max_attempts=ATTEMPTS
    )


@jobs.job_handler(HANDLER)
async def read_media(ctx: Context, payload: dict[str, Any]) -> None:
    """The job: one media read and kept, refused with a note, or failed (tried again)."""
    message_id = int(payload["message_id"])
    ref = MediaRef(str(payload["channel"]), str(payload["kind"]), str(payload["media_id"]))
    async with ctx.read() as session:
        job = (await session.execute(
            select(jobs.ScheduledJob.attempts, jobs.ScheduledJob.max_attempts)
            .where(jobs.ScheduledJob.key == f"chat-media:{message_id}")
        )).first()  # fmt: skip
    last = job is None or job.attempts + 1 >= job.max_attempts
    outcome = await fetch(ctx, message_id, ref, last=last)
    log.info("chat media read", message=message_id, channel=ref.channel, outcome=outcome)


async def fetch(ctx: Context, message_id: int, ref: MediaRef, *, last: bool) -> str:
    """Read the message's media and keep it: `stored`, `refused` (noted), `gone` (the message was
    deleted or carries its file already); WeChatError when the read failed and is to be tried
    again — noted first when it was the `last` try."""
    if not await _waiting(ctx, message_id):
        return "gone"
    who = ACCOUNTS[ref.channel]
    client = await _client(ctx, ref.channel)
    if client is None:
        await _note(ctx, message_id, ref.kind, f"{who}已断开，无法读取")
        return "refused"
    most = chat_files.upload_limit(ctx.settings) - 1
    try:
        media = await tencent_media.fetch(client, ref.media_id, most)
    except tencent_media.MediaTooLarge:
        await _note(ctx, message_id, ref.kind, _why(_too_large(most)))
        return "refused"
    except ApiError as exc:
        if exc.errcode in tencent_media.GONE:
            gone = f"{who}上已没有这个{NOUNS[ref.kind]}（错误码 {exc.errcode}：素材不存在或已过 3 天有效期）"
            await _note(ctx, message_id, ref.kind, gone)
            return "refused"
        if last:
            await _note(ctx, message_id, ref.kind, f"多次读取都未成功（{who}错误码 {exc.errcode}）{AGAIN}")
        raise
    except WeChatError:
        if last:
            await _note(ctx, message_id, ref.kind, f"多次读取都未成功（{who}无应答）{AGAIN}")
        raise
    return await attach(ctx, message_id, ref, media)


async def attach(ctx: Context, message_id: int, ref: MediaRef, media: tencent_media.Media) -> str:
    """The media's bytes judged as a web chat's file and carried by the message (`stored`), or
    the message noted with why not (`refused`)."""
    upload = chat_files.Upload(media.filename if ref.kind == "file" else "", media.data)
    try:
        checked = await chat_files.inspected(ctx, upload)
    except HotlineError as exc:
        await _note(ctx, message_id, ref.kind, _why(exc))
        return "refused"
    async with ctx.write() as tx:
        found = await _locked(tx.session, message_id)
        if found is None:
            return "gone"
        message, channel = found
        try:
            await chat_files.attach_received(tx.session, ctx.settings, message, upload, checked)
        except HotlineError as exc:  # the conversation's limits: checked before anything changed
            _noted(message, ref.kind, _why(exc))
            tx.audit("notify.chat_media_refused", "conversation", message.conversation_id,
                     after={"message": message.id, "reason": exc.reason})  # fmt: skip
            _moved(tx, message, channel)
            return "refused"
        stored = {"message": message.id, "type": checked.found.media_type, "size": len(media.data)}
        tx.audit("notify.chat_media_stored", "conversation", message.conversation_id, after=stored)
        _moved(tx, message, channel)
        return "stored"


async def close_clients() -> None:
    """Close the API clients this process keeps (the app's shutdown)."""
    kept = list(_clients.values())
    _clients.clear()
    for _, client in kept:
        with contextlib.suppress(Exception):
            await client.close()


# ---------------------------------------------------------------- helpers

_clients: dict[tuple[str, str, str, str], tuple[asyncio.AbstractEventLoop, TokenClient]] = {}
"""One API client per account and event loop: its access token is fetched once, not per read."""


async def _client(ctx: Context, channel: str) -> TokenClient | None:
    async with ctx.read() as session:
        setting = await session.get(GatewaySetting, channel)
    if setting is None or setting.kind != channel or not setting.secret:
        return None
    config, loop = setting.config, asyncio.get_running_loop()
    account = str(config.get("app_id" if channel == "wechat" else "corp_id", ""))
    fingerprint = (channel, account, setting.secret, str(config.get("api_base", "")))
    kept = _clients.get(fingerprint)
    if kept is not None and kept[0] is loop:
        return kept[1]
    for other in [key for key, (_, _) in _clients.items() if key[0] == channel]:  # settings changed
        old_loop, old = _clients.pop(other)
        if old_loop is loop:
            with contextlib.suppress(Exception):
                await old.close()
    timeout = float(config.get("timeout", 10))
    client: TokenClient = (
        WeChatClient(account, setting.secret, base_url=fingerprint[3] or "https://api.weixin.qq.com",
                     timeout=timeout)
        if channel == "wechat"
        else WeComClient(account, setting.secret, base_url=fingerprint[3] or API_BASE, timeout=timeout)
    )  # fmt: skip
    _clients[fingerprint] = (loop, client)
    return client


async def _waiting(ctx: Context, message_id: int) -> bool:
    """Whether the message is still there and carries no file yet."""
    async with ctx.read() as session:
        if await session.get(ConversationMessage, message_id) is None:
            return False
        return await session.get(ConversationFile, message_id) is None


async def _locked(session: AsyncSession, message_id: int) -> tuple[ConversationMessage, str] | None:
    """The message still waiting for its file, and its conversation's channel, the conversation
    locked (one file added at a time: its limits hold)."""
    message = await session.get(ConversationMessage, message_id)
    if message is None:
        return None
    conversation = await session.get(Conversation, message.conversation_id, with_for_update=True)
    if conversation is None or await session.get(ConversationFile, message_id) is not None:
        return None
    return message, conversation.channel


def _too_large(most: int) -> HotlineError:
    return TooLarge(f"Files of at most {most} bytes", reason="chat-file-too-large",
                               params={"most_mb": f"{most / 1024 / 1024:g}"})  # fmt: skip


def _why(exc: HotlineError) -> str:
    if isinstance(exc, UnsupportedMedia):
        return WRONG_TYPE
    return reason_message(exc.reason, "zh-CN", exc.params, english=exc.detail) or exc.detail


def _moved(tx: Tx, message: ConversationMessage, channel: str) -> None:
    """The thread shows the file or the note (the agents' lists and threads reload)."""
    tx.publish(
        ConversationChanged(conversation_id=message.conversation_id, channel=channel, action="received")
    )


def _noted(message: ConversationMessage, kind: str, why: str) -> None:
    message.body = f"{PLACEHOLDERS[kind]} {NOUNS[kind]}无法显示：{why}"[:MAX_NOTE]


async def _note(ctx: Context, message_id: int, kind: str, why: str) -> None:
    """The placeholder stays, with why the picture or file cannot be shown."""
    async with ctx.write() as tx:
        found = await _locked(tx.session, message_id)
        if found is None:
            return
        message, channel = found
        _noted(message, kind, why)
        tx.audit("notify.chat_media_refused", "conversation", message.conversation_id,
                 after={"message": message.id, "note": message.body})  # fmt: skip
        _moved(tx, message, channel)
