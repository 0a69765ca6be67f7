"""Duplicates: candidates by phone, ID number, e-mail or name and birthday; a merge keeps every
phone, the whole points ledger and the timeline, with an audit entry; forgetting a customer
anonymises the file and keeps what points at it."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from hotline.core.audit import AuditEntry
from hotline.core.context import Context
from hotline.crm import loyalty, timeline
from hotline.crm import service as crm
from hotline.crm.models import Customer
from hotline.crm.schemas import CustomerIn, PhoneIn
from tests.conftest import Users, assert_problem


async def test_a_supervisor_merges_a_duplicate_and_nothing_is_lost(seeded: Context, users: Users) -> None:
    keep = await crm.create(
        seeded, CustomerIn(name="王芳", title="女士", phones=[PhoneIn(number="13500000001")])
    )
    dup = await crm.create(
        seeded,
        CustomerIn(name="王芳", id_type="resident", id_number="110101199003078021", email="wf@example.cn",
                   phones=[PhoneIn(number="13500000001"), PhoneIn(number="13500000002")], tags=["亲子"]),
    )  # fmt: skip
    await loyalty.earn(seeded, keep.id, Decimal(1000), reason="入住", ref="r1")
    await loyalty.earn(seeded, dup.id, Decimal(2500), reason="入住", ref="r2")
    await timeline.add(seeded, dup.id, "visit", "到访 西湖店", ref="visit:dup")

    agent = await users("agent1")
    supervisor = await users("supervisor")
    found = (await agent.get(f"/api/customers/{keep.id}/duplicates")).json()
    assert [(c["id"], c["matched_by"]) for c in found] == [(dup.id, "phone")]
    assert (await agent.post(f"/api/customers/{keep.id}/merge", json={"merge_id": dup.id})).status_code == 403
    itself = await supervisor.post(f"/api/customers/{keep.id}/merge", json={"merge_id": keep.id})
    assert_problem(itself, 422, "invalid-input", "body.merge_id")

    merged = await supervisor.post(f"/api/customers/{keep.id}/merge", json={"merge_id": dup.id})
    assert merged.status_code == 200, merged.text
    file = merged.json()
    assert [p["number"] for p in file["phones"]] == ["135****0001", "135****0002"]  # every phone, once
    assert file["id_number"] == "**************8021" and file["email"] == "w***@example.cn"
    assert file["tags"] == ["亲子"]
    summary = await loyalty.summary(seeded, keep.id)
    assert summary["points"] == 3500 and {e.ref for e in summary["ledger"]} == {"r1", "r2"}  # type: ignore[attr-defined]
    entries, _ = await timeline.page(seeded, keep.id, limit=10, offset=0)
    assert [e.ref for e in entries if e.kind != "loyalty"] == ["visit:dup"]
    assert len([e for e in entries if e.kind == "loyalty"]) == 2  # the ledger's lines came along
    assert (await agent.get(f"/api/customers/{dup.id}")).status_code == 404
    assert (await agent.get("/api/customers/identify", params={"phone": "13500000002"})).json()["customers"][
        0
    ]["id"] == keep.id
    async with seeded.read() as session:
        gone = await session.get(Customer, dup.id)
        audit = (
            await session.scalars(
                select(AuditEntry).where(AuditEntry.action == "customer.merged").order_by(AuditEntry.seq)
            )
        ).one()
    assert gone is not None and gone.merged_into_id == keep.id and gone.name == "已删除"
    assert (
        audit.after is not None
        and audit.after["merged"] == dup.member_number
        and audit.after["points_ledger"] == 1
    )


async def test_forgetting_a_customer_removes_personal_data_and_keeps_the_row(
    seeded: Context, users: Users
) -> None:
    customer = await crm.create(
        seeded, CustomerIn(name="赵敏", email="zm@example.cn", phones=[PhoneIn(number="13700000009")])
    )
    await timeline.add(seeded, customer.id, "call", "来电", ref="call:x", detail="谈到了家庭住址")
    supervisor = await users("supervisor")
    agent = await users("agent1")
    assert (await agent.delete(f"/api/customers/{customer.id}")).status_code == 403
    assert (await supervisor.delete(f"/api/customers/{customer.id}")).status_code == 204
    assert (await supervisor.get(f"/api/customers/{customer.id}")).status_code == 404
    assert (await supervisor.delete(f"/api/customers/{customer.id}")).status_code == 404
    assert (await agent.get("/api/customers", params={"q": "赵敏"})).json() == []
    assert (await agent.get("/api/customers/identify", params={"phone": "13700000009"})).json()[
        "caller_class"
    ] == "unknown"
    async with seeded.read() as session:
        row = await session.get(Customer, customer.id)
        assert row is not None and row.anonymised and row.email is None and row.phones == []
        assert row.member_number == customer.member_number  # what points at it still finds it
