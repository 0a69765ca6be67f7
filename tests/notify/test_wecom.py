"""WeCom (企业微信) customer service — 微信客服 — as a conversation channel (issue 24, item 5), end to
end over HTTP against a local fake of WeCom's API: an administrator connects the corporation
(bad settings refused at their fields, keys never shown back), WeCom checks the callback URL with
an encrypted echostr, a customer's messages announced by a callback are read with `sync_msg` into
客户会话 once however often WeCom calls, from the cursor kept across a restart, an agent's answer
reaches `kf/send_msg` through the outbox, an expired token is fetched once again, and WeCom's
refusals fail the message instead of retrying it. Forged callbacks keep nothing."""

from __future__ import annotations

import time
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from hotline.core.context import Context
from hotline.notify.models import ConversationMessage, Message
from hotline.notify.outbox import Sender
from hotline.notify.wechat import BadSignature, WeChatCrypto
from hotline.notify.wecom import KfEvent, echo, open_callback, read_message
from hotline.notify.wecom_channel import WeComPuller
from tests.conftest import Users, assert_problem
from tests.notify.wecom_fake import AES_KEY, CORP_ID, KF, TOKEN, FakeWeCom, signed

CUSTOMER = "wmAJ2GCAAAme1XQRC-NI-q0_ZM9ukoAw"
XSS = "<img src=x onerror=alert(1)>"
CRYPTO = WeChatCrypto(TOKEN, AES_KEY, CORP_ID)


async def post(client: Any, query: dict[str, str], body: bytes) -> Any:
    return await client.post(
        "/api/notify/wecom", params=query, content=body, headers={"content-type": "text/xml"}
    )


async def wecom_thread(agent: Any) -> dict[str, Any] | None:
    for c in (await agent.get("/api/notify/conversations", params={"status": "open"})).json():
        if c["channel"] == "wecom" and not c["address"].startswith("wmH"):  # not the demo's
            return (await agent.get(f"/api/notify/conversations/{c['id']}")).json()  # type: ignore[no-any-return]
    return None


async def count(seeded: Context, *where: Any) -> int:
    async with seeded.read() as session:
        query = select(func.count()).select_from(ConversationMessage).where(*where)
        return int(await session.scalar(query) or 0)


async def connect(admin: Any, api_base: str, fake: FakeWeCom) -> Any:
    config = {"corp_id": CORP_ID, "token": TOKEN, "encoding_aes_key": AES_KEY, "api_base": api_base}
    return await admin.put(
        "/api/notify/gateways/wecom", json={"kind": "wecom", "config": config, "secret": fake.secret}
    )


async def test_a_wecom_customer_message_is_read_once_answered_and_refusals_fail_it(
    seeded: Context, users: Users, client: Any, app: Any, wecom: tuple[FakeWeCom, str]
) -> None:
    fake, api_base = wecom
    puller: WeComPuller = app.state.hotline.wecom
    admin = await users("admin")

    # not connected yet: WeCom's callbacks are refused
    assert_problem(await post(client, *fake.callback()), 403, "permission-denied")

    # settings that cannot work are refused at their field, and nothing is stored
    good = {"corp_id": CORP_ID, "token": TOKEN, "encoding_aes_key": AES_KEY, "api_base": api_base}
    for change, where in (
        ({"corp_id": "ww123"}, "body.config.corp_id"),
        ({"token": "含中文"}, "body.config.token"),
        ({"encoding_aes_key": AES_KEY[:-1]}, "body.config.encoding_aes_key"),
        ({"api_base": "ftp://x"}, "body.config.api_base"),
        ({"app_id": "wx5823bf96d3bd56c7"}, "body.config.app_id"),
    ):
        answer = await admin.put(
            "/api/notify/gateways/wecom", json={"kind": "wecom", "config": {**good, **change}, "secret": "s"}
        )
        assert_problem(answer, 422, "invalid-input", where)
    missing = await admin.put("/api/notify/gateways/wecom", json={"kind": "wecom", "config": good})
    assert assert_problem(missing, 422, "invalid-input", "body.secret")["detail"] == "请填写微信客服的 Secret"
    shown = {g["channel"]: g for g in (await admin.get("/api/notify/gateways")).json()}
    assert shown["wecom"]["kind"] == "log"

    connected = await connect(admin, api_base, fake)
    assert connected.status_code == 200, connected.text
    out = connected.json()
    assert out["has_callback_token"] and out["has_aes_key"] and out["has_secret"]
    assert TOKEN not in connected.text and AES_KEY not in connected.text and fake.secret not in connected.text
    # saved again with the form's secrets left empty: they are kept
    kept = await admin.put(
        "/api/notify/gateways/wecom",
        json={"kind": "wecom", "config": {"corp_id": CORP_ID, "api_base": api_base}},
    )
    assert kept.status_code == 200 and kept.json()["has_aes_key"] and kept.json()["has_secret"], kept.text

    # WeCom checks the URL: its echostr is encrypted, and sent back decrypted under the signature
    echostr = CRYPTO.encrypt("6372849103748291")
    checked = await client.get("/api/notify/wecom", params={**signed(echostr), "echostr": echostr})
    assert checked.status_code == 200 and checked.text == "6372849103748291"
    forged = await client.get(
        "/api/notify/wecom", params={**signed(echostr, token="other"), "echostr": echostr}
    )
    assert_problem(forged, 403, "permission-denied", "query.msg_signature")
    assert "6372849103748291" not in forged.text

    # a customer writes, sends a picture; a servicer's message and an event are not theirs
    fake.page_size = 2  # two pages: read while has_more
    fake.says(CUSTOMER, text=f"下周杭州有会议室吗？{XSS}")
    fake.says(CUSTOMER, "event", origin=4)
    fake.says(CUSTOMER, "image")
    fake.says(CUSTOMER, text="我是接待人员", origin=5)
    query, body = fake.callback()
    started = time.monotonic()
    answer = await post(client, query, body)
    assert answer.status_code == 200 and answer.text == "", answer.text
    assert time.monotonic() - started < 1  # answered before the read
    await puller.idle()
    assert [p.get("cursor", "") for p in fake.pulls] == ["", "2"]
    assert all(p["token"] == fake.events[KF] and p["open_kfid"] == KF for p in fake.pulls)

    agent = await users("agent1")
    thread = await wecom_thread(agent)
    assert thread is not None
    assert thread["conversation"]["waiting"] is True and CUSTOMER not in str(thread)  # masked
    assert [m["body"] for m in thread["messages"]] == [f"下周杭州有会议室吗？{XSS}", "[图片]"]

    # WeCom calls again (it did not hear us, or has news): nothing is stored twice
    for _ in range(2):
        assert (await post(client, query, body)).status_code == 200
    await puller.idle()
    assert await count(seeded, ConversationMessage.gateway_id.like("wecom:msg%")) == 2
    # a restart: a new node's puller goes on from the kept cursor, not from the start — here
    # with a callback's token past its 10 minutes, which WeCom refuses: read again without it
    fake.says(CUSTOMER, text="另外需要投影仪")
    restarted = WeComPuller()
    restarted.pull_soon(seeded, KfEvent(KF, "ENC-expired"))
    await restarted.idle()
    await restarted.stop()
    assert fake.pulls[-2:] == [
        {"open_kfid": KF, "limit": 1000, "cursor": "4", "token": "ENC-expired"},
        {"open_kfid": KF, "limit": 1000, "cursor": "4"},
    ]
    assert await count(seeded, ConversationMessage.gateway_id.like("wecom:msg%")) == 3

    # the agent answers: through the outbox to kf/send_msg, from the 客服账号 the customer wrote to
    worker = Sender(seeded, node_id="test")
    thread = await wecom_thread(agent)
    assert thread is not None
    replies = f"/api/notify/conversations/{thread['conversation']['id']}/messages"
    answer = await agent.post(replies, json={"body": "有的，已为您预留会议室和投影仪。"})
    assert answer.status_code == 201, answer.text
    await worker.run_once()
    assert fake.sent == [
        {
            "touser": CUSTOMER,
            "open_kfid": KF,
            "msgtype": "text",
            "text": {"content": "有的，已为您预留会议室和投影仪。"},
        }
    ]
    thread = await wecom_thread(agent)
    assert thread is not None and thread["messages"][-1]["status"] == "sent"
    assert thread["conversation"]["waiting"] is False
    assert len(fake.issued) == 1

    # WeCom expires the token early: fetched once more, the answer sent once
    fake.revoked.update(fake.issued)
    issued = len(fake.issued)
    assert (await agent.post(replies, json={"body": "请问几位参会？"})).status_code == 201
    await worker.run_once()
    assert (
        len(fake.issued) == issued + 1 and [s["text"]["content"] for s in fake.sent][-1] == "请问几位参会？"
    )
    assert len(fake.sent) == 2

    # a servicer took the session in WeCom's client: WeCom refuses, the message fails, once
    fake.served_by_person.add(CUSTOMER)
    refused = await agent.post(replies, json={"body": "您好"})
    await worker.run_once()
    await worker.run_once()
    async with seeded.read() as session:
        message = await session.get(Message, refused.json()["message_id"])
        assert message is not None and message.status == "failed" and "95018" in (message.reason or "")
    assert len(fake.sent) == 2
    await worker.stop()


async def test_forged_replayed_or_foreign_callbacks_are_refused_and_keep_nothing(
    seeded: Context, users: Users, client: Any, app: Any, wecom: tuple[FakeWeCom, str]
) -> None:
    fake, api_base = wecom
    assert (await connect(await users("admin"), api_base, fake)).status_code == 200
    fake.says(CUSTOMER, text="伪造")
    before = await count(seeded)
    good, body = fake.callback()
    for query, sent, status, where in (
        ({**good, "msg_signature": "0" * 40}, body, 403, "query.msg_signature"),
        ({k: v for k, v in good.items() if k != "msg_signature"}, body, 403, "query.msg_signature"),
        (fake.callback(token="not-the-token")[0], body, 403, "query.msg_signature"),
        (*fake.callback(at=int(time.time()) - 3600), 403, "query.msg_signature"),  # replayed
        (*fake.callback(corp_id="ww0000000000000000"), 422, "body"),  # another corporation's
        (signed("bm90LWFlcw=="), b"<xml><Encrypt>bm90LWFlcw==</Encrypt></xml>", 422, "body"),
        (good, b'<!DOCTYPE x [<!ENTITY a "a">]><xml><Encrypt>&a;</Encrypt></xml>', 422, "body"),
    ):
        code = "permission-denied" if status == 403 else "invalid-input"
        assert_problem(await post(client, query, sent), status, code, where)
    await app.state.hotline.wecom.idle()
    assert fake.pulls == [] and await count(seeded) == before


@given(
    kf=st.from_regex(r"wk[A-Za-z0-9_-]{1,40}", fullmatch=True),
    token=st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=100),
    nonce=st.from_regex(r"[0-9a-z]{1,16}", fullmatch=True),
)
def test_any_kf_event_and_echostr_round_trip_under_the_corp_id(kf: str, token: str, nonce: str) -> None:
    token = token.replace("]]>", "")
    xml = (
        f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><MsgType>event</MsgType>"
        f"<Event>kf_msg_or_event</Event><Token><![CDATA[{token}]]></Token><OpenKfId>{kf}</OpenKfId></xml>"
    )
    encrypted = CRYPTO.encrypt(xml)
    query = signed(encrypted, nonce=nonce)
    event = open_callback(CRYPTO, query, f"<xml><Encrypt>{encrypted}</Encrypt></xml>".encode())
    assert event is not None and (event.open_kfid, event.token) == (kf, token)
    assert echo(CRYPTO, {**query, "echostr": encrypted}) == xml
    try:
        echo(CRYPTO, {**query, "nonce": nonce + "x", "echostr": encrypted})
    except BadSignature:
        pass
    else:
        raise AssertionError("a changed nonce was believed")


@given(
    st.dictionaries(
        st.sampled_from(["msgid", "external_userid", "msgtype", "origin", "text", "send_time", "open_kfid"]),
        st.one_of(
            st.none(),
            st.integers(),
            st.text(max_size=5),
            st.dictionaries(st.text(max_size=3), st.text(max_size=3)),
        ),
    )
)
def test_any_sync_msg_item_is_read_or_skipped_never_raises(item: dict[str, Any]) -> None:
    message = read_message(item)
    assert message is None or (item["origin"] == 3 and message.msgid == item["msgid"])
