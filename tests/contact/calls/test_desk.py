"""The agent's desk rebuilt from the server (D1–D3): a desktop that reloads, or an agent who signs
out and in again (here or on another browser) mid-call, gets the pop back — caller, file, queue,
IVR path, why them — at the script stage they reached, and a wrap-up the queue requires is still
asked for, and written once. A real caller on SIP for the live call; the event log alone for an
API node and after a restart of the voice node."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update

from hotline.api.app import create_app
from hotline.contact.models import ContactEvent, QueueDef
from hotline.core.clock import utcnow
from hotline.core.config import Settings
from hotline.core.context import Context
from tests.conftest import Users, assert_problem, free_port, make_settings
from tests.contact.calls.test_controls import until
from tests.voice.softphone import Softphone


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url, roles=["api", "voice"], sip_port=free_port())


async def desk(http: httpx.AsyncClient) -> list[dict[str, object]]:
    response = await http.get("/api/routing/me/desk")
    assert response.status_code == 200, response.text
    return response.json()["calls"]  # type: ignore[no-any-return]


async def first_is(http: httpx.AsyncClient, state: str) -> bool:
    calls = await desk(http)
    return bool(calls) and calls[0]["state"] == state


async def require_wrap_up(supervisor: httpx.AsyncClient) -> None:
    hotel = next(q for q in (await supervisor.get("/api/routing/queues")).json() if q["name"] == "hotel")
    kept = {k: v for k, v in hotel.items() if k not in ("id", "name", "live")}
    saved = await supervisor.put("/api/routing/queues/hotel", json={**kept, "wrap_required": True})
    assert saved.status_code == 200, saved.text


async def test_given_a_call_when_the_agent_signs_in_again_then_the_pop_and_the_owed_wrap_up_are_back(
    seeded: Context, users: Users, app: object, phones: Callable[[str], Awaitable[Softphone]]
) -> None:
    agent1, agent2, supervisor = await users("agent1"), await users("agent2"), await users("supervisor")
    await require_wrap_up(supervisor)
    runner = app.state.hotline.router.runner  # type: ignore[attr-defined]
    await until(lambda: runner.rules["hotel"].wrap_required)  # the voice node reloads its queues
    assert await desk(agent1) == []
    await phones("1001")  # only 001's phone is up: the call goes to them
    caller = await phones("13800138000")  # 张伟's registered mobile
    assert (await caller.dial("4008001000")).status == 200
    await asyncio.sleep(0.5)
    await caller.send_keys("2")
    await until(lambda: first_is(agent1, "talking"), 30)

    [call] = await desk(agent1)
    call_id = str(call["call_id"])
    assert (call["queue"], call["caller"], call["caller_class"]) == ("hotel", "138****8000", "known")
    assert call["customer"] is not None and call["customer"]["name"] == "张伟"  # type: ignore[index]
    assert call["customer"]["member_number"] == "88000001"  # type: ignore[index]
    assert [(s["node"], s["kind"]) for s in call["path"]] == [("welcome", "menu"), ("to_agent", "transfer")]  # type: ignore[index,union-attr]
    assert call["reason"]["code"] == "offered" and call["reason"]["params"]["agent"] == "1001 (001)"  # type: ignore[index]
    assert (call["stage"], call["wrapped"], call["wrap_required"]) == (0, False, True)

    # the agent is at the third stage of the script when their browser goes
    moved = await agent1.put(f"/api/routing/calls/{call_id}/stage", json={"stage": 2})
    assert moved.status_code == 200 and moved.json()["stage"] == 2, moved.text
    stage_url = f"/api/routing/calls/{call_id}/stage"
    assert_problem(await agent1.put(stage_url, json={"stage": 20}), 422, "validation-failed", "body.stage")
    assert_problem(await agent1.put(stage_url, json={"stage": -1}), 422, "validation-failed", "body.stage")
    assert_problem(await agent2.put(stage_url, json={"stage": 1}), 404, "not-found", "call_id")  # not theirs
    assert_problem(await agent1.put("/api/routing/calls/no-such-call/stage", json={"stage": 1}), 404,
                   "not-found", "call_id")  # fmt: skip
    assert_problem(await agent1.put(f"/api/routing/calls/{call_id}/caller", json={"customer_id": 2_000_000}),
                   404, "not-found", "body.customer_id")  # fmt: skip
    assert await desk(supervisor) == []  # a desk is the signed-in agent's own
    assert_problem(await (await users("qa")).get("/api/routing/me/desk"), 403, "permission-denied")

    # signed out, and in again on another browser, mid-call: the same pop at the same stage
    assert (await agent1.post("/api/auth/logout")).status_code == 204
    assert (await agent1.get("/api/routing/me/desk")).status_code == 401
    again = await users("agent1")
    assert await desk(again) == [{**call, "stage": 2}]

    # the caller hangs up: the queue requires the wrap-up, and it is still asked for after a sign-in
    caller.send(caller.in_dialog("BYE", cseq=2))
    await until(lambda: first_is(again, "ended"))
    assert_problem(await again.put("/api/routing/me/state", json={"state": "ready"}), 409, "wrap-up-required")
    third = await users("agent1")
    [owed] = await desk(third)
    assert (owed["call_id"], owed["state"], owed["wrap_required"], owed["wrapped"]) == (
        call_id,
        "ended",
        True,
        False,
    )

    # both desktops send the wrap-up at the same moment: it is written once
    url = f"/api/routing/calls/{call_id}/wrap-up"
    body = {"disposition": "enquiry", "note": "问早餐时间"}
    answers = await asyncio.gather(again.post(url, json=body), third.post(url, json=body))
    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
    story = (await third.get(f"/api/routing/calls/{call_id}/events")).json()
    assert [e["detail"] for e in story if e["kind"] == "wrapped"] == ["咨询: 问早餐时间"]
    [done] = await desk(third)  # the pop stays while the agent books for the call
    assert (done["wrapped"], done["wrap_required"]) == (True, False)
    assert (await third.get("/api/routing/me")).json()["state"] == "ready"


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[Users]:
    """The app as a node with `settings` (started now, after the test wrote its log lines)."""
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        pool = Users(application)
        try:
            yield pool
        finally:
            await pool.close()


WHY = "offered to 1001 (001): idle"


def line(minutes_ago: float, kind: str, call_id: str, **values: object) -> ContactEvent:
    return ContactEvent(at=utcnow() - timedelta(minutes=minutes_ago), kind=kind, call_id=call_id, **values)


async def test_given_an_api_node_without_the_voice_role_then_the_desk_comes_from_the_event_log(
    seeded: Context, database_url: str
) -> None:
    async with serving(make_settings(database_url)) as users:
        agent1 = await users("agent1")
        me = (await agent1.get("/api/auth/me")).json()["id"]
        other = (await (await users("agent2")).get("/api/auth/me")).json()["id"]
        async with seeded.write() as tx:
            tx.session.add_all([
                # 张伟 called 20 minutes ago; 001 took it and has not wrapped it up
                line(20, "arrived", "leg-a", queue="hotel", detail="13800138000 → 4008001000"),
                line(20, "identified", "leg-a", detail="known"),
                line(20, "ivr", "leg-a", queue="hotel", detail="welcome"),
                line(19.9, "ivr", "leg-a", queue="hotel", detail="to_agent"),
                line(19.9, "queued", "leg-a", queue="hotel"),
                line(19.5, "offered", "leg-a", agent_id=me, queue="hotel", detail=WHY),
                line(19.4, "answered", "leg-a", agent_id=me, queue="hotel"),
                line(15, "ended", "leg-a", agent_id=me, queue="hotel"),
                line(15, "finished", "leg-a", detail="transferred:queue:hotel"),
                # a number nobody knows, on the line with 001 now
                line(3, "arrived", "leg-b", queue="hotel", detail="13655550123 → 4008001000"),
                line(3, "identified", "leg-b", detail="unknown"),
                line(2.5, "offered", "leg-b", agent_id=me, queue="travel", detail=WHY),
                line(2.4, "answered", "leg-b", agent_id=me, queue="travel"),
                # rang 001 and was missed; rang 002 only
                line(10, "offered", "leg-c", agent_id=me, queue="hotel"),
                line(9.8, "missed", "leg-c", agent_id=me, queue="hotel", detail="no-answer"),
                line(1, "offered", "leg-d", agent_id=other, queue="hotel"),
            ])  # fmt: skip

        calls = await desk(agent1)
        assert [(c["call_id"], c["state"]) for c in calls] == [("leg-b", "talking"), ("leg-a", "ended")]
        now, before = calls
        assert (now["caller"], now["caller_class"], now["customer"], now["waited"]) == (
            "136****0123", "unknown", None, 30.0,
        )  # fmt: skip
        assert (before["caller"], [s["node"] for s in before["path"]], before["reason"]) == (
            "138****8000", ["welcome", "to_agent"], {"code": "text", "params": {"text": WHY}},
        )  # fmt: skip  # a line from before reasons were data reads back as its words
        assert before["customer"]["name"] == "张伟"  # type: ignore[index]  # identified again from the number

        # the caller on leg-b is 张伟 on a friend's phone: the agent finds him, and a reload keeps it
        zhang = (await agent1.get("/api/customers", params={"q": "88000001"})).json()[0]
        named = await agent1.put("/api/routing/calls/leg-b/caller", json={"customer_id": zhang["id"]})
        assert named.status_code == 200 and named.json()["customer"]["member_number"] == "88000001", (
            named.text
        )
        # no, it is his wife, new to us: her file from the call; the script becomes a known caller's
        made = await agent1.post("/api/routing/calls/leg-b/customer", json={"name": "王芳", "title": "女士"})
        assert made.status_code == 201, made.text
        now = (await desk(agent1))[0]
        assert (now["caller_class"], now["customer"]["name"]) == ("known", "王芳")  # type: ignore[index]

        # leg-a wrapped up: it leaves the desk, leg-b stays
        wrapped = await agent1.post("/api/routing/calls/leg-a/wrap-up", json={"disposition": "booked"})
        assert wrapped.status_code == 200, wrapped.text
        assert [c["call_id"] for c in await desk(agent1)] == ["leg-b"]
        async with seeded.read() as session:
            from sqlalchemy import select

            from hotline.core.audit import AuditEntry

            audited = set((await session.scalars(select(AuditEntry.action))).all())
        assert "call.wrapped_up" in audited


async def test_given_a_required_wrap_up_when_the_voice_node_restarts_then_it_is_still_owed(
    seeded: Context, database_url: str
) -> None:
    async with serving(make_settings(database_url)) as users:
        me = (await (await users("agent1")).get("/api/auth/me")).json()["id"]
    async with seeded.write() as tx:
        await tx.session.execute(update(QueueDef).where(QueueDef.name == "hotel").values(wrap_required=True))
        tx.session.add_all([
            line(5, "arrived", "leg-r", queue="hotel", detail="13800138000 → 4008001000"),
            line(4.9, "offered", "leg-r", agent_id=me, queue="hotel", detail=WHY),
            line(4.8, "answered", "leg-r", agent_id=me, queue="hotel"),
            line(1, "ended", "leg-r", agent_id=me, queue="hotel"),
            line(1, "agent", "leg-r", agent_id=me, state="wrap_up", detail="after call"),
        ])  # fmt: skip
    voice = make_settings(database_url, roles=["api", "voice"], sip_port=free_port())
    async with serving(voice) as users:
        agent1 = await users("agent1")
        assert (await agent1.get("/api/routing/me")).json()["state"] == "wrap_up"
        assert_problem(
            await agent1.put("/api/routing/me/state", json={"state": "ready"}), 409, "wrap-up-required"
        )
        [owed] = await desk(agent1)
        assert (owed["call_id"], owed["state"], owed["wrap_required"]) == ("leg-r", "ended", True)
        wrapped = await agent1.post("/api/routing/calls/leg-r/wrap-up", json={"disposition": "enquiry"})
        assert wrapped.status_code == 200 and wrapped.json()["ready"] is True, wrapped.text
