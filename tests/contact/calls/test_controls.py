"""Softphone controls from the desktop, on real SIP phones over loopback: a caller queues for the
hotel line, agent 001 answers on their phone, and everything after that comes from the browser's
API — hold, a consultation with 002, a three-way call, the transfer completed — while the test
listens to what each phone actually hears. Then click-to-dial, a supervisor barging in, and bad
requests that change nothing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

import httpx
import pytest
from sqlalchemy import select

from hotline.core.audit import AuditEntry
from hotline.core.config import Settings
from hotline.core.context import Context
from hotline.voice.media.g711 import ulaw_decode
from tests.conftest import Users, assert_problem, free_port, make_settings
from tests.voice.audio import tone_share
from tests.voice.softphone import Softphone

CALLER, AGENT1, AGENT2, SUPERVISOR = 1000, 600, 800, 1400  # the tone each phone sends, in Hz


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url, roles=["api", "voice"], sip_port=free_port(), desk_grace_seconds=1.5)


def heard(phone: Softphone, since: int) -> list[int]:
    """What reached this phone since packet `since` (μ-law decoded; events skipped)."""
    return ulaw_decode(b"".join(p.payload for _, p in phone.rtp.packets[since:] if p.payload_type == 0))


async def until(check: Callable[[], Awaitable[bool]] | Callable[[], bool], seconds: float = 10) -> None:
    for _ in range(int(seconds / 0.05)):
        result = check()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")


async def my_call(http: httpx.AsyncClient) -> dict[str, object] | None:
    response = await http.get("/api/routing/me/call")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def mode_is(http: httpx.AsyncClient, mode: str) -> bool:
    call = await my_call(http)
    return call is not None and call["mode"] == mode


async def call_in(
    phone: Callable[[str], Awaitable[Softphone]], agent: httpx.AsyncClient, app: object
) -> Softphone:
    """A caller (not a customer) rings the hotel line and presses 2; agent 001 answers and, once
    the recording notice has been said, the two are connected."""
    caller = await phone("13911112222")
    assert (await caller.dial("4008001000")).status == 200
    await asyncio.sleep(0.5)
    await caller.send_keys("2")
    await until(lambda: mode_is(agent, "talking"), 30)
    live = app.state.hotline.router.live  # type: ignore[attr-defined]
    await until(lambda: any(call.bridge is not None for call in live.values()), 30)
    await asyncio.sleep(0.2)
    return caller


async def test_hold_consult_three_way_and_transfer_from_the_browser(
    seeded: Context, users: Users, app: object, phones: Callable[[str], Awaitable[Softphone]]
) -> None:
    agent1, agent2 = await users("agent1"), await users("agent2")
    phone1 = await phones("1001")  # only 001's phone is up: the call goes to them
    caller = await call_in(phones, agent1, app)
    call = await my_call(agent1)
    assert call is not None
    assert (call["direction"], call["queue"], call["caller"]) == ("inbound", "hotel", "139****2222")

    # talking: each hears the other
    mark1, mark_caller = len(phone1.rtp.packets), len(caller.rtp.packets)
    await asyncio.gather(caller.send_tone(CALLER, 600), phone1.send_tone(AGENT1, 600))
    await asyncio.sleep(0.2)
    assert tone_share(heard(phone1, mark1), CALLER) > 0.5
    assert tone_share(heard(caller, mark_caller), AGENT1) > 0.5

    # hold: the caller hears music, not the agent; the agent hears nothing of the caller
    held = await agent1.post("/api/routing/me/call/hold", json={"held": True})
    assert held.status_code == 200 and held.json()["mode"] == "held", held.text
    await asyncio.sleep(0.3)
    mark1, mark_caller = len(phone1.rtp.packets), len(caller.rtp.packets)
    await asyncio.gather(caller.send_tone(CALLER, 600), phone1.send_tone(AGENT1, 600))
    await asyncio.sleep(0.2)
    assert tone_share(heard(phone1, mark1), CALLER) < 0.1
    assert len(caller.rtp.packets) - mark_caller > 20  # the music plays
    assert tone_share(heard(caller, mark_caller), AGENT1) < 0.1

    # consult 002 while the caller holds: 002's phone rings and its desktop will show the caller
    phone2 = await phones("1002")
    consult = await agent1.post(
        "/api/routing/me/call/transfer", json={"to": "agent", "target": "002", "mode": "consult"}
    )
    assert consult.status_code == 200, consult.text
    assert consult.json()["consult"]["target"].startswith("1002 (002)")
    await until(lambda: phone2.answered.is_set())
    await until(lambda: _consult_talking(agent1))
    mark2, mark_caller = len(phone2.rtp.packets), len(caller.rtp.packets)
    await asyncio.gather(phone1.send_tone(AGENT1, 600), caller.send_tone(CALLER, 600))
    await asyncio.sleep(0.2)
    assert tone_share(heard(phone2, mark2), AGENT1) > 0.5  # the colleague hears the agent …
    assert tone_share(heard(phone2, mark2), CALLER) < 0.1  # … not the caller
    assert tone_share(heard(caller, mark_caller), AGENT1) < 0.1

    # three-way: everyone hears everyone
    joined = await agent1.post("/api/routing/me/call/consult", json={"action": "conference"})
    assert joined.status_code == 200 and joined.json()["mode"] == "three_way", joined.text
    await asyncio.sleep(0.2)
    mark2, mark1 = len(phone2.rtp.packets), len(phone1.rtp.packets)
    await caller.send_tone(CALLER, 800)
    await asyncio.sleep(0.2)
    assert tone_share(heard(phone2, mark2), CALLER) > 0.4 and tone_share(heard(phone1, mark1), CALLER) > 0.4

    # complete: 001 leaves (their phone gets a BYE), 002 has the caller and the controls
    done = await agent1.post("/api/routing/me/call/consult", json={"action": "complete"})
    assert done.status_code == 200 and done.json() is None, done.text
    await until(lambda: phone1.hung_up.is_set())
    assert await my_call(agent1) is None
    now = await my_call(agent2)
    assert now is not None and now["mode"] == "talking" and now["call_id"] == call["call_id"]
    mark2 = len(phone2.rtp.packets)
    await caller.send_tone(CALLER, 600)
    await asyncio.sleep(0.2)
    assert tone_share(heard(phone2, mark2), CALLER) > 0.5
    me1 = (await agent1.get("/api/routing/me")).json()
    assert me1["state"] in ("wrap_up", "ready")  # 001's part is over
    assert (await agent2.get("/api/routing/me")).json()["state"] == "on_call"

    # 002 hangs up from the browser: the caller's flow goes on (the survey), 002 is done
    assert (await agent2.post("/api/routing/me/call/hang-up")).status_code == 204
    await until(lambda: phone2.hung_up.is_set())
    caller.send(caller.in_dialog("BYE", cseq=2))
    await until(lambda: _no_call(agent2))

    story = [
        (e["kind"], e["detail"] or str(e["words"]))  # a line's detail, or its data (calls/words.py)
        for e in (await agent1.get(f"/api/routing/calls/{call['call_id']}/events")).json()
    ]
    kinds = [k for k, _ in story]
    for kind in ("held", "consulting", "three_way", "transferred"):
        assert kind in kinds, story
    assert "002" in dict(story)["transferred"]
    async with seeded.read() as session:
        audited = {
            a.action
            for a in (
                await session.scalars(
                    select(AuditEntry).where(AuditEntry.entity_type == "call").order_by(AuditEntry.seq)
                )
            )
        }
    assert {"call.held", "call.transferred", "call.consult_conference", "call.consult_complete"} <= audited


async def _consult_talking(http: httpx.AsyncClient) -> bool:
    call = await my_call(http)
    return bool(call and call["consult"] and call["consult"]["state"] == "talking")


async def _no_call(http: httpx.AsyncClient) -> bool:
    return await my_call(http) is None


async def test_bad_control_requests_say_why_and_change_nothing(
    seeded: Context, users: Users, app: object, phones: Callable[[str], Awaitable[Softphone]]
) -> None:
    agent1, agent2, supervisor = await users("agent1"), await users("agent2"), await users("supervisor")
    assert_problem(
        await agent1.post("/api/routing/me/call/hold", json={"held": True}), 404, "not-found", "call"
    )
    hotel = next(q for q in (await supervisor.get("/api/routing/queues")).json() if q["name"] == "hotel")
    settings = {k: v for k, v in hotel.items() if k not in ("id", "name", "live")}
    required = await supervisor.put("/api/routing/queues/hotel", json={**settings, "wrap_required": True})
    assert required.status_code == 200 and required.json()["wrap_required"] is True
    runner = app.state.hotline.router.runner  # type: ignore[attr-defined]
    await until(lambda: runner.rules["hotel"].wrap_required)  # the voice node reloads its queues
    await phones("1001")
    caller = await call_in(phones, agent1, app)

    cases = [
        (("transfer", {"to": "agent", "target": "099"}), 404, "not-found", "body.target"),
        (("transfer", {"to": "agent", "target": "001"}), 422, "invalid-input", "body.target"),
        (
            ("transfer", {"to": "queue", "target": "hotel", "mode": "consult"}),
            422,
            "invalid-input",
            "body.to",
        ),
        (("transfer", {"to": "queue", "target": "spa"}), 404, "not-found", "body.target"),
        (("transfer", {"to": "number", "target": "12ab"}), 422, "invalid-input", "body.target"),
        (("transfer", {"to": "number", "target": "13800138000"}), 422, "invalid-input", "body.target"),
        (("keys", {"keys": "12x"}), 422, "validation-failed", "body.keys"),
        (("consult", {"action": "complete"}), 409, "invalid-transition", None),
    ]
    for (path, body), status, code, field in cases:
        assert_problem(await agent1.post(f"/api/routing/me/call/{path}", json=body), status, code, field)
    # 002 is ready but their phone is not up: not reachable, the consultation says so and the call goes on
    await agent2.put("/api/routing/me/state", json={"state": "not_ready", "reason": "小休"})
    busy = await agent1.post(
        "/api/routing/me/call/transfer", json={"to": "agent", "target": "002", "mode": "consult"}
    )
    assert_problem(busy, 409, "invalid-transition")
    assert await mode_is(agent1, "talking")

    # dialling: exactly one of number / customer; a number nothing can reach
    assert_problem(await agent1.post("/api/routing/dial", json={}), 422, "invalid-input", "body.number")
    assert_problem(
        await agent1.post("/api/routing/dial", json={"number": "13800138000"}),
        422,
        "invalid-input",
        "body.number",
    )
    # monitoring needs calls.monitor, and the supervisor's phone
    assert (await agent2.put("/api/routing/agents/1/monitor", json={"mode": "listen"})).status_code == 403
    me1 = (await agent1.get("/api/auth/me")).json()["id"]
    bad_mode = await supervisor.put(f"/api/routing/agents/{me1}/monitor", json={"mode": "spy"})
    assert bad_mode.status_code == 422
    assert await mode_is(agent1, "talking")  # nothing above changed the call
    call_id = (await my_call(agent1))["call_id"]  # type: ignore[index]
    caller.send(caller.in_dialog("BYE", cseq=2))
    await until(lambda: _no_call(agent1))

    # the hotel line now requires a wrap-up: no next call until it is written
    await until(lambda: _state_is(agent1, ("wrap_up",)))
    early = await agent1.put("/api/routing/me/state", json={"state": "ready"})
    assert_problem(early, 409, "wrap-up-required")
    wrapped = await agent1.post(f"/api/routing/calls/{call_id}/wrap-up", json={"disposition": "enquiry"})
    assert wrapped.status_code == 200 and wrapped.json()["ready"] is True, wrapped.text
    assert await _state_is(agent1, ("ready",))


async def test_a_supervisor_barges_in_and_whispers_and_the_agent_calls_out(
    seeded: Context, users: Users, app: object, phones: Callable[[str], Awaitable[Softphone]]
) -> None:
    agent1, supervisor = await users("agent1"), await users("supervisor")
    phone1 = await phones("1001")
    sup_phone = await phones("1009")  # the demo supervisor's desk phone
    caller = await call_in(phones, agent1, app)
    me1 = (await agent1.get("/api/auth/me")).json()["id"]

    joined = await supervisor.put(f"/api/routing/agents/{me1}/monitor", json={"mode": "whisper"})
    assert joined.status_code == 200, joined.text
    await until(lambda: sup_phone.answered.is_set())
    await asyncio.sleep(0.3)
    mark1, mark_caller, mark_sup = (
        len(phone1.rtp.packets),
        len(caller.rtp.packets),
        len(sup_phone.rtp.packets),
    )
    await asyncio.gather(sup_phone.send_tone(SUPERVISOR, 800), caller.send_tone(CALLER, 800))
    await asyncio.sleep(0.2)
    assert tone_share(heard(phone1, mark1), SUPERVISOR) > 0.2  # the agent hears the whisper …
    assert tone_share(heard(caller, mark_caller), SUPERVISOR) < 0.05  # … the caller does not
    assert tone_share(heard(sup_phone, mark_sup), CALLER) > 0.4  # and the supervisor hears the caller

    barge = await supervisor.put(f"/api/routing/agents/{me1}/monitor", json={"mode": "barge"})
    assert barge.status_code == 200 and barge.json()["mode"] == "barge"
    mark_caller = len(caller.rtp.packets)
    await sup_phone.send_tone(SUPERVISOR, 800)
    await asyncio.sleep(0.2)
    assert tone_share(heard(caller, mark_caller), SUPERVISOR) > 0.4  # now the caller hears them too

    # putting the caller on hold ends the monitoring: the supervisor's phone is hung up
    assert (await agent1.post("/api/routing/me/call/hold", json={"held": True})).status_code == 200
    await until(lambda: sup_phone.hung_up.is_set())
    assert (await agent1.post("/api/routing/me/call/hold", json={"held": False})).json()["mode"] == "talking"
    caller.send(caller.in_dialog("BYE", cseq=2))
    await until(lambda: _no_call(agent1))
    async with seeded.read() as session:
        monitored = (
            await session.scalars(
                select(AuditEntry).where(AuditEntry.action == "call.monitored").order_by(AuditEntry.seq)
            )
        ).all()
    assert [a.after["mode"] for a in monitored] == ["whisper", "barge"]

    # click-to-dial from the desktop: 001 (not ready: doing callbacks) calls extension 1005 —
    # their own phone rings first, then 1005's; afterwards they are not ready again
    await until(lambda: _state_is(agent1, ("wrap_up", "ready")))
    await agent1.put("/api/routing/me/state", json={"state": "not_ready", "reason": "回电"})
    phone1.answered.clear()
    callee = await phones("1005")
    dialled = await agent1.post("/api/routing/dial", json={"number": "1005"})
    assert dialled.status_code == 202, dialled.text
    await until(lambda: mode_is(agent1, "talking"), 15)
    out = await my_call(agent1)
    assert out is not None and (out["direction"], out["caller"]) == (
        "outbound",
        "****",
    )  # numbers are masked; an extension too
    assert (await agent1.get("/api/routing/me")).json()["state"] == "on_call"
    assert (await agent1.post("/api/routing/me/call/hang-up")).status_code == 204
    await until(lambda: callee.hung_up.is_set())
    await until(lambda: _state_is(agent1, ("not_ready",)))
    assert (await agent1.get("/api/routing/me")).json()["reason"] == "回电"
    story = [
        e["kind"] for e in (await agent1.get(f"/api/routing/calls/{dialled.json()['call_id']}/events")).json()
    ]
    calls = [k for k in story if k != "agent"]  # the agent's own state changes are in the story too
    assert calls[:2] == ["dialled", "answered"] and calls[-1] == "finished", story


async def _state_is(http: httpx.AsyncClient, states: tuple[str, ...]) -> bool:
    return (await http.get("/api/routing/me")).json()["state"] in states


async def test_an_agent_who_closes_the_desktop_is_offered_no_more_calls_but_a_reload_is_not_leaving(
    seeded: Context, users: Users, served: str
) -> None:
    import websockets

    agent1 = await users("agent1")
    url = served.replace("http", "ws") + "/api/live"
    cookie = {"Cookie": f"hotline_session={agent1.cookies.get('hotline_session')}"}

    async def desk(seconds: float) -> None:
        async with websockets.connect(url, additional_headers=cookie) as socket:
            await socket.recv()  # hello
            await socket.send(json.dumps({"subscribe": "desk"}))
            await asyncio.sleep(seconds)

    await desk(0.3)
    await desk(0.3)  # a reload: back within the grace time
    assert await _state_is(agent1, ("ready",))
    await desk(0.3)
    await asyncio.sleep(2.5)  # gone for longer than the grace time (1.5 s here, 8 s by default)
    me = (await agent1.get("/api/routing/me")).json()
    assert (me["state"], me["reason"]) == ("not_ready", "desktop closed")
    await desk(0.3)  # back: ready again, as they had chosen
    assert await _state_is(agent1, ("ready",))
    await agent1.put("/api/routing/me/state", json={"state": "not_ready", "reason": "小休"})
    await desk(0.3)
    await asyncio.sleep(2.5)
    await desk(0.3)  # a break they chose stays a break
    assert (await agent1.get("/api/routing/me")).json()["reason"] == "小休"
