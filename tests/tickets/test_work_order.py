"""Seed 003's work-order test cases through the API with the demo logins of each role:
生成表单 → 调度 → 处理 / 反单 → 重复派单 → 完成 → 审核 → 关闭, and the 业务查询 by the customer's
number showing each state; then the refusals of the flow, each naming its rule and changing
nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from hotline.contact.models import ContactEvent
from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.tickets.models import TicketStep
from tests.conftest import Users, assert_problem
from tests.tickets.conftest import act, unit_ids, user_ids, work_order


async def test_seed_003_work_order_from_form_to_audit(seeded: Context, users: Users) -> None:
    agent, lead, dept1, dept3, supervisor = [
        await users(u) for u in ("agent1", "teamlead", "dept1", "dept3", "supervisor")
    ]
    units, people = await unit_ids(seeded), await user_ids(seeded)
    customer = await agent.post(
        "/api/customers", json={"name": "测试用户", "phones": [{"number": "13911112222"}]}
    )
    member = customer.json()["member_number"]

    # 验证生成表单: 输入用户证号, 选择设备类型/需求类型/预约时间, 受理内容 → 生成表单
    created = await agent.post("/api/tickets", json=work_order(member_number=member))
    assert created.status_code == 201, created.text
    ticket = created.json()
    assert ticket["status"] == "new" and ticket["member_number"] == member
    assert ticket["fields"]["device_type"] == "数字" and ticket["fields"]["requirement_type"] == "测试"
    # 表单进入调度列表
    dispatch_list = (await lead.get("/api/tickets", params={"status": "new"})).json()
    assert ticket["id"] in [t["id"] for t in dispatch_list["items"]]

    async def standing() -> dict[str, object]:
        found = (await agent.get("/api/tickets/status", params={"member_number": member})).json()
        return next(t for t in found if t["number"] == ticket["number"])  # type: ignore[no-any-return]

    assert (await standing())["customer_status"] == "已受理，等待派单"

    # 调度: 选择工区、维修人员、填写调度备注
    dispatched = await act(lead, ticket["id"], "dispatch", unit_id=units["workarea-a"],
                           assignee_id=people["dept1"], note="请按预约时间上门")  # fmt: skip
    assert dispatched.status_code == 200, dispatched.text
    assert dispatched.json()["assignee_name"] == "何师傅"
    mine = (
        await dept1.get("/api/tickets", params={"scope": "mine", "status": "dispatched,in_process"})
    ).json()
    assert ticket["number"] in [t["number"] for t in mine["items"]]  # with 张伟's demo work order

    # 验证工区表单处理: 处理 → 状态为: 处理
    assert (await act(dept1, ticket["id"], "process", note="已联系用户")).json()["status"] == "in_process"
    assert (await standing())["customer_status"] == "在处理中 — 工区A（客房维修）"

    # 反单 without a 误派说明 is refused, nothing changes
    assert_problem(await act(dept1, ticket["id"], "reject"), 422, "ticket-note-required", "body.note")
    # 验证反单功能: 误派说明 → 表单进入重复派单列表, 状态为: 反单
    rejected = (await act(dept1, ticket["id"], "reject", note="数字设备故障属网络工区，误派")).json()
    assert (
        rejected["status"] == "rejected"
        and rejected["status_name"] == "反单"
        and rejected["misdispatches"] == 1
    )
    redispatch_list = (await lead.get("/api/tickets", params={"status": "rejected"})).json()
    assert [t["number"] for t in redispatch_list["items"]] == [ticket["number"]]
    detail = (await lead.get(f"/api/tickets/{ticket['id']}")).json()
    assert (
        detail["steps"][-1]["note"] == "数字设备故障属网络工区，误派"
        and detail["steps"][-1]["by_name"] == "何师傅"
    )
    assert "redispatch" in detail["actions"]

    # 重复派单 to work area B: round-robin picks its staff
    again = (
        await act(lead, ticket["id"], "redispatch", unit_id=units["workarea-b"], note="改派网络工区")
    ).json()
    assert again["status"] == "dispatched" and again["assignee_name"] == "罗工"
    assert (await act(dept3, ticket["id"], "process")).json()["status"] == "in_process"
    # 完成 needs the result
    assert_problem(await act(dept3, ticket["id"], "complete"), 422, "ticket-result-required", "body.result")
    done = (await act(dept3, ticket["id"], "complete", result="更换机顶盒，信号测试正常")).json()
    assert done["status"] == "completed" and done["processor_id"] == people["dept3"]
    # staff cannot audit; the supervisor does (审核)
    assert_problem(await act(dept3, ticket["id"], "audit"), 403, "permission-denied")
    audited = (await act(supervisor, ticket["id"], "audit", note="处理结果属实")).json()
    assert audited["status"] == "audited" and audited["status_name"] == "审核"
    closed = (await act(agent, ticket["id"], "close", note="已电话告知用户")).json()
    assert closed["status"] == "closed"

    # 业务查询 by 用户证号 shows each state the form went through, who and when
    shown = await standing()
    assert shown["customer_status"] == "已办结"
    steps = shown["steps"]  # type: ignore[index]
    assert [s["action"] for s in steps] == [
        "create",
        "dispatch",
        "process",
        "reject",
        "redispatch",
        "process",
        "complete",
        "audit",
        "close",
    ]
    assert [s["after"] for s in steps] == [
        "new",
        "dispatched",
        "in_process",
        "rejected",
        "dispatched",
        "in_process",
        "completed",
        "audited",
        "closed",
    ]
    assert all(s["at"] and s["by_name"] for s in steps)
    timeline = (await agent.get(f"/api/customers/{customer.json()['id']}/timeline")).json()
    titles = [e["title"] for e in timeline["items"]]
    assert any("受理" in t for t in titles) and any("办结" in t for t in titles)


async def test_refusals_name_their_rule_and_change_nothing(seeded: Context, users: Users) -> None:
    agent, lead, dept1, admin = [await users(u) for u in ("agent1", "teamlead", "dept1", "admin")]
    units = await unit_ids(seeded)

    async def steps() -> int:
        async with seeded.read() as session:
            return int(await session.scalar(select(func.count(TicketStep.id))) or 0)

    # a custom field value of the wrong type
    wrong = work_order(fields={"device_type": "数字", "requirement_type": "测试", "appointment": "明天上午"})
    before = await steps()
    assert_problem(
        await agent.post("/api/tickets", json=wrong), 422, "ticket-field-invalid", "body.fields.appointment"
    )
    bad_choice = work_order(fields={"device_type": "卫星", "requirement_type": "测试",
                                    "appointment": "2026-12-01T10:00:00+08:00"})  # fmt: skip
    body = assert_problem(await agent.post("/api/tickets", json=bad_choice), 422, "ticket-field-invalid",
                          "body.fields.device_type")  # fmt: skip
    assert "数字" in str(body["detail"])
    emergency = {
        "type_code": "emergency",
        "title": "游客走失",
        "fields": {"location": "景区", "people": "三个"},
    }
    assert_problem(
        await agent.post("/api/tickets", json=emergency), 422, "ticket-field-invalid", "body.fields.people"
    )
    unknown = work_order(fields={**work_order()["fields"], "colour": "red"})
    assert_problem(
        await agent.post("/api/tickets", json=unknown), 422, "ticket-field-invalid", "body.fields.colour"
    )
    assert await steps() == before

    ticket = (await agent.post("/api/tickets", json=work_order())).json()
    before = await steps()
    # dispatch to an inactive department
    body = assert_problem(await act(lead, ticket["id"], "dispatch", unit_id=units["old-store"]), 422,
                          "ticket-unit-inactive", "body.unit_id")  # fmt: skip
    assert "已停用" in str(body["detail"])
    assert_problem(await act(lead, ticket["id"], "dispatch"), 422, "ticket-unit-required", "body.unit_id")
    # an agent may not dispatch; processing before dispatch is not a step of the flow
    assert_problem(
        await act(agent, ticket["id"], "dispatch", unit_id=units["workarea-a"]), 403, "permission-denied"
    )
    assert_problem(await act(dept1, ticket["id"], "process"), 409, "ticket-transition-refused")
    assert (await lead.get(f"/api/tickets/{ticket['id']}")).json()["ticket"]["status"] == "new"
    assert await steps() == before

    # the processor who did the work cannot audit it
    await act(admin, ticket["id"], "dispatch", unit_id=units["workarea-a"])
    await act(admin, ticket["id"], "process")
    assert (await act(admin, ticket["id"], "complete", result="已修复")).json()["status"] == "completed"
    before = await steps()
    assert_problem(await act(admin, ticket["id"], "audit"), 409, "ticket-audit-by-processor")
    assert (await admin.get(f"/api/tickets/{ticket['id']}")).json()["ticket"]["status"] == "completed"
    assert await steps() == before
    # staff of another work area cannot work on it
    other = (await agent.post("/api/tickets", json=work_order())).json()
    await act(lead, other["id"], "dispatch", unit_id=units["workarea-b"])
    assert_problem(await act(dept1, other["id"], "process"), 409, "ticket-not-unit-member")


async def test_a_form_changed_by_an_admin_still_edits_the_tickets_filled_in_before(
    seeded: Context, users: Users
) -> None:
    agent, admin = await users("agent1"), await users("admin")
    ticket = (await agent.post("/api/tickets", json=work_order())).json()
    kind = next(t for t in (await admin.get("/api/tickets/types")).json() if t["code"] == "work_order")
    # 需求类型 is renamed to 需求说明 (a new key); the old tickets keep what they recorded
    renamed = [
        {**f, "key": "requirement", "label": "需求说明", "type": "text", "choices": []}
        if f["key"] == "requirement_type" else f
        for f in kind["fields"]
    ]  # fmt: skip
    saved = await admin.put(f"/api/tickets/types/{kind['id']}", json={
        "code": kind["code"], "name": kind["name"], "kind": kind["kind"], "fields": renamed,
    })  # fmt: skip
    assert saved.status_code == 200, saved.text

    edited = await agent.patch(
        f"/api/tickets/{ticket['id']}/fields", json={"fields": {"requirement": "换网线"}}
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["fields"] == {**ticket["fields"], "requirement": "换网线"}
    # but a value can only be sent for a field the form has now, and the form's rules still hold
    stale = {"fields": {"requirement_type": "测试"}}
    assert_problem(
        await agent.patch(f"/api/tickets/{ticket['id']}/fields", json=stale),
        422, "ticket-field-invalid", "body.fields.requirement_type",
    )  # fmt: skip
    assert_problem(
        await agent.patch(f"/api/tickets/{ticket['id']}/fields", json={"fields": {"appointment": "明天"}}),
        422, "ticket-field-invalid", "body.fields.appointment",
    )  # fmt: skip
    detail = (await agent.get(f"/api/tickets/{ticket['id']}")).json()["ticket"]
    assert detail["fields"] == edited.json()["fields"]


async def test_the_ticket_page_lists_the_other_steps_each_role_may_take_and_the_server_takes_only_those(
    seeded: Context, users: Users
) -> None:
    agent, lead, dept1, supervisor = [await users(u) for u in ("agent1", "teamlead", "dept1", "supervisor")]
    units, people = await unit_ids(seeded), await user_ids(seeded)
    ticket = (await agent.post("/api/tickets", json=work_order())).json()
    path = f"/api/tickets/{ticket['id']}"

    async def listed(http: object) -> set[str]:
        return set((await http.get(path)).json()["actions"])  # type: ignore[attr-defined]

    # new: not yet anyone's to assign; the dispatcher may merge a duplicate
    assert {"merge", "escalate"} <= await listed(lead) and "assign" not in await listed(lead)
    assert_problem(await lead.post(f"{path}/assign", json={"assignee_id": people["dept1"]}), 409,
                   "ticket-transition-refused", "ticket_id")  # fmt: skip
    # in work area A with nobody there to take it by turns: its dispatcher assigns, its staff take it
    async with seeded.write() as tx:
        for name in ("dept1", "dept2"):
            tx.session.add(ContactEvent(at=utcnow(), kind="agent", agent_id=people[name], state="logged_out"))
    await act(lead, ticket["id"], "dispatch", unit_id=units["workarea-a"])
    assert "assign" in await listed(lead)
    assert "take" in await listed(dept1) and not {"assign", "merge"} & await listed(dept1)
    assert (await dept1.post(f"{path}/assign", json={"assignee_id": None})).json()["assignee_id"] == people[
        "dept1"
    ]
    assert "take" not in await listed(dept1)
    # the result is told, and satisfaction asked, only when the server says so
    assert not {"tell", "rate"} & await listed(agent)
    assert_problem(
        await agent.post(f"{path}/tell", json={"channel": "sms"}), 409, "ticket-transition-refused"
    )
    await act(dept1, ticket["id"], "process")
    await act(dept1, ticket["id"], "complete", result="已修复")
    assert {"tell", "escalate"} <= await listed(agent) and "merge" not in await listed(lead)
    await act(supervisor, ticket["id"], "audit")
    await act(agent, ticket["id"], "close")
    assert "rate" in await listed(agent) and "escalate" not in await listed(agent)
    assert_problem(
        await agent.post(f"{path}/escalate", json={"note": "再催"}), 409, "ticket-transition-refused"
    )
    assert (await agent.post(f"{path}/satisfaction", json={"score": 5, "note": ""})).json()[
        "satisfaction"
    ] == 5
