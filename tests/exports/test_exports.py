"""Exports through the public API: a job written off the loop, followed, downloaded, masked as the
role sees it, audited, refused to the wrong person, and gone when it expires."""

from __future__ import annotations

import asyncio
import io
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from hotline.core.audit import AuditEntry
from hotline.core.context import Context
from hotline.exports import service
from hotline.exports.models import ExportJob
from hotline.tickets.models import Ticket
from tests.conftest import Users, assert_problem
from tests.exports.conftest import add_tickets

ZH = {"Accept-Language": "zh-CN"}


async def finished(
    http: httpx.AsyncClient, job: dict[str, Any], seen: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    for _ in range(1200):
        now = (await http.get(f"/api/exports/{job['id']}")).json()
        if seen is not None:
            seen.append(now)
        if now["status"] not in ("queued", "running"):
            return now
        await asyncio.sleep(0.1)
    raise AssertionError(f"export {job['id']} still {now['status']}")


def sheet_rows(data: bytes) -> list[tuple[Any, ...]]:
    book = load_workbook(io.BytesIO(data), read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert book.sheetnames == ["工单"]
    book.close()
    return rows


@pytest.mark.blocks_the_loop  # 100,000 rows inserted, then read back with openpyxl in the test
async def test_given_100000_tickets_when_an_agent_exports_them_then_the_workbook_has_them_masked(
    seeded: Context, users: Users
) -> None:
    await add_tickets(seeded, 100_000)
    agent = await users("agent1")
    asked = await agent.post("/api/exports", json={"subject": "tickets", "format": "xlsx"})
    assert asked.status_code == 202, asked.text
    total = asked.json()["rows_total"]
    assert total >= 100_000
    seen: list[dict[str, Any]] = []
    done = await finished(agent, asked.json(), seen)
    assert done["status"] == "done" and done["rows_done"] == total, done
    assert any(s["status"] == "running" and 0 < s["rows_done"] < total for s in seen), "no progress shown"
    got = await agent.get(done["download"])
    assert got.status_code == 200
    assert got.headers["content-type"].startswith("application/vnd.openxmlformats")
    rows = await asyncio.to_thread(sheet_rows, got.content)
    header = rows[0]
    assert header[:3] == ("工单号", "类型", "标题") and "联系电话" in header
    body = {r[0]: r for r in rows[1:]}
    assert len(rows) == total + 1 and len(body) == total
    row = dict(zip(header, body["X00000007"], strict=True))
    assert row["联系电话"] == "138****0007" and row["邮箱"] == "g***@example.cn"
    assert row["标题"] == "房间空调不制冷 7" and row["状态"] == "待调度"
    assert row["优先级"] == 2 and isinstance(row["优先级"], int)  # numbers stay numbers
    assert row["创建时间"] == datetime(2026, 3, 2, 0, 37)  # Shanghai time, a real date cell


async def test_a_role_with_personal_data_exports_it_whole_and_audited(seeded: Context, users: Users) -> None:
    await add_tickets(seeded, 30)
    lead = await users("teamlead")
    asked = await lead.post(
        "/api/exports",
        json={
            "subject": "tickets",
            "format": "xlsx",
            "include_pii": True,
            "filters": {"severity": "critical"},
        },
    )
    done = await finished(lead, asked.json())
    assert done["include_pii"] and done["filters"] == {"scope": "all", "severity": "critical"}
    rows = sheet_rows((await lead.get(done["download"])).content)
    phones = {r[0]: r[rows[0].index("联系电话")] for r in rows[1:] if str(r[0]).startswith("X")}
    assert phones == {
        "X00000010": "+8613800000010",
        "X00000020": "+8613800000020",
        "X00000030": "+8613800000030",
    }
    async with seeded.read() as session:
        audit = (
            await session.execute(
                select(AuditEntry.action, AuditEntry.actor_name, AuditEntry.after)
                .where(AuditEntry.entity_type == "export", AuditEntry.entity_id == str(done["id"]))
                .order_by(AuditEntry.seq)
            )
        ).all()
    assert [(a, who) for a, who, _ in audit] == [
        ("exports.requested", "teamlead"),
        ("exports.written", "teamlead"),
        ("exports.downloaded", "teamlead"),
    ]
    written = audit[1][2]
    assert written["subject"] == "tickets" and written["rows"] == done["rows_done"] and written["pii"] is True
    assert written["filters"]["severity"] == "critical"


async def test_csv_is_utf8_with_a_bom_and_no_cell_starts_a_formula(seeded: Context, users: Users) -> None:
    await add_tickets(seeded, 3)
    async with seeded.db.write() as session:
        await session.execute(
            update(Ticket).where(Ticket.number == "X00000002").values(title='=HYPERLINK("http://evil")')
        )
    agent = await users("agent1")
    asked = await agent.post(
        "/api/exports", json={"subject": "tickets", "format": "csv", "filters": {"q": "X0000"}}
    )
    done = await finished(agent, asked.json())
    got = await agent.get(done["download"])
    assert got.headers["content-type"].startswith("text/csv")
    assert got.content.startswith(b"\xef\xbb\xbf")  # Excel reads it as UTF-8 only with the BOM
    lines = got.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("工单号,类型,标题,状态")
    assert len(lines) == 4
    evil = next(line for line in lines if line.startswith("X00000002"))
    assert ""","'=HYPERLINK(""http://evil"")",""" in evil
    one = next(line for line in lines if line.startswith("X00000001"))
    assert "138****0001" in one and "2026-03-02 00:31:00" in one
    # asked from the English UI (Accept-Language), the same person's file is headed in English
    english = await agent.post(
        "/api/exports",
        json={"subject": "tickets", "format": "csv", "filters": {"q": "X0000"}},
        headers={"Accept-Language": "en"},
    )
    assert english.json()["title"] == "Tickets"
    got = await agent.get((await finished(agent, english.json()))["download"])
    assert got.content.decode("utf-8-sig").startswith("Number,Type,Title,Status")


async def test_exports_are_refused_to_who_may_not_and_bad_requests_name_the_field(
    seeded: Context, users: Users
) -> None:
    finance = await users("finance")
    assert_problem(await finance.post("/api/exports", json={"subject": "tickets"}), 403, "permission-denied")
    agent = await users("agent1")
    pii = await agent.post("/api/exports", json={"subject": "tickets", "include_pii": True})
    assert_problem(pii, 403, "permission-denied")
    unknown = await agent.post("/api/exports", json={"subject": "nothing"}, headers=ZH)
    body = assert_problem(unknown, 422, "export-unknown-subject", "body.subject")
    assert "tickets" in body["detail"]
    bad = await agent.post("/api/exports", json={"subject": "tickets", "filters": {"severity": "loud"}})
    assert_problem(bad, 422, "invalid-input", "body.filters.severity")
    extra = await agent.post("/api/exports", json={"subject": "tickets", "filters": {"colour": "red"}})
    assert_problem(extra, 422, "invalid-input", "body.filters.colour")
    wrong = await agent.post("/api/exports", json={"subject": "tickets", "format": "pdf"})
    assert_problem(wrong, 422, "validation-failed", "body.format")

    asked = await agent.post("/api/exports", json={"subject": "tickets", "format": "csv"})
    done = await finished(agent, asked.json())
    other = await users("agent2")
    assert_problem(await other.get(f"/api/exports/{done['id']}"), 404, "export-not-found")
    assert_problem(await other.get(f"/api/exports/{done['id']}/file"), 404, "export-not-found")
    assert [e["id"] for e in (await other.get("/api/exports")).json()] == []
    assert [e["id"] for e in (await agent.get("/api/exports")).json()] == [done["id"]]


async def test_an_expired_export_loses_its_file_and_a_cancelled_one_never_has_one(
    seeded: Context, users: Users, app: Any
) -> None:
    await add_tickets(seeded, 20_000)
    agent = await users("agent1")
    done = await finished(
        agent, (await agent.post("/api/exports", json={"subject": "tickets", "format": "csv"})).json()
    )
    async with seeded.db.write() as session:
        job = await session.get(ExportJob, done["id"])
        assert job is not None and job.file
        path = seeded.settings.exports_dir / job.file
        job.expires_at = job.finished_at - timedelta(seconds=1)  # type: ignore[operator]
    assert path.is_file()
    assert await service.purge_expired(seeded) == 1
    assert not path.exists()
    assert (await agent.get(f"/api/exports/{done['id']}")).json()["status"] == "expired"
    assert_problem(await agent.get(f"/api/exports/{done['id']}/file"), 409, "export-not-ready")

    big = (await agent.post("/api/exports", json={"subject": "tickets", "format": "xlsx"})).json()
    cancelled = await agent.post(f"/api/exports/{big['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    await app.state.hotline.exports.wait(big["id"])
    assert (await agent.get(f"/api/exports/{big['id']}")).json()["status"] == "cancelled"
    again = await agent.post(f"/api/exports/{big['id']}/cancel")
    assert_problem(again, 409, "export-transition-refused")
    left = sorted(p.name for p in seeded.settings.exports_dir.iterdir())
    assert not [name for name in left if name.startswith(f"{big['id']}-")]


async def test_customers_export_as_a_job_in_the_import_file_s_columns(seeded: Context, users: Users) -> None:
    supervisor = await users("supervisor")
    masked = await finished(
        supervisor,
        (await supervisor.post("/api/exports", json={"subject": "customers", "format": "csv"})).json(),
    )
    lines = (await supervisor.get(masked["download"])).content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("会员号,姓名,称呼,性别,证件类型,证件号码,生日,电话")
    zhang = next(line for line in lines if line.startswith("88000001,张伟"))
    assert "138****8000" in zhang and "13800138000" not in zhang
    whole = await supervisor.post(
        "/api/exports", json={"subject": "customers", "format": "csv", "include_pii": True}
    )
    lines = (
        (await supervisor.get((await finished(supervisor, whole.json()))["download"]))
        .content.decode("utf-8-sig")
        .splitlines()
    )
    assert "13800138000" in next(line for line in lines if line.startswith("88000001,张伟"))
    agent = await users("agent1")
    assert_problem(await agent.post("/api/exports", json={"subject": "customers"}), 403, "permission-denied")
