"""The monthly assessment (月度考核) through the API: a supervisor sets the weights (refused unless
they sum to 100, naming the field in Chinese), the sheet shows what the agent report shows for the
same month, scored, weighted and ranked; a component without data is "—" and rescaled away."""

from __future__ import annotations

from typing import Any

from hotline.core.context import Context
from tests.conftest import Users, assert_problem
from tests.contact.stats.test_reports_api import _log

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


async def test_given_weights_not_summing_to_100_when_saved_then_refused_naming_the_field(
    users: Users, seeded: Context
) -> None:
    http = await users("supervisor")
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
    users: Users, seeded: Context
) -> None:
    agent = await _log(seeded)
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
        "not-found",
        "team_id",
    )
    finance = await users("finance")
    assert (await finance.get("/api/reports/assessment", params={"month": MONTH})).status_code == 403
