"""Queues and agents through the API on a node with the voice role: agents change their own
state, supervisors change others' with a reason (audited), the state machine refuses what it does
not allow, queue settings are checked field by field, and the event log shows it all."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from hotline.core.audit import AuditEntry
from hotline.core.config import Settings
from hotline.core.context import Context
from tests.conftest import Users, assert_problem, free_port, make_settings


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url, roles=["api", "voice"], sip_port=free_port())


async def test_agents_change_their_state_and_supervisors_change_theirs_with_a_reason(
    seeded: Context, users: Users, app: object
) -> None:
    agent = await users("agent1")
    supervisor = await users("supervisor")
    me = (await agent.get("/api/routing/me")).json()
    assert (me["state"], me["work_number"], me["extension"]) == ("ready", "001", "1001")  # demo: ready
    assert me["skills"] == {"hotel": 5, "travel": 2}
    assert me["phone_registered"] is False

    brk = await agent.put("/api/routing/me/state", json={"state": "not_ready", "reason": "小休"})
    assert brk.status_code == 200, brk.text
    assert (brk.json()["state"], brk.json()["reason"]) == ("not_ready", "小休")

    # an agent cannot change another agent's state; a supervisor must say why
    other = me["user_id"] + 1
    denied = await agent.put(f"/api/routing/agents/{other}/state", json={"state": "logged_out"})
    assert denied.status_code == 403
    no_reason = await supervisor.put(f"/api/routing/agents/{other}/state", json={"state": "logged_out"})
    assert_problem(no_reason, 422, "invalid-input", "body.reason")
    out = await supervisor.put(
        f"/api/routing/agents/{other}/state", json={"state": "logged_out", "reason": "下班未签出"}
    )
    assert out.status_code == 200 and out.json()["state"] == "logged_out"
    async with seeded.read() as session:
        audited = (
            await session.scalars(
                select(AuditEntry).where(AuditEntry.action == "agent.state_changed").order_by(AuditEntry.seq)
            )
        ).all()
    assert [(a.entity_id, a.after["reason"]) for a in audited] == [(str(other), "下班未签出 (by supervisor)")]

    # the state machine: a logged-out agent logs in to the queues given, then becomes ready
    back = await supervisor.put(
        f"/api/routing/agents/{other}/state", json={"state": "ready", "reason": "回岗", "queues": ["hotel"]}
    )
    assert back.status_code == 200 and (back.json()["state"], back.json()["queues"]) == ("ready", ["hotel"])
    unknown = await agent.put("/api/routing/me/state", json={"state": "ready", "queues": ["spa"]})
    assert_problem(unknown, 422, "invalid-input", "body.queues")

    listed = (await supervisor.get("/api/routing/agents")).json()
    states = {a["username"]: a["state"] for a in listed}
    assert states["agent1"] == "not_ready" and states["agent2"] == "ready"
    assert (await agent.get("/api/routing/agents")).status_code == 403  # agents.read

    log = (await supervisor.get("/api/routing/queues")).json()
    hotel = next(q for q in log if q["name"] == "hotel")
    assert hotel["live"]["waiting"] == 0
    assert hotel["live"]["agents"]["not_ready"] >= 1


async def test_queue_settings_are_checked_field_by_field_and_applied_live(
    seeded: Context, users: Users, app: object
) -> None:
    supervisor = await users("supervisor")
    hotel = next(q for q in (await supervisor.get("/api/routing/queues")).json() if q["name"] == "hotel")
    body = {k: v for k, v in hotel.items() if k not in ("id", "name", "live")}

    loops = await supervisor.put("/api/routing/queues/hotel", json={**body, "overflow_to": "hotel"})
    assert_problem(loops, 422, "invalid-input", "body.overflow_to")
    nowhere = await supervisor.put("/api/routing/queues/hotel", json={**body, "overflow_to": "spa"})
    assert_problem(nowhere, 422, "invalid-input", "body.overflow_to")
    sticky_last = await supervisor.put(
        "/api/routing/queues/hotel", json={**body, "steps": [{"until": None, "sticky": True}]}
    )
    assert_problem(sticky_last, 422, "invalid-input", "body.steps")
    backwards = await supervisor.put(
        "/api/routing/queues/hotel", json={**body, "steps": [{"until": 60}, {"until": 20}, {}]}
    )
    assert_problem(backwards, 422, "invalid-input", "body.steps")
    strategy = await supervisor.put("/api/routing/queues/hotel", json={**body, "strategy": "random"})
    assert_problem(strategy, 422, "validation-failed", "body.strategy")
    unchanged = next(q for q in (await supervisor.get("/api/routing/queues")).json() if q["name"] == "hotel")
    assert unchanged == hotel | {"live": unchanged["live"]}

    ok = await supervisor.put(
        "/api/routing/queues/hotel", json={**body, "strategy": "fewest-calls", "overflow_to": "travel"}
    )
    assert ok.status_code == 200, ok.text
    router = app.state.hotline.router  # type: ignore[attr-defined]
    for _ in range(40):
        if router.runner.rules["hotel"].overflow_to == "travel":
            break
        await asyncio.sleep(0.05)
    assert router.runner.queues["hotel"].strategy.value == "fewest-calls"
    assert router.runner.rules["hotel"].overflow_to == "travel"

    agent = await users("agent1")
    assert (await agent.put("/api/routing/queues/hotel", json=body)).status_code == 403


async def test_unanswered_callers_become_one_callback_task_per_number(
    seeded: Context, users: Users, app: object
) -> None:
    """R5: what the queue runner reports as abandoned, timed out or refused opens a task for the
    number; a second miss counts on the open task; everyone sees the number masked, a supervisor
    reveals one (audited)."""
    from hotline.contact.callbacks import missed_call
    from hotline.contact.metrics import CallEvent

    await missed_call(seeded, CallEvent(1.0, "c-1", "abandoned", "hotel", caller="13800000001"))
    await missed_call(seeded, CallEvent(2.0, "c-2", "timed_out", "hotel", caller="13800000001"))
    await missed_call(seeded, CallEvent(3.0, "c-3", "refused", "travel", caller="13900000002"))
    await missed_call(seeded, CallEvent(4.0, "c-4", "abandoned", "hotel", caller=""))  # a misdial
    await missed_call(seeded, CallEvent(5.0, "c-5", "answered", "hotel", caller="13700000003"))

    supervisor = await users("supervisor")
    agent = await users("agent1")
    tasks = (await supervisor.get("/api/routing/callbacks")).json()
    assert [(t["phone"], t["reason"], t["misses"], t["call_id"]) for t in tasks] == [
        ("138****0001", "abandoned", 2, "c-1"),
        ("139****0002", "refused", 1, "c-3"),
    ]
    masked = (await agent.get("/api/routing/callbacks")).json()
    assert [t["phone"] for t in masked] == ["138****0001", "139****0002"]
    shown = await supervisor.post(
        "/api/reveal", json={"entity": "callback", "id": tasks[0]["id"], "field": "phone"}
    )
    assert shown.json()["value"] == "13800000001"

    done = await agent.post(
        f"/api/routing/callbacks/{tasks[0]['id']}/done", json={"note": "已回电，客户已预订"}
    )
    assert done.status_code == 200 and done.json()["status"] == "done"
    again = await agent.post(f"/api/routing/callbacks/{tasks[0]['id']}/done", json={"note": ""})
    assert_problem(again, 409, "invalid-transition")
    assert [t["phone"] for t in (await supervisor.get("/api/routing/callbacks")).json()] == ["139****0002"]
    closed = (await supervisor.get("/api/routing/callbacks", params={"status": "done"})).json()
    assert closed[0]["note"] == "已回电，客户已预订"
    assert (await supervisor.post("/api/routing/callbacks/999999/done", json={})).status_code == 404


async def test_the_wallboard_shows_each_queue_and_the_agents_by_state(seeded: Context, users: Users) -> None:
    supervisor, agent = await users("supervisor"), await users("agent1")
    assert (await agent.get("/api/routing/wallboard")).status_code == 403
    board = (await supervisor.get("/api/routing/wallboard")).json()
    queues = {q["queue"]: q for q in board["queues"]}
    assert {"hotel", "travel", "emergency"} <= set(queues)
    assert queues["hotel"]["title"] == "酒店预订" and queues["hotel"]["waiting"] == 0
    ready = sum(q["agents"].get("ready", 0) for q in board["queues"] if q["queue"] == "hotel")
    assert ready >= 1  # the demo's agents are logged in and ready
    assert {a["username"] for a in board["agents"]} >= {"agent1", "agent3"}


async def test_the_agent_who_took_a_call_wraps_it_up_onto_the_customers_timeline(
    seeded: Context, users: Users
) -> None:
    from hotline.contact.models import ContactEvent
    from hotline.core.clock import utcnow

    agent1, agent2 = await users("agent1"), await users("agent2")
    me = (await agent1.get("/api/auth/me")).json()["id"]
    async with seeded.write() as tx:
        tx.session.add(
            ContactEvent(at=utcnow(), kind="answered", call_id="leg-wrap-1", agent_id=me, queue="hotel")
        )
    zhang = (await agent1.get("/api/customers", params={"q": "88000001"})).json()[0]
    url = "/api/routing/calls/leg-wrap-1/wrap-up"
    body = {"disposition": "booked", "note": "杭州西湖店 2 晚 @002", "customer_id": zhang["id"]}
    assert_problem(await agent2.post(url, json=body), 404, "not-found", "call_id")  # not theirs
    assert_problem(await agent1.post(url, json={**body, "disposition": "lunch"}), 422, "validation-failed",
                   "body.disposition")  # fmt: skip
    done = (await agent1.post(url, json=body)).json()
    assert done["disposition"] == "booked"
    assert_problem(await agent1.post(url, json=body), 409, "invalid-transition")  # once
    story = (await agent1.get("/api/routing/calls/leg-wrap-1/events")).json()
    assert any(e["kind"] == "wrapped" and e["detail"] == "预订成功: 杭州西湖店 2 晚 @002" for e in story)
    entries = (await agent1.get(f"/api/customers/{zhang['id']}/timeline")).json()["items"]
    assert entries[0]["title"] == "话后小结：预订成功"
    [told] = [n for n in (await agent2.get("/api/notify/inbox")).json()["items"] if n["kind"] == "mention"]
    assert (told["title"], told["link"]) == (
        "陈晓 在通话小结（预订成功）中提到您",
        f"/customers/{zhang['id']}",
    )


async def test_a_new_callers_file_and_a_members_new_number_come_from_the_call(
    seeded: Context, users: Users
) -> None:
    from hotline.contact.models import ContactEvent
    from hotline.core.clock import utcnow

    agent1, agent2 = await users("agent1"), await users("agent2")
    me = (await agent1.get("/api/auth/me")).json()["id"]
    async with seeded.write() as tx:
        for call, caller in (("leg-new-1", "13655556666"), ("leg-new-2", "13977778888")):
            tx.session.add(
                ContactEvent(at=utcnow(), kind="arrived", call_id=call, detail=f"{caller} → 4008001000")
            )
            tx.session.add(
                ContactEvent(at=utcnow(), kind="offered", call_id=call, agent_id=me, queue="hotel")
            )
    made = await agent1.post(
        "/api/routing/calls/leg-new-1/customer", json={"name": "钱多多", "title": "女士"}
    )
    assert made.status_code == 201, made.text
    assert made.json()["phones"][0]["number"].endswith("6666")  # masked to the agent, but registered
    assert (await agent1.get("/api/customers/identify", params={"phone": "13655556666"})).status_code in (
        200,
        404,
    )
    assert_problem(await agent2.post("/api/routing/calls/leg-new-1/customer", json={"name": "冒名"}), 404,
                   "not-found", "call_id")  # fmt: skip
    zhang = (await agent1.get("/api/customers", params={"q": "88000001"})).json()[0]
    added = (
        await agent1.post("/api/routing/calls/leg-new-2/register-phone", json={"customer_id": zhang["id"]})
    ).json()
    assert any(p["number"].endswith("8888") for p in added["phones"])
    found = (await agent1.get("/api/customers", params={"q": "13977778888"})).json()
    assert [c["member_number"] for c in found] == ["88000001"]  # the new number now finds him


async def test_a_call_back_wrap_up_puts_the_caller_on_the_callback_list(
    seeded: Context, users: Users
) -> None:
    from hotline.contact.models import ContactEvent
    from hotline.core.clock import utcnow

    agent1 = await users("agent1")
    me = (await agent1.get("/api/auth/me")).json()["id"]
    async with seeded.write() as tx:
        for kind, detail in (("arrived", "13688889999 → 4008001000"), ("offered", ""), ("answered", "")):
            agent = None if kind == "arrived" else me
            line = ContactEvent(
                at=utcnow(), kind=kind, call_id="leg-cb-1", agent_id=agent, queue="hotel", detail=detail
            )
            tx.session.add(line)
    wrapped = await agent1.post(
        "/api/routing/calls/leg-cb-1/wrap-up", json={"disposition": "callback", "note": "明早再打"}
    )
    assert wrapped.status_code == 200, wrapped.text
    tasks = (await agent1.get("/api/routing/callbacks")).json()
    assert ("agent_callback", "call:leg-cb-1") in {(t["reason"], t["call_id"]) for t in tasks}


async def test_a_booking_made_on_a_call_is_in_the_calls_story(seeded: Context, users: Users) -> None:
    from tests.hotels.test_reservations import ids, stay

    agent = await users("agent1")
    booking = {**await ids(seeded), **stay(6, 1), "guest_name": "李娜", "guest_phone": "13911112222",
               "rooms": 1, "guests": 1, "call_id": "leg-book-1"}  # fmt: skip
    made = (await agent.post("/api/reservations", json=booking)).json()
    assert made["call_id"] == "leg-book-1"
    story = (await agent.get("/api/routing/calls/leg-book-1/events")).json()
    assert [(e["kind"], e["detail"]) for e in story] == [
        ("booked", f"预订 {made['number']} 英冠酒店上海外滩店")
    ]
    bad = await agent.post("/api/reservations", json={**booking, "call_id": "no spaces please"})
    assert bad.status_code == 422


async def test_agents_choose_the_browser_or_their_desk_phone_and_supervisors_choose_for_them(
    seeded: Context, users: Users, app: object
) -> None:
    """Issue 23: demo agent1 answers in the browser, the others on desk phones; an agent changes
    their own, a supervisor anyone's; each change is a row change in the audit log."""
    agent1, agent2 = await users("agent1"), await users("agent2")
    supervisor = await users("supervisor")
    assert (await agent1.get("/api/routing/me")).json()["phone"] == "browser"
    me = (await agent2.get("/api/routing/me")).json()
    assert me["phone"] == "desk"

    chosen = await agent2.put("/api/routing/me/phone", json={"phone": "browser"})
    assert chosen.status_code == 200 and chosen.json()["phone"] == "browser", chosen.text
    assert_problem(
        await agent2.put("/api/routing/me/phone", json={"phone": "fax"}),
        422,
        "validation-failed",
        "body.phone",
    )
    other = (await agent1.get("/api/routing/me")).json()["user_id"]
    assert (await agent2.put(f"/api/routing/agents/{other}/phone", json={"phone": "desk"})).status_code == 403

    back = await supervisor.put(f"/api/routing/agents/{me['user_id']}/phone", json={"phone": "desk"})
    assert back.status_code == 200 and back.json()["phone"] == "desk"
    listed = {a["username"]: a["phone"] for a in (await supervisor.get("/api/routing/agents")).json()}
    assert (listed["agent1"], listed["agent2"], listed["agent5"]) == ("browser", "desk", "desk")
    assert_problem(
        await supervisor.put("/api/routing/agents/999999/phone", json={"phone": "desk"}),
        404,
        "not-found",
        "user_id",
    )
    async with seeded.read() as session:
        changes = (
            await session.scalars(
                select(AuditEntry)
                .where(AuditEntry.entity_type == "agent_profiles", AuditEntry.action.like("%update%"))
                .order_by(AuditEntry.seq)
            )
        ).all()
    assert [(c.before["phone"], c.after["phone"]) for c in changes if c.before and "phone" in c.before][
        -2:
    ] == [
        ("desk", "browser"),
        ("browser", "desk"),
    ]
