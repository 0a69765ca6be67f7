"""Complaints (S3): investigation, escalation, the authority's reference, the result told before
closing, follow-up satisfaction. Emergencies (S5): top priority, dispatched and alerted at once,
an after-care call when closed. Queues: round-robin skipping absent staff, manual assignment,
merging duplicates and linking related tickets."""

from __future__ import annotations

from sqlalchemy import select, update

from hotline.admin.models import User
from hotline.contact.models import ContactEvent
from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.core.durable import DomainEvent
from tests.conftest import Users, assert_problem
from tests.tickets.conftest import act, unit_ids, user_ids, work_order


async def test_a_complaint_from_an_authority_is_investigated_escalated_told_and_followed_up(
    seeded: Context, users: Users
) -> None:
    agent, supervisor, dept5 = [await users(u) for u in ("agent2", "supervisor", "dept5")]
    units, people = await unit_ids(seeded), await user_ids(seeded)
    complaint = {
        "type_code": "complaint", "title": "导游强制购物", "member_number": "88000001", "source": "authority",
        "authority": "市文旅局", "external_ref": "WL-2026-0815", "severity": "high",
        "fields": {"category": "导游", "incident_date": "2026-11-20"}, "content": "游客投诉至市文旅局，下转处理",  # noqa: E501
    }  # fmt: skip
    ticket = (await agent.post("/api/tickets", json=complaint)).json()
    assert ticket["kind"] == "complaint" and ticket["external_ref"] == "WL-2026-0815"
    assert ticket["customer_name"] == "张伟" and ticket["priority"] == 2
    await act(supervisor, ticket["id"], "dispatch", unit_id=units["complaints"])
    await act(dept5, ticket["id"], "process")
    found = await dept5.patch(f"/api/tickets/{ticket['id']}/complaint", json={
        "responsible_unit_id": units["workarea-a"], "responsible_user_id": people["dept1"], "severity": "critical",  # noqa: E501
        "note": "调查属实"})  # fmt: skip
    assert found.json()["responsible_unit_id"] == units["workarea-a"] and found.json()["priority"] == 1
    escalated = (
        await agent.post(f"/api/tickets/{ticket['id']}/escalate", json={"note": "客户要求主管回复"})
    ).json()
    assert escalated["escalation"] == 1
    lead_inbox = (await (await users("teamlead")).get("/api/notify/inbox")).json()  # workarea-a's lead
    assert any("工单升级" in n["title"] for n in lead_inbox["items"])

    await act(dept5, ticket["id"], "complete", result="导游已停职培训，向游客退还购物差价")
    await act(supervisor, ticket["id"], "audit")
    ref = f"ticket:{ticket['number']}:result"

    async def result_calls(status: str) -> list[dict[str, object]]:
        tasks = (await agent.get("/api/routing/callbacks", params={"status": status})).json()
        return [t for t in tasks if t["call_id"] == ref]

    [call] = await result_calls("open")  # an agent is to ring 张伟 with the result
    assert call["reason"] == "tell_result" and str(call["phone"]).endswith("8000")
    assert_problem(await act(agent, ticket["id"], "close"), 409, "ticket-result-not-told")
    assert "close" not in (await agent.get(f"/api/tickets/{ticket['id']}")).json()["actions"]
    assert_problem(await agent.post(f"/api/tickets/{ticket['id']}/tell", json={"channel": "phone"}), 422,
                   "invalid-input", "body.note")  # fmt: skip
    told = (await agent.post(f"/api/tickets/{ticket['id']}/tell", json={"channel": "sms"})).json()
    assert told["told_by"] == "sms"
    assert await result_calls("open") == [] and len(await result_calls("done")) == 1  # told: no call needed
    async with seeded.read() as session:
        sent = (await session.scalars(select(DomainEvent).where(DomainEvent.name == "tickets.ticket"))).all()
    result = [e.data for e in sent if e.data["occasion"] == "result"]
    assert (
        result
        and result[0]["result"] == "导游已停职培训，向游客退还购物差价"
        and result[0]["customer_name"] == "张伟"
    )
    assert (await act(agent, ticket["id"], "close")).json()["status"] == "closed"
    rated = (
        await agent.post(f"/api/tickets/{ticket['id']}/satisfaction", json={"score": 4, "note": "满意"})
    ).json()
    assert rated["satisfaction"] == 4
    board = (await agent.get("/api/tickets", params={"kind": "complaint"})).json()
    assert ticket["number"] in [t["number"] for t in board["items"]]


async def test_an_emergency_goes_first_to_the_on_duty_team_and_ends_with_an_after_care_call(
    seeded: Context, users: Users
) -> None:
    agent, rescue, supervisor = [await users(u) for u in ("agent4", "rescue1", "supervisor")]
    people = await user_ids(seeded)
    sos = {"type_code": "emergency", "title": "游客在景区走失", "phone": "13700001111", "contact_name": "王领队",  # noqa: E501
           "fields": {"location": "黄山西海大峡谷", "people": 1, "injured": False}}  # fmt: skip
    ticket = (await agent.post("/api/tickets", json=sos)).json()
    assert ticket["status"] == "dispatched" and ticket["unit_name"] == "紧急救援值班组"
    assert (
        ticket["priority"] == 1
        and ticket["severity"] == "critical"
        and ticket["assignee_id"] == people["rescue1"]
    )
    alert = (await rescue.get("/api/notify/inbox")).json()["items"]
    assert alert[0]["kind"] in ("emergency", "ticket") and any("紧急救援" in n["title"] for n in alert)
    assert any("紧急救援" in n["title"] for n in (await supervisor.get("/api/notify/inbox")).json()["items"])
    first = (await agent.get("/api/tickets", params={"status": "dispatched"})).json()["items"][0]
    assert first["number"] == ticket["number"]  # top priority first

    await act(rescue, ticket["id"], "process", note="已联系景区救援队")
    await act(rescue, ticket["id"], "complete", result="游客已找到，身体无碍")
    await act(supervisor, ticket["id"], "audit")
    await act(agent, ticket["id"], "close")
    tasks = (await agent.get("/api/routing/callbacks")).json()
    assert any(t["call_id"] == f"ticket:{ticket['number']}" and t["reason"] == "aftercare" for t in tasks)


async def test_round_robin_skips_absent_staff_and_dispatchers_assign_by_hand(
    seeded: Context, users: Users
) -> None:
    agent, lead = await users("agent1"), await users("teamlead")
    units, people = await unit_ids(seeded), await user_ids(seeded)
    made = [(await agent.post("/api/tickets", json=work_order(title=f"T{n}"))).json() for n in range(4)]
    got = [
        (await act(lead, t["id"], "dispatch", unit_id=units["workarea-a"])).json()["assignee_id"]
        for t in made[:2]
    ]
    assert sorted(got) == sorted([people["dept1"], people["dept2"]])  # in turn
    async with seeded.write() as tx:  # 郭师傅 logged out, 何师傅's account disabled
        tx.session.add(ContactEvent(at=utcnow(), kind="agent", agent_id=people["dept2"], state="logged_out"))
    away = (await act(lead, made[2]["id"], "dispatch", unit_id=units["workarea-a"])).json()
    assert away["assignee_id"] == people["dept1"]
    async with seeded.write() as tx:
        await tx.session.execute(update(User).where(User.id == people["dept1"]).values(is_active=False))
    nobody = (await act(lead, made[3]["id"], "dispatch", unit_id=units["workarea-a"])).json()
    assert nobody["assignee_id"] is None and nobody["status"] == "dispatched"
    unassigned = (await lead.get("/api/tickets", params={"scope": "unassigned"})).json()
    assert made[3]["number"] in [t["number"] for t in unassigned["items"]]
    staff = next(u for u in (await lead.get("/api/tickets/units")).json() if u["code"] == "workarea-a")[
        "members"
    ]
    assert {m["name"]: m["present"] for m in staff} == {"何师傅": False, "郭师傅": False}

    assert_problem(await lead.post(f"/api/tickets/{made[3]['id']}/assign", json={"assignee_id": people["dept3"]}),  # noqa: E501
                   409, "ticket-not-unit-member", "body.assignee_id")  # fmt: skip
    hand = await lead.post(f"/api/tickets/{made[3]['id']}/assign", json={"assignee_id": people["dept2"]})
    assert hand.json()["assignee_id"] == people["dept2"]
    board = (await lead.get(f"/api/tickets/units/{units['workarea-a']}/board")).json()
    assert made[3]["number"] in [t["number"] for c in board["columns"] for t in c["tickets"]]


async def test_duplicates_are_merged_and_related_tickets_linked(seeded: Context, users: Users) -> None:
    agent, lead = await users("agent1"), await users("teamlead")
    first = (await agent.post("/api/tickets", json=work_order(member_number="88000001"))).json()
    dup = (await agent.post("/api/tickets", json=work_order(member_number="88000001"))).json()
    other = (await agent.post("/api/tickets", json=work_order())).json()
    assert_problem(await lead.post(f"/api/tickets/{dup['id']}/merge", json={"into_id": dup["id"]}), 422,
                   "invalid-input", "body.into_id")  # fmt: skip
    merged = (await lead.post(f"/api/tickets/{dup['id']}/merge", json={"into_id": first["id"]})).json()
    assert merged["status"] == "merged" and merged["merged_into_id"] == first["id"]
    detail = (await agent.get(f"/api/tickets/{dup['id']}")).json()
    assert detail["ticket"]["customer_status"] == f"已合并至 {first['number']}" and detail["actions"] == []
    links = (await agent.post(f"/api/tickets/{first['id']}/links", json={"other_id": other["id"]})).json()
    assert {(link["number"], link["kind"]) for link in links} == {(dup["number"], "duplicate"),
                                                                  (other["number"], "related")}  # fmt: skip
    assert_problem(await lead.post(f"/api/tickets/{other['id']}/merge", json={"into_id": dup["id"]}), 409,
                   "ticket-transition-refused", "body.into_id")  # fmt: skip
