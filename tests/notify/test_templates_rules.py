"""Templates and rules as a supervisor meets them: variables checked against the topic, the SMS
signature and segment count (GSM-7 160/153, UCS-2 70/67), approval by someone other than the
author with every version kept; rules that cannot work refused at their field; birthday
greetings (marketing) held in quiet hours and never sent to a customer who opted out; festival
greetings once a festival; a message sent by hand."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from hotline.core.context import Context
from hotline.crm.models import Customer
from hotline.notify import rules
from hotline.notify.models import Message
from hotline.notify.outbox import Sender, quiet_until
from hotline.notify.templates import GSM7, segments
from tests.conftest import Users, assert_problem
from tests.hotels.test_reservations import hotel_today

SHANGHAI = ZoneInfo("Asia/Shanghai")
CARE = {
    "code": "customer.thanks.sms", "channel": "sms", "topic": "crm.customer", "name": "感谢短信",
    "body": "【英冠酒店】{{customer_name}}{{title}}您好，感谢您的支持，您当前积分{{points}}。",
}  # fmt: skip


@given(st.text(alphabet=sorted(GSM7 - {"\r"}), max_size=400))
def test_gsm_text_is_160_characters_a_message_and_153_a_part(text: str) -> None:
    encoding, characters, parts = segments(text)
    assert (encoding, characters) == ("GSM-7", len(text))
    assert parts == (1 if len(text) <= 160 else -(-len(text) // 153))


@given(st.text(max_size=300), st.text(alphabet="英冠酒店您好，", min_size=1, max_size=5))
def test_any_chinese_makes_it_ucs2_70_a_message_and_67_a_part(text: str, chinese: str) -> None:
    encoding, characters, parts = segments(text + chinese)
    assert encoding == "UCS-2"
    assert parts == (1 if characters <= 70 else -(-characters // 67))


async def test_templates_are_checked_previewed_approved_by_someone_else_and_kept_as_versions(
    seeded: Context, users: Users
) -> None:
    supervisor, admin, agent = await users("supervisor"), await users("admin"), await users("agent1")
    url = "/api/notify/templates"
    unknown = await supervisor.post(
        url, json={**CARE, "body": "【英冠酒店】{{customer_name}}的房间{{room_number}}"}
    )
    body = assert_problem(unknown, 422, "invalid-input", "body.body")
    assert "room_number" in str(body["detail"])
    unsigned = await supervisor.post(url, json={**CARE, "body": "{{customer_name}}您好"})
    assert_problem(unsigned, 422, "invalid-input", "body.body")
    no_subject = await supervisor.post(
        url, json={**CARE, "code": "customer.thanks.email", "channel": "email"}
    )
    assert_problem(no_subject, 422, "invalid-input", "body.subject")
    assert (await agent.post(url, json=CARE)).status_code == 403

    preview = (await agent.post(f"{url}/preview", json={"topic": "crm.customer", "channel": "sms",
                                                         "body": CARE["body"]})).json()  # fmt: skip
    assert preview["body"] == "【英冠酒店】张伟先生您好，感谢您的支持，您当前积分12800。"
    assert (preview["encoding"], preview["segments"]) == ("UCS-2", 1)
    longer = {"topic": "crm.customer", "channel": "sms", "body": "【英冠酒店】" + "好" * 65}
    long = (await agent.post(f"{url}/preview", json=longer)).json()
    assert (long["characters"], long["segments"]) == (71, 2)
    nowhere = await agent.post(f"{url}/preview", json={**longer, "topic": "crm.no-such-topic"})
    assert "crm.customer" in str(assert_problem(nowhere, 422, "invalid-input", "body.topic")["detail"])

    first = (await supervisor.post(url, json=CARE)).json()
    assert (first["version"], first["status"]) == (1, "pending")
    own = await supervisor.post(f"{url}/{first['id']}/decision", json={"approve": True})
    assert_problem(own, 409, "invalid-transition")
    assert (await admin.post(f"{url}/{first['id']}/decision", json={"approve": True})).json()[
        "status"
    ] == "live"
    second = (await supervisor.post(url, json={**CARE, "body": CARE["body"] + "祝您愉快！"})).json()
    assert second["version"] == 2
    await admin.post(f"{url}/{second['id']}/decision", json={"approve": True, "note": "加了祝福语"})
    versions = [
        (t["version"], t["status"]) for t in (await agent.get(url)).json() if t["code"] == CARE["code"]
    ]
    assert versions == [(2, "live"), (1, "retired")]
    twice = await admin.post(f"{url}/{first['id']}/decision", json={"approve": True})
    assert_problem(twice, 409, "invalid-transition")


async def test_rules_that_cannot_work_are_refused_at_their_field(seeded: Context, users: Users) -> None:
    supervisor = await users("supervisor")
    url = "/api/notify/rules"
    rule = {
        "name": "确认",
        "template_code": "reservation.confirmed.sms",
        "trigger": "hotels.reservation:confirmed",
    }
    cases = [
        ({"trigger": "hotels.reservation:exploded"}, "body.trigger"),
        ({"schedule": {"days": -1, "at": "17:00"}}, "body.schedule"),
        ({"trigger": "hotels.arrival"}, "body.schedule"),
        ({"template_code": "customer.birthday.sms"}, "body.template_code"),
        ({"template_code": "no.such.template"}, "body.template_code"),
        ({"conditions": {"shoe_size": ["42"]}}, "body.conditions.shoe_size"),
        ({"trigger": "crm.festival", "template_code": "customer.festival.sms",
          "schedule": {"days": 0, "at": "09:00"}, "conditions": {"festival": ["中秋"]}},
         "body.conditions.festival"),  # 中秋节: it would never fire
        ({"trigger": "hotels.arrival", "schedule": {"days": -1, "at": "17:00", "timezone": "Mars/Base"}},
         "body.schedule.timezone"),
    ]  # fmt: skip
    for change, field in cases:
        assert_problem(await supervisor.post(url, json={**rule, **change}), 422, "invalid-input", field)
    impossible = await supervisor.post(url, json={**rule, "trigger": "hotels.arrival",
                                                  "schedule": {"days": -1, "at": "25:00"}})  # fmt: skip
    assert_problem(impossible, 422, "validation-failed", "body.schedule.at")
    made = await supervisor.post(url, json={**rule, "name": "金卡确认", "conditions": {"tier": ["gold"]}})
    assert made.status_code == 201, made.text


async def test_birthday_greetings_wait_out_quiet_hours_and_skip_customers_who_opted_out(
    seeded: Context, users: Users
) -> None:
    supervisor, agent = await users("supervisor"), await users("agent1")
    today = hotel_today()
    born = today.replace(year=1990) if (today.month, today.day) != (2, 29) else today.replace(year=1992)

    def customer(name: str, phone: str) -> dict[str, object]:
        return {"name": name, "birthday": born.isoformat(), "phones": [{"number": phone}]}

    wants = (await agent.post("/api/customers", json=customer("生日甲", "13711112222"))).json()
    refuses = (await agent.post("/api/customers", json=customer("生日乙", "13711113333"))).json()
    opted = await agent.put(
        f"/api/notify/customers/{refuses['id']}/opt-outs", json={"channel": "sms", "opted_out": True}
    )
    assert opted.json() == ["sms"]
    late = {"name": "晚间生日祝福", "template_code": "customer.birthday.sms", "trigger": "crm.birthday",
            "schedule": {"days": 0, "at": "21:30"}}  # fmt: skip
    assert (await supervisor.post("/api/notify/rules", json=late)).status_code == 201
    evening = datetime.combine(today, time(21, 31), tzinfo=SHANGHAI)
    await rules.run_schedules(seeded, now=evening)
    async with seeded.read() as session:
        found = {m.customer_id: m for m in (await session.scalars(
            select(Message).where(Message.template_code == "customer.birthday.sms"))).all()}  # fmt: skip
    assert found[refuses["id"]].status == "suppressed" and found[refuses["id"]].reason == "opt-out"
    held = found[wants["id"]]
    morning = datetime.combine(today + timedelta(days=1), time(8, 0), tzinfo=SHANGHAI)
    assert held.status == "queued" and held.next_attempt_at == morning and "quiet hours" in held.reason
    assert "生日甲" in held.body and "回复TD退订" in held.body
    worker = Sender(seeded, node_id="test", handlers=rules.handlers())
    await worker.send_due(now=evening + timedelta(minutes=5))
    async with seeded.read() as session:
        assert (await session.get(Message, held.id)).status == "queued"  # type: ignore[union-attr]
    await worker.send_due(now=morning + timedelta(minutes=1))
    async with seeded.read() as session:
        assert (await session.get(Message, held.id)).status == "delivered"  # type: ignore[union-attr]  # log gateway
    await worker.stop()


async def test_the_shipped_festival_greeting_goes_on_the_mid_autumn_festival_to_each_customer_once(
    seeded: Context, users: Users
) -> None:
    agent = await users("agent1")
    zhang = (await agent.get("/api/customers", params={"q": "13800138000"})).json()[0]
    await agent.put(
        f"/api/notify/customers/{zhang['id']}/opt-outs", json={"channel": "sms", "opted_out": True}
    )
    li = (
        await agent.post("/api/customers", json={"name": "节日甲", "phones": [{"number": "13711114444"}]})
    ).json()
    offered = {x["name"]: x["choices"] for x in (await agent.get("/api/notify/topics")).json()}
    assert {"春节", "中秋节", "除夕"} <= set(
        offered["crm.customer"]["festival"]
    )  # what the rule editor offers

    async def greetings() -> dict[int, Message]:
        async with seeded.read() as session:
            rows = await session.scalars(
                select(Message).where(Message.template_code == "customer.festival.sms")
            )
            return {m.customer_id: m for m in rows.all() if m.customer_id is not None}

    def at(day: str, hhmm: str) -> datetime:
        return datetime.combine(date.fromisoformat(day), time.fromisoformat(hhmm), tzinfo=SHANGHAI)

    await rules.run_schedules(
        seeded, now=at("2026-06-19", "09:30")
    )  # 端午节: not one of the rule's festivals
    await rules.run_schedules(seeded, now=at("2026-09-25", "08:59"))  # 中秋节, before its time
    assert await greetings() == {}
    await rules.run_schedules(seeded, now=at("2026-09-25", "09:00"))
    sent = await greetings()
    async with seeded.read() as session:
        customers = await session.scalar(
            select(func.count(Customer.id)).where(Customer.anonymised.is_(False))
        )
    assert len(sent) == customers and customers >= 2
    assert "节日甲" in sent[li["id"]].body and "中秋节快乐" in sent[li["id"]].body
    assert sent[li["id"]].status == "queued" and sent[li["id"]].recipient == "+8613711114444"
    assert sent[zhang["id"]].status == "suppressed" and sent[zhang["id"]].reason == "opt-out"
    for moment in (at("2026-09-25", "12:00"), at("2026-09-26", "09:00")):
        await rules.run_schedules(seeded, now=moment)
    assert len(await greetings()) == customers


def test_quiet_hours_run_from_21_to_8_china_time() -> None:
    def at(hhmm: str) -> datetime:
        hour, minute = (int(x) for x in hhmm.split(":"))
        return datetime(2026, 11, 23, hour, minute, tzinfo=SHANGHAI)

    assert quiet_until(at("20:59")) is None and quiet_until(at("08:00")) is None
    assert quiet_until(at("21:00")) == datetime(2026, 11, 24, 8, 0, tzinfo=SHANGHAI)
    assert quiet_until(at("07:59")) == datetime(2026, 11, 23, 8, 0, tzinfo=SHANGHAI)


async def test_an_agent_sends_a_template_to_a_customer_by_hand(seeded: Context, users: Users) -> None:
    agent = await users("agent1")
    zhang = (await agent.get("/api/customers", params={"q": "88000001"})).json()[0]
    sent = await agent.post(
        "/api/notify/messages", json={"template_code": "customer.care.sms", "customer_id": zhang["id"]}
    )
    assert sent.status_code == 201, sent.text
    assert sent.json()["body"].startswith("【英冠酒店】张伟先生您好") and sent.json()["status"] == "queued"
    wrong = await agent.post("/api/notify/messages", json={"template_code": "reservation.confirmed.sms",
                                                           "customer_id": zhang["id"]})  # fmt: skip
    assert_problem(wrong, 422, "invalid-input", "body.template_code")
    phoneless = (await agent.post("/api/customers", json={"name": "无电话"})).json()
    none = await agent.post("/api/notify/messages", json={"template_code": "customer.care.sms",
                                                          "customer_id": phoneless["id"]})  # fmt: skip
    assert_problem(none, 422, "invalid-input", "body.customer_id")
    entries = (await agent.get(f"/api/customers/{zhang['id']}/timeline")).json()["items"]
    assert entries[0]["kind"] == "message" and entries[0]["title"] == "短信：客户关怀（手工发送）"
    mine = (await agent.get("/api/notify/messages", params={"customer_id": zhang["id"]})).json()
    assert [m["template_code"] for m in mine][:1] == ["customer.care.sms"]
    assert (
        await agent.get("/api/notify/messages")
    ).status_code == 403  # the whole outbox is the supervisors'


async def test_a_mailing_to_a_segment_is_counted_first_sent_once_and_reported(
    seeded: Context, users: Users
) -> None:
    supervisor, agent = await users("supervisor"), await users("agent1")
    people = [
        ("厦门甲", [{"number": "13722220001"}]),
        ("厦门乙", []),
        ("厦门丙", [{"number": "13722220003"}]),
    ]
    made = []
    for name, phones in people:
        profile = {"name": name, "city": "厦门", "tier": "gold", "phones": phones}
        made.append((await agent.post("/api/customers", json=profile)).json())
    await agent.put(
        f"/api/notify/customers/{made[2]['id']}/opt-outs", json={"channel": "sms", "opted_out": True}
    )
    mailing = {"template_code": "customer.birthday.sms", "segment": {"cities": ["厦门"], "tiers": ["gold"]},
               "batch": "xiamen-gold-0001"}  # fmt: skip
    assert (await agent.post("/api/notify/bulk", json=mailing)).status_code == 403
    dry = (await supervisor.post("/api/notify/bulk", json=mailing)).json()
    assert (dry["matched"], dry["recipients"], dry["queued"]) == (3, 1, 0)
    assert dry["excluded"] == {"opt-out": 1, "no address": 1}
    assert (
        await supervisor.get("/api/notify/messages", params={"ref": f"customer:{made[0]['member_number']}"})
    ).json() == []
    sent = (await supervisor.post("/api/notify/bulk", json={**mailing, "dry_run": False})).json()
    assert sent["queued"] == 1
    again = (await supervisor.post("/api/notify/bulk", json={**mailing, "dry_run": False})).json()
    assert again["queued"] == 0  # the same mailing twice sends nothing twice
    report = (await supervisor.get("/api/notify/report")).json()
    birthday = [r for r in report if r["template_code"] == "customer.birthday.sms"]
    assert sum(r["counts"].get("queued", 0) for r in birthday) == 1
    assert sum(r["counts"].get("suppressed", 0) for r in birthday) == 2
