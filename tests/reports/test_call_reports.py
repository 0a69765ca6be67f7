"""The call reports as hotline.reports composes them: a report exported from its page (导出) holds
the figures the API answers — totals, comparison, every row and bucket — and the agent report's QA
score is the quality domain's evaluations of the period, for those who read QA."""

from __future__ import annotations

import asyncio
import io
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import insert, select

from hotline.contact.models import ContactEvent
from hotline.contact.stats import rollup
from hotline.core.context import Context
from hotline.core.periods import PeriodQuery
from hotline.quality.reviews.models import Evaluation
from hotline.reports import service
from hotline.reports.exports import lines as report_lines
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
    assert cells["合计", None, "呼入接听"] == shown["totals"]["calls_in"] == 2  # figures by their names
    assert cells["合计", None, "就绪时长（秒）"] == shown["totals"]["ready"]
    assert cells["明细", str(agent), "呼入接听"] == row["calls_in"]
    assert cells["明细", str(agent), "未就绪时长（秒） · 午餐"] == row["not_ready_by_reason"]["午餐"]
    assert cells["对比", f"{shown['compare']['start']}~{shown['compare']['end']}", "呼入接听"] == 0
    nine = next(p for p in shown["series"] if p["start"][11:16] == "09:00")
    assert cells["时段", nine["start"], "呼入接听"] == nine["calls_in"]
    assert len([r for r in rows[1:] if r[0] == "时段" and r[3] == "呼入接听"]) == 24  # every hour
    assert not [r for r in rows[1:] if re.fullmatch(r"[a-z_.]+", str(r[3]))]  # no API key as a name


async def test_every_figure_of_every_report_has_a_name_in_both_languages(
    seeded: Context, logged: int
) -> None:
    """The export names each figure as the pages do: every figure any report gives, in any part,
    has a Chinese and an English name."""
    query = PeriodQuery(start=date(2026, 3, 1), end=date(2026, 3, 3), granularity="day", compare="previous")
    for subject in service.SUBJECTS:
        shown = await service.report(seeded, subject, query)
        for locale in ("zh-CN", "en"):
            named = {line[3] for line in report_lines(shown, locale)}
            assert named and not [n for n in named if re.fullmatch(r"[a-z_.]+", str(n))], (subject, named)


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


def _enquiry_call(
    n: int, at: datetime, flow: str, asked: list[str], *, queued: bool = False
) -> list[dict[str, Any]]:
    """A call on `flow` asking about each of `asked` (an `enquiry` line each), served by the IVR,
    or going on to the queue."""
    call_id, s = f"ask-{n}", timedelta(seconds=1)
    line = {"call_id": call_id, "queue": "", "state": "", "detail": "", "agent_id": None}
    out = [{**line, "at": at, "kind": "arrived", "queue": flow, "detail": f"1390000{n:04d} → 4008002000"}]
    for k, about in enumerate(asked):
        when = at + (2 * k + 1) * s
        out += [
            {**line, "at": when, "kind": "ivr", "queue": flow, "detail": "find_route", "state": "lookup"},
            {**line, "at": when, "kind": "enquiry", "detail": about},
        ]
    end = at + 30 * s
    if queued:
        return [*out, {**line, "at": end, "kind": "queued", "queue": flow},
                {**line, "at": end + 20 * s, "kind": "abandoned", "queue": flow},
                {**line, "at": end + 20 * s, "kind": "finished", "detail": "caller-hung-up"}]  # fmt: skip
    return [*out, {**line, "at": end, "kind": "finished", "detail": "completed"}]


async def test_given_ivr_enquiries_when_the_ivr_report_is_read_then_each_route_and_hotel_counts_by_name(
    users: Users, seeded: Context
) -> None:
    """Seed 001's IVR enquiries per travel route (and per hotel): each call that asked counts once
    per subject, times asked are counted, a route no longer in the catalogue keeps its count under
    its code, and an enquiry line arriving late corrects the figures."""
    nine = datetime(2026, 3, 3, 1, tzinfo=UTC)  # 09:00 in Shanghai
    lines = _enquiry_call(1, nine, "travel", ["route:YN6"])
    lines += _enquiry_call(
        2, nine + timedelta(minutes=5), "travel", ["route:YN6", "route:SY5", "route:YN6"], queued=True
    )
    lines += _enquiry_call(3, nine + timedelta(minutes=9), "hotel", ["hotel:HZ-XH"])
    lines += _enquiry_call(4, nine + timedelta(minutes=12), "travel", ["route:ZZ9"])
    late = _enquiry_call(5, nine + timedelta(hours=1), "travel", ["route:SY5"])
    async with seeded.write() as tx:
        await tx.session.execute(insert(ContactEvent), [*lines, *(x for x in late if x["kind"] != "enquiry")])
    await rollup.roll(seeded)
    http = await users("supervisor")
    query = {"start": "2026-03-03", "end": "2026-03-03", "granularity": "hour"}

    async def asked() -> dict[tuple[str, str], dict[str, Any]]:
        got = await http.get("/api/reports/ivr", params=query)
        assert got.status_code == 200, got.text
        return {(r["dimension"], r["key"]): r for r in got.json()["rows"] if r["dimension"] != "node"}

    rows = await asked()
    yn6, sy5 = rows["route", "YN6"], rows["route", "SY5"]
    assert (yn6["label"], yn6["calls"], yn6["visits"], yn6["self_service"], yn6["to_agent"]) == (
        "云南昆明大理丽江六日游",
        2,
        3,
        1,
        1,
    )
    assert (sy5["label"], sy5["calls"], sy5["visits"], sy5["self_service"]) == ("三亚双飞五日游", 1, 1, 0)
    assert rows["hotel", "HZ-XH"]["label"] == "英冠酒店杭州西湖店" and rows["hotel", "HZ-XH"]["calls"] == 1
    assert rows["route", "ZZ9"]["label"] == "已停用的线路 ZZ9" and rows["route", "ZZ9"]["calls"] == 1

    async with seeded.write() as tx:  # call 5's enquiry reaches the log after the roll-up
        await tx.session.execute(insert(ContactEvent), [x for x in late if x["kind"] == "enquiry"])
    await rollup.roll(seeded)
    sy5 = (await asked())["route", "SY5"]
    assert (sy5["calls"], sy5["visits"], sy5["self_service"]) == (2, 2, 1)
