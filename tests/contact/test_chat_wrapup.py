"""The wrap-up of a conversation (会话小结): closing it with a call's disposition code and a note,
required where its queue requires a wrap-up of its calls, kept on it, audited and on the customer's
timeline; a closed one is not closed again."""

from __future__ import annotations

import itertools

from sqlalchemy import select, update

from hotline.admin.models import User
from hotline.contact import callbacks
from hotline.contact.models import CallbackTask, QueueDef
from hotline.core.audit import AuditEntry
from hotline.core.context import Context
from hotline.crm.models import Customer
from hotline.notify.models import ChatVisitor, Conversation, ConversationMessage
from tests.conftest import Users, assert_problem


async def _conversation(ctx: Context, queue: str | None, *, customer: bool = True) -> int:
    """An SMS conversation of 张伟 (the demo customer) that agent1 has, waiting in `queue`."""
    async with ctx.write() as tx:
        s = tx.session
        agent = await s.scalar(select(User.id).where(User.username == "agent1"))
        zhang = await s.scalar(select(Customer.id).where(Customer.name == "张伟").limit(1))
        c = Conversation(
            channel="sms", address=f"+86139{queue or 'none'}0000"[:16], status="open", queue=queue,
            assigned_to=agent, customer_id=zhang if customer else None,
        )  # fmt: skip
        s.add(c)
        await s.flush()
        s.add(ConversationMessage(conversation_id=c.id, direction="in", body="我想改一下入住日期"))
        return c.id


async def test_an_agent_closes_a_conversation_with_its_wrap_up(seeded: Context, users: Users) -> None:
    agent = await users("agent1")
    conversation = await _conversation(seeded, "hotel")
    closed = await agent.post(
        f"/api/notify/conversations/{conversation}/close",
        json={"disposition": "booked", "note": " 改到周五 "},
    )
    assert closed.status_code == 200, closed.text
    shown = closed.json()
    assert (shown["status"], shown["disposition"], shown["wrap_note"]) == ("closed", "booked", "改到周五")
    listed = (await agent.get("/api/notify/conversations", params={"status": "closed"})).json()
    assert next(c for c in listed if c["id"] == conversation)["disposition"] == "booked"

    customer = shown["customer_id"]
    timeline = (await agent.get(f"/api/customers/{customer}/timeline")).json()["items"]
    entry = next(e for e in timeline if e["title"] == "短信会话小结：预订成功")
    assert entry["detail"] == "预订成功 · 改到周五"
    async with seeded.read() as session:
        audited = await session.scalar(
            select(AuditEntry.after).where(
                AuditEntry.action == "notify.conversation_closed", AuditEntry.entity_id == str(conversation)
            )
        )
    assert audited == {"disposition": "booked", "note": "改到周五"}

    again = await agent.post(f"/api/notify/conversations/{conversation}/close", json={"disposition": "other"})
    assert_problem(again, 409, "invalid-transition")
    async with seeded.read() as session:
        kept = await session.get(Conversation, conversation)
    assert kept is not None and kept.disposition == "booked"  # the second close changed nothing


async def test_a_queue_that_requires_a_wrap_up_of_its_calls_requires_one_of_its_conversations(
    seeded: Context, users: Users
) -> None:
    agent = await users("agent1")
    async with seeded.write() as tx:
        await tx.session.execute(update(QueueDef).where(QueueDef.name == "hotel").values(wrap_required=True))
    conversation = await _conversation(seeded, "hotel")
    path = f"/api/notify/conversations/{conversation}/close"

    assert_problem(await agent.post(path), 422, "invalid-input", "body.disposition")
    assert_problem(
        await agent.post(path, json={"note": "没写结果"}), 422, "invalid-input", "body.disposition"
    )
    assert_problem(
        await agent.post(path, json={"disposition": "sold"}), 422, "validation-failed", "body.disposition"
    )
    assert_problem(
        await agent.post(path, json={"disposition": "other", "note": "长" * 301}),
        422, "validation-failed", "body.note",
    )  # fmt: skip
    async with seeded.read() as session:
        still = await session.get(Conversation, conversation)
    assert still is not None and still.status == "open" and still.disposition is None  # nothing half-written

    done = await agent.post(path, json={"disposition": "complaint"})
    assert done.status_code == 200 and done.json()["disposition"] == "complaint"

    # outside any queue (never routed) nothing is required; an unknown one is 404
    loose = await _conversation(seeded, None, customer=False)
    plain = await agent.post(f"/api/notify/conversations/{loose}/close")
    assert plain.status_code == 200 and plain.json()["disposition"] is None
    assert_problem(await agent.post("/api/notify/conversations/999999/close"), 404, "not-found")


async def test_who_may_not_send_messages_closes_no_conversation(seeded: Context, users: Users) -> None:
    conversation = await _conversation(seeded, "hotel")
    finance = await users("finance")
    answer = await finance.post(
        f"/api/notify/conversations/{conversation}/close", json={"disposition": "other"}
    )
    assert answer.status_code == 403


async def _tasks(ctx: Context, conversation: int) -> list[CallbackTask]:
    async with ctx.read() as session:
        found = await session.scalars(
            select(CallbackTask).where(CallbackTask.call_id == f"conversation:{conversation}")
        )
        return list(found)


async def test_given_a_callback_wrap_up_when_closed_then_the_customer_is_on_the_callback_list_once(
    seeded: Context, users: Users
) -> None:
    agent = await users("agent1")
    conversation = await _conversation(seeded, "hotel")  # 张伟's, on an SMS number of its own
    closed = await agent.post(
        f"/api/notify/conversations/{conversation}/close",
        json={"disposition": "callback", "note": "明早回电"},
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["disposition"] == "callback"
    listed = (await agent.get("/api/routing/callbacks")).json()
    task = next(t for t in listed if t["call_id"] == f"conversation:{conversation}")
    # 张伟's preferred phone, not the thread's number; masked like every number on the list
    assert (task["reason"], task["queue"], task["queue_title"]) == ("chat_callback", "hotel", "酒店预订")
    assert task["phone"] == "138****8000"
    assert [t.phone for t in await _tasks(seeded, conversation)] == ["+8613800138000"]

    again = await agent.post(
        f"/api/notify/conversations/{conversation}/close", json={"disposition": "callback"}
    )
    assert_problem(again, 409, "invalid-transition")
    assert len(await _tasks(seeded, conversation)) == 1  # the retry opened no second task


async def test_a_retried_close_whose_task_is_open_already_opens_no_second_one(
    seeded: Context, users: Users
) -> None:
    """A close that failed after its task was opened (the task opens first) is sent again."""
    agent = await users("agent1")
    conversation = await _conversation(seeded, "travel", customer=False)
    await callbacks.open_call_task(seeded, "+8613900000000", f"conversation:{conversation}", "chat_callback")
    closed = await agent.post(
        f"/api/notify/conversations/{conversation}/close", json={"disposition": "callback"}
    )
    assert closed.status_code == 200, closed.text
    assert len(await _tasks(seeded, conversation)) == 1


async def test_without_a_customer_the_number_is_the_sms_threads_or_the_one_a_visitor_proved(
    seeded: Context, users: Users
) -> None:
    agent = await users("agent1")
    sms = await _conversation(seeded, "travel", customer=False)
    assert (
        await agent.post(f"/api/notify/conversations/{sms}/close", json={"disposition": "callback"})
    ).status_code == 200
    assert [(t.phone, t.queue) for t in await _tasks(seeded, sms)] == [("+86139travel0000"[:16], "travel")]

    proved = await _web_chat(seeded, verified="+8613911112222")
    done = await agent.post(f"/api/notify/conversations/{proved}/close", json={"disposition": "callback"})
    assert done.status_code == 200, done.text
    assert [t.phone for t in await _tasks(seeded, proved)] == ["+8613911112222"]


async def test_given_no_number_to_ring_when_closed_with_callback_then_refused_and_nothing_changes(
    seeded: Context, users: Users
) -> None:
    agent = await users("agent1")
    for conversation in (await _web_chat(seeded, verified=""), await _web_chat(seeded, channel="wechat")):
        path = f"/api/notify/conversations/{conversation}/close"
        body = assert_problem(
            await agent.post(path, json={"disposition": "callback", "note": "回电"}),
            422, "invalid-input", "body.disposition",
        )  # fmt: skip
        assert "没有可回电的号码：请先关联客户" in str(body)
        async with seeded.read() as session:
            still = await session.get(Conversation, conversation)
        assert still is not None and still.status == "open" and still.disposition is None
        assert await _tasks(seeded, conversation) == []
        # another code closes it as usual
        assert (await agent.post(path, json={"disposition": "enquiry"})).status_code == 200


VISITORS = itertools.count(1)


async def _web_chat(ctx: Context, *, verified: str = "", channel: str = "web") -> int:
    """A web chat (whose visitor gave a phone in the pre-chat form, and proved `verified` if any) or
    a WeChat thread, with no customer linked, that agent1 has in the hotel queue."""
    async with ctx.write() as tx:
        s = tx.session
        agent = await s.scalar(select(User.id).where(User.username == "agent1"))
        c = Conversation(channel=channel, address=f"visitor-{next(VISITORS)}", status="open", queue="hotel",
                         assigned_to=agent)  # fmt: skip
        s.add(c)
        await s.flush()
        if channel == "web":
            s.add(ChatVisitor(conversation_id=c.id, token_hash=f"w{c.id:063d}", name="访客",
                              phone="13955556666", verified_by="sms" if verified else "",
                              verified_phone=verified))  # fmt: skip
        return c.id
