"""The web chat over HTTP (issue 24, item 1): a visitor fills the pre-chat form, chats with agent1
— typing shown both ways, read receipts both ways — ends it with a rating and gets the transcript
by e-mail through a real SMTP server; nobody without the token reads or writes the chat; bad input
is refused at its field and changes nothing. With no agent there, the window offers to leave a
message instead: one ticket however often it is sent, the customer's when the phone is in a file."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sqlalchemy import func, select

from hotline.contact.agents.service import present_agents
from hotline.contact.models import ContactEvent
from hotline.core.audit import AuditEntry
from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.notify.models import ChatVisitor, Conversation, ConversationMessage
from hotline.notify.outbox import Sender
from hotline.tickets.models import Ticket
from tests.conftest import Users, assert_problem
from tests.notify.conftest import Inbox

XSS = "<script>alert(1)</script>"


async def test_a_visitor_chats_with_an_agent_rates_it_and_gets_the_transcript(
    seeded: Context, users: Users, client: Any, smtp: tuple[int, Inbox]
) -> None:
    port, inbox = smtp
    admin, agent = await users("admin"), await users("agent1")
    email = {"kind": "smtp", "config": {"host": "127.0.0.1", "port": port}}
    assert (await admin.put("/api/notify/gateways/email", json=email)).status_code == 200

    form = {
        "name": "王女士", "phone": "13912345678", "email": "wang@example.cn", "topic": "hotel",
        "text": f"请问外滩店有亲子房吗？{XSS}", "site": "yingguan-hotels", "page": "https://hotel.example.cn/shanghai",
    }  # fmt: skip
    started = await client.post("/api/chat/start", json=form)
    assert started.status_code == 201, started.text
    token = started.json()["token"]
    visitor = {"X-Chat-Token": token}
    assert [line["text"] for line in started.json()["lines"]] == [form["text"]]
    assert started.json()["lines"][0]["mine"] is True and started.json()["answered"] is False
    async with seeded.read() as session:  # only the token's hash is kept
        assert await session.scalar(select(func.count()).where(ChatVisitor.token_hash == token)) == 0

    # agent1 sees it in 客户会话: on the web channel, the visitor's name, masked phone, waiting
    listed = (await agent.get("/api/notify/conversations", params={"waiting": True})).json()
    chat = next(c for c in listed if c["channel"] == "web" and c["visitor_name"] == "王女士")
    thread = (await agent.get(f"/api/notify/conversations/{chat['id']}")).json()
    assert thread["visitor"]["phone"] == "139****5678" and thread["visitor"]["email"] != "wang@example.cn"
    assert thread["visitor"]["page"] == form["page"] and thread["visitor"]["topic"] == "hotel"
    assert "13912345678" not in str(thread)

    # the visitor types: the agent's thread says so; the agent types: the visitor's window says so
    assert (await client.post("/api/chat/typing", headers=visitor)).status_code == 204
    thread = (await agent.get(f"/api/notify/conversations/{chat['id']}")).json()
    assert thread["visitor"]["typing"] is True
    assert (await agent.post(f"/api/notify/conversations/{chat['id']}/typing")).status_code == 204
    polled = (await client.get("/api/chat/state", headers=visitor, params={"after": 0})).json()
    assert polled["agent_typing"] is True and polled["read_up_to"] == 0

    # typing and seen name a web chat: an unknown conversation, or one on another channel, is none
    for unknown in (999_999, await _sms_conversation(seeded)):
        for route, body in (("typing", None), ("seen", {"up_to": 1})):
            assert_problem(
                await agent.post(f"/api/notify/conversations/{unknown}/{route}", json=body),
                404, "not-found", "conversation_id",
            )  # fmt: skip

    # the agent's thread showed the question: the visitor sees it read
    first = thread["messages"][0]["id"]
    seen = await agent.post(f"/api/notify/conversations/{chat['id']}/seen", json={"up_to": first + 1000})
    assert seen.status_code == 204
    polled = (await client.get("/api/chat/state", headers=visitor, params={"after": first})).json()
    assert polled["read_up_to"] == first and polled["lines"] == []  # clamped to the last message

    # the answer reaches the window (agent's name, no staff id); the visitor reads it
    answer = await agent.post(
        f"/api/notify/conversations/{chat['id']}/messages", json={"body": "有的，外滩店有亲子主题房。"}
    )
    assert answer.status_code == 201 and answer.json()["status"] == "sent", answer.text
    polled = (await client.get("/api/chat/state", headers=visitor, params={"after": first})).json()
    assert [(line["text"], line["agent"]) for line in polled["lines"]] == [
        ("有的，外滩店有亲子主题房。", "陈晓")
    ]
    assert polled["answered"] is True and polled["agent_typing"] is False  # the answer ends the typing
    assert "author_id" not in str(polled) and "user_id" not in str(polled)
    reply_id = polled["lines"][0]["id"]
    assert (await client.post("/api/chat/read", headers=visitor, json={"up_to": reply_id})).status_code == 204
    thread = (await agent.get(f"/api/notify/conversations/{chat['id']}")).json()
    assert thread["messages"][-1]["status"] == "read"

    said = await client.post("/api/chat/messages", headers=visitor, json={"text": "太好了，谢谢！"})
    assert said.status_code == 201 and said.json()["lines"][-1]["text"] == "太好了，谢谢！"

    # the end: rated, closed, transcript mailed once (a second end is refused, nothing sent twice)
    ended = await client.post(
        "/api/chat/end",
        headers=visitor,
        json={"rating": 5, "note": "很快", "transcript_to": "wang@example.cn"},
    )
    assert ended.status_code == 200 and ended.json()["status"] == "closed", ended.text
    assert_problem(
        await client.post("/api/chat/end", headers=visitor, json={"rating": 1}), 409, "invalid-transition"
    )
    late = await client.post("/api/chat/messages", headers=visitor, json={"text": "还在吗"})
    assert_problem(late, 409, "invalid-transition")
    thread = (await agent.get(f"/api/notify/conversations/{chat['id']}")).json()
    assert thread["visitor"]["rating"] == 5 and thread["visitor"]["ended"] is True
    assert thread["conversation"]["status"] == "closed"
    worker = Sender(seeded, node_id="test")
    await worker.run_once()
    await worker.stop()
    for _ in range(50):
        if inbox.messages:
            break
        await asyncio.sleep(0.1)
    assert len(inbox.messages) == 1
    mail = inbox.messages[0]
    assert mail["To"] == "wang@example.cn" and "聊天记录" in str(mail["Subject"])
    body = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert (
        "王女士：请问外滩店有亲子房吗？" in body
        and "陈晓：有的，外滩店有亲子主题房。" in body
        and XSS in body
    )


async def _sms_conversation(seeded: Context) -> int:
    now = utcnow()
    async with seeded.write() as tx:
        sms = Conversation(
            channel="sms", address="13900000001", status="open", created_at=now, last_message_at=now
        )
        tx.session.add(sms)
        await tx.session.flush()
        return sms.id


async def test_no_token_no_chat_and_bad_input_is_refused_at_its_field(seeded: Context, client: Any) -> None:
    async with seeded.read() as session:
        before = await session.scalar(select(func.count()).select_from(ConversationMessage))
    good = {"name": "李先生", "text": "你好"}
    for change, field in (
        ({"name": "   "}, "body.name"),
        ({"name": "长" * 41}, "body.name"),
        ({"text": ""}, "body.text"),
        ({"text": "长" * 1001}, "body.text"),
        ({"phone": "打电话给我"}, "body.phone"),
        ({"email": "not-mail"}, "body.email"),
        ({"topic": "spam"}, "body.topic"),
        ({"site": "<b>"}, "body.site"),
        ({"admin": True}, "body.admin"),
    ):
        assert_problem(
            await client.post("/api/chat/start", json={**good, **change}), 422, "validation-failed", field
        )
    for headers in ({}, {"X-Chat-Token": "short"}, {"X-Chat-Token": "a" * 30}):
        answer = await client.post("/api/chat/messages", headers=headers, json={"text": "偷看"})
        assert answer.status_code in (403, 422), answer.text
        assert "header.X-Chat-Token" in [e["field"] for e in answer.json()["errors"]], answer.text
    assert (await client.get("/api/chat/state", headers={"X-Chat-Token": "b" * 32})).status_code == 403
    started = await client.post("/api/chat/start", json=good)
    token = {"X-Chat-Token": started.json()["token"]}
    assert_problem(
        await client.post("/api/chat/end", headers=token, json={"rating": 6}),
        422,
        "validation-failed",
        "body.rating",
    )
    assert_problem(
        await client.get("/api/chat/state", headers=token, params={"after": -1}),
        422,
        "validation-failed",
        "query.after",
    )
    async with seeded.read() as session:
        assert await session.scalar(select(func.count()).select_from(ConversationMessage)) == before + 1


async def _agent_state(seeded: Context, agent_id: int, state: str) -> None:
    async with seeded.write() as tx:
        tx.session.add(ContactEvent(at=utcnow(), kind="agent", agent_id=agent_id, state=state, detail="test"))


async def _tickets(seeded: Context) -> int:
    async with seeded.read() as session:
        return int(await session.scalar(select(func.count()).select_from(Ticket)) or 0)


async def test_with_nobody_there_a_visitor_leaves_a_message_and_a_retry_makes_one_ticket(
    seeded: Context, users: Users, client: Any
) -> None:
    availability = "/api/chat/availability"
    assert (await client.get(availability)).json() == {"available": True}  # the demo's agents are ready
    for present in await present_agents(seeded):
        await _agent_state(seeded, present, "logged_out")
    assert (await client.get(availability, params={"site": "yingguan-hotels"})).json() == {"available": False}
    agent = await users("agent1")
    agent_id = (await agent.get("/api/auth/me")).json()["id"]
    await _agent_state(seeded, agent_id, "ready")
    assert (await client.get(availability)).json() == {"available": True}
    # signed in, but taking no conversations (capacity 0): a chat would find nobody
    supervisor = await users("supervisor")
    me = next(a for a in (await supervisor.get("/api/routing/agents")).json() if a["user_id"] == agent_id)
    profile = {"skills": me["skills"], "chat_capacity": 0}
    assert (await supervisor.put(f"/api/routing/agents/{agent_id}/profile", json=profile)).status_code == 204
    assert (await client.get(availability)).json() == {"available": False}
    profile["chat_capacity"] = 2
    assert (await supervisor.put(f"/api/routing/agents/{agent_id}/profile", json=profile)).status_code == 204
    assert (await client.get(availability)).json() == {"available": True}
    await _agent_state(seeded, agent_id, "logged_out")
    assert (await client.get(availability)).json() == {"available": False}
    assert_problem(
        await client.get(availability, params={"site": "<b>"}), 422, "validation-failed", "query.site"
    )

    before = await _tickets(seeded)
    left = {
        "key": "k7Qx2mP9vR4tW8yZ1aB3", "name": "张先生", "phone": "138 0013 8000",
        "text": f"请回电，想订外滩店{XSS}",
        "site": "yingguan-hotels", "page": "https://hotel.example.cn/shanghai",
    }  # fmt: skip
    first = await client.post("/api/chat/leave-message", json=left)
    assert first.status_code == 201, first.text
    number = first.json()["number"]
    assert first.json() == {"number": number}
    again = await client.post("/api/chat/leave-message", json=left)  # a retry, a second click
    assert again.status_code == 201 and again.json() == {"number": number}
    assert await _tickets(seeded) == before + 1

    async with seeded.read() as session:
        ticket_id = await session.scalar(select(Ticket.id).where(Ticket.number == number))
        audited = await session.scalar(
            select(func.count()).where(
                AuditEntry.entity_type == "tickets", AuditEntry.entity_id == str(ticket_id)
            )
        )
    assert audited
    shown = (await agent.get(f"/api/tickets/{ticket_id}")).json()["ticket"]
    assert shown["type_code"] == "callback" and shown["source"] == "web" and shown["status"] == "new"
    assert shown["customer_name"] == "张伟" and shown["contact_name"] == "张先生"  # the phone is in his file
    assert shown["title"] == "网站留言 张先生" and left["text"] in shown["content"]
    assert shown["phone"] == "138****8000" and "13800138000" not in str(shown)


async def test_a_message_with_bad_fields_is_refused_at_each_field_and_makes_no_ticket(
    seeded: Context, client: Any
) -> None:
    before = await _tickets(seeded)
    good = {"key": "a1b2c3d4e5f6g7h8i9j0", "name": "李女士", "email": "li@example.cn", "text": "请联系我"}
    for change, field in (
        ({"name": "   "}, "body.name"),
        ({"name": "长" * 41}, "body.name"),
        ({"text": ""}, "body.text"),
        ({"text": "长" * 1001}, "body.text"),
        ({"phone": "打电话给我"}, "body.phone"),
        ({"email": "not-mail"}, "body.email"),
        ({"email": ""}, "body.email"),  # neither a phone nor an e-mail: nobody to answer
        ({"key": "short"}, "body.key"),
        ({"key": "x" * 65}, "body.key"),
        ({"site": "<b>"}, "body.site"),
        ({"admin": True}, "body.admin"),
    ):
        assert_problem(
            await client.post("/api/chat/leave-message", json={**good, **change}),
            422,
            "validation-failed",
            field,
        )
    unreachable = await client.post("/api/chat/leave-message", json={**good, "email": ""})
    assert "请留下手机号或邮箱" in str(unreachable.json()["errors"])
    both = await client.post("/api/chat/leave-message", json={**good, "name": "", "text": ""})
    assert {"body.name", "body.text"} <= {e["field"] for e in both.json()["errors"]}
    assert await _tickets(seeded) == before


async def test_a_waiting_window_gets_the_agents_answer_as_soon_as_it_is_stored(
    seeded: Context, users: Users, client: Any
) -> None:
    """Long polling: the visitor's `state?wait=` is held while nothing is new and answered the moment
    the agent's reply is stored; with nothing happening it comes back empty when the wait ends."""
    agent = await users("agent1")
    form = {"name": "钱先生", "text": "请问几点退房？", "site": "yingguan-hotels"}
    started = await client.post("/api/chat/start", json=form)
    visitor = {"X-Chat-Token": started.json()["token"]}
    after = started.json()["lines"][-1]["id"]
    listed = (await agent.get("/api/notify/conversations", params={"status": "open"})).json()
    chat = next(c for c in listed if c["visitor_name"] == "钱先生")

    began = time.monotonic()
    idle = await client.get("/api/chat/state", headers=visitor, params={"after": after, "wait": 0.5})
    assert idle.status_code == 200 and idle.json()["lines"] == []
    assert 0.4 < time.monotonic() - began < 5

    held = asyncio.create_task(
        client.get("/api/chat/state", headers=visitor, params={"after": after, "wait": 20})
    )
    await asyncio.sleep(0.3)
    assert not held.done()  # nothing new yet: held
    answered = time.monotonic()
    reply = await agent.post(
        f"/api/notify/conversations/{chat['id']}/messages", json={"body": "中午12点前退房。"}
    )
    assert reply.status_code == 201, reply.text
    woken = await asyncio.wait_for(held, 5)
    assert time.monotonic() - answered < 2  # not the 20 s of the wait
    assert [line["text"] for line in woken.json()["lines"]] == ["中午12点前退房。"]

    # the agent types: the window held again wakes to say so (no event on the agents' feed for it)
    last = woken.json()["lines"][-1]["id"]
    held = asyncio.create_task(
        client.get("/api/chat/state", headers=visitor, params={"after": last, "wait": 20})
    )
    await asyncio.sleep(0.3)
    typed = time.monotonic()
    assert (await agent.post(f"/api/notify/conversations/{chat['id']}/typing")).status_code == 204
    shown = await asyncio.wait_for(held, 5)
    assert time.monotonic() - typed < 2 and shown.json()["agent_typing"] is True

    for bad in (-1, 26, "soon"):
        refused = await client.get("/api/chat/state", headers=visitor, params={"wait": bad})
        assert_problem(refused, 422, "validation-failed", "query.wait")
