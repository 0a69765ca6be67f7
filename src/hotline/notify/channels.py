"""The gateways' side of customers' conversations: what Kannel's `sms-service` and a WeChat
official account's callback bring, checked and read, handed to `conversations.receive`.

An incoming SMS (`GET /api/notify/mo/kannel`) is believed only with the token set in the SMS
gateway's settings. A WeChat message (`POST /api/notify/wechat`) is believed only under the
signature of the account's Token and, in safe mode, decrypted with its EncodingAESKey
(notify/wechat.py); WeChat's check of the URL (`GET`) gets its echostr back under the same
signature. Events (following the account, menus) are answered and kept nowhere.
"""

from __future__ import annotations

import hmac
import urllib.parse

from hotline.core.context import Context
from hotline.core.errors import InvalidInput, PermissionDenied
from hotline.notify import chat_media
from hotline.notify.conversations import MAX_TEXT, Incoming, Received, receive
from hotline.notify.models import GatewaySetting
from hotline.notify.wechat import BadSignature, WeChatCrypto, WeChatError, open_callback


def kannel_text(query: str, charset: str) -> str:
    """The `text` of Kannel's get-url in the charset it names (%C): a UCS-2 SMS — any Chinese —
    arrives as its UTF-16BE bytes, url-encoded; a GSM one as UTF-8. The text must be Kannel's %b
    (the message as sent): %a strips and squeezes blanks byte by byte, which cuts a UTF-16
    message ending in 张 (U+5F20) or a space in half."""
    codecs = {"UTF-16BE": "utf-16-be", "UCS-2": "utf-16-be", "UTF-8": "utf-8", "ISO-8859-1": "latin-1",
              "WINDOWS-1252": "cp1252"}  # fmt: skip
    codec = codecs.get(charset.upper())
    if codec is None:
        raise InvalidInput(
            f"Unknown charset {charset!r}", field="query.charset", reason="sms-charset-unknown",
            params={"charset": charset},
        )  # fmt: skip
    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True, encoding="latin-1")
    raw = next((value for key, value in pairs if key == "text"), "").encode("latin-1")
    try:
        text = raw.decode(codec)
    except UnicodeDecodeError:
        raise InvalidInput(
            f"The text is not {charset}", field="query.text", reason="sms-text-undecodable",
            params={"charset": charset},
        ) from None  # fmt: skip
    text = text.replace(
        "\x00", ""
    )  # a NUL (possible in UCS-2) is nothing a person wrote; PostgreSQL refuses it
    if len(text) > MAX_TEXT:
        raise InvalidInput(
            f"An SMS of at most {MAX_TEXT} characters", field="query.text", reason="sms-text-too-long",
            params={"most": MAX_TEXT},
        )  # fmt: skip
    return text


async def receive_kannel(ctx: Context, incoming: Incoming, token: str) -> Received:
    """An SMS from Kannel's `sms-service`: believed only with the token set in the SMS gateway's
    settings (PermissionDenied otherwise, nothing stored), then `receive`d."""
    async with ctx.read() as session:
        setting = await session.get(GatewaySetting, "sms")
    key = str(setting.config.get("mo_token", "")) if setting else ""
    if not key or not hmac.compare_digest(token.encode(), key.encode()):
        raise PermissionDenied(
            "The token is not the SMS gateway's", field="query.token", reason="sms-reply-token-refused"
        )
    return await receive(ctx, incoming)


WECHAT_KINDS = {"image": "[图片]", "voice": "[语音]", "video": "[视频]", "shortvideo": "[小视频]",
                "location": "[位置]", "link": "[链接]", "file": "[文件]"}  # fmt: skip
"""What the thread shows for a WeChat message that is not text; a picture's is replaced by the
picture once read from WeChat's media API (chat_media.py), or kept with a note why not."""


async def _wechat_crypto(ctx: Context) -> tuple[WeChatCrypto, bool]:
    """The connected account's callback keys, and whether it has an EncodingAESKey (safe mode);
    PermissionDenied when no account is connected."""
    async with ctx.read() as session:
        setting = await session.get(GatewaySetting, "wechat")
    config = setting.config if setting is not None and setting.kind == "wechat" else {}
    if not config.get("token"):
        raise PermissionDenied("No WeChat account is connected", reason="wechat-not-connected")
    key = str(config.get("encoding_aes_key", ""))
    return WeChatCrypto(str(config["token"]), key or NO_AES_KEY, str(config.get("app_id", ""))), bool(key)


NO_AES_KEY = "A" * 43
"""Stands for the EncodingAESKey of an account in plain mode: a safe-mode callback is refused."""


def _refused(exc: WeChatError) -> PermissionDenied | InvalidInput:
    if isinstance(exc, BadSignature):
        return PermissionDenied(
            f"WeChat callback refused: {exc}", field="query.signature", reason="wechat-signature-refused"
        )
    return InvalidInput(f"Unreadable WeChat message: {exc}", field="body", reason="wechat-message-unreadable")


async def wechat_echo(ctx: Context, query: dict[str, str]) -> str:
    """WeChat's check of the callback URL when an administrator saves it: the `echostr` back,
    only under the account's signature."""
    crypto, _ = await _wechat_crypto(ctx)
    try:
        crypto.verify(query.get("signature", ""), query.get("timestamp", ""), query.get("nonce", ""))
    except WeChatError as exc:
        raise _refused(exc) from None
    return query.get("echostr", "")


async def receive_wechat(ctx: Context, query: dict[str, str], body: bytes) -> Received | None:
    """A message to the account (its callback, plain or safe mode): checked, read and threaded
    into the customer's WeChat conversation; None for an event (following, menus), kept nowhere."""
    crypto, safe = await _wechat_crypto(ctx)
    if query.get("encrypt_type") == "aes" and not safe:
        raise _refused(WeChatError("a safe-mode message for an account without an EncodingAESKey"))
    try:
        inbound = open_callback(crypto, query, body)
    except WeChatError as exc:
        raise _refused(exc) from None
    if inbound.kind == "event":
        return None
    text = inbound.text if inbound.kind == "text" else WECHAT_KINDS.get(inbound.kind, "[消息]")
    text = text.replace("\x00", "")
    if len(text) > MAX_TEXT:
        raise InvalidInput(
            f"A WeChat message of at most {MAX_TEXT} characters", field="body.Content",
            reason="wechat-text-too-long",
            params={"most": MAX_TEXT},
        )  # fmt: skip
    gateway_id = f"wechat:{inbound.message_id or f'{inbound.openid}:{inbound.at}'}"[:64]
    media = chat_media.ref_of("wechat", inbound.kind, inbound.media_id)
    return await receive(ctx, Incoming(inbound.openid, text, gateway_id, channel="wechat", media=media))
