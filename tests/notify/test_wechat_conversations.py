"""WeChat messages in the conversations (issue 24, item 5), end to end over HTTP: an administrator
connects the official account (bad settings refused at their fields, keys never shown back or
audited), WeChat checks the callback URL, a customer's safe-mode message threads into a WeChat
conversation once however often WeChat retries it, an agent links it to the customer's file and
answers, and the answer reaches a local fake of WeChat's customer-service API through the outbox.
Forged, unreadable and out-of-mode callbacks are refused and keep nothing."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import func, select

from hotline.core.context import Context
from hotline.notify.models import ConversationMessage, Message
from hotline.notify.outbox import Sender
from hotline.notify.wechat import WeChatCrypto, signature
from tests.conftest import Users, assert_problem
from tests.notify.conftest import WECHAT_APP_ID, FakeWeChat

TOKEN = "hotelToken2026"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
OPENID = "oZhangWei_0123456789abcdefgh"
XSS = "<img src=x onerror=alert(1)>"


def callback(text: str, msg_id: str, *, kind: str = "text", openid: str = OPENID) -> str:
    inner = (
        f"<ToUserName><![CDATA[gh_hotel]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[{kind}]]></MsgType>"
    )
    if kind == "event":
        inner += "<Event><![CDATA[subscribe]]></Event>"
    else:
        inner += f"<Content><![CDATA[{text}]]></Content><MsgId>{msg_id}</MsgId>"
    return f"<xml>{inner}</xml>"


def safe_mode(xml: str, *, token: str = TOKEN) -> tuple[dict[str, str], str]:
    """The query and body WeChat posts in safe mode for a message."""
    encrypted = WeChatCrypto(TOKEN, AES_KEY, WECHAT_APP_ID).encrypt(xml)
    timestamp, nonce = str(int(time.time())), "1372623149"
    query = {
        "timestamp": timestamp, "nonce": nonce, "signature": signature(token, timestamp, nonce),
        "encrypt_type": "aes", "msg_signature": signature(token, timestamp, nonce, encrypted),
        "openid": OPENID,
    }  # fmt: skip
    return (
        query,
        f"<xml><ToUserName><![CDATA[gh_hotel]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>",
    )


async def post(client: Any, query: dict[str, str], body: str) -> Any:
    return await client.post(
        "/api/notify/wechat", params=query, content=body.encode(), headers={"content-type": "text/xml"}
    )


async def wechat_thread(agent: Any) -> dict[str, Any] | None:
    for c in (await agent.get("/api/notify/conversations", params={"status": "open"})).json():
        if c["channel"] == "wechat" and c["address"].startswith("oZh"):
            return (await agent.get(f"/api/notify/conversations/{c['id']}")).json()  # type: ignore[no-any-return]
    return None


async def count(seeded: Context, model: Any, *where: Any) -> int:
    async with seeded.read() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def test_a_wechat_message_threads_is_linked_answered_and_reaches_the_customer(
    seeded: Context, users: Users, client: Any, wechat: tuple[FakeWeChat, str]
) -> None:
    fake, api_base = wechat
    admin = await users("admin")

    # not connected yet: WeChat's callbacks are refused
    query, body = safe_mode(callback("您好", "1001"))
    assert_problem(await post(client, query, body), 403, "permission-denied")

    # settings that cannot work are refused, every one at its field, and nothing is stored
    good = {"app_id": WECHAT_APP_ID, "token": TOKEN, "encoding_aes_key": AES_KEY, "api_base": api_base}
    for change, field in (
        ({"app_id": "wx123"}, "body.config.app_id"),
        ({"token": "to"}, "body.config.token"),
        ({"token": "含中文的令牌"}, "body.config.token"),
        ({"encoding_aes_key": AES_KEY[:-1]}, "body.config.encoding_aes_key"),
        ({"encoding_aes_key": "!" * 43}, "body.config.encoding_aes_key"),
        ({"api_base": "ftp://x"}, "body.config.api_base"),
        ({"dlr_base": "http://x"}, "body.config.dlr_base"),
    ):
        answer = await admin.put(
            "/api/notify/gateways/wechat",
            json={"kind": "wechat", "config": {**good, **change}, "secret": "s"},
        )
        assert_problem(answer, 422, "invalid-input", field)
    assert_problem(
        await admin.put("/api/notify/gateways/wechat", json={"kind": "wechat", "config": good}),
        422, "invalid-input", "body.secret",
    )  # fmt: skip
    assert_problem(
        await admin.put("/api/notify/gateways/wechat", json={"kind": "kannel", "config": {}}),
        422, "invalid-input", "body.kind",
    )  # fmt: skip
    shown = {g["channel"]: g for g in (await admin.get("/api/notify/gateways")).json()}
    assert shown["wechat"]["kind"] == "log"

    connected = await admin.put(
        "/api/notify/gateways/wechat", json={"kind": "wechat", "config": good, "secret": fake.secret}
    )
    assert connected.status_code == 200, connected.text
    out = connected.json()
    assert out["has_callback_token"] and out["has_aes_key"] and out["has_secret"]
    assert TOKEN not in connected.text and AES_KEY not in connected.text and fake.secret not in connected.text
    audit = await admin.get("/api/audit", params={"entity_type": "message_gateways"})
    assert TOKEN not in audit.text and AES_KEY not in audit.text and fake.secret not in audit.text
    # saved again without the keys (changing the address): they are kept
    kept = await admin.put(
        "/api/notify/gateways/wechat",
        json={
            "kind": "wechat",
            "config": {"app_id": WECHAT_APP_ID, "api_base": api_base, "account": "gh_hotel"},
        },
    )
    assert kept.status_code == 200 and kept.json()["has_aes_key"] and kept.json()["has_callback_token"]

    # WeChat checks the URL: the echostr back only under the Token's signature
    timestamp, nonce = str(int(time.time())), "42"
    check = {"timestamp": timestamp, "nonce": nonce, "echostr": "echo-5566"}
    echoed = await client.get(
        "/api/notify/wechat", params={**check, "signature": signature(TOKEN, timestamp, nonce)}
    )
    assert echoed.status_code == 200 and echoed.text == "echo-5566"
    forged = await client.get(
        "/api/notify/wechat", params={**check, "signature": signature("other", timestamp, nonce)}
    )
    assert_problem(forged, 403, "permission-denied", "query.signature")
    assert "echo-5566" not in forged.text

    # a customer writes; WeChat, not hearing us in time, retries the same MsgId twice
    query, body = safe_mode(callback(f"周六还有大床房吗？{XSS}", "23871234567890"))
    for _ in range(3):
        answer = await post(client, query, body)
        assert answer.status_code == 200 and answer.text == "success", answer.text
    assert (
        await count(seeded, ConversationMessage, ConversationMessage.gateway_id == "wechat:23871234567890")
        == 1
    )

    agent = await users("agent1")
    thread = await wechat_thread(agent)
    assert thread is not None
    conversation = thread["conversation"]
    assert conversation["channel"] == "wechat" and conversation["customer_id"] is None
    assert conversation["waiting"] is True and OPENID not in str(thread)  # the OpenID is masked
    assert thread["messages"][-1]["body"] == f"周六还有大床房吗？{XSS}" and thread["opted_out"] is False

    # following the account (an event) and a picture: the event is kept nowhere, the picture is said
    event_query, event_body = safe_mode(callback("", "", kind="event"))
    assert (await post(client, event_query, event_body)).text == "success"
    image_query, image_body = safe_mode(callback("", "23871234567891", kind="image"))
    assert (await post(client, image_query, image_body)).text == "success"
    thread = await wechat_thread(agent)
    assert thread is not None and [m["body"] for m in thread["messages"]][-2:] == [
        f"周六还有大床房吗？{XSS}",
        "[图片]",
    ]

    # agent1 links it to 张伟's file: his timeline shows it, and his later conversations keep the link
    zhang = (await agent.get("/api/customers", params={"q": "88000001"})).json()[0]
    link = f"/api/notify/conversations/{conversation['id']}/customer"
    assert_problem(await agent.put(link, json={"customer_id": 999999}), 404, "not-found", "body.customer_id")
    linked = await agent.put(link, json={"customer_id": zhang["id"]})
    assert linked.status_code == 200 and linked.json()["customer_name"] == "张伟", linked.text

    # the answer: a customer-service message through the outbox, no SMS signature
    worker = Sender(seeded, node_id="test")
    answer = await agent.post(
        f"/api/notify/conversations/{conversation['id']}/messages",
        json={"body": "有的，周六大床房已为您预留。"},
    )
    assert answer.status_code == 201 and answer.json()["body"] == "有的，周六大床房已为您预留。", answer.text
    fake.last_seen[OPENID] = time.time()
    await worker.run_once()
    assert fake.sent == [
        {"touser": OPENID, "msgtype": "text", "text": {"content": "有的，周六大床房已为您预留。"}}
    ]
    thread = await wechat_thread(agent)
    assert thread is not None and thread["messages"][-1]["status"] == "sent"
    assert thread["conversation"]["waiting"] is False
    timeline = (await agent.get(f"/api/customers/{zhang['id']}/timeline")).json()["items"]
    assert any(e["title"] == "微信：回复客户" for e in timeline)

    # closed, and the customer writes again: a new conversation, already his
    assert (await agent.post(f"/api/notify/conversations/{conversation['id']}/close")).status_code == 200
    query, body = safe_mode(callback("谢谢！", "23871234567892"))
    assert (await post(client, query, body)).text == "success"
    again = await wechat_thread(agent)
    assert again is not None and again["conversation"]["id"] != conversation["id"]
    assert again["conversation"]["customer_id"] == zhang["id"]
    timeline = (await agent.get(f"/api/customers/{zhang['id']}/timeline")).json()["items"]
    assert any(e["kind"] == "wechat" and e["detail"] == "谢谢！" for e in timeline)

    # past WeChat's 48 hours the answer is refused for good: failed, with WeChat's reason, sent once
    fake.last_seen[OPENID] = time.time() - 49 * 3600
    late = await agent.post(
        f"/api/notify/conversations/{again['conversation']['id']}/messages", json={"body": "您好"}
    )
    assert late.status_code == 201
    await worker.run_once()
    async with seeded.read() as session:
        message = await session.get(Message, late.json()["message_id"])
        assert message is not None and message.status == "failed" and "45015" in (message.reason or "")
    assert len(fake.sent) == 1
    await worker.stop()


async def test_forged_unreadable_or_out_of_mode_callbacks_are_refused_and_keep_nothing(
    seeded: Context, users: Users, client: Any, wechat: tuple[FakeWeChat, str]
) -> None:
    fake, api_base = wechat
    admin = await users("admin")
    plain = {"app_id": WECHAT_APP_ID, "token": TOKEN, "api_base": api_base}
    answer = await admin.put(
        "/api/notify/gateways/wechat", json={"kind": "wechat", "config": plain, "secret": fake.secret}
    )
    assert answer.status_code == 200 and not answer.json()["has_aes_key"]
    before = await count(seeded, ConversationMessage)

    # a plain-mode account: a safe-mode message cannot be read
    query, body = safe_mode(callback("您好", "3001"))
    assert_problem(await post(client, query, body), 422, "invalid-input", "body")

    # plain mode, under the account's signature: read
    timestamp, nonce = str(int(time.time())), "77"
    signed = {"timestamp": timestamp, "nonce": nonce, "signature": signature(TOKEN, timestamp, nonce)}
    assert (await post(client, signed, callback("明文消息", "3002"))).text == "success"
    assert await count(seeded, ConversationMessage) == before + 1

    for query, body, status, field in (
        ({**signed, "signature": signature("not-the-token", timestamp, nonce)}, callback("伪造", "3003"), 403,
         "query.signature"),
        ({k: v for k, v in signed.items() if k != "signature"}, callback("无签名", "3004"), 403,
         "query.signature"),
        (  # a callback recorded an hour ago and replayed
            {"timestamp": str(int(time.time()) - 3600), "nonce": nonce,
             "signature": signature(TOKEN, str(int(time.time()) - 3600), nonce)},
            callback("重放", "3005"), 403, "query.signature",
        ),
        (signed, "<xml><MsgType>text", 422, "body"),
        (signed, '<!DOCTYPE x [<!ENTITY a "aaaa">]><xml><Content>&a;</Content></xml>', 422, "body"),
        (signed, "<xml>" + "长" * 30_000 + "</xml>", 422, "body"),
        (signed, callback("x", "3006", openid="../etc"), 422, "body.FromUserName"),
    ):  # fmt: skip
        code = "permission-denied" if status == 403 else "invalid-input"
        assert_problem(await post(client, query, body), status, code, field)
    # a message over the limit is refused in WeChat's own words, not an SMS's
    too_long = await post(client, signed, callback("长" * 1601, "3007"))
    refused = assert_problem(too_long, 422, "invalid-input", "body.Content")
    assert refused["reason"] == "wechat-text-too-long" and refused["detail"] == "微信消息过长：最多 1600 个字"
    english = await client.post(
        "/api/notify/wechat", params=signed, content=callback("长" * 1601, "3008").encode(),
        headers={"content-type": "text/xml", "accept-language": "en"},
    )  # fmt: skip
    assert (
        assert_problem(english, 422, "invalid-input")["detail"]
        == "A WeChat message of at most 1600 characters"
    )
    assert await count(seeded, ConversationMessage) == before + 1
