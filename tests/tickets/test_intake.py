"""Voicemail and e-mail intake (T10, W2). Voicemail lines are read from the stored contact event
log as the router writes them and become tickets exactly once. E-mail: no IMAP server is at hand
here, so a real RFC 822 message (multipart, encoded-word subject, an attachment) is parsed into a
ticket; the IMAP fetch itself is imaplib's."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.tickets import intake
from hotline.tickets.models import Ticket
from tests.conftest import Users, assert_problem
from tests.tickets.conftest import work_order


async def _call(ctx: Context, call_id: str, caller: str, path: list[str], detail: str) -> None:
    from hotline.contact.models import ContactEvent

    now = utcnow() - timedelta(minutes=5)
    async with ctx.write() as tx:
        tx.session.add(ContactEvent(at=now, kind="arrived", call_id=call_id, queue="travel",
                                    detail=f"{caller} → 4008002000"))  # fmt: skip
        for node in path:
            tx.session.add(ContactEvent(at=now, kind="ivr", call_id=call_id, queue="travel", detail=node))
        tx.session.add(ContactEvent(at=now, kind="voicemail", call_id=call_id, detail=detail))


async def test_voicemail_messages_become_tickets_once_with_the_recording(
    seeded: Context, users: Users
) -> None:
    await _call(
        seeded, "leg-vm-1", "13800138000", ["welcome", "all_busy"], "23 s: /var/rec/leg-vm-1/voicemail.wav"
    )
    await _call(seeded, "leg-vm-2", "13912345678", ["welcome", "complaint_menu", "all_busy"],
                "41 s: /var/rec/leg-vm-2/voicemail.wav")  # fmt: skip
    assert await intake.voicemail(seeded) == 2
    assert await intake.voicemail(seeded) == 0  # the cursor: read once
    async with seeded.write() as tx:  # even if the cursor were lost, the source reference holds
        from hotline.tickets.models import IntakeCursor

        await tx.session.delete(await tx.session.get(IntakeCursor, "voicemail"))
    assert await intake.voicemail(seeded) == 0
    async with seeded.read() as session:
        made = (
            await session.scalars(select(Ticket).where(Ticket.source == "voicemail").order_by(Ticket.id))
        ).all()
    assert [t.attachment for t in made] == [
        "/var/rec/leg-vm-1/voicemail.wav",
        "/var/rec/leg-vm-2/voicemail.wav",
    ]
    agent = await users("agent1")
    callback, complaint = [(await agent.get(f"/api/tickets/{t.id}")).json()["ticket"] for t in made]
    assert callback["type_code"] == "callback" and callback["customer_name"] == "张伟"
    assert callback["call_id"] == "leg-vm-1" and "23 秒" in callback["content"]
    # the title is free text on every list and on the customer's timeline: the number masked there
    assert callback["title"] == "语音留言回电 138****8000" and "13800138000" not in callback["title"]
    timeline = (await agent.get(f"/api/customers/{callback['customer_id']}/timeline")).json()
    assert "13800138000" not in str(timeline)
    assert complaint["type_code"] == "complaint" and complaint["customer_id"] is None
    assert complaint["phone"].startswith("139") and complaint["source"] == "voicemail"


MAIL = b"""\
Return-Path: <zhangwei@example.cn>
Received: from mx.example.com (mx.example.com [203.0.113.7]) by mail.hotline.test with ESMTPS
Message-ID: <20261123093000.4711@example.com>
Date: Mon, 23 Nov 2026 09:30:00 +0800
From: =?UTF-8?B?5byg5Lyf?= <zhangwei@example.cn>
To: service@hotline.test
Subject: =?UTF-8?B?5oqV6K+J77ya6YWS5bqX5oi/6Ze05Y2r55Sf5beu?=
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"

--b1
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: base64

5oiR5YWl5L2P55qE5oi/6Ze05q+b5be+5pyq5o2i77yM6K+35bC95b+r5aSE55CG44CC

--b1
Content-Type: image/jpeg; name="room.jpg"
Content-Disposition: attachment; filename="room.jpg"
Content-Transfer-Encoding: base64

/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAP//////////////////////////////////////////////////////
--b1--
"""


async def test_an_email_becomes_a_complaint_for_the_customer_with_that_address(
    seeded: Context, users: Users
) -> None:
    mail = intake.parse_mail(MAIL)
    assert mail.subject == "投诉：酒店房间卫生差" and mail.sender_name == "张伟"
    assert mail.body == "我入住的房间毛巾未换，请尽快处理。" and mail.attachments == ["room.jpg"]
    assert await intake.ticket_from_mail(seeded, MAIL) is True
    assert await intake.ticket_from_mail(seeded, MAIL) is False  # the same Message-ID: once
    agent = await users("agent1")
    found = (await agent.get("/api/tickets", params={"source": "email"})).json()["items"]
    assert len(found) == 1
    ticket = found[0]
    assert ticket["type_code"] == "complaint" and ticket["title"] == "投诉：酒店房间卫生差"
    assert ticket["attachment"] == "room.jpg" and ticket["customer_name"] == "张伟"


async def test_without_an_imap_host_the_mailbox_job_does_nothing(seeded: Context) -> None:
    assert await intake.mailbox(seeded, intake.ImapSettings(host="")) == 0


async def test_a_ticket_started_from_a_chat_links_back_to_it(seeded: Context, users: Users) -> None:
    """The agent answering a conversation starts a ticket from it (NextSteps → 新建工单): the ticket
    names the conversation, its page links back to the messages; a conversation that does not
    exist is refused at its field and nothing is made."""
    agent = await users("agent1")
    conversation = (await agent.get("/api/notify/conversations", params={"status": "open"})).json()[0]
    body = work_order(source="chat", content="客户在会话中报修：房间空调不制冷")
    before = len((await agent.get("/api/tickets")).json()["items"])
    refused = await agent.post("/api/tickets", json=body | {"conversation_id": 987654})
    assert assert_problem(refused, 404, "not-found", "body.conversation_id")["reason"] == "no-conversation"
    assert len((await agent.get("/api/tickets")).json()["items"]) == before

    made = await agent.post("/api/tickets", json=body | {"conversation_id": conversation["id"]})
    assert made.status_code == 201, made.text
    shown = (await agent.get(f"/api/tickets/{made.json()['id']}")).json()["ticket"]
    assert shown["conversation_id"] == conversation["id"] and shown["source"] == "chat"
