"""The monthly assessment (月度考核) through the API: a supervisor sets the weights (refused unless
they sum to 100, naming the field in Chinese), the sheet shows what the agent report shows for the
same month, scored, weighted and ranked; a component without data is "—" and rescaled away."""

from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import load_workbook

from hotline.core.context import Context
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
    line = next(r for r in rows[1:] if r[1] == mine["name"])
    assert line[0] == mine["rank"] and line[3] == 2 and line[13] == mine["total"]
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
