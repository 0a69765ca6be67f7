"""A report exported from its page (导出): the workbook holds the figures the API answers — the
totals, the comparison, every row and bucket — for the same period and filters."""

from __future__ import annotations

import asyncio
import io
from typing import Any

from openpyxl import load_workbook

from hotline.core.context import Context
from tests.conftest import Users, assert_problem
from tests.contact.stats.test_reports_api import DAY, _log
from tests.exports.test_exports import finished


def _book(data: bytes) -> tuple[list[str], list[tuple[Any, ...]]]:
    book = load_workbook(io.BytesIO(data), read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    names = book.sheetnames
    book.close()
    return names, rows


async def test_given_the_agent_report_when_exported_then_the_workbook_has_the_apis_figures(
    users: Users, seeded: Context
) -> None:
    agent = await _log(seeded)
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
