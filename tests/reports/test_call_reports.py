"""The call reports as hotline.reports composes them: a report exported from its page (导出) holds
the figures the API answers — totals, comparison, every row and bucket — and the agent report's QA
score is the quality domain's evaluations of the period, for those who read QA."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from hotline.core.context import Context
from hotline.quality.reviews.models import Evaluation
from tests.conftest import Users, assert_problem
from tests.contact.stats.test_reports_api import DAY, _log
from tests.exports.test_exports import finished


def _book(data: bytes) -> tuple[list[str], list[tuple[Any, ...]]]:
    book = load_workbook(io.BytesIO(data), read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    names = book.sheetnames
    book.close()
    return names, rows


@pytest.fixture
async def logged(seeded: Context) -> int:
    """agent1's morning of 2 March 2026 rolled up, as set-up (tests/contact/stats/test_reports_api.py
    says why)."""
    return await _log(seeded)


async def test_given_the_agent_report_when_exported_then_the_workbook_has_the_apis_figures(
    users: Users, seeded: Context, logged: int
) -> None:
    agent = logged
    http = await users("supervisor")
    query = {"start": DAY, "end": DAY, "granularity": "hour", "compare": "previous"}
    shown = (await http.get("/api/reports/agents", params=query)).json()
    asked = await http.post(
        "/api/exports",
        json={"subject": "report", "format": "xlsx", "filters": {"subject": "agents", **query}},
    )
    assert asked.status_code == 202, asked.text
    done = await finished(http, asked.json())
    assert done["status"] == "done", done
    names, rows = await asyncio.to_thread(_book, (await http.get(done["download"])).content)
    assert names == ["报表"] and rows[0] == ("部分", "编号", "名称", "指标", "数值")
    cells = {(part, key, figure): value for part, key, _label, figure, value in rows[1:]}

    row = next(r for r in shown["rows"] if r["key"] == str(agent))
    assert cells["合计", None, "calls_in"] == shown["totals"]["calls_in"] == 2
    assert cells["合计", None, "ready"] == shown["totals"]["ready"]
    assert cells["明细", str(agent), "calls_in"] == row["calls_in"]
    assert cells["明细", str(agent), "not_ready_by_reason.午餐"] == row["not_ready_by_reason"]["午餐"]
    assert cells["对比", f"{shown['compare']['start']}~{shown['compare']['end']}", "calls_in"] == 0
    nine = next(p for p in shown["series"] if p["start"][11:16] == "09:00")
    assert cells["时段", nine["start"], "calls_in"] == nine["calls_in"]
    assert len([r for r in rows[1:] if r[0] == "时段" and r[3] == "calls_in"]) == 24  # every hour


async def test_a_report_export_is_the_reports_own_permission_and_filters(
    users: Users, seeded: Context
) -> None:
    http = await users("supervisor")
    bad = await http.post(
        "/api/exports",
        json={
            "subject": "report",
            "format": "xlsx",
            "filters": {"subject": "payroll", "start": DAY, "end": DAY},
        },
    )
    assert_problem(bad, 422, "invalid-input", "body.filters.subject")
    agent = await users("agent1")
    refused = await agent.post(
        "/api/exports",
        json={
            "subject": "report",
            "format": "xlsx",
            "filters": {"subject": "queues", "start": DAY, "end": DAY},
        },
    )
    assert refused.status_code == 403


async def test_given_qa_evaluations_when_the_agent_report_is_read_then_the_qa_score_is_theirs(
    users: Users, seeded: Context, logged: int
) -> None:
    agent = logged
    async with seeded.db.write() as session:
        scored = list(
            await session.scalars(
                select(Evaluation).where(Evaluation.score.is_not(None)).order_by(Evaluation.id)
            )
        )
        assert len(scored) >= 2, "the demo scores some evaluations"
        for evaluation, score in zip(scored[:2], (Decimal("80"), Decimal("91")), strict=True):
            evaluation.agent_id, evaluation.score = agent, score
            evaluation.scored_at = datetime(2026, 3, 2, 3, tzinfo=UTC)  # 11:00 in Shanghai
    query = {"start": DAY, "end": DAY, "agent_id": agent}
    body = (await (await users("supervisor")).get("/api/reports/agents", params=query)).json()
    assert body["rows"][0]["qa_score"] == 85.5 and body["totals"]["qa_score"] == 85.5
    lead = (await (await users("teamlead")).get("/api/reports/agents", params=query)).json()
    assert lead["rows"][0]["qa_score"] == 85.5  # the team lead's agent: the figure, as 月度考核 counts it
    sheet = (
        await (await users("teamlead")).get("/api/reports/assessment", params={"month": "2026-03"})
    ).json()
    [mine] = [row for row in sheet["rows"] if row["agent_id"] == agent]
    assert mine["quality"]["raw"] == 85.5 and mine["evaluations"] == 2
