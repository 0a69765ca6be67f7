"""Customer files through the API: checked identifiers with errors at their fields, one search box
with same-name hints, caller identification in R4's classes, and personal data masked for every
role until someone allowed reveals one field (audited)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from hotline.core.audit import AuditEntry
from hotline.core.context import Context
from hotline.crm.models import Customer
from tests.conftest import Users, assert_problem

ZHANG = {
    "name": "张伟", "title": "先生", "gender": "M", "id_type": "resident", "id_number": "110101199003074477",
    "email": "zhang.wei@example.cn", "address": "上海市黄浦区中山东一路1号", "city": "上海", "tier": "gold",
    "phones": [{"number": "139 0000 8000"}, {"number": "021-5555 1234", "label": "办公"}],
    "preferences": {"bed": "大床", "smoking": "无烟"},
}  # fmt: skip


async def count(ctx: Context) -> int:
    async with ctx.read() as session:
        return int(await session.scalar(select(func.count(Customer.id))) or 0)


async def test_an_agent_creates_a_file_and_sees_it_masked_a_supervisor_reveals_with_an_audit_entry(
    seeded: Context, users: Users
) -> None:
    agent = await users("agent1")
    created = await agent.post("/api/customers", json=ZHANG)
    assert created.status_code == 201, created.text
    file: dict[str, Any] = created.json()
    assert len(file["member_number"]) == 8
    assert file["id_number"] == "**************4477"
    assert file["birthday"] == "1990-**-**"  # read from the ID number
    assert [p["number"] for p in file["phones"]] == ["139****8000", "215****1234"]
    assert file["phones"][0]["preferred"] is True
    assert file["email"] == "z***@example.cn" and file["address"] == "上海 ****"

    again = (await agent.get(f"/api/customers/{file['id']}")).json()
    assert "110101199003074477" not in str(again) and "13900008000" not in str(again)
    denied = await agent.post(f"/api/customers/{file['id']}/reveal", json={"field": "id_number"})
    assert denied.status_code == 403

    supervisor = await users("supervisor")
    shown = await supervisor.post(f"/api/customers/{file['id']}/reveal", json={"field": "id_number"})
    assert shown.json() == {"field": "id_number", "value": "110101199003074477"}
    phones = await supervisor.post(f"/api/customers/{file['id']}/reveal", json={"field": "phones"})
    assert phones.json()["value"] == ["+8613900008000", "+862155551234"]
    async with seeded.read() as session:
        reveals = (
            await session.scalars(
                select(AuditEntry).where(AuditEntry.action == "customer.revealed").order_by(AuditEntry.seq)
            )
        ).all()
        created_entry = (
            await session.scalars(
                select(AuditEntry)
                .where(AuditEntry.entity_type == "customers", AuditEntry.action == "create")
                .order_by(AuditEntry.seq)
            )
        ).all()
    assert [(r.actor_name, r.after["field"]) for r in reveals] == [
        ("supervisor", "id_number"),
        ("supervisor", "phones"),
    ]
    assert all("110101199003074477" not in str(e.after) for e in created_entry)  # redacted in the trail


async def test_bad_identifiers_are_refused_at_their_field_and_nothing_is_written(
    seeded: Context, users: Users
) -> None:
    agent = await users("agent1")
    before = await count(seeded)
    cases = [
        ({"id_number": "110101199003074478"}, "body.id_number"),  # check digit
        ({"id_number": "110101199003074477", "gender": "F"}, "body.id_number"),  # the ID says a man
        ({"id_number": "110101199003074477", "birthday": "1991-03-07"}, "body.id_number"),
        ({"birthday": "2999-01-01", "id_type": "none", "id_number": None}, "body.birthday"),
        ({"phones": [{"number": "1380013800"}]}, "body.phones.0.number"),
        ({"phones": [{"number": "13800138000"}, {"number": "+86 138 0013 8000"}]}, "body.phones.1.number"),
        ({"tier": "diamond"}, "body.tier"),
        ({"email": "not-an-address"}, "body.email"),
        ({"id_type": "passport", "id_number": "E1"}, "body.id_number"),
    ]
    for change, field in cases:
        refused = await agent.post("/api/customers", json={**ZHANG, **change})
        assert refused.status_code == 422, (change, refused.text)
        assert field in [e["field"] for e in refused.json()["errors"]], (change, refused.json())
    assert await count(seeded) == before

    first = await agent.post("/api/customers", json=ZHANG)
    assert first.status_code == 201
    twice = await agent.post("/api/customers", json={**ZHANG, "name": "张伟伟"})
    assert_problem(twice, 409, "id-number-taken", "body.id_number")
    assert await count(seeded) == before + 1


async def test_one_search_box_and_same_name_hints(seeded: Context, users: Users) -> None:
    agent = await users("agent1")
    one = (await agent.post("/api/customers", json=ZHANG)).json()
    other = {
        "name": "张伟", "title": "先生", "birthday": "1978-05-02", "city": "北京",
        "phones": [{"number": "13911112222"}],
    }  # fmt: skip
    two = (await agent.post("/api/customers", json=other)).json()
    await agent.post("/api/customers", json={"name": "张伟明", "phones": [{"number": "13700001111"}]})

    def found(q: str) -> Any:
        return agent.get("/api/customers", params={"q": q})

    by_name = (await found("张伟")).json()  # the demo customer 张伟 (88000001) is one of them
    assert [h["name"] for h in by_name] == ["张伟", "张伟", "张伟", "张伟明"]  # a name's start finds more
    hints = {h["id"]: h["hint"] for h in by_name}
    assert hints[one["id"]] == "1990年生 · 上海 · 尾号8000"
    assert hints[two["id"]] == "1978年生 · 北京 · 尾号2222"
    assert len(set(hints.values())) == 4  # every 张伟 can be told apart
    assert [h["member_number"] for h in (await found("88000001")).json()] == ["88000001"]
    assert [h["id"] for h in (await found("zhangwei")).json()][1:3] == [one["id"], two["id"]]
    assert {h["name"] for h in (await found("zw")).json()} == {"张伟"}  # initials match whole names
    assert [h["id"] for h in (await found(one["member_number"])).json()] == [one["id"]]
    assert [h["id"] for h in (await found("139 1111 2222")).json()] == [two["id"]]
    assert [h["id"] for h in (await found("110101199003074477")).json()] == [one["id"]]
    assert [h["id"] for h in (await found("ZHANG.WEI@example.cn")).json()] == [one["id"]]
    assert (await found("13800000000")).json() == []
    assert [h["member_number"] for h in (await found("13800138000")).json()] == ["88000001"]
    assert (await agent.get("/api/customers", params={"q": ""})).status_code == 422


async def test_callers_are_identified_in_the_three_classes_and_a_new_phone_can_be_registered(
    seeded: Context, users: Users
) -> None:
    agent = await users("agent1")
    zhang = (await agent.post("/api/customers", json=ZHANG)).json()

    async def who(phone: str) -> Any:
        return (await agent.get("/api/customers/identify", params={"phone": phone})).json()

    known = await who("13900008000")
    assert known["caller_class"] == "known" and known["customers"][0]["id"] == zhang["id"]
    assert known["priority"] == 2  # gold customers are answered first
    demo = await who("13800138000")  # the demo customer, served last by agent3 (sticky routing)
    assert demo["customers"][0]["member_number"] == "88000001" and demo["last_agent_id"] is not None
    unknown = await who("13312345678")  # a new caller — or Zhang on a new phone
    assert unknown["caller_class"] == "unknown" and unknown["customers"] == []
    # the agent finds Zhang by member number and registers the new number (R4, class 3)
    registered = await agent.post(f"/api/customers/{zhang['id']}/phones", json={"number": "13312345678"})
    assert registered.status_code == 200
    assert (await who("+86 133 1234 5678"))["caller_class"] == "known"
    again = await agent.post(f"/api/customers/{zhang['id']}/phones", json={"number": "133-1234-5678"})
    assert_problem(again, 409, "phone-taken", "body.number")

    # a family landline both recognise: shared; a number one did not consent to: not recognised
    wife = {"name": "李娜", "title": "女士", "phones": [{"number": "021-5555 1234"}]}
    await agent.post("/api/customers", json=wife)
    assert (await who("02155551234"))["caller_class"] == "shared"
    quiet = {"name": "王芳", "phones": [{"number": "13600000000", "recognise": False}]}
    await agent.post("/api/customers", json=quiet)
    assert (await who("13600000000"))["caller_class"] == "unknown"
    assert (await who("1003"))["caller_class"] == "unknown"  # an extension is nobody's phone


async def test_the_timeline_shows_every_contact_newest_first_and_no_personal_data(
    seeded: Context, users: Users
) -> None:
    agent = await users("agent1")
    zhang = (await agent.get("/api/customers", params={"q": "88000001"})).json()[0]
    before = (await agent.get(f"/api/customers/{zhang['id']}/timeline")).json()
    # the demo's history: his calls, a visit, his two points ledger lines, the stay he booked, his
    # open work order and his trip (each with two entries), and, newest, his SMS reply and agent1's
    # answer to it
    kinds = [e["kind"] for e in before["items"]]
    assert kinds.count("loyalty") == 2
    assert before["total"] == 12 and sorted(kinds[:2]) == ["message", "sms"], kinds
    assert sorted(kinds[2:6]) == ["order", "order", "ticket", "ticket"], kinds
    assert "booking" in kinds and "call" in kinds
    visit = await agent.post(
        f"/api/customers/{zhang['id']}/visits",
        json={"place": "上海外滩店", "purpose": "取发票", "note": "已取"},
    )
    assert visit.status_code == 201
    after = (await agent.get(f"/api/customers/{zhang['id']}/timeline", params={"limit": 2})).json()
    assert after["total"] == 13 and after["items"][0]["title"] == "到访 上海外滩店：取发票"
    second = (
        await agent.get(f"/api/customers/{zhang['id']}/timeline", params={"limit": 2, "offset": 2})
    ).json()
    assert len(second["items"]) == 2 and second["items"][0]["id"] not in {e["id"] for e in after["items"]}
    everything = str(before) + str(after) + str(second)
    assert "310104198503121235" not in everything and "13800138000" not in everything
    missing = await agent.post("/api/customers/999999/visits", json={"place": "x", "purpose": "y"})
    assert missing.status_code == 404
    # narrowed to one kind: only his points, both lines, whatever came later
    points = (await agent.get(f"/api/customers/{zhang['id']}/timeline", params={"group": "points"})).json()
    assert points["total"] == 2 and {e["kind"] for e in points["items"]} == {"loyalty"}
    talk = (
        await agent.get(f"/api/customers/{zhang['id']}/timeline", params={"group": "conversations"})
    ).json()
    assert sorted(e["kind"] for e in talk["items"]) == ["message", "sms"]
    wrong = await agent.get(f"/api/customers/{zhang['id']}/timeline", params={"group": "gossip"})
    assert_problem(wrong, 422, "validation-failed", field="query.group")


async def test_edits_are_checked_like_new_files_and_a_refused_edit_changes_nothing(
    seeded: Context, users: Users
) -> None:
    agent = await users("agent1")
    zhang = (await agent.post("/api/customers", json=ZHANG)).json()
    url = f"/api/customers/{zhang['id']}"
    wrong_gender = await agent.patch(url, json={"gender": "F"})  # the ID number says a man
    assert_problem(wrong_gender, 422, "invalid-input", "body.id_number")
    future = await agent.patch(url, json={"birthday": "2999-01-01"})
    assert_problem(future, 422, "invalid-input", "body.birthday")
    taken = await agent.patch(url, json={"id_number": "310104198503121235", "birthday": "1985-03-12"})
    assert_problem(taken, 409, "id-number-taken", "body.id_number")
    assert (await agent.get(url)).json() == (await agent.get(url)).json() | {"gender": "M", "tier": "gold"}
    renamed = (await agent.patch(url, json={"name": "张卫", "tier": "platinum"})).json()
    assert (renamed["name"], renamed["tier"]) == ("张卫", "platinum")
    assert [h["id"] for h in (await agent.get("/api/customers", params={"q": "zhangwei"})).json()].count(
        zhang["id"]
    ) == 1
