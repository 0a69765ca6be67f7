"""WeCom (企业微信) customer service — 微信客服 — as a conversation channel: WeCom's callbacks
checked, and the messages they announce read and threaded into `wecom` conversations.

A callback (`POST /api/notify/wecom`) is believed only under `msg_signature` with the configured
Token, decrypted with the EncodingAESKey for the CorpID (notify/wecom.py); the URL check (`GET`)
gets its decrypted echostr back. A `kf_msg_or_event` is answered at once — WeCom wants an answer
within 5 s — and its 客服账号's messages are read in the background by the node's `WeComPuller`:
`sync_msg` from the cursor kept in `wecom_cursors` (a restart or another node reads nothing twice),
with the event's token, page after page while `has_more`. Each customer message is `receive`d
under `wecom:<msgid>` (the unique gateway id: a repeated callback or a re-read stores nothing
twice); what is not text shows as [图片], [语音]…, a picture or a file then read from WeCom's
media API and shown in the thread (chat_media.py); events and servicers' messages are skipped. The
cursor moves only once a page's messages are stored, so a pull that dies is read again.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import structlog

from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.core.errors import InvalidInput, PermissionDenied
from hotline.notify import chat_media
from hotline.notify.channels import WECHAT_KINDS
from hotline.notify.conversations import MAX_TEXT, Incoming, Received, receive
from hotline.notify.models import GatewaySetting, WeComContact, WeComCursor
from hotline.notify.wechat import ApiError, BadSignature, WeChatCrypto, WeChatError
from hotline.notify.wecom import (
    API_BASE,
    EXPIRED_MSG_TOKEN,
    KfEvent,
    KfMessage,
    WeComClient,
    echo,
    open_callback,
)

log = structlog.get_logger(__name__)
WECOM_KINDS = {**WECHAT_KINDS, "business_card": "[名片]", "miniprogram": "[小程序]", "msgmenu": "[菜单]",
               "channels_shop_product": "[商品]", "channels_shop_order": "[订单]"}  # fmt: skip
"""What the thread shows for a message that is not text (pictures and PDFs: until read, chat_media.py)."""
MAX_PAGES = 50
"""Pages one pull reads at most (50,000 messages); the next callback goes on from the cursor."""


async def _config(ctx: Context) -> dict[str, Any]:
    async with ctx.read() as session:
        setting = await session.get(GatewaySetting, "wecom")
    return dict(setting.config) if setting is not None and setting.kind == "wecom" else {}


async def _crypto(ctx: Context) -> WeChatCrypto:
    config = await _config(ctx)
    if not config.get("token") or not config.get("encoding_aes_key"):
        raise PermissionDenied("No WeCom customer service is connected", reason="wecom-not-connected")
    return WeChatCrypto(str(config["token"]), str(config["encoding_aes_key"]), str(config.get("corp_id", "")))


def _refused(exc: WeChatError) -> PermissionDenied | InvalidInput:
    if isinstance(exc, BadSignature):
        return PermissionDenied(
            f"WeCom callback refused: {exc}", field="query.msg_signature", reason="wecom-signature-refused"
        )
    return InvalidInput(f"Unreadable WeCom callback: {exc}", field="body", reason="wecom-message-unreadable")


async def wecom_echo(ctx: Context, query: dict[str, str]) -> str:
    """WeCom's check of the callback URL: the echostr decrypted, only under the Token's signature."""
    crypto = await _crypto(ctx)
    try:
        return echo(crypto, query)
    except WeChatError as exc:
        raise _refused(exc) from None


async def receive_callback(ctx: Context, query: dict[str, str], body: bytes) -> KfEvent | None:
    """A callback checked and read: the 客服账号 with news to read, or None (another event)."""
    crypto = await _crypto(ctx)
    try:
        return open_callback(crypto, query, body)
    except WeChatError as exc:
        raise _refused(exc) from None


def shown_text(message: KfMessage) -> str:
    """What the thread keeps of a message: its text, or [图片] and the like, at most MAX_TEXT."""
    text = message.text if message.kind == "text" else WECOM_KINDS.get(message.kind, "[消息]")
    return text.replace("\x00", "")[:MAX_TEXT]


async def store(ctx: Context, message: KfMessage) -> Received:
    """One customer message into their `wecom` conversation (once per msgid), remembering the
    客服账号 they wrote to: the one the answer goes from."""
    media = chat_media.ref_of("wecom", message.kind, message.media_id)
    received = await receive(ctx, Incoming(
        message.external_userid, shown_text(message), f"wecom:{message.msgid}"[:80], "wecom", media
    ))  # fmt: skip
    if not received.duplicate and message.open_kfid:
        async with ctx.write() as tx:
            contact = await tx.session.get(WeComContact, message.external_userid, with_for_update=True)
            if contact is None:
                tx.session.add(
                    WeComContact(external_userid=message.external_userid, open_kfid=message.open_kfid)
                )
            else:
                contact.open_kfid, contact.updated_at = message.open_kfid, utcnow()
    return received


async def pull(ctx: Context, client: WeComClient, open_kfid: str, token: str) -> int:
    """Read the 客服账号's new messages from the kept cursor and store each; how many were new."""
    async with ctx.read() as session:
        kept = await session.get(WeComCursor, open_kfid)
    cursor, new = kept.cursor if kept else "", 0
    for _ in range(MAX_PAGES):
        try:
            page = await client.sync_msg(open_kfid, cursor, token)
        except ApiError as exc:  # the callback's token ran out: WeCom allows reads without, rarer
            if exc.errcode != EXPIRED_MSG_TOKEN or not token:
                raise
            token = ""
            page = await client.sync_msg(open_kfid, cursor, token)
        for message in page.messages:
            try:
                new += not (await store(ctx, message)).duplicate
            except InvalidInput as exc:  # a customer id we cannot keep: skipped, the rest read
                log.warning("wecom message skipped", msgid=message.msgid, error=str(exc))
        if page.next_cursor != cursor:
            cursor = page.next_cursor
            await _save_cursor(ctx, open_kfid, cursor)
        if not page.has_more:
            break
    return new


async def _save_cursor(ctx: Context, open_kfid: str, cursor: str) -> None:
    async with ctx.write() as tx:
        row = await tx.session.get(WeComCursor, open_kfid, with_for_update=True)
        if row is None:
            tx.session.add(WeComCursor(open_kfid=open_kfid, cursor=cursor))
        else:
            row.cursor, row.updated_at = cursor, utcnow()


class WeComPuller:
    """The node's reads of WeCom's messages, off the callback's request: one task per 客服账号
    at a time; a callback during a read asks for one more read after it (with the newer token).
    The API client (and its access token) is kept while the settings stay the same.
    `stop()` cancels and awaits the reads."""

    def __init__(self) -> None:
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._again: dict[str, str] = {}
        self._client: tuple[tuple[str, str, str], WeComClient] | None = None

    def pull_soon(self, ctx: Context, event: KfEvent) -> None:
        if event.open_kfid in self._tasks:
            self._again[event.open_kfid] = event.token
            return
        self._tasks[event.open_kfid] = asyncio.create_task(
            self._run(ctx, event.open_kfid, event.token), name=f"wecom-pull-{event.open_kfid}"
        )

    async def idle(self) -> None:
        """Wait until no read runs (tests; shutting down)."""
        while self._tasks:
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    async def stop(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        self._tasks.clear()
        if self._client is not None:
            await self._client[1].close()
            self._client = None

    async def _run(self, ctx: Context, open_kfid: str, token: str) -> None:
        try:
            while True:
                try:
                    new = await pull(ctx, await self._api(ctx), open_kfid, token)
                    log.info("wecom messages read", open_kfid=open_kfid, new=new)
                except (WeChatError, PermissionDenied) as exc:
                    log.warning("wecom read failed", open_kfid=open_kfid, error=str(exc))
                except Exception:  # the next callback reads again from the kept cursor
                    log.exception("wecom read failed", open_kfid=open_kfid)
                if open_kfid not in self._again:
                    return
                token = self._again.pop(open_kfid)
        finally:
            self._tasks.pop(open_kfid, None)

    async def _api(self, ctx: Context) -> WeComClient:
        async with ctx.read() as session:
            setting = await session.get(GatewaySetting, "wecom")
        if setting is None or setting.kind != "wecom":
            raise PermissionDenied("No WeCom customer service is connected", reason="wecom-not-connected")
        config = setting.config
        fingerprint = (str(config.get("corp_id", "")), setting.secret, str(config.get("api_base", "")))
        if self._client is None or self._client[0] != fingerprint:
            if self._client is not None:
                with contextlib.suppress(Exception):
                    await self._client[1].close()
            client = WeComClient(fingerprint[0], fingerprint[1], base_url=fingerprint[2] or API_BASE,
                                 timeout=float(config.get("timeout", 10)))  # fmt: skip
            self._client = (fingerprint, client)
        return self._client[1]
