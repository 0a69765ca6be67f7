"""A fake of WeCom's 微信客服 HTTP API as its published spec describes it: `gettoken`, `kf/sync_msg`
with cursors, `has_more` and the callback's token, `kf/send_msg` with the 48-hour window and the
session's state; `media/get` (media_fake.py); tokens WeCom expires early; and the encrypted
callbacks WeCom posts."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request

from hotline.notify.wechat import WeChatCrypto, signature
from tests.notify.media_fake import FakeMedia

CORP_ID = "ww5823bf96d3bd56c7"
TOKEN = "kfCallbackToken9"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
KF = "wkAJ2GCAAASSm4_FhToWMFea0xAFfd3Q"


@dataclass
class FakeWeCom:
    corp_id: str = CORP_ID
    secret: str = "the-kf-secret"
    expires_in: int = 7200
    page_size: int = 1000
    issued: list[str] = field(default_factory=list)
    revoked: set[str] = field(default_factory=set)
    messages: list[dict[str, Any]] = field(default_factory=list)
    """Everything sync_msg can read, oldest first; a cursor is a position in it."""
    events: dict[str, str] = field(default_factory=dict)
    """Callback tokens handed out, by 客服账号."""
    pulls: list[dict[str, Any]] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)
    served_by_person: set[str] = field(default_factory=set)
    """Customers whose session a servicer took in WeCom's client (state 3): no API answers."""
    media: FakeMedia = field(default_factory=FakeMedia)

    def says(self, user: str, kind: str = "text", text: str = "", *, origin: int = 3, kf: str = KF) -> str:
        msgid = f"msg{len(self.messages) + 1:04d}"
        item: dict[str, Any] = {
            "msgid": msgid,
            "open_kfid": kf,
            "external_userid": user,
            "send_time": int(time.time()),
            "origin": origin,
            "msgtype": kind,
        }
        if kind == "text":
            item["text"] = {"content": text}
        elif kind == "event":
            item["event"] = {"event_type": "enter_session", "open_kfid": kf, "external_userid": user}
        else:
            item[kind] = {"media_id": f"MEDIA_{msgid}"}
        self.messages.append(item)
        return msgid

    def last_said(self, user: str) -> float:
        return max(
            (m["send_time"] for m in self.messages if m["external_userid"] == user and m["origin"] == 3),
            default=0,
        )

    def callback(
        self, *, token: str = TOKEN, at: int | None = None, corp_id: str = CORP_ID, kf: str = KF
    ) -> tuple[dict[str, str], bytes]:
        """The query and body WeCom posts to say the 客服账号 has news."""
        self.events[kf] = f"ENC{len(self.events) + 1:04d}"
        xml = (
            f"<xml><ToUserName><![CDATA[{corp_id}]]></ToUserName><CreateTime>{int(time.time())}</CreateTime>"
            "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[kf_msg_or_event]]></Event>"
            f"<Token><![CDATA[{self.events[kf]}]]></Token><OpenKfId><![CDATA[{kf}]]></OpenKfId></xml>"
        )
        encrypted = WeChatCrypto(TOKEN, AES_KEY, corp_id).encrypt(xml)
        query = signed(encrypted, token=token, at=at)
        body = (
            f"<xml><ToUserName><![CDATA[{corp_id}]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt>"
        )
        return query, (body + "<AgentID><![CDATA[]]></AgentID></xml>").encode()

    def app(self) -> FastAPI:
        api = FastAPI()

        def refused(access_token: str) -> dict[str, Any] | None:
            if access_token not in self.issued:
                return {"errcode": 40014, "errmsg": "invalid access_token"}
            if access_token in self.revoked:
                return {"errcode": 42001, "errmsg": "access_token expired"}
            return None

        self.media.route(api, refused)

        @api.get("/cgi-bin/gettoken")
        async def gettoken(corpid: str, corpsecret: str) -> dict[str, Any]:
            if (corpid, corpsecret) != (self.corp_id, self.secret):
                return {"errcode": 40001, "errmsg": "invalid secret"}
            await asyncio.sleep(0.05)  # the network: concurrent callers overlap
            if not self.issued or self.issued[-1] in self.revoked:  # the same one while it is valid
                self.issued.append(f"WECOM_TOKEN_{len(self.issued) + 1}")
            return {
                "errcode": 0,
                "errmsg": "ok",
                "access_token": self.issued[-1],
                "expires_in": self.expires_in,
            }

        @api.post("/cgi-bin/kf/sync_msg")
        async def sync_msg(access_token: str, request: Request) -> dict[str, Any]:
            if (error := refused(access_token)) is not None:
                return error
            body = await request.json()
            self.pulls.append(body)
            if body.get("token") and body["token"] not in self.events.values():
                return {"errcode": 95007, "errmsg": "invalid msg token"}
            start = int(body.get("cursor") or 0)
            mine = [m for m in self.messages[start:] if m["open_kfid"] == body.get("open_kfid")]
            page = mine[: min(self.page_size, int(body.get("limit", 1000)))]
            end = self.messages.index(page[-1]) + 1 if page else start
            return {
                "errcode": 0,
                "errmsg": "ok",
                "next_cursor": str(end),
                "msg_list": page,
                "has_more": int(len(page) < len(mine)),
            }

        @api.post("/cgi-bin/kf/send_msg")
        async def send_msg(access_token: str, request: Request) -> dict[str, Any]:
            if (error := refused(access_token)) is not None:
                return error
            payload = await request.json()
            user = payload.get("touser", "")
            if user in self.served_by_person:
                return {"errcode": 95018, "errmsg": "send msg session status invalid"}
            if time.time() - self.last_said(user) > 48 * 3600:
                return {"errcode": 95002, "errmsg": "send msg time limit"}
            self.sent.append(payload)
            return {"errcode": 0, "errmsg": "ok", "msgid": f"sent{len(self.sent)}"}

        return api


def signed(
    encrypted: str, *, token: str = TOKEN, at: int | None = None, nonce: str = "1372623149"
) -> dict[str, str]:
    timestamp = str(at or int(time.time()))
    return {
        "msg_signature": signature(token, timestamp, nonce, encrypted),
        "timestamp": timestamp,
        "nonce": nonce,
    }
