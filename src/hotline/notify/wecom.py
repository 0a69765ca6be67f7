"""WeCom (企业微信) customer service — 微信客服 — the wire protocol of the channel (issue 24 item 5;
docs/channels.md "WeCom").

What Tencent's published spec for 微信客服 defines, on the same primitives as the official
account's (notify/wechat.py: the SHA-1 signature, WXBizMsgCrypt's AES-256-CBC with the CorpID as
the receiver id, XML without DTDs, the access token kept and fetched once for all callers):

- **Callbacks are always encrypted.** WeCom calls the configured URL with `msg_signature`,
  `timestamp` and `nonce`: SHA-1 over the sorted Token, timestamp, nonce and the encrypted part.
  The URL check (`GET`, when the administrator saves it) carries `echostr` *encrypted*: it is
  decrypted and the plain text sent back. A message (`POST`) is `<xml><ToUserName>` (the CorpID)
  `<Encrypt>…</Encrypt></xml>`.
- **The callback carries no message.** The event `kf_msg_or_event` says that a 客服账号
  (`OpenKfId`) has news and gives a `Token` valid 10 minutes; the messages are then read with
  `POST /cgi-bin/kf/sync_msg` (`cursor` from the last read, `token`, `limit` ≤ 1000,
  `open_kfid`), answered with `next_cursor`, `has_more` and `msg_list`; each message has `msgid`,
  `open_kfid`, `external_userid` (the customer, as the corporation knows them), `send_time`,
  `origin` (3: from the customer; 4: system; 5: a servicer in WeCom's client), `msgtype` and
  its body (`text.content`, `image.media_id`…). Only the last 3 days can be read.
- **Access token**: `GET /cgi-bin/gettoken?corpid&corpsecret` with the 微信客服 Secret, valid
  `expires_in` (7200 s); 40014 (invalid) and 42001 (expired) mean fetch again.
- **Replies**: `POST /cgi-bin/kf/send_msg` with `{"touser", "open_kfid", "msgtype": "text",
  "text": {"content"}}`, allowed while the session is new or with the bot (states 0 and 1) and
  within 48 hours of the customer's last message, 5 answers at most per customer message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hotline.notify.wechat import TokenClient, WeChatCrypto, WeChatError, check_fresh, parse

API_BASE = "https://qyapi.weixin.qq.com"
FROM_CUSTOMER = 3
"""`origin` of a message the customer sent (4: WeCom's system, 5: a servicer in WeCom's client)."""
EXPIRED_TOKEN = frozenset({40014, 42001})
"""WeCom's errcodes for an invalid or expired access token (its 40001 is a wrong Secret)."""
PULL_LIMIT = 1000
EXPIRED_MSG_TOKEN = 95007
"""`sync_msg`'s answer to a callback's token past its 10 minutes: read again without it."""


@dataclass(frozen=True)
class KfEvent:
    """`kf_msg_or_event`: a 客服账号 has news to read with `sync_msg`."""

    open_kfid: str
    token: str


@dataclass(frozen=True)
class KfMessage:
    """One item of `sync_msg`'s `msg_list`."""

    msgid: str
    open_kfid: str
    external_userid: str
    at: int
    origin: int
    kind: str
    text: str = ""
    media_id: str = ""
    """A picture's or file's (`image.media_id`, `file.media_id`…): read with the media API"""


def _checked(crypto: WeChatCrypto, query: dict[str, str], encrypted: str, now: float | None) -> str:
    timestamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
    crypto.verify(query.get("msg_signature", ""), timestamp, nonce, encrypted)
    check_fresh(timestamp, now)
    return crypto.decrypt(encrypted)


def echo(crypto: WeChatCrypto, query: dict[str, str], *, now: float | None = None) -> str:
    """WeCom's check of the callback URL: the decrypted `echostr`, under `msg_signature`."""
    return _checked(crypto, query, query.get("echostr", ""), now)


def open_callback(
    crypto: WeChatCrypto, query: dict[str, str], body: bytes, *, now: float | None = None
) -> KfEvent | None:
    """Check and decrypt a callback; the `kf_msg_or_event` it announces, or None for any other
    event (a servicer's state, a session's end…), which needs nothing from us."""
    fields = parse(_checked(crypto, query, parse(body).get("Encrypt", ""), now).encode())
    if fields.get("MsgType") != "event" or fields.get("Event") != "kf_msg_or_event":
        return None
    open_kfid = fields.get("OpenKfId", "")
    if not open_kfid or len(open_kfid) > 64:
        raise WeChatError("the event names no 客服账号 (OpenKfId)")
    return KfEvent(open_kfid, fields.get("Token", "")[:128])


def read_message(item: Any) -> KfMessage | None:
    """A `msg_list` item as a KfMessage; None for what is not a message of a customer's (an
    event, a servicer's or the system's message) or lacks its ids."""
    if not isinstance(item, dict) or item.get("origin") != FROM_CUSTOMER:
        return None
    msgid, user, kind = item.get("msgid"), item.get("external_userid"), item.get("msgtype")
    if not all(isinstance(v, str) and v for v in (msgid, user, kind)):
        return None
    body = item.get("text")
    text = body.get("content", "") if kind == "text" and isinstance(body, dict) else ""
    at = item.get("send_time")
    content = item.get(str(kind))
    media = content.get("media_id", "") if isinstance(content, dict) else ""
    return KfMessage(
        str(msgid), str(item.get("open_kfid", "")), str(user), at if isinstance(at, int) else 0,
        FROM_CUSTOMER, str(kind), text if isinstance(text, str) else "",
        media if isinstance(media, str) else "",
    )  # fmt: skip


@dataclass(frozen=True)
class Page:
    messages: list[KfMessage]
    next_cursor: str
    has_more: bool


class WeComClient(TokenClient):
    """The corporation's 微信客服 API: its access token, reading and answering messages."""

    name = "WeCom"
    expired_codes = EXPIRED_TOKEN

    def __init__(self, corp_id: str, secret: str, *, base_url: str = API_BASE, timeout: float = 10.0) -> None:
        super().__init__(base_url, timeout)
        self.corp_id, self.secret = corp_id, secret

    async def _fetch_token(self) -> dict[str, Any]:
        return await self._get("/cgi-bin/gettoken", {"corpid": self.corp_id, "corpsecret": self.secret})

    async def sync_msg(self, open_kfid: str, cursor: str, token: str) -> Page:
        """One page of the 客服账号's messages after `cursor` (customers' only)."""
        payload: dict[str, Any] = {"open_kfid": open_kfid, "limit": PULL_LIMIT}
        if cursor:
            payload["cursor"] = cursor
        if token:
            payload["token"] = token
        answer = await self.call("/cgi-bin/kf/sync_msg", payload)
        items = answer.get("msg_list")
        found = [m for m in map(read_message, items if isinstance(items, list) else []) if m is not None]
        next_cursor = answer.get("next_cursor")
        return Page(
            found, next_cursor if isinstance(next_cursor, str) else cursor, bool(answer.get("has_more"))
        )

    async def send_text(self, open_kfid: str, external_userid: str, text: str) -> str:
        """A text answer to the customer from the 客服账号; WeCom's msgid for it."""
        answer = await self.call(
            "/cgi-bin/kf/send_msg",
            {"touser": external_userid, "open_kfid": open_kfid, "msgtype": "text", "text": {"content": text}},
        )
        return str(answer.get("msgid", ""))

    async def send_image(self, open_kfid: str, external_userid: str, media_id: str) -> str:
        """A picture to the customer (uploaded first as temporary media); WeCom's msgid for it."""
        answer = await self.call(
            "/cgi-bin/kf/send_msg",
            {
                "touser": external_userid,
                "open_kfid": open_kfid,
                "msgtype": "image",
                "image": {"media_id": media_id},
            },
        )
        return str(answer.get("msgid", ""))
