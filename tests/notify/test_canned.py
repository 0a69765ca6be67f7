"""Canned phrases (常用语 / 快捷回复) in their one store, as their editors keep them and staff read
them: a chat's agent gets the conversations' phrases by category and order, a department's staff
on a complaint ticket the tickets' phrases for every type and for complaints (and those for both);
conversations' phrases are written by those who edit the message templates, tickets' by those who
dispatch tickets (a team lead), a phrase for both by who may do both; bad input refused at its
field with nothing changed, every write in the audit log, an inactive phrase offered nowhere and a
deleted one gone."""

from __future__ import annotations

from sqlalchemy import func, select

from hotline.core.audit import AuditEntry
from hotline.core.context import Context
from hotline.notify import demo
from hotline.notify.demo import CANNED, FOR_BOTH
from hotline.notify.models import CannedPhrase
from hotline.tickets.defaults import CANNED as TICKETS_CANNED
from tests.conftest import Users, assert_problem

URL = "/api/notify/canned"
CHATS = {"used_in": "conversations"}
PHRASE = {"title": "早餐时间", "text": "{客户称呼}您好，早餐时间为每天7:00至10:00，在二楼餐厅。",
          "category": "booking", "sort_order": 5}  # fmt: skip
RESULT = {"title": "已退款", "text": "工单{number}的退款已原路退回，请注意查收。", "category": "complaint",
          "used_in": "tickets", "ticket_type": "complaint"}  # fmt: skip


async def _rows(ctx: Context) -> int:
    async with ctx.read() as session:
        return int(await session.scalar(select(func.count()).select_from(CannedPhrase)) or 0)


async def _audited(ctx: Context, canned_id: int) -> list[str]:
    async with ctx.read() as session:
        query = (
            select(AuditEntry.action)
            .where(AuditEntry.entity_type == "canned_responses", AuditEntry.entity_id == str(canned_id))
            .order_by(AuditEntry.seq)
        )
        return list((await session.scalars(query)).all())


async def test_agents_read_the_demo_phrases_by_category_and_order(seeded: Context, users: Users) -> None:
    agent = await users("agent1")
    listed = (await agent.get(URL, params=CHATS)).json()
    assert [(p["category"], p["title"]) for p in listed] == [(c, t) for c, t, _ in CANNED]
    assert listed[0]["text"].startswith("{客户称呼}您好") and listed[0]["editable"] is False
    assert {p["title"] for p in listed if p["used_in"] == "both"} == FOR_BOTH
    await demo.load(seeded)  # a second load adds no phrase
    assert len((await agent.get(URL, params=CHATS)).json()) == len(CANNED)


async def test_on_a_complaint_ticket_its_staff_get_the_tickets_phrases_for_every_type_and_for_complaints(
    seeded: Context, users: Users
) -> None:
    staff, agent = await users("dept1"), await users("agent1")
    on_ticket = (await staff.get(URL, params={"used_in": "tickets", "ticket_type": "complaint"})).json()
    titles = {p["title"] for p in on_ticket}
    expected = {title for title, _, code in TICKETS_CANNED if code in ("", "complaint")} | FOR_BOTH
    assert titles == expected and "上门维修" not in titles and "开场问候" not in titles
    assert next(p for p in on_ticket if p["title"] == "已受理")["text"].endswith(
        "工单号{number}，相关部门会尽快处理并联系您。"
    )
    any_type = {p["title"] for p in (await staff.get(URL, params={"used_in": "tickets"})).json()}
    assert "投诉致歉" not in any_type and "已受理" in any_type
    assert (await staff.get(URL, params=CHATS)).status_code == 403  # staff of a work area answer no chats
    assert (await staff.get(URL)).status_code == 403  # nor edit phrases
    by_agent = await agent.get(URL, params={"used_in": "tickets", "ticket_type": "complaint"})
    assert {p["title"] for p in by_agent.json()} == expected


async def test_a_supervisor_writes_phrases_and_every_write_is_audited(seeded: Context, users: Users) -> None:
    supervisor, agent = await users("supervisor"), await users("agent1")
    made = await supervisor.post(URL, json=PHRASE)
    assert made.status_code == 201, made.text
    phrase = made.json()
    assert (phrase["title"], phrase["category"], phrase["active"], phrase["used_in"]) == (
        "早餐时间", "booking", True, "conversations"
    )  # fmt: skip
    listed = (await agent.get(URL, params=CHATS)).json()
    assert next(p["title"] for p in listed if p["category"] == "booking") == "早餐时间"  # order 5 before 10

    changed = await supervisor.put(f"{URL}/{phrase['id']}", json={**PHRASE, "title": "早餐", "active": False})
    assert (changed.json()["title"], changed.json()["active"]) == ("早餐", False)
    assert phrase["id"] not in [p["id"] for p in (await agent.get(URL, params=CHATS)).json()]
    assert phrase["id"] in [p["id"] for p in (await supervisor.get(URL)).json()]  # the editors' list

    assert (await supervisor.delete(f"{URL}/{phrase['id']}")).status_code == 204
    assert_problem(await supervisor.delete(f"{URL}/{phrase['id']}"), 404, "not-found", "canned_id")
    assert_problem(await supervisor.put(f"{URL}/{phrase['id']}", json=PHRASE), 404, "not-found", "canned_id")
    assert await _audited(seeded, phrase["id"]) == [
        f"canned_responses.{verb}" for verb in ("create", "update", "delete")
    ]


async def test_a_team_lead_keeps_the_tickets_phrases_and_not_the_conversations(
    seeded: Context, users: Users
) -> None:
    lead, staff, agent = await users("teamlead"), await users("dept1"), await users("agent1")
    made = await lead.post(URL, json=RESULT)
    assert made.status_code == 201, made.text
    on_complaints = (await staff.get(URL, params={"used_in": "tickets", "ticket_type": "complaint"})).json()
    assert "已退款" in {p["title"] for p in on_complaints}
    assert "已退款" not in {p["title"] for p in (await staff.get(URL, params={"used_in": "tickets"})).json()}
    assert "已退款" not in {p["title"] for p in (await agent.get(URL, params=CHATS)).json()}

    before = await _rows(seeded)
    assert_problem(await lead.post(URL, json=PHRASE), 403, "permission-denied")
    assert_problem(await lead.post(URL, json={**RESULT, "used_in": "both"}), 403, "permission-denied")
    mine = made.json()["id"]
    assert_problem(
        await lead.put(f"{URL}/{mine}", json={**RESULT, "used_in": "both"}), 403, "permission-denied"
    )
    listed = (await lead.get(URL)).json()  # the editors' list, saying which the lead may change
    chat = next(p for p in listed if p["used_in"] == "conversations")
    assert next(p for p in listed if p["id"] == mine)["editable"] is True and chat["editable"] is False
    assert_problem(await lead.put(f"{URL}/{chat['id']}", json=RESULT), 403, "permission-denied")
    assert_problem(await lead.delete(f"{URL}/{chat['id']}"), 403, "permission-denied")
    assert await _rows(seeded) == before
    assert (await lead.delete(f"{URL}/{mine}")).status_code == 204


async def test_agents_may_not_write_phrases_and_nothing_changes(seeded: Context, users: Users) -> None:
    agent = await users("agent1")
    before = await _rows(seeded)
    first = (await agent.get(URL, params=CHATS)).json()[0]
    assert (await agent.post(URL, json=PHRASE)).status_code == 403
    assert (await agent.put(f"{URL}/{first['id']}", json=PHRASE)).status_code == 403
    assert (await agent.delete(f"{URL}/{first['id']}")).status_code == 403
    assert (await agent.get(URL)).status_code == 403
    assert await _rows(seeded) == before
    assert (await agent.get(URL, params=CHATS)).json()[0] == first


async def test_bad_phrases_are_refused_at_their_field_and_change_nothing(
    seeded: Context, users: Users
) -> None:
    supervisor = await users("supervisor")
    before = await _rows(seeded)
    first = (await supervisor.get(URL)).json()[0]
    bad = {
        "body.title": {**PHRASE, "title": "长" * 61},
        "body.text": {**PHRASE, "text": "字" * 1001},
        "body.category": {**PHRASE, "category": "sales"},
        "body.sort_order": {**PHRASE, "sort_order": -1},
        "body.used_in": {**PHRASE, "used_in": "email"},
        "body.ticket_type": {**RESULT, "ticket_type": "Complaint!"},
    }
    for field, body in bad.items():
        assert_problem(await supervisor.post(URL, json=body), 422, "validation-failed", field)
        assert_problem(
            await supervisor.put(f"{URL}/{first['id']}", json=body), 422, "validation-failed", field
        )
    assert_problem(
        await supervisor.post(URL, json={**PHRASE, "title": "   "}), 422, "validation-failed", "body.title"
    )
    assert_problem(
        await supervisor.post(URL, json={**PHRASE, "text": " \n "}), 422, "validation-failed", "body.text"
    )
    assert_problem(await supervisor.put(f"{URL}/0", json=PHRASE), 422, "validation-failed", "path.canned_id")
    assert_problem(
        await supervisor.get(URL, params={"used_in": "faxes"}), 422, "validation-failed", "query.used_in"
    )
    assert await _rows(seeded) == before
    assert (await supervisor.get(URL)).json()[0] == first
