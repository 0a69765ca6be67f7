"""Customers' SMS replies through the real Kannel (issue 24, item 4): a reply threads into the
customer's conversation and timeline; TD opts them out at once with exactly one confirmation, even
when Kannel delivers the reply twice; an agent answers in the thread through Kannel; a wrong token
stores nothing."""

from __future__ import annotations

import asyncio
import urllib.parse
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from hotline.core.context import Context
from hotline.notify.channels import kannel_text
from hotline.notify.conversations import OPT_OUT_WORDS, Incoming, is_opt_out, receive
from hotline.notify.models import Conversation, ConversationMessage, Message, OptOut
from hotline.notify.outbox import Sender
from hotline.notify.schemas import SendIn
from hotline.notify.service import send
from tests.conftest import Users, assert_problem
from tests.notify.conftest import MO_TOKEN, Kannel, Relay

ZHANG = "13800138000"
XSS = "<img src=x onerror=alert(1)>"


async def use_kannel(users: Users, kannel: Kannel, served: str) -> Any:
    """The SMS gateway set to this Kannel with the replies' token; returns agent1's client."""
    admin = await users("admin")
    config = {"url": kannel.sendsms_url, "username": "hotline", "dlr_base": served, "mo_token": MO_TOKEN}
    sms = {"kind": "kannel", "secret": "kannel-secret", "config": config}
    answer = await admin.put("/api/notify/gateways/sms", json=sms)
    assert answer.status_code == 200, answer.text
    assert answer.json()["has_mo_token"] is True and MO_TOKEN not in answer.text
    # nor in the audit log: the gateway's keys are hidden there like its password
    audit = await admin.get("/api/audit", params={"entity_type": "message_gateways"})
    assert audit.status_code == 200 and audit.json()["total"] >= 1, audit.text
    assert MO_TOKEN not in audit.text and "kannel-secret" not in audit.text and '"***"' in audit.text
    return await users("agent1")


async def thread_of(agent: Any, number_tail: str, texts: int, seconds: float = 15) -> dict[str, Any]:
    """The open conversation whose (masked) number ends in `number_tail`, once it holds `texts`
    incoming messages."""
    for _ in range(int(seconds / 0.1)):
        for c in (await agent.get("/api/notify/conversations", params={"status": "open"})).json():
            if c["address"].endswith(number_tail):
                thread = (await agent.get(f"/api/notify/conversations/{c['id']}")).json()
                if sum(m["direction"] == "in" for m in thread["messages"]) >= texts:
                    return thread  # type: ignore[no-any-return]
        await asyncio.sleep(0.1)
    raise AssertionError(f"no conversation with {number_tail} holding {texts} replies")


async def to_phone(kannel: Kannel, number: str, wanted: int = 1) -> list[str]:
    """The texts the fake SMSC passed on to `number`, once `wanted` of them came (and a moment
    more, for a duplicate to show)."""
    for _ in range(100):
        texts = [text for to, text in kannel.received() if to.endswith(number)]
        if len(texts) >= wanted:
            await asyncio.sleep(0.5)
            return [text for to, text in kannel.received() if to.endswith(number)]
        await asyncio.sleep(0.1)
    return [text for to, text in kannel.received() if to.endswith(number)]


async def test_a_reply_threads_into_zhangs_conversation_td_opts_him_out_once_and_an_agent_answers(
    seeded: Context, users: Users, served: str, kannel_replies: Kannel, relay: Relay
) -> None:
    kannel = kannel_replies
    agent = await use_kannel(users, kannel, served)
    worker = Sender(seeded, node_id="test")
    zhang = (await agent.get("/api/customers", params={"q": "88000001"})).json()[0]

    await asyncio.to_thread(kannel.inject, ZHANG, f"明天几点可以入住？{XSS}")
    thread = await thread_of(agent, "8000", texts=2)  # the demo's reply, and this one
    assert thread["conversation"]["customer_id"] == zhang["id"]
    assert thread["conversation"]["customer_name"] == "张伟"
    assert thread["conversation"]["address"] == "138****8000" and ZHANG not in str(thread)
    assert thread["messages"][-1] == thread["messages"][-1] | {
        "direction": "in",
        "body": f"明天几点可以入住？{XSS}",
    }
    assert thread["conversation"]["waiting"] is True and thread["opted_out"] is False
    timeline = (await agent.get(f"/api/customers/{zhang['id']}/timeline")).json()
    assert any(e["kind"] == "sms" and XSS in e["detail"] for e in timeline["items"])

    # TD, and Kannel does not hear our answer: it delivers the same message (same id) again
    relay.drop = 1
    seen = len(relay.seen)
    await asyncio.to_thread(kannel.inject, ZHANG, "ＴＤ")
    thread = await thread_of(agent, "8000", texts=3)
    for _ in range(50):
        if len(relay.seen) >= seen + 2:
            break
        await asyncio.sleep(0.1)
    deliveries = relay.seen[seen:]
    assert len(deliveries) == 2 and deliveries[0] == deliveries[1]  # the very same request, twice
    assert thread["opted_out"] is True
    assert [m["body"] for m in thread["messages"] if m["direction"] == "in"][-1] == "ＴＤ"
    async with seeded.read() as session:
        kannel_id = urllib.parse.parse_qs(urllib.parse.urlsplit(deliveries[0]).query)["id"][0]
        stored = await session.scalar(
            select(func.count()).where(ConversationMessage.gateway_id == f"kannel:{kannel_id}")
        )
        assert stored == 1
        opt_out = await session.scalar(select(OptOut).where(OptOut.customer_id == zhang["id"]))
        assert opt_out is not None and opt_out.channel == "sms" and opt_out.address == "+86" + ZHANG
    assert "sms" in (await agent.get(f"/api/notify/customers/{zhang['id']}/opt-outs")).json()
    await worker.run_once()
    await worker.run_once()
    confirmations = [t for t in await to_phone(kannel, ZHANG) if "退订" in t]
    assert len(confirmations) == 1 and confirmations[0].startswith("【英冠酒店】您已成功退订营销短信")
    timeline = (await agent.get(f"/api/customers/{zhang['id']}/timeline")).json()
    assert sum(e["kind"] == "opt-out" for e in timeline["items"]) == 1

    # a later birthday greeting (marketing) is held back; his booking's messages still go
    greeting = await send(seeded, SendIn(template_code="customer.birthday.sms", customer_id=zhang["id"]))
    assert (greeting.status, greeting.reason) == ("suppressed", "opt-out")

    # agent1 answers in the thread: an SMS through Kannel, shown in the thread
    answer = await agent.post(
        f"/api/notify/conversations/{thread['conversation']['id']}/messages",
        json={"body": "好的，已为您退订。"},
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["body"] == "【英冠酒店】好的，已为您退订。" and answer.json()["author_name"]
    await worker.run_once()
    assert "【英冠酒店】好的，已为您退订。" in await to_phone(kannel, ZHANG, wanted=2)
    thread = (await agent.get(f"/api/notify/conversations/{thread['conversation']['id']}")).json()
    assert thread["messages"][-1]["direction"] == "out" and thread["messages"][-1]["status"] in (
        "sent",
        "delivered",
    )
    assert thread["conversation"]["waiting"] is False
    await worker.stop()


async def test_a_number_in_no_file_that_replies_td_is_opted_out_by_number_and_confirmed(
    seeded: Context, users: Users, served: str, kannel_replies: Kannel, relay: Relay
) -> None:
    kannel = kannel_replies
    agent = await use_kannel(users, kannel, served)
    await asyncio.to_thread(kannel.inject, "8613911112222", " 退订 ")
    thread = await thread_of(agent, "2222", texts=1)
    assert relay.answers == [200]  # Kannel's %b: the bytes as sent, spaces and all
    assert thread["conversation"]["customer_id"] is None and thread["opted_out"] is True
    async with seeded.read() as session:
        assert await session.scalar(select(OptOut.id).where(OptOut.address == "+8613911112222")) is not None
    worker = Sender(seeded, node_id="test")
    await worker.run_once()
    assert len([t for t in await to_phone(kannel, "13911112222") if "退订" in t]) == 1
    await worker.stop()


async def test_a_wrong_or_missing_token_is_refused_and_nothing_is_stored(
    seeded: Context, users: Users, client: Any
) -> None:
    admin = await users("admin")
    sms = {"kind": "kannel", "config": {"url": "http://127.0.0.1:9/x", "mo_token": MO_TOKEN}}
    assert (await admin.put("/api/notify/gateways/sms", json=sms)).status_code == 200
    again = await admin.put(
        "/api/notify/gateways/sms", json={**sms, "config": {"url": "http://127.0.0.1:9/x"}}
    )
    assert again.json()["has_mo_token"] is True  # kept when not given again
    async with seeded.read() as session:
        before = await session.scalar(select(func.count(ConversationMessage.id)))
    reply = {"from": ZHANG, "to": "10690000", "text": "TD", "id": "abc-1"}
    for token in ("wrong-token-0123456789", "令牌令牌令牌令牌令牌", MO_TOKEN[:-1]):
        answer = await client.get("/api/notify/mo/kannel", params={**reply, "token": token})
        assert_problem(answer, 403, "permission-denied", "query.token")
    async with seeded.read() as session:
        assert await session.scalar(select(func.count(ConversationMessage.id))) == before
        assert await session.scalar(select(OptOut.id).where(OptOut.address == "+86" + ZHANG)) is None
    # the delivery report's token, non-ASCII: refused, not a 500
    async with seeded.read() as session:
        message_id = await session.scalar(select(Message.id).limit(1))
    forged = await client.get(
        "/api/notify/dlr/kannel", params={"id": message_id or 1, "token": "令牌令牌令牌令牌", "type": 1}
    )
    assert forged.status_code == 403


async def test_bad_replies_are_refused_at_their_field(seeded: Context, users: Users, client: Any) -> None:
    admin = await users("admin")
    sms = {"kind": "kannel", "config": {"url": "http://127.0.0.1:9/x", "mo_token": MO_TOKEN}}
    assert (await admin.put("/api/notify/gateways/sms", json=sms)).status_code == 200
    short = await admin.put(
        "/api/notify/gateways/sms", json={**sms, "config": {**sms["config"], "mo_token": "short"}}
    )
    assert_problem(short, 422, "invalid-input", "body.config.mo_token")
    good = {"from": ZHANG, "to": "10690000", "text": "hi", "id": "abc-2", "token": MO_TOKEN}
    for change, field in (
        ({"from": "x" * 40}, "query.from"),
        ({"from": "CMCC"}, "query.from"),
        ({"id": "a" * 65}, "query.id"),
        ({"id": "../x"}, "query.id"),
        ({"text": "x" * 6401}, "query.text"),
        ({"text": "长" * 1601}, "query.text"),
        ({"charset": "EBCDIC"}, "query.charset"),
        ({"charset": "UTF-16BE", "text": "abc"}, "query.text"),
        ({"token": "t" * 129}, "query.token"),
        ({"from": "1234"}, "query.from"),
    ):
        answer = await client.get("/api/notify/mo/kannel", params={**good, **change})
        assert 400 <= answer.status_code < 500, (change, answer.text)
        assert field in [e["field"] for e in answer.json()["errors"]], (change, answer.text)
    missing = await client.get("/api/notify/mo/kannel", params={"token": MO_TOKEN})
    assert_problem(missing, 422, "validation-failed", "query.from")
    # the same Kannel id twice over HTTP is one message
    for _ in range(2):
        assert (await client.get("/api/notify/mo/kannel", params=good)).status_code == 200
    async with seeded.read() as session:
        assert (
            await session.scalar(select(func.count()).where(ConversationMessage.gateway_id == "kannel:abc-2"))
            == 1
        )


async def test_agents_list_conversations_open_first_and_close_them(seeded: Context, users: Users) -> None:
    agent, finance = await users("agent1"), await users("finance")
    listed = (await agent.get("/api/notify/conversations")).json()
    statuses = [c["status"] for c in listed]
    assert statuses == sorted(statuses, key=lambda status: status != "open") and "closed" in statuses
    zhang = next(c for c in listed if c["customer_name"] == "张伟")
    assert zhang["last_direction"] == "out" and zhang["address"] == "138****8000"
    td = next(c for c in listed if c["customer_id"] is None and c["channel"] == "sms")
    assert (await agent.get(f"/api/notify/conversations/{td['id']}")).json()["opted_out"] is True
    waiting = (await agent.get("/api/notify/conversations", params={"waiting": True})).json()
    assert zhang["id"] not in [c["id"] for c in waiting]
    assert (await finance.get("/api/notify/conversations")).status_code == 403
    empty = await agent.post(f"/api/notify/conversations/{zhang['id']}/messages", json={"body": "   "})
    assert_problem(empty, 422, "validation-failed", "body.body")
    closed = await agent.post(f"/api/notify/conversations/{zhang['id']}/close")
    assert closed.json()["status"] == "closed"
    again = await agent.post(f"/api/notify/conversations/{zhang['id']}/close")
    assert_problem(again, 409, "invalid-transition")
    late = await agent.post(f"/api/notify/conversations/{zhang['id']}/messages", json={"body": "在吗"})
    assert_problem(late, 409, "invalid-transition")
    assert_problem(await agent.get("/api/notify/conversations/999999"), 404, "not-found")


@given(
    word=st.sampled_from(sorted(OPT_OUT_WORDS)),
    before=st.text(alphabet=" \t\u3000\n", max_size=3),
    after=st.text(alphabet=" \t\u3000\n。.!！", max_size=3),
    casing=st.sampled_from(["upper", "lower", "wide"]),
)
def test_td_and_tuiding_are_recognised_whatever_their_case_width_and_spaces(
    word: str, before: str, after: str, casing: str
) -> None:
    wide = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in word)
    shown = {"upper": word.upper(), "lower": word.lower(), "wide": wide}[casing]
    assert is_opt_out(before + shown + after)


@given(st.text(max_size=30))
def test_only_a_whole_opt_out_word_opts_out(text: str) -> None:
    import unicodedata

    word = "".join(unicodedata.normalize("NFKC", text).split()).rstrip(".。!！~～ ").upper()
    assert is_opt_out(text) == (word in OPT_OUT_WORDS)


def test_sentences_that_mention_td_are_not_obeyed() -> None:
    for text in ("我不想退订", "TD是什么意思", "请帮我改到明天", "TDD", "退订了吗？", ""):
        assert not is_opt_out(text)


async def test_a_forgotten_customer_loses_his_conversations_and_keeps_his_opt_out(
    seeded: Context, users: Users
) -> None:
    await receive(seeded, Incoming(ZHANG, "TD", "test:forget-1"))
    supervisor = await users("supervisor")
    zhang = (await supervisor.get("/api/customers", params={"q": "88000001"})).json()[0]
    assert (await supervisor.delete(f"/api/customers/{zhang['id']}")).status_code == 204
    async with seeded.read() as session:
        assert (
            await session.scalar(
                select(func.count(Conversation.id)).where(Conversation.address == "+86" + ZHANG)
            )
            == 0
        )
        assert await session.scalar(select(OptOut.id).where(OptOut.address == "+86" + ZHANG)) is not None


def test_a_ucs2_text_from_kannel_is_read_in_its_charset_and_a_nul_in_it_is_dropped() -> None:
    raw = "你好\x00张".encode("utf-16-be")
    query = "text=" + "".join(f"%{b:02X}" for b in raw)
    assert kannel_text(query, "UTF-16BE") == "你好张"  # PostgreSQL could not store the NUL
    assert kannel_text("text=TD", "UTF-8") == "TD"
