"""The ways a message leaves Hotline (N4): `log` (kept and shown in the UI; `make run`), SMTP for
e-mail (STARTTLS or TLS, with auth), Kannel's HTTP `sendsms` for SMS with delivery reports
posted back to `dlr-url`, a WeChat official account's customer-service API for the answers
in a WeChat conversation, and WeCom's 微信客服 API for those in a WeCom one (a text, or an agent's
picture uploaded as temporary media first).

A gateway either accepts a message (its reference is kept), refuses it for good (`Refused`: a
number the SMSC rejects — the message fails), or cannot be reached (`Unavailable`: the message
stays queued and is retried with backoff). `idempotent` says whether handing the same message
over twice is harmless: only then is a message whose sender died mid-hand-over sent again.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any, Protocol

import aiosmtplib
import httpx
import structlog

from hotline.notify import tencent_media
from hotline.notify.wechat import ApiError, TokenClient, WeChatClient, WeChatError
from hotline.notify.wecom import API_BASE, WeComClient

log = structlog.get_logger(__name__)


class Unavailable(Exception):
    """The gateway could not be reached or asked us to try later: retry."""


class Refused(Exception):
    """The gateway refused this message for good (bad number, rejected sender…)."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mime: str = "application/octet-stream"


@dataclass(frozen=True)
class Outgoing:
    id: int
    key: str
    channel: str
    recipient: str
    subject: str
    body: str
    html: str
    attachments: tuple[Attachment, ...] = ()
    """Files mailed with the message (e-mail only; a scheduled report's workbook)."""


class Gateway(Protocol):
    kind: str
    idempotent: bool

    async def send(self, message: Outgoing) -> str:
        """Hand the message over; returns the gateway's reference for it."""
        ...

    async def close(self) -> None: ...


class LogGateway:
    """Keeps the message in the outbox as delivered and logs it: nothing leaves the machine."""

    kind = "log"
    idempotent = True

    async def send(self, message: Outgoing) -> str:
        log.debug("message.logged", channel=message.channel, to=message.recipient, body=message.body[:200])
        return f"log-{message.id}"

    async def close(self) -> None:
        return None


class SmtpGateway:
    kind = "smtp"
    idempotent = False

    def __init__(self, config: dict[str, Any], secret: str) -> None:
        self.host = str(config.get("host", "127.0.0.1"))
        self.port = int(config.get("port", 25))
        self.username = str(config.get("username", "")) or None
        self.password = secret or None
        self.sender = str(config.get("sender", "noreply@hotline.local"))
        self.sender_name = str(config.get("sender_name", ""))
        self.starttls = bool(config.get("starttls", False))
        self.tls = bool(config.get("tls", False))
        self.timeout = float(config.get("timeout", 10))
        self.ca_file = str(config.get("ca_file", "")) or None
        """A private CA's certificate (PEM) to trust for the server's; the system's otherwise."""

    async def send(self, message: Outgoing) -> str:
        email = EmailMessage()
        email["From"] = formataddr((self.sender_name, self.sender)) if self.sender_name else self.sender
        email["To"] = message.recipient
        email["Subject"] = message.subject
        domain = self.sender.rsplit("@", 1)[-1]
        email["Message-ID"] = make_msgid(
            idstring=hashlib.sha256(message.key.encode()).hexdigest()[:16], domain=domain
        )
        email.set_content(message.body)
        if message.html:
            email.add_alternative(message.html, subtype="html")
        for attachment in message.attachments:
            main, sub = attachment.mime.split("/", 1)
            email.add_attachment(attachment.content, maintype=main, subtype=sub, filename=attachment.filename)
        try:
            await aiosmtplib.send(
                email, hostname=self.host, port=self.port, username=self.username, password=self.password,
                start_tls=self.starttls, use_tls=self.tls, timeout=self.timeout, cert_bundle=self.ca_file,
            )  # fmt: skip
        except aiosmtplib.SMTPRecipientsRefused as e:
            raise Refused(f"recipient refused: {e}") from e
        except aiosmtplib.SMTPAuthenticationError as e:  # our settings, not the message: keep it
            why = f"authentication failed ({e.code}): check the gateway's user and password"
            raise Unavailable(why) from e
        except aiosmtplib.SMTPResponseException as e:
            if 500 <= e.code < 600:
                raise Refused(f"{e.code} {e.message}") from e
            raise Unavailable(f"{e.code} {e.message}") from e
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as e:
            raise Unavailable(str(e) or type(e).__name__) from e
        return str(email["Message-ID"])

    async def close(self) -> None:
        return None


def dlr_token(secret: str, message_id: int) -> str:
    """What a delivery report must carry to be believed: an HMAC of the message id."""
    return hmac.new(secret.encode(), str(message_id).encode(), hashlib.sha256).hexdigest()[:24]


class KannelGateway:
    """Kannel's smsbox `sendsms` (UTF-8 text, UCS-2 on the air), with a delivery-report URL
    carrying the message id and its HMAC. docs/notifications.md shows the Kannel side."""

    kind = "kannel"
    idempotent = False

    def __init__(self, config: dict[str, Any], secret: str, dlr_secret: str) -> None:
        self.url = str(config.get("url", "http://127.0.0.1:13013/cgi-bin/sendsms"))
        self.username = str(config.get("username", ""))
        self.password = secret
        self.sender = str(config.get("sender", ""))
        self.smsc = str(config.get("smsc", ""))
        self.dlr_base = str(config.get("dlr_base", ""))
        self.dlr_secret = dlr_secret
        self.client = httpx.AsyncClient(timeout=float(config.get("timeout", 10)))

    async def send(self, message: Outgoing) -> str:
        params = {"username": self.username, "password": self.password, "to": message.recipient,
                  "text": message.body, "charset": "UTF-8", "coding": "2"}  # fmt: skip
        if self.sender:
            params["from"] = self.sender
        if self.smsc:
            params["smsc"] = self.smsc
        if self.dlr_base:
            token = dlr_token(self.dlr_secret, message.id)
            params["dlr-mask"] = "31"
            params["dlr-url"] = f"{self.dlr_base}/api/notify/dlr/kannel?id={message.id}&token={token}&type=%d"
        try:
            response = await self.client.get(self.url, params=params)
        except httpx.HTTPError as e:
            raise Unavailable(str(e) or type(e).__name__) from e
        if response.status_code in (200, 202):
            return f"kannel-{message.id}"
        if response.status_code in (400, 403):
            raise Refused(f"{response.status_code} {response.text.strip()[:200]}")
        raise Unavailable(f"{response.status_code} {response.text.strip()[:200]}")

    async def close(self) -> None:
        await self.client.aclose()


WECHAT_REFUSALS = frozenset({40003, 43004, 45015, 45047, 48001})
"""WeChat's answers that sending again cannot change: not this account's follower (40003, 43004),
the customer's last message over 48 hours ago (45015), too many answers to one message (45047),
the account may not use the API (48001). Anything else (its servers, the network, a bad
AppSecret that a person will correct) keeps the message queued."""


class WeChatGateway:
    """Answers in WeChat conversations through the account's customer-service API; the access
    token is kept by the client and fetched again when it runs out (notify/wechat.py)."""

    kind = "wechat"
    idempotent = False

    def __init__(self, config: dict[str, Any], secret: str) -> None:
        self.client = WeChatClient(
            str(config.get("app_id", "")), secret,
            base_url=str(config.get("api_base", "")) or "https://api.weixin.qq.com",
            timeout=float(config.get("timeout", 10)),
        )  # fmt: skip

    async def send(self, message: Outgoing) -> str:
        try:
            if message.attachments:  # an agent's picture (chat_files.agent_sends)
                media_id = await _uploaded(self.client, message.attachments[0])
                await self.client.send_image(message.recipient, media_id)
            else:
                await self.client.send_text(message.recipient, message.body)
        except ApiError as e:
            if e.errcode in WECHAT_REFUSALS:
                raise Refused(f"WeChat {e.errcode}: {e.errmsg}"[:300]) from e
            raise Unavailable(f"WeChat {e.errcode}: {e.errmsg}"[:300]) from e
        except WeChatError as e:
            raise Unavailable(str(e)[:300]) from e
        return f"wechat-{message.id}"

    async def close(self) -> None:
        await self.client.close()


WECOM_REFUSALS = frozenset({95000, 95001, 95002, 95004, 95013, 95018, 40096})
"""WeCom's answers that sending again cannot change: a 客服账号 that is not valid or not there
(95000, 95004), the 5 answers per customer message used up (95001), the customer's last message
over 48 hours ago (95002), the session ended (95013) or in a state that takes no API answers —
a servicer has it in WeCom's client (95018), a customer who is not the corporation's (40096)."""


class WeComGateway:
    """Answers in WeCom (微信客服) conversations through `kf/send_msg`, from the 客服账号 the
    customer last wrote to (the recipient is `open_kfid:external_userid`); notify/wecom.py."""

    kind = "wecom"
    idempotent = False

    def __init__(self, config: dict[str, Any], secret: str) -> None:
        self.client = WeComClient(
            str(config.get("corp_id", "")), secret, base_url=str(config.get("api_base", "")) or API_BASE,
            timeout=float(config.get("timeout", 10)),
        )  # fmt: skip

    async def send(self, message: Outgoing) -> str:
        open_kfid, _, external_userid = message.recipient.partition(":")
        try:
            if message.attachments:
                media_id = await _uploaded(self.client, message.attachments[0])
                msgid = await self.client.send_image(open_kfid, external_userid, media_id)
            else:
                msgid = await self.client.send_text(open_kfid, external_userid, message.body)
        except ApiError as e:
            if e.errcode in WECOM_REFUSALS:
                raise Refused(f"WeCom {e.errcode}: {e.errmsg}"[:300]) from e
            raise Unavailable(f"WeCom {e.errcode}: {e.errmsg}"[:300]) from e
        except WeChatError as e:
            raise Unavailable(str(e)[:300]) from e
        return f"wecom-{msgid or message.id}"[:64]

    async def close(self) -> None:
        await self.client.close()


async def _uploaded(client: TokenClient, picture: Attachment) -> str:
    """The picture put on Tencent's side as temporary media (valid 3 days): its media_id."""
    return await tencent_media.upload(client, "image", picture.filename, picture.content, picture.mime)


def build(kind: str, config: dict[str, Any], secret: str, dlr_secret: str) -> Gateway:
    if kind == "smtp":
        return SmtpGateway(config, secret)
    if kind == "kannel":
        return KannelGateway(config, secret, dlr_secret)
    if kind == "wechat":
        return WeChatGateway(config, secret)
    if kind == "wecom":
        return WeComGateway(config, secret)
    return LogGateway()


KANNEL_DLR = {1: "delivered", 2: "failed", 4: "sent", 8: "sent", 16: "failed"}
"""Kannel's dlr types: 1 delivered to phone, 2 not delivered to phone, 4 queued on SMSC, 8
delivered to SMSC, 16 not delivered to SMSC."""
