"""Who a web chat visitor is (issue 24, item 1), over HTTP: the phone typed in the pre-chat form
links the chat to nobody's file and the agent sees it 未验证; a code texted through Kannel proves
the phone and the chat becomes 张伟's; a partner site's signed member token does the same. Every
way round it is refused at its field in Chinese and proves nothing: a wrong code, the sixth try,
an expired code, a code asked again too soon or too often for a number, a member token with a
bad signature, for another site, expired, reaching too far ahead, `alg: none`."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import datetime, timedelta
from typing import Any

import jwt
import pytest
from sqlalchemy import func, select

from hotline.core.audit import AuditEntry
from hotline.core.clock import as_utc, utcnow
from hotline.core.context import Context
from hotline.crm.models import TimelineEntry
from hotline.notify import chat_identity
from hotline.notify.demo import WEB_MEMBER_SECRET, WEB_SITE
from hotline.notify.member_token import sign
from hotline.notify.models import ChatCode, Conversation, ConversationMessage, Message
from hotline.notify.outbox import Sender
from tests.conftest import Users, assert_problem
from tests.notify.conftest import Kannel
from tests.notify.test_filetypes import image

ZHANG = "13800138000"
FORM = {"name": "张先生", "phone": ZHANG, "topic": "hotel", "text": "我想改一下预订的日期", "site": WEB_SITE}


async def start(client: Any, **form: str) -> tuple[dict[str, str], int, Any]:
    """A chat started from the pre-chat form: the visitor's headers, the conversation's id (the
    newest web chat: each test starts its own one at a time)."""
    started = await client.post("/api/chat/start", json={**FORM, **form})
    assert started.status_code == 201, started.text
    async with client.ctx.read() as session:
        chat = await session.scalar(select(func.max(Conversation.id)).where(Conversation.channel == "web"))
    return {"X-Chat-Token": started.json()["token"]}, int(chat or 0), started.json()


async def texted_code(ctx: Context, conversation_id: int) -> str:
    """The code in the SMS queued for this chat (the outbox keeps what it sends, like any SMS)."""
    async with ctx.read() as session:
        body = await session.scalar(
            select(Message.body).where(Message.ref == f"conversation:{conversation_id}",
                                       Message.template_code == "notify.chat_code.sms")
            .order_by(Message.id.desc()).limit(1)
        )  # fmt: skip
    found = re.search(r"验证码为(\d{6})", body or "")
    assert found, body
    return found.group(1)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[timedelta]:
    """The identification's clock, moved on by appending to the list."""
    shift = [timedelta(0)]
    monkeypatch.setattr(chat_identity, "utcnow", lambda: utcnow() + sum(shift, timedelta(0)))
    return shift


@pytest.fixture
def visitor_client(client: Any, seeded: Context) -> Any:
    """The anonymous client of a visitor's browser (it knows the demo's database, to find its chat)."""
    client.ctx = seeded
    return client


async def test_a_code_texted_through_kannel_verifies_the_phone_and_the_chat_becomes_zhangs(
    seeded: Context, users: Users, visitor_client: Any, served: str, kannel: Kannel
) -> None:
    client, admin, agent = visitor_client, await users("admin"), await users("agent1")
    sms = {"kind": "kannel", "secret": "kannel-secret",
           "config": {"url": kannel.sendsms_url, "username": "hotline", "dlr_base": served}}  # fmt: skip
    assert (await admin.put("/api/notify/gateways/sms", json=sms)).status_code == 200
    visitor, chat, started = await start(client)
    assert started["verified"] == ""

    # the form's phone alone links nothing: the agent sees it, masked, unverified
    thread = (await agent.get(f"/api/notify/conversations/{chat}")).json()
    assert thread["conversation"]["customer_id"] is None
    assert thread["visitor"]["phone"] == "138****8000" and thread["visitor"]["verified_by"] == ""

    sent = await client.post("/api/chat/verify/send", json={"phone": ZHANG}, headers=visitor)
    assert sent.status_code == 202, sent.text
    assert sent.json()["expires_in"] == 300 and sent.json()["resend_in"] == 60
    assert sent.json()["phone"].endswith("****8000") and ZHANG not in sent.text
    # the visitor's retry (their network dropped the answer) sends nothing more
    again = await client.post("/api/chat/verify/send", json={"phone": ZHANG}, headers=visitor)
    assert_problem(again, 429, "rate-limited", "body.phone")
    assert (
        again.json()["errors"][0]["message"].startswith("验证码刚刚已发送")
        and int(again.headers["Retry-After"]) <= 60
    )

    worker = Sender(seeded, node_id="test")
    await worker.run_once()
    await worker.run_once()
    texts = await _to_phone(kannel, ZHANG)
    assert len(texts) == 1, texts
    code = re.search(r"验证码为(\d{6})", texts[0])
    assert code and texts[0].startswith("【英冠酒店】"), texts
    async with seeded.read() as session:  # only the code's hash is kept in the chat
        row = await session.scalar(select(ChatCode).where(ChatCode.conversation_id == chat))
        assert row is not None and code.group(1) not in row.code_hash and len(row.code_hash) == 64

    wrong = "000000" if code.group(1) != "000000" else "111111"
    refused = await client.post("/api/chat/verify", json={"code": wrong}, headers=visitor)
    assert_problem(refused, 422, "invalid-input", "body.code")
    assert refused.json()["errors"][0]["message"] == "验证码错误，还可再试 4 次"
    assert (await agent.get(f"/api/notify/conversations/{chat}")).json()["conversation"][
        "customer_id"
    ] is None

    verified = await client.post("/api/chat/verify", json={"code": code.group(1)}, headers=visitor)
    assert verified.status_code == 200, verified.text
    assert verified.json()["verified"] == "sms"
    polled = (await client.get("/api/chat/state", headers=visitor)).json()
    assert polled["verified"] == "sms"

    thread = (await agent.get(f"/api/notify/conversations/{chat}")).json()
    zhang = (await agent.get("/api/customers", params={"q": ZHANG})).json()
    assert (
        thread["conversation"]["customer_id"] == _first_id(zhang)
        and thread["conversation"]["customer_name"] == "张伟"
    )
    assert thread["visitor"]["verified_by"] == "sms" and thread["visitor"]["verified_phone"].endswith("8000")
    assert ZHANG not in str(thread)
    # the request again (its answer lost on the way): the same answer, nothing proven twice
    again = await client.post("/api/chat/verify", json={"code": code.group(1)}, headers=visitor)
    assert again.status_code == 200 and again.json()["verified"] == "sms"
    # another code than the one used: there is none to check it against
    assert_problem(await client.post("/api/chat/verify", json={"code": wrong}, headers=visitor),
                   422, "invalid-input", "body.code")  # fmt: skip
    async with seeded.read() as session:
        actions = list(await session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.entity_type == "conversation", AuditEntry.entity_id == str(chat))
        ))  # fmt: skip
    assert actions.count("notify.chat_code_sent") == 1 and actions.count("notify.chat_verified") == 1


def _first_id(found: Any) -> int:
    return int(found[0]["id"])


async def _to_phone(kannel: Kannel, number: str) -> list[str]:
    """The codes the fake SMSC passed on to `number` (张伟 also has the demo's answer to his SMS)."""
    for _ in range(100):
        if [text for to, text in kannel.received() if to.endswith(number) and "验证码" in text]:
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)  # a duplicate would show by now
    return [text for to, text in kannel.received() if to.endswith(number) and "验证码" in text]


async def test_five_wrong_codes_use_a_code_up_and_the_sixth_try_is_refused_even_when_right(
    seeded: Context, users: Users, visitor_client: Any, clock: list[timedelta]
) -> None:
    client, agent = visitor_client, await users("agent1")
    visitor, chat, _ = await start(client)
    assert (
        await client.post("/api/chat/verify/send", json={"phone": ZHANG}, headers=visitor)
    ).status_code == 202
    code = await texted_code(seeded, chat)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    messages = []
    for _ in range(5):
        answer = await client.post("/api/chat/verify", json={"code": wrong}, headers=visitor)
        assert_problem(answer, 422, "invalid-input", "body.code")
        messages.append(answer.json()["errors"][0]["message"])
    assert messages == [
        *(f"验证码错误，还可再试 {n} 次" for n in (4, 3, 2, 1)),
        "验证码错误已达 5 次，请重新获取",
    ]
    sixth = await client.post("/api/chat/verify", json={"code": code}, headers=visitor)
    assert_problem(sixth, 422, "invalid-input", "body.code")
    assert sixth.json()["errors"][0]["message"] == "验证码错误已达 5 次，请重新获取"
    assert (await agent.get(f"/api/notify/conversations/{chat}")).json()["visitor"]["verified_by"] == ""

    clock.append(timedelta(seconds=61))  # a new code is needed, and works
    assert (
        await client.post("/api/chat/verify/send", json={"phone": ZHANG}, headers=visitor)
    ).status_code == 202
    fresh = await texted_code(seeded, chat)
    assert (await client.post("/api/chat/verify", json={"code": fresh}, headers=visitor)).json()[
        "verified"
    ] == "sms"


async def test_a_code_five_minutes_old_has_expired(
    seeded: Context, visitor_client: Any, clock: list[timedelta]
) -> None:
    client = visitor_client
    visitor, chat, _ = await start(client)
    assert (
        await client.post("/api/chat/verify/send", json={"phone": ZHANG}, headers=visitor)
    ).status_code == 202
    code = await texted_code(seeded, chat)
    clock.append(timedelta(minutes=5, seconds=1))
    late = await client.post("/api/chat/verify", json={"code": code}, headers=visitor)
    assert_problem(late, 422, "invalid-input", "body.code")
    assert late.json()["errors"][0]["message"] == "验证码已过期，请重新获取"


async def test_a_number_gets_at_most_five_codes_an_hour_whichever_chats_ask(
    seeded: Context, visitor_client: Any, clock: list[timedelta]
) -> None:
    client, number = visitor_client, "13911112222"
    for n in range(5):
        visitor, _, _ = await start(client, phone="")
        sent = await client.post("/api/chat/verify/send", json={"phone": number}, headers=visitor)
        assert sent.status_code == 202, (n, sent.text)
        # at once again, from another chat: too soon for the number
        other, _, _ = await start(client, phone="")
        assert_problem(await client.post("/api/chat/verify/send", json={"phone": number}, headers=other),
                       429, "rate-limited", "body.phone")  # fmt: skip
        clock.append(timedelta(seconds=61))
    visitor, _, _ = await start(client, phone="")
    capped = await client.post("/api/chat/verify/send", json={"phone": number}, headers=visitor)
    assert_problem(capped, 429, "rate-limited", "body.phone")
    assert capped.json()["errors"][0]["message"] == "此号码一小时内最多接收 5 条验证码，请稍后再试"
    async with seeded.read() as session:
        queued = await session.scalar(
            select(func.count()).where(
                Message.template_code == "notify.chat_code.sms", Message.recipient == "+8613911112222"
            )
        )
    assert queued == 5
    clock.append(timedelta(hours=1))  # an hour on, the number may have a code again
    assert (
        await client.post("/api/chat/verify/send", json={"phone": number}, headers=visitor)
    ).status_code == 202


async def test_bad_input_is_refused_at_its_field(visitor_client: Any) -> None:
    client = visitor_client
    visitor, _, _ = await start(client)
    assert_problem(await client.post("/api/chat/verify", json={"code": "123456"}, headers=visitor),
                   422, "invalid-input", "body.code")  # fmt: skip  # no code asked yet
    for body, where in (({"code": "12a456"}, "body.code"), ({"code": "12345"}, "body.code"),
                        ({"phone": "abc"}, "body.phone"), ({"phone": ""}, "body.phone")):  # fmt: skip
        route = "/api/chat/verify" if "code" in body else "/api/chat/verify/send"
        answer = await client.post(route, json=body, headers=visitor)
        assert answer.status_code == 422 and where in str(answer.json()), (body, answer.text)
    nobody = {"X-Chat-Token": "x" * 32}
    assert_problem(await client.post("/api/chat/verify/send", json={"phone": ZHANG}, headers=nobody),
                   403, "permission-denied", "header.X-Chat-Token")  # fmt: skip


def member(**claims: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"sub": "YG-000123", "name": "张伟", "phone": ZHANG, "aud": WEB_SITE, "iat": now, "exp": now + 600,
            **claims}  # fmt: skip


async def test_a_signed_member_token_identifies_the_visitor_and_links_zhangs_file(
    seeded: Context, users: Users, visitor_client: Any
) -> None:
    client, agent = visitor_client, await users("agent1")
    visitor, chat, _ = await start(client, phone="")
    answer = await client.post("/api/chat/identify", json={"member_token": sign(member(), WEB_MEMBER_SECRET)},
                               headers=visitor)  # fmt: skip
    assert answer.status_code == 200, answer.text
    assert answer.json()["verified"] == "member"
    thread = (await agent.get(f"/api/notify/conversations/{chat}")).json()
    assert thread["conversation"]["customer_name"] == "张伟"
    assert thread["visitor"]["verified_by"] == "member" and thread["visitor"]["member_id"] == "YG-000123"
    assert ZHANG not in str(thread)


async def _chat_on_timeline(ctx: Context, chat: int) -> list[tuple[str, str, str, datetime]]:
    """The timeline entries of this chat's visitor lines (ref, kind, title, at), oldest first."""
    async with ctx.read() as session:
        ids = select(ConversationMessage.id).where(ConversationMessage.conversation_id == chat)
        rows = await session.execute(
            select(TimelineEntry.ref, TimelineEntry.kind, TimelineEntry.title, TimelineEntry.at)
            .where(TimelineEntry.ref.in_([f"web-in:{i}" for i in await session.scalars(ids)]))
            .order_by(TimelineEntry.at, TimelineEntry.id)
        )  # fmt: skip
        return [(r.ref, r.kind, r.title, as_utc(r.at)) for r in rows]


async def test_what_the_visitor_wrote_before_proving_who_they_are_reaches_zhangs_timeline_once(
    seeded: Context, users: Users, visitor_client: Any
) -> None:
    client, agent = visitor_client, await users("agent1")
    visitor, chat, _ = await start(client, phone="")
    assert (
        await client.post("/api/chat/messages", json={"text": "订单号是 H2026"}, headers=visitor)
    ).status_code == 201
    picture = await client.post(
        "/api/chat/files", headers=visitor, files={"file": ("房间.png", image("PNG"), "image/png")}
    )
    assert picture.status_code == 201, picture.text
    lines = (await client.get("/api/chat/state", headers=visitor)).json()["lines"]
    assert len(lines) == 3 and await _chat_on_timeline(seeded, chat) == []  # nobody's file yet

    token = sign(member(), WEB_MEMBER_SECRET)
    assert (
        await client.post("/api/chat/identify", json={"member_token": token}, headers=visitor)
    ).status_code == 200
    after = await client.post("/api/chat/messages", json={"text": "谢谢"}, headers=visitor)
    entries = await _chat_on_timeline(seeded, chat)
    written = [*lines, after.json()["lines"][-1]]
    assert [ref for ref, *_ in entries] == [f"web-in:{line['id']}" for line in written]
    assert [(kind, title) for _, kind, title, _ in entries] == [
        ("chat", "在线客服消息"), ("chat", "在线客服消息"), ("chat", "在线客服图片"), ("chat", "在线客服消息")
    ]  # fmt: skip
    assert [at for *_, at in entries[:3]] == [datetime.fromisoformat(line["at"]) for line in lines]
    zhang = (await agent.get(f"/api/notify/conversations/{chat}")).json()["conversation"]["customer_id"]
    shown = (await agent.get(f"/api/customers/{zhang}/timeline", params={"group": "conversations"})).json()
    assert {"我想改一下预订的日期", "订单号是 H2026", "谢谢"} <= {e["detail"] for e in shown["items"]}

    # proven again, or linked again by hand: nothing is there twice
    assert (
        await client.post("/api/chat/identify", json={"member_token": token}, headers=visitor)
    ).status_code == 200
    relinked = await agent.put(f"/api/notify/conversations/{chat}/customer", json={"customer_id": zhang})
    assert relinked.status_code == 200 and await _chat_on_timeline(seeded, chat) == entries


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (lambda: sign(member(), "another-secret-of-32-characters-at-least"), "会员身份令牌的签名不正确"),
        (lambda: sign(member(aud="another-site"), WEB_MEMBER_SECRET), "会员身份令牌不是为此网站签发的"),
        (lambda: sign(member(exp=int(time.time()) - 120), WEB_MEMBER_SECRET), "会员身份令牌已过期"),
        (
            lambda: sign(member(exp=int(time.time()) + 3600), WEB_MEMBER_SECRET),
            "会员身份令牌的有效期超过 15 分钟或尚未生效",
        ),
        (lambda: jwt.encode(member(), None, algorithm="none"), "会员身份令牌须以 HS256 签名"),
        (
            lambda: jwt.encode(member(), WEB_MEMBER_SECRET + "x" * 20, algorithm="HS512"),
            "会员身份令牌须以 HS256 签名",
        ),
        (
            lambda: sign({k: v for k, v in member().items() if k != "sub"}, WEB_MEMBER_SECRET),
            "会员身份令牌的内容不完整或不正确（sub、name、phone、email、exp、iat）",
        ),
    ],
    ids=["bad-signature", "wrong-site", "expired", "too-far-ahead", "alg-none", "hs512", "no-sub"],
)
async def test_a_bad_member_token_is_refused_and_proves_nothing(
    users: Users, visitor_client: Any, token: Any, message: str
) -> None:
    client, agent = visitor_client, await users("agent1")
    visitor, chat, _ = await start(client)
    refused = await client.post("/api/chat/identify", json={"member_token": token()}, headers=visitor)
    assert_problem(refused, 403, "permission-denied", "body.member_token")
    assert refused.json()["errors"][0]["message"] == message
    thread = (await agent.get(f"/api/notify/conversations/{chat}")).json()
    assert thread["conversation"]["customer_id"] is None and thread["visitor"]["verified_by"] == ""


async def test_a_site_without_a_secret_takes_no_member_token(visitor_client: Any) -> None:
    visitor, _, _ = await start(visitor_client, site="another-hotel")
    token = sign(member(aud="another-hotel"), WEB_MEMBER_SECRET)
    refused = await visitor_client.post("/api/chat/identify", json={"member_token": token}, headers=visitor)
    assert_problem(refused, 403, "permission-denied", "body.member_token")
    assert refused.json()["errors"][0]["message"] == "此网站未启用会员身份令牌"


async def test_an_unverified_phone_links_nothing_and_the_agent_links_by_hand(
    users: Users, visitor_client: Any
) -> None:
    agent = await users("agent1")
    _, chat, _ = await start(visitor_client)
    assert (await agent.get(f"/api/notify/conversations/{chat}")).json()["conversation"][
        "customer_id"
    ] is None
    zhang = _first_id((await agent.get("/api/customers", params={"q": ZHANG})).json())
    linked = await agent.put(f"/api/notify/conversations/{chat}/customer", json={"customer_id": zhang})
    assert linked.status_code == 200, linked.text
    assert (await agent.get(f"/api/notify/conversations/{chat}")).json()["conversation"][
        "customer_name"
    ] == "张伟"
    # what the visitor wrote before the agent linked the chat is on 张伟's timeline now
    assert [title for _, _, title, _ in await _chat_on_timeline(visitor_client.ctx, chat)] == ["在线客服消息"]


async def test_an_administrator_sets_a_sites_secret_which_is_never_shown_back(users: Users) -> None:
    admin, agent = await users("admin"), await users("agent1")
    secret = "a-new-partner-secret-0123456789-abcdef"
    saved = await admin.put(
        "/api/notify/chat-sites/partner-travel", json={"name": "合作旅行社", "member_secret": secret}
    )
    assert saved.status_code == 200, saved.text
    assert saved.json() == {"site": "partner-travel", "name": "合作旅行社", "has_member_secret": True}
    kept = await admin.put("/api/notify/chat-sites/partner-travel", json={"name": "合作旅行社官网"})
    assert kept.json()["has_member_secret"] is True
    listed = await admin.get("/api/notify/chat-sites")
    assert {"site": WEB_SITE, "name": "英冠酒店官网", "has_member_secret": True} in listed.json()
    audit = await admin.get("/api/audit", params={"entity_type": "chat_sites"})
    assert secret not in listed.text + audit.text and audit.json()["total"] >= 1
    short = await admin.put("/api/notify/chat-sites/partner-travel", json={"member_secret": "short"})
    assert short.status_code == 422 and "body.member_secret" in short.text
    assert (await agent.get("/api/notify/chat-sites")).status_code == 403


async def test_an_administrator_removes_a_sites_secret_and_its_member_tokens_are_refused_from_then_on(
    seeded: Context, users: Users, visitor_client: Any
) -> None:
    client, admin, agent = visitor_client, await users("admin"), await users("agent1")
    token = sign(member(), WEB_MEMBER_SECRET)
    before, _, _ = await start(client, phone="")
    assert (
        await client.post("/api/chat/identify", json={"member_token": token}, headers=before)
    ).status_code == 200
    url = f"/api/notify/chat-sites/{WEB_SITE}/member-secret"
    assert (await agent.delete(url)).status_code == 403  # only who sets up the gateways

    removed = await admin.delete(url)
    assert removed.status_code == 200, removed.text
    assert removed.json() == {"site": WEB_SITE, "name": "英冠酒店官网", "has_member_secret": False}
    assert {"site": WEB_SITE, "name": "英冠酒店官网", "has_member_secret": False} in (
        await admin.get("/api/notify/chat-sites")
    ).json()

    # the same token, still fresh and rightly signed, now proves nothing: refused like a wrong one
    visitor, chat, _ = await start(client, phone="")
    refused = await client.post("/api/chat/identify", json={"member_token": token}, headers=visitor)
    wrong = sign(member(), "another-secret-of-32-characters-at-least")
    as_wrong = await client.post("/api/chat/identify", json={"member_token": wrong}, headers=visitor)
    assert_problem(refused, 403, "permission-denied", "body.member_token")
    assert_problem(as_wrong, 403, "permission-denied", "body.member_token")
    assert refused.json()["errors"][0]["message"] == "此网站未启用会员身份令牌"
    thread = (await agent.get(f"/api/notify/conversations/{chat}")).json()
    assert thread["conversation"]["customer_id"] is None and thread["visitor"]["verified_by"] == ""
    assert (
        await client.post("/api/chat/messages", json={"text": "还在吗"}, headers=visitor)
    ).status_code == 201

    # removing it again changes nothing; an unknown site is named
    assert (await admin.delete(url)).json()["has_member_secret"] is False
    assert_problem(
        await admin.delete("/api/notify/chat-sites/nobody-here/member-secret"), 404, "not-found", "site"
    )
    async with seeded.read() as session:
        removals = await session.scalar(
            select(func.count()).where(
                AuditEntry.action == "notify.member_secret_removed", AuditEntry.entity_id == WEB_SITE
            )
        )
    assert removals == 1
    # set again, the site takes its members' tokens again
    again = {"name": "英冠酒店官网", "member_secret": WEB_MEMBER_SECRET}
    assert (await admin.put(f"/api/notify/chat-sites/{WEB_SITE}", json=again)).status_code == 200
    assert (
        await client.post("/api/chat/identify", json={"member_token": token}, headers=visitor)
    ).status_code == 200
