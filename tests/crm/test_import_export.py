"""Import and export: a file with one bad row writes nothing and says which row and field; a good
one is written whole; exports need the permission, are audited, and stay masked without PII."""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from hotline.core.audit import AuditEntry
from hotline.core.context import Context
from hotline.crm.models import Customer
from tests.conftest import Users, assert_problem

GOOD = (
    "姓名,称呼,性别,证件号码,电话,邮箱,城市,等级,标签\n"
    "孙丽,女士,女,110101199003078021,13811110001;021-6666 1234,sl@example.cn,北京,silver,商务\n"
    "周杰,先生,男,,139 2222 0002,,上海,standard,\n"
)


def upload(text: str, name: str = "customers.csv") -> dict[str, tuple[str, bytes, str]]:
    return {"file": (name, text.encode("utf-8"), "text/csv")}


async def count(ctx: Context) -> int:
    async with ctx.read() as session:
        return int(await session.scalar(select(func.count(Customer.id))) or 0)


async def test_a_file_with_one_bad_row_writes_nothing_and_names_the_row_and_field(
    seeded: Context, users: Users
) -> None:
    agent = await users("agent1")
    before = await count(seeded)
    bad = (
        GOOD
        + "吴磊,先生,男,110101199003074478,13833330003,,广州,gold,\n"
        + "郑爽,,女,,12345,,深圳,diamond,\n"
    )
    for dry_run in ("true", "false"):
        report = await agent.post("/api/customers/import", params={"dry_run": dry_run}, files=upload(bad))
        assert report.status_code == 200, report.text
        body = report.json()
        assert (body["rows"], body["valid"], body["created"]) == (4, 2, 0)
        assert [(p["row"], p["field"]) for p in body["problems"]] == [
            (4, "id_number"),
            (5, "phones"),
            (5, "tier"),
        ]
    assert await count(seeded) == before

    twice = GOOD + "孙丽丽,女士,女,110101199003078021,13811110009,,北京,,\n"
    report = (
        await agent.post("/api/customers/import", params={"dry_run": "false"}, files=upload(twice))
    ).json()
    assert [(p["row"], p["field"]) for p in report["problems"]] == [(4, "id_number")]
    assert await count(seeded) == before

    unknown = await agent.post("/api/customers/import", files=upload("姓名,血型\n孙丽,A\n"))
    assert_problem(unknown, 422, "invalid-input", "file")
    garbage = await agent.post(
        "/api/customers/import", files={"file": ("x.xlsx", b"not a workbook", "application/zip")}
    )
    assert_problem(garbage, 422, "invalid-input", "file")


async def test_a_good_file_is_checked_then_written_whole(seeded: Context, users: Users) -> None:
    agent = await users("agent1")
    before = await count(seeded)
    dry = (await agent.post("/api/customers/import", files=upload(GOOD))).json()
    assert (dry["valid"], dry["created"], dry["problems"]) == (2, 0, [])
    assert await count(seeded) == before
    done = (await agent.post("/api/customers/import", params={"dry_run": "false"}, files=upload(GOOD))).json()
    assert done["created"] == 2 and await count(seeded) == before + 2
    sun = (await agent.get("/api/customers", params={"q": "孙丽"})).json()[0]
    file = (await agent.get(f"/api/customers/{sun['id']}")).json()
    assert [p["number"] for p in file["phones"]] == ["138****0001", "216****1234"]
    assert file["birthday"] == "1990-**-**" and file["tier"] == "silver" and file["tags"] == ["商务"]

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["name", "phones", "city"])
    sheet.append(["冯刚", "13744440004", "杭州"])
    data = io.BytesIO()
    book.save(data)
    xlsx = {
        "file": (
            "c.xlsx",
            data.getvalue(),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    }
    assert (await agent.post("/api/customers/import", params={"dry_run": "false"}, files=xlsx)).json()[
        "created"
    ] == 1


async def test_exports_need_the_permission_are_audited_and_masked_without_pii(
    seeded: Context, users: Users
) -> None:
    agent = await users("agent1")
    supervisor = await users("supervisor")
    assert (await agent.get("/api/customers/export")).status_code == 403
    masked = await supervisor.get("/api/customers/export", params={"tier": "gold"})
    assert masked.status_code == 200 and masked.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(masked.content.decode("utf-8-sig"))))
    zhang = next(r for r in rows if r["member_number"] == "88000001")
    assert zhang["id_number"] == "**************1235" and zhang["phones"] == "138****8000"
    assert "310104198503121235" not in masked.text
    full = await supervisor.get("/api/customers/export", params={"format": "xlsx", "include_pii": "true"})
    sheet = load_workbook(io.BytesIO(full.content)).worksheets[0]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][:3] == ["member_number", "name", "title"]
    assert any(row[5] == "310104198503121235" and row[7] == "13800138000" for row in values[1:])
    async with seeded.read() as session:
        exports = (
            await session.scalars(
                select(AuditEntry).where(AuditEntry.action == "customers.exported").order_by(AuditEntry.seq)
            )
        ).all()
    assert [(e.actor_name, e.after["pii"]) for e in exports] == [("supervisor", False), ("supervisor", True)]
