"""Canned responses (常用语) as a supervisor keeps them and an agent reads them: the demo's
phrases by category and order, written only by those who edit the message templates, bad input
refused at its field with nothing changed, every write in the audit log, an inactive phrase
hidden from agents and a deleted one gone."""

from __future__ import annotations

from sqlalchemy import func, select

from hotline.core.audit import AuditEntry
from hotline.core.context import Context
from hotline.notify import demo
from hotline.notify.demo import CANNED
from hotline.notify.models import CannedPhrase
from tests.conftest import Users, assert_problem

URL = "/api/notify/canned"
PHRASE = {"title": "早餐时间", "text": "{客户称呼}您好，早餐时间为每天7:00至10:00，在二楼餐厅。",
          "category": "booking", "sort_order": 5}  # fmt: skip


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
    listed = (await agent.get(URL)).json()
    assert [(p["category"], p["title"]) for p in listed] == [(c, t) for c, t, _ in CANNED]
    assert listed[0]["text"].startswith("{客户称呼}您好")
    await demo.load(seeded)  # a second load adds no phrase
    assert len((await agent.get(URL)).json()) == len(CANNED)


async def test_a_supervisor_writes_phrases_and_every_write_is_audited(seeded: Context, users: Users) -> None:
    supervisor, agent = await users("supervisor"), await users("agent1")
    made = await supervisor.post(URL, json=PHRASE)
    assert made.status_code == 201, made.text
    phrase = made.json()
    assert (phrase["title"], phrase["category"], phrase["active"]) == ("早餐时间", "booking", True)
    listed = (await agent.get(URL)).json()
    assert next(p["title"] for p in listed if p["category"] == "booking") == "早餐时间"  # order 5 before 10

    changed = await supervisor.put(f"{URL}/{phrase['id']}", json={**PHRASE, "title": "早餐", "active": False})
    assert (changed.json()["title"], changed.json()["active"]) == ("早餐", False)
    assert phrase["id"] not in [p["id"] for p in (await agent.get(URL)).json()]
    assert phrase["id"] in [p["id"] for p in (await supervisor.get(URL)).json()]

    assert (await supervisor.delete(f"{URL}/{phrase['id']}")).status_code == 204
    assert_problem(await supervisor.delete(f"{URL}/{phrase['id']}"), 404, "not-found", "canned_id")
    assert_problem(await supervisor.put(f"{URL}/{phrase['id']}", json=PHRASE), 404, "not-found", "canned_id")
    assert await _audited(seeded, phrase["id"]) == [
        f"canned_responses.{verb}" for verb in ("create", "update", "delete")
    ]


async def test_agents_may_not_write_phrases_and_nothing_changes(seeded: Context, users: Users) -> None:
    agent = await users("agent1")
    before = await _rows(seeded)
    first = (await agent.get(URL)).json()[0]
    assert (await agent.post(URL, json=PHRASE)).status_code == 403
    assert (await agent.put(f"{URL}/{first['id']}", json=PHRASE)).status_code == 403
    assert (await agent.delete(f"{URL}/{first['id']}")).status_code == 403
    assert await _rows(seeded) == before
    assert (await agent.get(URL)).json()[0] == first


async def test_bad_phrases_are_refused_at_their_field_and_change_nothing(
    seeded: Context, users: Users
) -> None:
    supervisor = await users("supervisor")
    before = await _rows(seeded)
    first = (await supervisor.get(URL)).json()[0]
    bad = {
        "body.title": {**PHRASE, "title": "长" * 41},
        "body.text": {**PHRASE, "text": "字" * 1001},
        "body.category": {**PHRASE, "category": "sales"},
        "body.sort_order": {**PHRASE, "sort_order": -1},
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
    assert await _rows(seeded) == before
    assert (await supervisor.get(URL)).json()[0] == first
