"""An agent works a return-visit list with real SIP over loopback: the agent's phone (1001) and a
carrier behind an outbound trunk (a SIP peer that answers or is busy). The next number is one the
calling rules allow now in its own time zone (numbers abroad, so the test holds at any hour); a
number outside its window is held back and its dial refused with the rule's reason; a busy number
is retried after the campaign's minutes; an answered call is closed with its disposition and
answers, and a refusal puts the number on the do-not-call list."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select

from hotline.contact.calls.facts import call_out_outcomes
from hotline.contact.models import ContactEvent
from hotline.core.config import Settings
from hotline.core.context import Context
from hotline.outbound.feeds import today
from hotline.outbound.models import SurveyResponse
from hotline.outbound.settling import settle
from tests.conftest import Users, assert_problem, free_port, make_settings
from tests.voice.softphone import Softphone

ABROAD = {  # a valid number in each zone: at any hour (any season) one is at 10–19 and one at 23–06
    "Pacific/Honolulu": ("+1 808 956 7890", "+1 808 956 7891"),
    "America/Los_Angeles": ("+1 213 456 7890", "+1 213 456 7891"),
    "America/New_York": ("+1 212 456 7890", "+1 212 456 7891"),
    "America/Sao_Paulo": ("+55 11 91234 5678", "+55 11 91234 5679"),
    "Europe/London": ("+44 20 7946 0018", "+44 20 7946 0019"),
    "Europe/Berlin": ("+49 30 123456", "+49 30 123457"),
    "Asia/Dubai": ("+971 4 234 5678", "+971 4 234 5679"),
    "Asia/Tokyo": ("+81 3 1234 5678", "+81 3 1234 5679"),
    "Australia/Sydney": ("+61 2 9876 5432", "+61 2 9876 5433"),
}


def zones_now() -> tuple[tuple[str, str], str]:
    """Two numbers of a zone at 10:00–19:00 now (allowed for the next hour), and a number of a zone
    at 23:00–06:00 (outside the window for hours)."""
    now = datetime.now(UTC)
    hour = {zone: now.astimezone(ZoneInfo(zone)).hour for zone in ABROAD}
    open_zone = next(zone for zone, h in hour.items() if 10 <= h < 19)
    closed_zone = next(zone for zone, h in hour.items() if h >= 23 or h < 6)
    return ABROAD[open_zone], ABROAD[closed_zone][0]


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url, roles=["api", "voice"], sip_port=free_port())


async def until(check: Callable[[], Awaitable[bool]], seconds: float = 15) -> None:
    import asyncio

    for _ in range(int(seconds / 0.05)):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")


async def carrier_trunk(
    admin: httpx.AsyncClient, app: object, phones: Callable[[str], Awaitable[Softphone]]
) -> Softphone:
    """A carrier (a SIP peer that answers, or is busy) behind a new outbound trunk, once the voice
    node can dial through it."""
    carrier = await phones("carrier")
    trunk = await admin.post(
        "/api/telephony/trunks",
        json={"name": "carrier", "host": "127.0.0.1", "port": carrier.port, "outbound": True},
    )
    assert trunk.status_code == 201, trunk.text
    voice = app.state.hotline.router.voice  # type: ignore[attr-defined]

    async def trunk_up() -> bool:
        return bool(voice.reachable("+442079460018"))

    await until(trunk_up)
    return carrier


async def settled(agent: httpx.AsyncClient, attempt_id: int, body: dict[str, object]) -> httpx.Response:
    """The result, once the call has connected or failed (409 call-still-ringing until then)."""
    answer: httpx.Response | None = None

    async def ready() -> bool:
        nonlocal answer
        answer = await agent.post(f"/api/outbound/attempts/{attempt_id}/result", json=body)
        return not (answer.status_code == 409 and answer.json().get("reason") == "call-still-ringing")

    await until(ready)
    assert answer is not None
    return answer


async def test_an_agent_works_a_list_within_the_rules_on_real_sip_calls(
    seeded: Context, users: Users, app: object, phones: Callable[[str], Awaitable[Softphone]]
) -> None:
    (first, second), closed = zones_now()
    admin, supervisor, agent1 = await users("admin"), await users("supervisor"), await users("agent1")
    ids = {
        u["username"]: u["id"] for u in (await admin.get("/api/users", params={"limit": 100})).json()["items"]
    }
    carrier = await carrier_trunk(admin, app, phones)
    await phones("1001")
    await agent1.put("/api/routing/me/state", json={"state": "not_ready", "reason": "外呼"})

    campaign = (
        await supervisor.post(
            "/api/outbound/campaigns",
            json={
                "code": "abroad-return",
                "name": "海外客人回访",
                "kind": "service",
                "purpose": "return_visit",
                "caller_id": "4008001000",
                "agent_ids": [ids["agent1"]],
                "questionnaire": [{"key": "overall", "text": "总体满意度（1–5 分）", "type": "score"}],
                "retry": {"busy_minutes": 30, "no_answer_minutes": 120, "max_attempts": 3},
            },
        )
    ).json()
    url = f"/api/outbound/campaigns/{campaign['id']}"
    rows = f"电话,姓名\n{closed},夜里的客人\n{first},白天的客人甲\n{second},白天的客人乙\n"
    upload = {"file": ("list.csv", rows.encode(), "text/csv")}
    assert (await supervisor.post(f"{url}/import", params={"dry_run": "false"}, files=upload)).json()[
        "added"
    ] == 3
    await supervisor.post(f"{url}/assign", json={"how": "evenly"})
    not_yet = await agent1.post(f"{url}/next")
    assert_problem(not_yet, 409, "invalid-transition")  # a draft campaign is not worked
    await supervisor.post(f"{url}/status", json={"status": "running"})

    # the next number is one allowed now; the one where it is night is held until its morning
    item = (await agent1.post(f"{url}/next")).json()["item"]
    assert item["target"]["name"] == "白天的客人甲" and item["check"]["allowed"] is True
    assert item["campaign"]["questionnaire"][0]["key"] == "overall" and "****" in item["target"]["phone"]
    night = next(t for t in (await agent1.get(f"{url}/targets")).json()["items"] if t["name"] == "夜里的客人")
    held = datetime.fromisoformat(night["next_at"])
    assert held > datetime.now(UTC) + timedelta(hours=2)
    seen = (await agent1.get(f"/api/outbound/targets/{night['id']}")).json()
    assert (seen["check"]["allowed"], seen["check"]["reason"]) == (False, "outside-window")
    refused = await agent1.post(
        f"/api/outbound/targets/{night['id']}/dial", headers={"Accept-Language": "zh-CN"}
    )
    assert assert_problem(refused, 409, "invalid-transition")["detail"] == "现在不在允许呼叫的时段内"

    # busy: nothing to fill in — the minute job settles it; the number is due again in 30 minutes
    carrier.mode = "busy"
    dialled = await agent1.post(f"/api/outbound/targets/{item['target']['id']}/dial")
    assert dialled.status_code == 202, dialled.text
    call_id = dialled.json()["call_id"]

    async def failed() -> bool:
        return (await call_out_outcomes(seeded, [call_id]))[call_id].state == "not_connected"

    await until(failed)
    assert await settle(seeded) == 1 and await settle(seeded) == 0
    busy = (await agent1.get(f"/api/outbound/targets/{item['target']['id']}")).json()
    assert (busy["attempts"][0]["outcome"], busy["target"]["attempts"], busy["target"]["last_outcome"]) == (
        "busy",
        1,
        "busy",
    )
    due = datetime.fromisoformat(busy["target"]["next_at"])
    assert timedelta(minutes=29) < due - datetime.now(UTC) <= timedelta(minutes=30)
    again = await agent1.post(f"/api/outbound/attempts/{dialled.json()['attempt_id']}/result", json={})
    assert_problem(again, 409, "conflict")  # settled once

    # answered: the disposition is required; a refusal closes the number and keeps it off the list
    carrier.mode, carrier.invite = "answer", None
    item = (await agent1.post(f"{url}/next")).json()["item"]
    assert item["target"]["name"] == "白天的客人乙"
    dialled = await agent1.post(f"/api/outbound/targets/{item['target']['id']}/dial")
    assert dialled.status_code == 202, dialled.text
    attempt_id = dialled.json()["attempt_id"]
    wrong = await settled(agent1, attempt_id, {"answers": {"overall": 2}})
    assert_problem(wrong, 422, "invalid-input", "body.disposition")
    no_score = await agent1.post(
        f"/api/outbound/attempts/{attempt_id}/result",
        json={"disposition": "satisfied", "answers": {"overall": 9}},
    )
    assert_problem(no_score, 422, "validation-failed")  # 9 is no score
    done = await agent1.post(
        f"/api/outbound/attempts/{attempt_id}/result",
        json={"disposition": "refused", "answers": {"overall": 2}, "note": "客人说不要再打来"},
    )
    assert done.status_code == 200, done.text
    assert (done.json()["target"]["state"], done.json()["attempt"]["answers"]) == ("done", {"overall": 2})
    async with seeded.read() as session:  # the answers are a survey response too, for the reports
        response = await session.scalar(
            select(SurveyResponse).where(SurveyResponse.source == f"attempt:{attempt_id}")
        )
        assert response is not None and (response.channel, response.score) == ("phone", 2)
        assert (
            response.agent_id == done.json()["attempt"]["agent_id"] and response.campaign_id == campaign["id"]
        )
    listed = (await supervisor.get("/api/outbound/dnc", params={"number": second})).json()
    assert [(e["source"], e["campaign_id"]) for e in listed["items"]] == [("refusal", campaign["id"])]
    assert (await agent1.post("/api/routing/me/call/hang-up")).status_code == 204
    assert (await agent1.post(f"{url}/next")).json() == {
        "item": None,
        "next_at": busy["target"]["next_at"],
    }

    progress = (await supervisor.get(f"{url}/progress")).json()["campaign"]
    assert (progress["attempts"], progress["answered"], progress["done"], progress["dispositions"]) == (
        2,
        1,
        1,
        {"refused": 1},
    )
    async with seeded.read() as session:
        tags = await session.scalars(
            select(ContactEvent.queue).where(
                ContactEvent.kind == "dialled", ContactEvent.call_id.is_not(None)
            )
        )
        assert list(tags) == ["abroad-return", "abroad-return"]  # each call tagged for the reports
    assert carrier.invite is not None and "4008001000" in str(carrier.invite.headers.get("From"))
    # the dials in a custom report: by campaign and outcome, worded
    report = await supervisor.post(
        "/api/reports/custom/preview",
        json={
            "subject": "outbound_attempts",
            "dimensions": ["outcome", "disposition"],
            "measures": ["dials", "answered", "answer_rate"],
            "period": {"preset": "custom", "start": str(today()), "end": str(today())},
        },
    )
    assert report.status_code == 200, report.text
    rows = sorted(tuple(row) for row in report.json()["rows"])
    assert rows == [("占线", "（空）", 1, 0, 0.0), ("已接通", "拒绝回访，勿再来电", 1, 1, 1.0)]


def test_at_every_hour_of_the_year_a_zone_is_open_and_one_is_closed() -> None:
    """`zones_now` finds its two zones whenever the suite runs (summer time included)."""
    for day in (datetime(2026, 1, 15, tzinfo=UTC), datetime(2026, 7, 15, tzinfo=UTC)):
        for minutes in range(0, 24 * 60, 10):
            at = day + timedelta(minutes=minutes)
            hours = [at.astimezone(ZoneInfo(zone)).hour for zone in ABROAD]
            assert any(10 <= h < 19 for h in hours) and any(h >= 23 or h < 6 for h in hours), at
