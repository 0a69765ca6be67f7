"""WeChat Official Account (公众号) customer-service messages: the wire protocol of the channel
(issue 24 item 5; docs/channels.md "WeChat").

What Tencent's published spec defines, and nothing else:

- **Callback verification.** WeChat calls the configured URL with `signature`, `timestamp`,
  `nonce` (and `echostr` when the URL is first saved): the signature is SHA-1 over the sorted
  concatenation of the account's Token, the timestamp and the nonce. In safe mode (安全模式,
  `encrypt_type=aes`) each message also carries `msg_signature`, the same over Token, timestamp,
  nonce and the encrypted body.
- **Message encryption** (安全模式): AES-256-CBC with key = base64(EncodingAESKey + "=") and
  IV = the key's first 16 bytes; the plaintext is 16 random bytes, the message's length as 4
  big-endian bytes, the XML message and the AppID, padded PKCS#7 to 32-byte blocks. A message
  for another AppID is refused. WeCom's (企业微信) callbacks use the same scheme with the CorpID.
- **Messages** are XML (`ToUserName`, `FromUserName` = the customer's OpenID, `CreateTime`,
  `MsgType`, `Content` / `PicUrl` + `MediaId`, `MsgId`), parsed with defusedxml (no DTD, no
  entities) and bounded in size. WeChat expects an answer within 5 s: the callback answers
  `success` and the reply goes later through the customer-service API.
- **Access token**: `GET /cgi-bin/token?grant_type=client_credential&appid&secret` gives a token
  valid `expires_in` seconds (7200); it is kept and fetched again 5 minutes before it runs out, or
  at once when an API call says it is invalid or expired (40001, 40014, 42001), one fetch at a
  time for all callers.
- **Replies**: `POST /cgi-bin/message/custom/send?access_token=…` with
  `{"touser": openid, "msgtype": "text", "text": {"content": …}}`; allowed within 48 hours of the
  customer's last message (errcode 45015 otherwise).

Why not the `wechatpy` package: its last release is from 2021 and its client calls the API with
blocking `requests`, which would hold the event loop that carries live calls; the protocol above
is small, and its cryptography is the `cryptography` package's AES (docs/decisions/0008).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
import struct
import time
from dataclasses import dataclass
from typing import Any

import httpx
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

MAX_MESSAGE_BYTES = 64 * 1024
"""A callback body larger than this is refused before it is parsed (a text message is ≤ 2,048
characters; event and media messages are far smaller)."""
TOKEN_MARGIN_SECONDS = 300.0
EXPIRED_TOKEN = frozenset({40001, 40014, 42001})
"""errcodes meaning the access token is invalid or expired: fetch a new one and try once more."""
_BLOCK = 32


class WeChatError(Exception):
    """Something WeChat's side (or a message claiming to come from it) got wrong."""


class BadSignature(WeChatError):
    pass


class ApiError(WeChatError):
    def __init__(self, errcode: int, errmsg: str, name: str = "WeChat") -> None:
        super().__init__(f"{name} API error {errcode}: {errmsg}")
        self.errcode, self.errmsg = errcode, errmsg


def signature(*parts: str) -> str:
    """SHA-1 of the parts sorted and joined: the callback's `signature` and `msg_signature`."""
    return hashlib.sha1("".join(sorted(parts)).encode(), usedforsecurity=False).hexdigest()  # the spec's


class WeChatCrypto:
    """One account's callback security: its Token, EncodingAESKey (43 characters) and AppID."""

    def __init__(self, token: str, encoding_aes_key: str, app_id: str) -> None:
        if len(encoding_aes_key) != 43:
            raise ValueError("an EncodingAESKey has 43 characters")
        try:
            self.key = base64.b64decode(encoding_aes_key + "=", validate=True)
        except ValueError as exc:
            raise ValueError("an EncodingAESKey is base64 (A–Z, a–z, 0–9, + and /)") from exc
        self.token, self.app_id = token, app_id

    def verify(self, given: str, timestamp: str, nonce: str, *encrypted: str) -> None:
        """Raise BadSignature unless `given` signs (Token, timestamp, nonce[, encrypted])."""
        expected = signature(self.token, timestamp, nonce, *encrypted)
        if not hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace")):
            raise BadSignature("the signature does not match this account's Token")

    def encrypt(self, message: str, *, random_prefix: bytes | None = None) -> str:
        body = message.encode()
        plain = (random_prefix or os.urandom(16)) + struct.pack(">I", len(body)) + body + self.app_id.encode()
        pad = _BLOCK - len(plain) % _BLOCK
        plain += bytes([pad]) * pad
        encryptor = Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16])).encryptor()
        return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()

    def decrypt(self, encrypted: str) -> str:
        """The XML inside an `Encrypt` element; WeChatError when it is not this account's."""
        try:
            data = base64.b64decode(encrypted, validate=True)
        except ValueError as exc:
            raise WeChatError("the encrypted message is not base64") from exc
        if not data or len(data) % 16:
            raise WeChatError("the encrypted message is not whole AES blocks")
        decryptor = Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16])).decryptor()
        plain = decryptor.update(data) + decryptor.finalize()
        pad = plain[-1]
        if not 1 <= pad <= _BLOCK or plain[-pad:] != bytes([pad]) * pad or len(plain) < 20 + pad:
            raise WeChatError("the encrypted message's padding is wrong")
        plain = plain[:-pad]
        (length,) = struct.unpack(">I", plain[16:20])
        body, app_id = plain[20 : 20 + length], plain[20 + length :]
        if len(body) != length or not hmac.compare_digest(app_id, self.app_id.encode()):
            raise WeChatError("the message is for another account")
        try:
            return body.decode()
        except UnicodeDecodeError as exc:
            raise WeChatError("the message is not UTF-8") from exc


@dataclass(frozen=True)
class Inbound:
    """A customer's message as the callback brings it."""

    account: str  # ToUserName: the official account's original id (gh_…)
    openid: str  # FromUserName: the customer, as this account knows them
    at: int  # CreateTime, Unix seconds
    kind: str  # text | image | voice | video | location | link | event | …
    text: str = ""  # Content (text), or the event's name (event)
    media_id: str = ""
    picture_url: str = ""
    message_id: str = ""  # MsgId: WeChat retries a callback three times with the same id


def parse(xml: bytes) -> dict[str, str]:
    """The top-level elements of a callback's XML, as text; WeChatError for anything else."""
    if len(xml) > MAX_MESSAGE_BYTES:
        raise WeChatError(f"the message is over {MAX_MESSAGE_BYTES} bytes")
    try:
        root = ElementTree.fromstring(xml, forbid_dtd=True)
    except (DefusedXmlException, ElementTree.ParseError, ValueError) as exc:
        raise WeChatError(f"the message is not well-formed XML: {exc}") from exc
    if root.tag != "xml":
        raise WeChatError("the message's root element is not <xml>")
    return {child.tag: (child.text or "") for child in root}


def check_fresh(timestamp: str, now: float | None = None) -> None:
    """BadSignature for a callback's timestamp more than 5 minutes from `now` (a replay)."""
    if not timestamp.isdigit() or abs(int(timestamp) - (now or time.time())) > 300:
        raise BadSignature("the callback's timestamp is not within 5 minutes of now")


def open_callback(
    crypto: WeChatCrypto, query: dict[str, str], body: bytes, *, now: float | None = None
) -> Inbound:
    """Check a message callback and read the customer's message: the URL's `signature` always,
    and in safe mode (`encrypt_type=aes`) `msg_signature` over the body and its decryption.
    A timestamp more than 5 minutes from `now` is refused (a replayed callback)."""
    timestamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
    crypto.verify(query.get("signature", ""), timestamp, nonce)
    check_fresh(timestamp, now)
    fields = parse(body)
    if query.get("encrypt_type") == "aes":
        encrypted = fields.get("Encrypt", "")
        crypto.verify(query.get("msg_signature", ""), timestamp, nonce, encrypted)
        fields = parse(crypto.decrypt(encrypted).encode())
    kind = fields.get("MsgType", "")
    return Inbound(
        account=fields.get("ToUserName", ""),
        openid=fields.get("FromUserName", ""),
        at=int(fields.get("CreateTime", "0") or 0) if fields.get("CreateTime", "").isdigit() else 0,
        kind=kind,
        text=fields.get("Event", "") if kind == "event" else fields.get("Content", ""),
        media_id=fields.get("MediaId", ""),
        picture_url=fields.get("PicUrl", ""),
        message_id=fields.get("MsgId", ""),
    )


class TokenClient:
    """Tencent's JSON APIs behind an access token, as WeChat's and WeCom's share them: the token
    kept, fetched 5 minutes before it ends or at once when a call says it is invalid or expired
    (`expired_codes`), one fetch at a time for all callers; each call tried once more after such
    a fetch. Subclasses say how a token is fetched (`_fetch_token`)."""

    name = "WeChat"
    expired_codes: frozenset[int] = EXPIRED_TOKEN

    def __init__(self, base_url: str, timeout: float) -> None:
        self.http = httpx.AsyncClient(base_url=base_url, timeout=timeout)
        self._token = ""
        self._valid_until = 0.0
        self._fetching = asyncio.Lock()
        self.fetched = 0
        """How many tokens were fetched (Tencent limits the fetches a day)."""

    async def close(self) -> None:
        await self.http.aclose()

    async def _fetch_token(self) -> dict[str, Any]:
        raise NotImplementedError

    async def token(self, *, stale: str = "") -> str:
        """The access token, fetched when there is none, it ends within 5 minutes, or the one
        a call found invalid (`stale`) is still the one kept; one fetch for concurrent callers."""
        async with self._fetching:
            if self._token and self._token != stale and time.monotonic() < self._valid_until:
                return self._token
            answer = await self._fetch_token()
            token, expires = answer.get("access_token"), answer.get("expires_in")
            if not isinstance(token, str) or not token or not isinstance(expires, int):
                raise WeChatError(f"{self.name}'s token answer has no access_token and expires_in")
            self.fetched += 1
            self._token = token
            self._valid_until = time.monotonic() + max(0.0, expires - TOKEN_MARGIN_SECONDS)
            return token

    async def call(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        """POST `payload` to an API path with the token; ApiError with the errcode otherwise."""
        token = await self.token()
        try:
            return await self._post(path, token, payload)
        except ApiError as exc:
            if exc.errcode not in self.expired_codes:
                raise
        return await self._post(path, await self.token(stale=token), payload)

    async def _post(self, path: str, token: str, payload: dict[str, Any]) -> dict[str, Any]:
        try:
            response = await self.http.post(path, params={"access_token": token}, json=payload)
        except httpx.HTTPError as exc:
            raise WeChatError(f"{self.name}'s API did not answer: {exc!r}") from exc
        return _checked(response, self.name)

    async def _get(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        try:
            response = await self.http.get(path, params=params)
        except httpx.HTTPError as exc:
            raise WeChatError(f"{self.name}'s API did not answer: {exc!r}") from exc
        return _checked(response, self.name)


class WeChatClient(TokenClient):
    """The official account's side of the API: its access token and customer-service replies."""

    def __init__(
        self, app_id: str, secret: str, *, base_url: str = "https://api.weixin.qq.com", timeout: float = 10.0
    ) -> None:
        super().__init__(base_url, timeout)
        self.app_id, self.secret = app_id, secret

    async def _fetch_token(self) -> dict[str, Any]:
        return await self._get(
            "/cgi-bin/token", {"grant_type": "client_credential", "appid": self.app_id, "secret": self.secret}
        )

    async def send_text(self, openid: str, text: str) -> None:
        """A customer-service text message to the customer (within 48 h of their last one)."""
        await self.call(
            "/cgi-bin/message/custom/send",
            {"touser": openid, "msgtype": "text", "text": {"content": text}},
        )

    async def send_image(self, openid: str, media_id: str) -> None:
        """A customer-service picture (uploaded first as temporary media: tencent_media.upload)."""
        await self.call(
            "/cgi-bin/message/custom/send",
            {"touser": openid, "msgtype": "image", "image": {"media_id": media_id}},
        )


def _checked(response: httpx.Response, name: str) -> dict[str, Any]:
    if response.status_code != 200:
        raise WeChatError(f"{name}'s API answered HTTP {response.status_code}")
    try:
        answer = response.json()
    except ValueError as exc:
        raise WeChatError(f"{name}'s API answered something other than JSON") from exc
    if not isinstance(answer, dict):
        raise WeChatError(f"{name}'s API answered something other than an object")
    errcode = answer.get("errcode", 0)
    if errcode:
        raise ApiError(int(errcode), str(answer.get("errmsg", "")), name)
    return answer
