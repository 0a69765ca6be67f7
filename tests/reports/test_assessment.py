"""The monthly assessment (月度考核) through the API: a supervisor sets the weights (refused unless
they sum to 100, naming the field in Chinese), the sheet shows what the agent report shows for the
same month, scored, weighted and ranked; a component without data is "—" and rescaled away."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from hotline.admin.models import User
from hotline.core.context import Context
from hotline.notify.models import ChatVisitor, Conversation, ConversationMessage
from tests.conftest import Users, assert_problem
from tests.contact.stats.test_reports_api import _log
from tests.exports.test_exports import finished

MONTH = "2026-03"
SCHEME: dict[str, Any] = {
    "weights": {"volume": 30, "handle_time": 15, "quality": 25, "satisfaction": 20, "attendance": 10},
    "targets": {
        "calls": 4,
        "aht_seconds": 300,
        "quality": "90",
        "satisfaction": "4.5",
        "hours_per_workday": "8",
    },
}


@pytest.fixture
async def agent(seeded: Context) -> int:
    """agent1's calls and states of 2 March 2026, rolled up (set-up: the roll-up's own time is
    contact/stats', not the sheet's)."""
    return await _log(seeded)


async def test_given_weights_not_summing_to_100_when_saved_then_refused_naming_the_field(
    users: Users, seeded: Context
) -> None:
    http = await users("supervisor")
    demo = (await http.get("/api/reports/assessment/scheme")).json()
    assert demo["weights"] == {
        "volume": 30,
        "handle_time": 15,
        "quality": 25,
        "satisfaction": 20,
        "attendance": 10,
    }
    wrong = {**SCHEME, "weights": {**SCHEME["weights"], "volume": 40}}
    body = assert_problem(
        await http.put("/api/reports/assessment/scheme", json=wrong), 422, "invalid-input", "weights"
    )
    assert "合计须为 100，现为 110" in str(body["detail"])
    assert_problem(
        await http.put(
            "/api/reports/assessment/scheme", json={**SCHEME, "weights": {**SCHEME["weights"], "volume": 101}}
        ),
        422,
        "validation-failed",
    )
    lead = await users("teamlead")
    assert (await lead.put("/api/reports/assessment/scheme", json=SCHEME)).status_code == 403
    saved = await http.put("/api/reports/assessment/scheme", json=SCHEME)
    assert saved.status_code == 200, saved.text
    read = (await lead.get("/api/reports/assessment/scheme")).json()
    assert read["weights"] == SCHEME["weights"] and read["team_id"] is None
    audit = (
        await (await users("admin")).get("/api/audit", params={"entity_type": "assessment_schemes"})
    ).json()
    assert audit["items"], audit


async def test_given_a_months_calls_when_the_sheet_is_read_then_it_shows_the_agent_reports_figures(
    users: Users, agent: int
) -> None:
    http = await users("supervisor")
    assert (await http.put("/api/reports/assessment/scheme", json=SCHEME)).status_code == 200
    got = await http.get("/api/reports/assessment", params={"month": MONTH})
    assert got.status_code == 200, got.text
    sheet = got.json()
    report = (
        await http.get(
            "/api/reports/agents", params={"start": "2026-03-01", "end": "2026-03-31", "agent_id": agent}
        )
    ).json()["rows"][0]
    row = next(r for r in sheet["rows"] if r["agent_id"] == agent)
    assert row["volume"]["raw"] == report["calls_in"] + report["connected_out"] == 2
    assert row["handle_time"]["raw"] == report["aht"] == 120.0
    assert row["attendance"]["raw"] == round(report["signed_in"] / 3600, 2)
    assert row["volume"]["score"] == 50.0  # 2 of the 4 calls the whole (past) month asks
    assert row["handle_time"]["score"] == 100.0  # 120 s under the 300 s target
    # no QA review and no survey: "—", their weights (25 + 20) rescaled over the other three
    assert row["quality"] == {"raw": None, "score": None} and row["satisfaction"]["score"] is None
    assert row["rescaled"] is True and row["rank"] == 1
    expected = (30 * 50.0 + 15 * 100.0 + 10 * row["attendance"]["score"]) / 55
    assert abs(row["total"] - expected) < 0.01
    assert sheet["workdays"] == sheet["workdays_passed"] == 22  # March 2026 in China's calendar


async def test_bad_months_and_teams_are_refused_naming_the_field(users: Users, seeded: Context) -> None:
    http = await users("supervisor")
    assert_problem(
        await http.get("/api/reports/assessment", params={"month": "2026-13"}), 422, "invalid-input", "month"
    )
    assert_problem(
        await http.get("/api/reports/assessment", params={"month": "March"}), 422, "validation-failed"
    )
    assert_problem(
        await http.get("/api/reports/assessment", params={"month": MONTH, "team_id": 999}),
        404,
        "team-not-found",
        "team_id",
    )
    finance = await users("finance")
    assert (await finance.get("/api/reports/assessment", params={"month": MONTH})).status_code == 403


async def test_given_the_sheet_when_exported_then_the_workbook_has_its_rows_in_rank_order(
    users: Users, agent: int
) -> None:
    http = await users("supervisor")
    asked = await http.post(
        "/api/exports", json={"subject": "assessment", "format": "xlsx", "filters": {"month": MONTH}}
    )
    assert asked.status_code in (200, 201, 202), asked.text
    job = await finished(http, asked.json())
    assert job["status"] == "done", job
    book = load_workbook(io.BytesIO((await http.get(job["download"])).content), read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert book.sheetnames == ["月度考核"]
    book.close()
    assert rows[0][:4] == ("排名", "坐席", "班组", "处理量")
    sheet = (await http.get("/api/reports/assessment", params={"month": MONTH})).json()
    mine = next(r for r in sheet["rows"] if r["agent_id"] == agent)
    line = dict(zip(rows[0], next(r for r in rows[1:] if r[1] == mine["name"]), strict=True))
    assert (line["排名"], line["处理量"], line["总分"]) == (mine["rank"], 2, mine["total"])
    assert (line["通话数"], line["会话数"], line["会话满意度"]) == (2, 0, None)
    bad = await http.post("/api/exports", json={"subject": "assessment", "filters": {"month": "2026-3"}})
    assert bad.status_code == 422, bad.text


async def test_a_teams_own_scheme_can_be_dropped_and_the_team_goes_back_to_the_sites(
    users: Users, seeded: Context
) -> None:
    http = await users("supervisor")
    team = next(t for t in (await http.get("/api/teams")).json() if t["name"] == "旅游一组")
    site = (await http.get("/api/reports/assessment/scheme")).json()
    own = {**SCHEME, "team_id": team["id"], "weights": {**SCHEME["weights"], "volume": 20, "quality": 35}}
    assert (await http.put("/api/reports/assessment/scheme", json=own)).status_code == 200
    shown = (await http.get("/api/reports/assessment/scheme", params={"team_id": team["id"]})).json()
    assert (shown["team_id"], shown["weights"]["quality"]) == (team["id"], 35)

    lead = await users("teamlead")
    refused = await lead.delete("/api/reports/assessment/scheme", params={"team_id": team["id"]})
    assert refused.status_code == 403
    assert_problem(
        await http.delete("/api/reports/assessment/scheme", params={"team_id": 999_999}),
        404,
        "team-not-found",
    )
    dropped = await http.delete("/api/reports/assessment/scheme", params={"team_id": team["id"]})
    assert dropped.status_code == 200, dropped.text
    assert (dropped.json()["team_id"], dropped.json()["weights"]) == (None, site["weights"])
    again = await http.delete("/api/reports/assessment/scheme", params={"team_id": team["id"]})
    assert again.json() == dropped.json()  # nothing left to drop: the same answer
    audit = (
        await (await users("admin")).get("/api/audit", params={"entity_type": "assessment_schemes"})
    ).json()
    assert any(item["action"].endswith("delete") or "delete" in item["action"] for item in audit["items"]), (
        audit
    )


def _march(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(UTC)


@pytest.fixture
async def chats(seeded: Context) -> dict[str, int]:
    """agent2 took no call in March 2026 but five conversations: (1) a web chat they answered and
    closed, rated 5; (2) one they answered that the visitor ended, rated 4; (3) one the visitor left
    before agent2 wrote (abandoned: not handled); (4) an SMS answered and still open (not handled);
    (5) a WeChat thread answered and closed. agent1 (the calls of `agent`) had a web chat rated 2;
    and one conversation on 1 April belongs to the next month."""
    async with seeded.read() as session:
        ids = {str(u): int(i) for u, i in await session.execute(select(User.username, User.id))}
    a1, a2 = ids["agent1"], ids["agent2"]
    async with seeded.write() as tx:
        s = tx.session
        plan = [
            (a2, "web", _march(3, 10), True, a2, True, 5),
            (a2, "web", _march(3, 11), True, None, True, 4),
            (a2, "web", _march(4, 9), True, None, False, None),
            (a2, "sms", _march(5, 9), False, None, True, None),
            (a2, "wechat", _march(31, 15), True, a2, True, None),
            (a1, "web", _march(6, 14), True, a1, True, 2),
            (a2, "web", _march(31, 16) + timedelta(days=1), True, a2, True, 1),  # 1 April
        ]
        for n, (agent, channel, came, closed, closed_by, answered, rating) in enumerate(plan):
            c = Conversation(
                channel=channel, address=f"assess-{n}", status="closed" if closed else "open", queue="hotel",
                created_at=came, last_message_at=came, queued_at=came, assigned_to=agent,
                assigned_at=came + timedelta(seconds=5), first_assigned_at=came + timedelta(seconds=5),
                closed_at=came + timedelta(minutes=5) if closed else None, closed_by=closed_by,
            )  # fmt: skip
            s.add(c)
            await s.flush()
            s.add(ConversationMessage(conversation_id=c.id, direction="in", body="…", at=came))
            if answered:
                s.add(ConversationMessage(conversation_id=c.id, direction="out", body="…",
                                          at=came + timedelta(seconds=30), author_id=agent))  # fmt: skip
            if channel == "web":
                s.add(ChatVisitor(conversation_id=c.id, token_hash=f"a{c.id:063d}", name="访客",
                                  rating=rating, created_at=came))  # fmt: skip
    return ids


async def test_given_an_agent_with_only_chats_then_the_sheet_counts_them_as_the_chat_report_does(
    users: Users, agent: int, chats: dict[str, int]
) -> None:
    http = await users("supervisor")
    assert (await http.put("/api/reports/assessment/scheme", json=SCHEME)).status_code == 200
    sheet = (await http.get("/api/reports/assessment", params={"month": MONTH})).json()
    assert (
        sheet["scheme"]["targets"]["conversation_weight"] == "1.00"
    )  # not sent: one conversation = one call
    rows = {r["agent_id"]: r for r in sheet["rows"]}
    only_chats = rows[chats["agent2"]]
    assert (only_chats["calls"], only_chats["conversations"]) == (
        0,
        3,
    )  # not the abandoned, the open, April's
    assert only_chats["volume"] == {"raw": 3.0, "score": 75.0}  # 3 of the 4 the month asks
    assert (only_chats["chat_rating"], only_chats["chat_ratings"]) == (4.5, 2)
    assert only_chats["satisfaction"] == {"raw": 4.5, "score": 100.0}  # no survey: the chats' ratings alone
    assert only_chats["handle_time"]["raw"] is None  # AHT stays the calls'

    report = await http.get("/api/reports/chats", params={"start": "2026-03-01", "end": "2026-03-31"})
    by_agent = {r["key"]: r for r in report.json()["rows"] if r["dimension"] == "agent"}
    for who in ("agent1", "agent2"):
        shown, row = by_agent[str(chats[who])], rows[chats[who]]
        assert row["conversations"] == shown["closed"] - shown["abandoned"]
        assert (row["chat_rating"], row["chat_ratings"]) == (shown["rating_avg"], shown["rated"])
    calls_too = rows[agent]
    assert (calls_too["calls"], calls_too["conversations"]) == (2, 1)
    assert calls_too["volume"]["raw"] == 3.0 and calls_too["satisfaction"]["raw"] == 2.0

    # a conversation weighs half a call: agent2's 3 count 1.5
    half = {**SCHEME, "targets": {**SCHEME["targets"], "conversation_weight": "0.5"}}
    assert (await http.put("/api/reports/assessment/scheme", json=half)).status_code == 200
    sheet = (await http.get("/api/reports/assessment", params={"month": MONTH})).json()
    row = next(r for r in sheet["rows"] if r["agent_id"] == chats["agent2"])
    assert row["volume"] == {"raw": 1.5, "score": 37.5} and row["conversations"] == 3
    assert_problem(
        await http.put(
            "/api/reports/assessment/scheme",
            json={**SCHEME, "targets": {**SCHEME["targets"], "conversation_weight": "-1"}},
        ),
        422, "validation-failed", "body.targets.conversation_weight",
    )  # fmt: skip
