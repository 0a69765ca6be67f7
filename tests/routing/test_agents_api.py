"""Queues and agents through the API on a node with the voice role: agents change their own
state, supervisors change others' with a reason (audited), the state machine refuses what it does
not allow, queue settings are checked field by field, and the event log shows it all."""

from __future__ import annotations

import asyncio
import socket

import pytest
from sqlalchemy import select

from hotline.core.audit import AuditEntry
from hotline.core.config import Settings
from hotline.core.context import Context
from tests.conftest import Users, assert_problem, make_settings


@pytest.fixture
def settings(database_url: str) -> Settings:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    return make_settings(database_url, roles=["api", "voice"], sip_port=port)


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
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "agent.state_changed"))
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
