"""Progressive and predictive campaigns on real SIP over loopback: agent1 joins, the dialer rings
the numbers through a carrier trunk with no agent on the line, and an answered call reaches
agent1's phone (asked to answer by itself) within the grace time — their desktop then has the
number's file and writes the result as in preview. When no agent can take an answered call, the
person hears the message naming the company and its number within 2 s, the attempt is
`abandoned` and the number is not dialled again for 72 hours."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select

from hotline.contact.models import ContactEvent
from hotline.core.context import Context
from hotline.outbound.models import Attempt
from tests.conftest import Users, assert_problem
from tests.outbound.test_preview_dialing import carrier_trunk, settings, settled, until, zones_now  # noqa: F401 - fixture
from tests.quality.speech import channel
from tests.voice.softphone import Softphone


async def user_ids(admin: httpx.AsyncClient) -> dict[str, int]:
    users = (await admin.get("/api/users", params={"limit": 100})).json()["items"]
    return {u["username"]: u["id"] for u in users}


async def attempts(ctx: Context, campaign_id: int) -> list[Attempt]:
    async with ctx.read() as session:
        return list(
            await session.scalars(
                select(Attempt).where(Attempt.campaign_id == campaign_id).order_by(Attempt.id)
            )
        )


async def campaign(
    supervisor: httpx.AsyncClient,
    code: str,
    mode: str,
    agent_id: int,
    numbers: tuple[str, ...],
    **more: object,
) -> str:
    created = await supervisor.post(
        "/api/outbound/campaigns",
        json={
            "code": code,
            "name": f"{code} 回访",
            "kind": "service",
            "purpose": "return_visit",
            "mode": mode,
            "caller_id": "4008001000",
            "agent_ids": [agent_id],
            **more,
        },
    )
    assert created.status_code == 201, created.text
    url = f"/api/outbound/campaigns/{created.json()['id']}"
    rows = "电话,姓名\n" + "".join(f"{n},客人{i}\n" for i, n in enumerate(numbers))
    upload = {"file": ("list.csv", rows.encode(), "text/csv")}
    imported = await supervisor.post(f"{url}/import", params={"dry_run": "false"}, files=upload)
    assert imported.json()["added"] == len(numbers), imported.text
    return url


async def test_the_dialer_rings_numbers_and_connects_the_answered_to_a_joined_agent(
    seeded: Context, users: Users, app: object, phones: Callable[[str], Awaitable[Softphone]]
) -> None:
    (first, _), _ = zones_now()
    admin, supervisor, agent1 = await users("admin"), await users("supervisor"), await users("agent1")
    ids = {
        u["username"]: u["id"] for u in (await admin.get("/api/users", params={"limit": 100})).json()["items"]
    }
    carrier = await carrier_trunk(admin, app, phones)
    desk = await phones("1001")
    url = await campaign(
        supervisor, "auto-return", "progressive", ids["agent1"], (first,), detect_machines=True
    )

    # joining needs a running campaign; a preview campaign is dialled by hand
    assert_problem(await agent1.post(f"{url}/join"), 409, "invalid-transition")
    preview = next(
        c for c in (await agent1.get("/api/outbound/campaigns")).json() if c["code"] == "stay-return"
    )
    refused = await agent1.post(f"/api/outbound/campaigns/{preview['id']}/join")
    assert assert_problem(refused, 409, "invalid-transition")["reason"] == "campaign-is-preview"
    await supervisor.post(f"{url}/status", json={"status": "running"})
    joined = await agent1.post(f"{url}/join")
    assert joined.status_code == 200, joined.text
    assert joined.json()["joined"] is True and joined.json()["agents"] == 1
    await agent1.put("/api/routing/me/state", json={"state": "ready"})

    # the dialer rings the number with the campaign's caller ID; once answered, agent1's phone is
    # rung with auto-answer and the two are talking
    campaign_id = int(url.rsplit("/", 1)[1])

    # the person says 喂 and waits: a person, so agent1 is put through
    await until(lambda: _answered(carrier), 20)
    await carrier.send_audio(channel(2.5, [(0.1, "喂")]).tolist())

    async def connected() -> bool:
        return any(a.agent_id == ids["agent1"] for a in await attempts(seeded, campaign_id))

    await until(connected, 20)
    assert carrier.invite is not None and "4008001000" in (carrier.invite.headers.get("From") or "")
    assert desk.invite is not None and desk.invite.headers.get("Answer-Mode") == "Auto"
    assert "answer-after=0" in (desk.invite.headers.get("Call-Info") or "")
    call = (await agent1.get("/api/routing/me/call")).json()
    assert call is not None and call["call_id"].startswith("out-")
    mine = (await agent1.get("/api/outbound/my-call")).json()
    assert mine["item"]["target"]["name"] == "客人0" and "****" in mine["item"]["target"]["phone"]
    assert mine["call_id"] == call["call_id"]

    # agent1 hangs up and writes the result; the one number is done, nothing more is dialled
    assert (await agent1.post("/api/routing/me/call/hang-up")).status_code == 204
    result = await settled(agent1, mine["attempt_id"], {"disposition": "satisfied"})
    assert result.status_code == 200, result.text
    assert result.json()["target"]["state"] == "done"
    assert (await agent1.get("/api/outbound/my-call")).json() is None

    async def recorded() -> bool:  # every outbound call is recorded (kept 30 days at least)
        async with seeded.read() as session:
            lines = await session.scalars(
                select(ContactEvent.kind).where(ContactEvent.call_id == call["call_id"])
            )
            return "recorded" in set(lines)

    await until(recorded)
    left = await agent1.post(f"{url}/leave")
    assert left.json()["joined"] is False
    await agent1.put("/api/routing/me/state", json={"state": "not_ready", "reason": "休息"})


async def test_an_answered_call_no_agent_can_take_hears_the_message_and_is_not_redialled(
    seeded: Context, users: Users, app: object, phones: Callable[[str], Awaitable[Softphone]]
) -> None:
    (first, _), _ = zones_now()
    admin, supervisor, agent1 = await users("admin"), await users("supervisor"), await users("agent1")
    ids = {
        u["username"]: u["id"] for u in (await admin.get("/api/users", params={"limit": 100})).json()["items"]
    }
    carrier = await carrier_trunk(admin, app, phones)
    desk = await phones("1001")
    desk.mode = "busy"  # agent1's phone refuses: nobody can take the answered call
    url = await campaign(supervisor, "auto-drop", "predictive", ids["agent1"], (first,))
    await supervisor.post(f"{url}/status", json={"status": "running"})
    assert (await agent1.post(f"{url}/join")).status_code == 200
    await agent1.put("/api/routing/me/state", json={"state": "ready"})
    campaign_id = int(url.rsplit("/", 1)[1])

    await until(lambda: _answered(carrier), 20)
    answered_at = time.monotonic()

    async def dropped() -> bool:
        return [a.outcome for a in await attempts(seeded, campaign_id)] == ["abandoned"]

    await until(dropped, 20)
    # the message reached the person within 2 s of their answer (speech, not silence)
    await until(lambda: _speech(carrier), 10)
    first_packet = min(at for at, p in carrier.rtp.packets if any(b != 0xFF for b in p.payload))
    assert first_packet - answered_at < 2.0
    await until(lambda: _hung_up(carrier), 30)
    targets = (await supervisor.get(f"{url}/targets")).json()["items"]
    held = datetime.fromisoformat(targets[0]["next_at"])
    assert held > datetime.now(UTC) + timedelta(hours=71)
    assert targets[0]["last_outcome"] == "abandoned"
    await agent1.post(f"{url}/leave")
    await agent1.put("/api/routing/me/state", json={"state": "not_ready", "reason": "休息"})


async def test_an_answering_machine_is_told_from_a_person_and_gets_the_campaigns_message(
    seeded: Context, users: Users, app: object, phones: Callable[[str], Awaitable[Softphone]]
) -> None:
    (first, _), _ = zones_now()
    admin, supervisor, agent1 = await users("admin"), await users("supervisor"), await users("agent1")
    ids = await user_ids(admin)
    carrier = await carrier_trunk(admin, app, phones)
    desk = await phones("1001")
    url = await campaign(
        supervisor, "auto-machine", "progressive", ids["agent1"], (first,),
        detect_machines=True, machine_message="您好，这里是英冠酒店，我们稍后再联系您。",
    )  # fmt: skip
    await supervisor.post(f"{url}/status", json={"status": "running"})
    assert (await agent1.post(f"{url}/join")).status_code == 200
    await agent1.put("/api/routing/me/state", json={"state": "ready"})
    campaign_id = int(url.rsplit("/", 1)[1])

    # a voicemail greeting talks on: a machine — no agent is rung; after its greeting the message
    await until(lambda: _answered(carrier), 20)
    greeting = channel(8.0, [(0.1, "您好，我现在不方便接听电话，请在提示音后留言")])
    sending = asyncio.ensure_future(carrier.send_audio(greeting.tolist()))

    async def machine() -> bool:
        return [a.outcome for a in await attempts(seeded, campaign_id)] == ["machine"]

    await until(machine, 20)
    assert desk.invite is None  # agent1 was never rung
    await sending
    await until(lambda: _speech(carrier), 15)  # the campaign's message, after the greeting
    await until(lambda: _hung_up(carrier), 30)
    target = (await supervisor.get(f"{url}/targets")).json()["items"][0]
    assert target["last_outcome"] == "machine" and target["state"] == "open"
    assert datetime.fromisoformat(target["next_at"]) > datetime.now(UTC) + timedelta(minutes=100)
    await agent1.post(f"{url}/leave")
    await agent1.put("/api/routing/me/state", json={"state": "not_ready", "reason": "休息"})


async def _answered(phone: Softphone) -> bool:
    await asyncio.sleep(0)
    return phone.answered.is_set()


async def _speech(phone: Softphone) -> bool:
    await asyncio.sleep(0)
    return any(any(b != 0xFF for b in p.payload) for _, p in phone.rtp.packets)


async def _hung_up(phone: Softphone) -> bool:
    await asyncio.sleep(0)
    return phone.hung_up.is_set()
