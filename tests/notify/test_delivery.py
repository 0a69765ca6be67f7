"""Messages through real gateways: confirming a reservation sends a Chinese SMS through Kannel
(its fake SMSC receives it, its delivery reports come back) and an e-mail through SMTP, each
once; the reminder "17:00 the day before arrival" fires once per reservation; a gateway that is
down leaves messages queued and retried; an interrupted hand-over is never sent twice."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update

from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.notify import rules
from hotline.notify.gateways import Outgoing
from hotline.notify.models import Message
from hotline.notify.outbox import Sender
from tests.conftest import Users, assert_problem
from tests.hotels.test_reservations import hotel_today, ids, stay
from tests.notify.conftest import Inbox, Kannel, TlsMail, free_port

SHANGHAI = ZoneInfo("Asia/Shanghai")


async def sms_about(kannel: Kannel, number: str) -> list[str]:
    """The texts the fake SMSC received that mention `number` (it gets them a moment after Kannel
    accepts them)."""
    for _ in range(50):
        texts = [text for _, text in kannel.received() if number in text]
        if texts:
            await asyncio.sleep(0.2)  # a duplicate would show up by now
            return [text for _, text in kannel.received() if number in text]
        await asyncio.sleep(0.1)
    return []


def sender(ctx: Context, **kwargs: object) -> Sender:
    return Sender(ctx, node_id="test", handlers=rules.handlers(), **kwargs)  # type: ignore[arg-type]


async def statuses(ctx: Context, ref: str) -> dict[str, str]:
    async with ctx.read() as session:
        rows = await session.execute(select(Message.channel, Message.status).where(Message.ref == ref))
        return {channel: status for channel, status in rows}


async def test_confirming_a_booking_sends_a_chinese_sms_and_an_email_once_through_real_gateways(
    seeded: Context, users: Users, served: str, smtp: tuple[int, Inbox], kannel: Kannel
) -> None:
    admin, agent = await users("admin"), await users("agent1")
    port, inbox = smtp
    sms = {"kind": "kannel", "secret": "kannel-secret",
           "config": {"url": kannel.sendsms_url, "username": "hotline", "dlr_base": served}}  # fmt: skip
    assert (await admin.put("/api/notify/gateways/sms", json=sms)).status_code == 200
    sender_address = {"sender": "booking@yingguan.example", "sender_name": "英冠酒店"}
    email = {"kind": "smtp", "config": {"host": "127.0.0.1", "port": port, **sender_address}}
    assert (await admin.put("/api/notify/gateways/email", json=email)).status_code == 200
    shown = (await admin.get("/api/notify/gateways")).json()
    assert (
        shown[0]["has_secret"] is True and "kannel-secret" not in str(shown) and "dlr_key" not in str(shown)
    )
    assert (await agent.get("/api/notify/gateways")).status_code == 403

    zhang = (await agent.get("/api/customers", params={"q": "88000001"})).json()[0]
    booking = {**await ids(seeded), **stay(5, 2), "customer_id": zhang["id"], "guest_name": "张伟",
               "guest_phone": "13800138000", "rooms": 1, "guests": 2}  # fmt: skip
    made = (await agent.post("/api/reservations", json=booking)).json()
    ref = f"reservation:{made['number']}"
    worker = sender(seeded)
    await worker.run_once()
    await worker.run_once()  # nothing left: each message once

    texts = await sms_about(kannel, made["number"])
    assert len(texts) == 1 and texts[0].startswith("【英冠酒店】张伟您好，您已成功预订英冠酒店上海外滩店")
    assert "中山东一路 18 号" in texts[0]
    mails = [m for m in inbox.messages if made["number"] in str(m["Subject"])]
    assert len(mails) == 1 and mails[0]["To"] == "zhangwei@example.cn"
    body = mails[0].get_body(("plain",)).get_content()  # type: ignore[attr-defined]
    assert "取消政策：入住前24小时以上取消退还100%" in body

    for _ in range(100):  # Kannel reports delivery to the SMSC and to the phone
        if (await statuses(seeded, ref)).get("sms") == "delivered":
            break
        await asyncio.sleep(0.1)
    assert await statuses(seeded, ref) == {"sms": "delivered", "email": "sent"}
    forged = await agent.get("/api/notify/dlr/kannel", params={"id": 1, "token": "0" * 24, "type": 2})
    assert forged.status_code == 403
    sent = (await agent.get("/api/notify/messages", params={"ref": ref})).json()
    assert {m["template_code"] for m in sent} == {"reservation.confirmed.sms", "reservation.confirmed.email"}
    await worker.stop()


async def test_the_reminder_at_17_the_day_before_arrival_fires_once_per_reservation(
    seeded: Context, users: Users
) -> None:
    agent = await users("agent1")
    booking = {**await ids(seeded), **stay(3, 1), "guest_name": "提醒", "guest_phone": "13900001111",
               "rooms": 1, "guests": 1}  # fmt: skip
    made = (await agent.post("/api/reservations", json=booking)).json()
    eve = hotel_today() + timedelta(days=2)

    def at(day: int, hhmm: str) -> datetime:
        hour, minute = (int(x) for x in hhmm.split(":"))
        return datetime.combine(eve + timedelta(days=day), time(hour, minute), tzinfo=SHANGHAI)

    async def reminders() -> int:
        async with seeded.read() as session:
            mine = Message.ref == f"reservation:{made['number']}"
            reminder = Message.template_code == "reservation.reminder.sms"
            return int(await session.scalar(select(func.count(Message.id)).where(mine, reminder)) or 0)

    await rules.run_schedules(seeded, now=at(0, "16:59"))
    assert await reminders() == 0
    await rules.run_schedules(seeded, now=at(0, "17:00"))
    assert await reminders() == 1
    for moment in (at(0, "17:30"), at(0, "23:59"), at(1, "00:01"), at(1, "17:05")):  # around midnight too
        await rules.run_schedules(seeded, now=moment)
    assert await reminders() == 1


async def test_a_gateway_that_is_down_keeps_the_message_queued_and_it_goes_once_it_is_back(
    seeded: Context, users: Users, kannel: Kannel
) -> None:
    admin, agent = await users("admin"), await users("agent1")
    nowhere = f"http://127.0.0.1:{free_port()}/cgi-bin/sendsms"
    down = {"kind": "kannel", "secret": "kannel-secret", "config": {"url": nowhere, "username": "hotline"}}
    await admin.put("/api/notify/gateways/sms", json=down)
    booking = {**await ids(seeded), **stay(6, 1), "guest_name": "重试", "guest_phone": "13900002222",
               "rooms": 1, "guests": 1}  # fmt: skip
    made = (await agent.post("/api/reservations", json=booking)).json()
    worker = sender(seeded)
    await worker.run_once()
    async with seeded.read() as session:
        message = await session.scalar(select(Message).where(
            Message.ref == f"reservation:{made['number']}", Message.channel == "sms"))  # fmt: skip
    assert message is not None and (message.status, message.attempts) == ("queued", 1)
    assert "unavailable" in message.reason
    await admin.put(
        "/api/notify/gateways/sms", json={**down, "config": {**down["config"], "url": kannel.sendsms_url}}
    )
    later = message.next_attempt_at + timedelta(seconds=1)
    await worker.run_once(now=later)
    await worker.run_once(now=later + timedelta(minutes=5))
    assert len(await sms_about(kannel, made["number"])) == 1
    await worker.stop()


async def test_a_sender_stopped_mid_batch_never_sends_a_message_twice(
    seeded: Context, users: Users, smtp: tuple[int, Inbox]
) -> None:
    admin = await users("admin")
    port, inbox = smtp
    await admin.put(
        "/api/notify/gateways/email", json={"kind": "smtp", "config": {"host": "127.0.0.1", "port": port}}
    )
    zhang = (await admin.get("/api/customers", params={"q": "88000001"})).json()[0]
    async with seeded.write() as tx:  # 60 e-mails waiting (a care message each)
        from hotline.notify.outbox import enqueue
        from hotline.notify.templates import live

        template = await live(tx.session, "reservation.confirmed.email")
        assert template is not None
        for n in range(60):
            await enqueue(
                tx.session, key=f"test:{n}", template=template, values={"number": str(n)},
                recipient="zhangwei@example.cn", customer_id=zhang["id"], ref=f"test:{n}",
            )  # fmt: skip
    first = sender(seeded, concurrency=4, batch=60)
    smtp_gateway = await first._gateway("email")

    class DiesMidway:
        """The SMTP gateway, until the sender's process dies during its 10th hand-over."""

        kind, idempotent, handed = "smtp", False, 0

        async def send(self, message: Outgoing) -> str:
            self.handed += 1
            if self.handed == 10:
                raise asyncio.CancelledError  # killed: the other hand-overs in flight go unrecorded
            return await smtp_gateway.send(message)

        async def close(self) -> None:
            return None

    dying = DiesMidway()
    first._gateway = lambda channel: asyncio.sleep(0, dying)  # type: ignore[method-assign]
    with contextlib.suppress(asyncio.CancelledError):
        await first.send_due()
    second = sender(seeded)
    later = datetime.now(ZoneInfo("UTC")) + timedelta(minutes=5)  # the first one's leases have run out
    await second.run_once(now=later)
    await second.run_once(now=later)
    async with seeded.read() as session:
        rows = dict(
            (
                await session.execute(select(Message.key, Message.status).where(Message.key.like("test:%")))
            ).all()
        )
    ids_received = [m["Message-ID"] for m in inbox.messages]
    assert len(ids_received) == len(set(ids_received))  # never twice
    assert set(rows.values()) <= {"sent", "unknown"} and len(rows) == 60
    unknown = [k for k, s in rows.items() if s == "unknown"]
    assert len(unknown) <= 4  # at most the hand-overs in flight, left for a person to check
    assert len(ids_received) + len(unknown) >= 60
    async with seeded.write() as tx:
        await tx.session.execute(update(Message).where(Message.key.like("test:%")).values(status="sent"))


async def test_email_goes_over_starttls_with_a_login_and_bad_settings_are_refused_or_held(
    seeded: Context, users: Users, smtp_starttls: TlsMail
) -> None:
    admin, agent = await users("admin"), await users("agent1")
    url = "/api/notify/gateways/email"
    config = {"host": "127.0.0.1", "port": smtp_starttls.port, "starttls": True, "username": "hotline",
              "sender": "booking@yingguan.example", "ca_file": smtp_starttls.ca_file}  # fmt: skip
    cases = (
        ({"port": 70000}, "body.config.port"), ({"tls": True}, "body.config.tls"),
        ({"sender": "not-an-address"}, "body.config.sender"), ({"host": " "}, "body.config.host"),
    )  # fmt: skip
    for change, field in cases:
        refused = await admin.put(url, json={"kind": "smtp", "config": {**config, **change}})
        assert_problem(refused, 422, "invalid-input", field)
    kannel_url = await admin.put(
        "/api/notify/gateways/sms", json={"kind": "kannel", "config": {"url": "ftp://x"}}
    )
    assert_problem(kannel_url, 422, "invalid-input", "body.config.url")
    await admin.put(url, json={"kind": "smtp", "config": config, "secret": "wrong"})

    zhang = (await agent.get("/api/customers", params={"q": "88000001"})).json()[0]
    booking = {**await ids(seeded), **stay(9, 1), "customer_id": zhang["id"], "guest_name": "张伟",
               "guest_phone": "13800138000", "rooms": 1, "guests": 1}  # fmt: skip
    made = (await agent.post("/api/reservations", json=booking)).json()
    worker = sender(seeded)
    await worker.run_once()
    ref = f"reservation:{made['number']}"
    async with seeded.read() as session:
        email = await session.scalar(select(Message).where(Message.ref == ref, Message.channel == "email"))
    assert email is not None and email.status == "queued" and "authentication failed" in email.reason
    await admin.put(url, json={"kind": "smtp", "config": config, "secret": "mail-secret"})
    await worker.run_once(now=email.next_attempt_at + timedelta(seconds=1))
    assert await statuses(seeded, ref) == {"sms": "delivered", "email": "sent"}  # SMS through the log gateway
    mails = [m for m in smtp_starttls.inbox.messages if made["number"] in str(m["Subject"])]
    assert len(mails) == 1
    await worker.stop()


async def test_handled_events_are_forgotten_after_30_days_and_pending_ones_never(
    seeded: Context, users: Users
) -> None:
    from hotline.core.durable import DomainEvent
    from hotline.notify.jobs import purge_events

    agent = await users("agent1")
    booking = {**await ids(seeded), **stay(12, 1), "guest_name": "旧事", "guest_phone": "13900003333",
               "rooms": 1, "guests": 1}  # fmt: skip
    await agent.post("/api/reservations", json=booking)
    await sender(seeded).handle_events()
    async with seeded.write() as tx:  # one handled long ago, one still waiting
        await tx.session.execute(update(DomainEvent).values(handled_at=utcnow() - timedelta(days=31)))
        tx.session.add(DomainEvent(name="hotels.reservation", data={}, occurred_at=utcnow()))
    await purge_events(seeded, {})
    async with seeded.read() as session:
        left = (await session.execute(select(DomainEvent.handled_at))).scalars().all()
    assert left == [None]
