"""Custom reports (SPEC A3) against the hand-made March 2025 dataset of the domain reports, and a
few call records: figures equal to hand counts, every catalogue choice runs, bad choices are
refused naming their field, sharing, and a scheduled report mailed with its workbook."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import combinations
from typing import Any

import httpx
import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotline.contact.stats.models import CallRecord
from hotline.core.context import Context
from hotline.core.errors import InvalidInput
from hotline.core.report_catalogue import TIME_DIMENSIONS, subjects
from hotline.domains import load_models
from hotline.reports.custom import mailing, service
from hotline.reports.custom.definition import Definition, check
from tests.conftest import Users, assert_problem
from tests.notify.conftest import Inbox
from tests.reports.test_domain_reports import at

load_models()
MARCH = {"preset": "custom", "start": "2025-03-01", "end": "2025-03-31"}


def table(result: dict[str, Any]) -> dict[tuple[Any, ...], list[Any]]:
    dims = sum(1 for c in result["columns"] if c["kind"] == "dimension")
    return {tuple(row[:dims]): row[dims:] for row in result["rows"]}


async def test_bookings_by_source_and_month_are_the_hand_counts(
    users: Users, dataset: dict[str, int]
) -> None:
    supervisor = await users("supervisor")
    definition = {
        "subject": "bookings",
        "dimensions": ["month", "source"],
        "measures": ["bookings", "cancelled", "revenue", "cancellation_rate"],
        "period": MARCH,
    }
    response = await supervisor.post("/api/reports/custom/preview", json=definition)
    assert response.status_code == 200, response.text
    result = response.json()
    assert [c["label"] for c in result["columns"]] == ["月份", "来源", "预订数", "取消数", "营收", "取消率"]
    rows = table(result)
    assert rows[("2025-03", "电话")] == [3, 1, "750.50", round(1 / 3, 4)]
    assert rows[("2025-03", "网站")] == [1, 0, "1000.00", 0.0]
    assert result["totals"][2:] == [4, 1, "1750.50", 0.25]


async def test_calls_are_cut_by_the_sites_day_and_worded(seeded: Context, users: Users) -> None:
    def call(n: int, when: datetime, queue: str, outcome: str, talk: int | None, wait: int) -> CallRecord:
        return CallRecord(
            call_id=f"cr{n}",
            arrived_at=when,
            direction="in",
            first_queue=queue,
            last_queue=queue,
            outcome=outcome,
            talk_ms=talk,
            wait_ms=wait,
            in_time=wait < 20_000,
        )

    async with seeded.write() as tx:
        tx.session.add_all(
            [
                call(1, at(3, 9), "hotel", "answered", 60_000, 5_000),
                call(2, at(3, 23, month=3), "hotel", "abandoned", None, 30_000),  # 23:00 in Shanghai: the 3rd
                call(
                    3, datetime(2025, 3, 3, 16, 30, tzinfo=UTC), "hotel", "answered", 120_000, 10_000
                ),  # 4th, 00:30
                call(4, at(4, 10), "travel", "answered", 30_000, 25_000),
            ]
        )
    supervisor = await users("supervisor")
    response = await supervisor.post(
        "/api/reports/custom/preview",
        json={
            "subject": "calls",
            "dimensions": ["day", "outcome"],
            "period": MARCH,
            "measures": ["calls", "answered", "answer_rate", "average_talk", "service_level", "talk_hours"],
        },
    )
    assert response.status_code == 200, response.text
    rows = table(response.json())
    assert rows[("2025-03-03", "已接通")] == [1, 1, 1.0, 60.0, 1.0, round(1 / 60, 2)]
    assert rows[("2025-03-03", "放弃")] == [1, 0, 0.0, None, 0.0, 0.0]
    assert rows[("2025-03-04", "已接通")][:4] == [2, 2, 1.0, 75.0]
    assert response.json()["totals"] == [None, None, 4, 3, 0.75, 70.0, 0.5, round(210 / 3600, 2)]
    by_queue = await supervisor.post(
        "/api/reports/custom/preview",
        json={"subject": "calls", "dimensions": ["queue"], "measures": ["calls"], "period": MARCH},
    )
    assert by_queue.json()["rows"] == [["酒店预订", 3], ["旅游咨询", 1]]

    # a filter on a named dimension offers its names: the queues by title, the agents by name
    catalogue = (await supervisor.get("/api/reports/custom/subjects")).json()
    calls = {d["key"]: d for d in next(s for s in catalogue if s["key"] == "calls")["dimensions"]}
    queues = {c["label"]: c["value"] for c in calls["queue"]["choices"]}
    assert queues["旅游咨询"] == "travel" and queues["酒店预订"] == "hotel"
    assert "陈晓" in {c["label"] for c in calls["agent"]["choices"]}
    only_travel = await supervisor.post(
        "/api/reports/custom/preview",
        json={
            "subject": "calls",
            "dimensions": ["queue"],
            "measures": ["calls"],
            "period": MARCH,
            "filters": [{"dimension": "queue", "values": [queues["旅游咨询"]]}],
        },
    )
    assert only_travel.json()["rows"] == [["旅游咨询", 1]]


async def test_the_catalogue_speaks_the_requests_language_else_the_saved_one(users: Users) -> None:
    """The UI's current language travels in Accept-Language; the saved preference (sign-in's) is
    the fallback, and /api/auth/me still says the saved one."""
    supervisor = await users("supervisor")
    url = "/api/reports/custom/subjects"
    bookings = next(s for s in subjects() if s.key == "bookings")
    first = bookings.measures[0]

    def words(response: httpx.Response) -> tuple[str, str]:
        assert response.status_code == 200, response.text
        shown = next(s for s in response.json() if s["key"] == "bookings")
        return shown["label"], next(m["label"] for m in shown["measures"] if m["key"] == first.key)

    assert (await supervisor.get("/api/auth/me")).json()["locale"] == "zh-CN"
    assert words(await supervisor.get(url, headers={"Accept-Language": "en-GB,en;q=0.9"})) == (
        bookings.label[1],
        first.label[1],
    )
    assert words(await supervisor.get(url, headers={"Accept-Language": "zh-CN"})) == (
        bookings.label[0],
        first.label[0],
    )
    assert words(await supervisor.get(url)) == (bookings.label[0], first.label[0])

    saved = await supervisor.patch("/api/auth/me", json={"locale": "en"})
    assert saved.status_code == 200, saved.text
    assert words(await supervisor.get(url)) == (bookings.label[1], first.label[1])
    assert words(await supervisor.get(url, headers={"Accept-Language": "fr-FR"})) == (
        bookings.label[1],
        first.label[1],
    )
    assert words(await supervisor.get(url, headers={"Accept-Language": "zh-CN"})) == (
        bookings.label[0],
        first.label[0],
    )
    me = await supervisor.get("/api/auth/me", headers={"Accept-Language": "zh-CN"})
    assert me.json()["locale"] == "en"


async def test_every_choice_of_the_catalogue_runs(ctx: Context) -> None:
    """Each subject with no dimension, each dimension alone, every pair (one time at most), and
    its measures six at a time: the query builds and runs on this database."""
    for subject in subjects():
        keys = subject.dimension_keys()
        cuts: list[tuple[str, ...]] = [(), *((k,) for k in keys)]
        cuts += [p for p in combinations(keys, 2) if sum(k in TIME_DIMENSIONS for k in p) < 2]
        measures = list(subject.measure_by_key)
        for n, cut in enumerate(cuts):
            chunk = measures[(n * 6) % len(measures) :][:6] or measures[:6]
            definition = Definition.model_validate(
                {"subject": subject.key, "dimensions": list(cut), "measures": chunk, "period": MARCH}
            )
            result = await service.run(ctx, definition)
            assert len(result.columns) == len(cut) + len(chunk)


NAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_name_not_in_the_catalogue_is_refused_naming_its_field(data: st.DataObject) -> None:
    subject = data.draw(st.sampled_from(subjects()))
    where = data.draw(st.sampled_from(["dimensions", "measures", "filters"]))
    name = data.draw(
        NAMES.filter(lambda s: s not in subject.dimension_keys() and s not in subject.measure_by_key)
    )
    good = list(subject.measure_by_key)[: data.draw(st.integers(1, 5))]
    definition: dict[str, Any] = {"subject": subject.key, "measures": good, "dimensions": []}
    if where == "dimensions":
        definition["dimensions"] = [data.draw(st.sampled_from(subject.dimension_keys())), name][
            -data.draw(st.integers(1, 2)) :
        ]
    elif where == "measures":
        definition["measures"] = [*good, name][-6:]
    else:
        definition["filters"] = [{"dimension": name, "values": ["x"]}]
    with pytest.raises(InvalidInput) as refused:
        check(Definition.model_validate(definition))
    assert refused.value.field is not None and refused.value.field.startswith(f"body.definition.{where}.")
    assert refused.value.reason is not None and refused.value.reason.startswith("custom-report-unknown-")


async def test_bad_definitions_are_refused_naming_the_field(users: Users) -> None:
    supervisor = await users("supervisor")
    url = "/api/reports/custom/preview"
    base = {"subject": "bookings", "measures": ["bookings"], "period": MARCH}
    cases = [
        ({**base, "measures": ["bookings", "talk_hours"]}, "body.measures.1"),
        ({**base, "dimensions": ["day", "month"]}, "body.dimensions.1"),
        (
            {**base, "dimensions": ["source"], "chart": "pie", "measures": ["revenue"], "subject": "calls"},
            "body.dimensions.0",
        ),
        ({**base, "dimensions": ["source", "status"], "chart": "pie"}, "body.chart"),
        ({**base, "period": {"preset": "custom", "start": "2025-03-01"}}, "body.period.end"),
        (
            {**base, "period": {"preset": "custom", "start": "2020-01-01", "end": "2025-01-01"}},
            "body.period.end",
        ),
        (
            {**base, "filters": [{"dimension": "agent", "values": ["agent1"]}]},
            "body.filters.0.values",
        ),
    ]
    for body, field in cases:
        response = await supervisor.post(url, json=body)
        assert response.status_code == 422, (body, response.text)
        assert field in [e["field"] for e in response.json()["errors"]], (body, response.text)
    too_many = await supervisor.post(url, json={**base, "measures": ["bookings"] * 7})
    assert too_many.status_code == 422


async def test_who_sees_what(users: Users, dataset: dict[str, int]) -> None:
    finance = await users("finance")
    assert (
        await finance.post("/api/reports/custom/preview", json={"subject": "calls", "measures": ["calls"]})
    ).status_code == 403
    assert (
        await finance.post(
            "/api/reports/custom/preview", json={"subject": "bookings", "measures": ["revenue"]}
        )
    ).status_code == 200
    assert {s["key"] for s in (await finance.get("/api/reports/custom/subjects")).json()} == {
        "bookings",
        "orders",
    }
    refused = await finance.post(
        "/api/reports/custom",
        json={"name": "x", "definition": {"subject": "bookings", "measures": ["revenue"]}},
    )
    assert refused.status_code == 403  # saving needs reports.write

    supervisor = await users("supervisor")
    body = {
        "name": "三月预订",
        "definition": {
            "subject": "bookings",
            "dimensions": ["source"],
            "measures": ["bookings"],
            "period": MARCH,
        },
        "shared_roles": ["team_lead"],
        "schedule": "weekly",
        "weekday": 1,
        "hour": 8,
        "recipients": ["boss@hotel.example"],
    }
    created = await supervisor.post("/api/reports/custom", json=body)
    assert created.status_code == 201, created.text
    report = created.json()
    assert report["mine"] and report["may_edit"] and report["next_send_at"] is not None
    teamlead = await users("teamlead")
    seen = (await teamlead.get("/api/reports/custom")).json()
    seen = [r for r in seen if r["name"] != "近30天各队列接通情况"]  # the demo's example, shared too
    assert [r["name"] for r in seen] == ["三月预订"] and not seen[0]["may_edit"]
    assert seen[0]["recipients"] != ["boss@hotel.example"]  # masked for who may not edit it
    run = await teamlead.get(f"/api/reports/custom/{report['id']}/run")
    assert run.status_code == 200 and table(run.json())[("电话",)] == [3]
    assert (await finance.get("/api/reports/custom")).json() == []  # not shared with finance
    assert (await finance.get(f"/api/reports/custom/{report['id']}/run")).status_code == 403
    missing = await supervisor.post("/api/reports/custom", json={**body, "recipients": []})
    assert_problem(missing, 422, "invalid-input", "body.recipients")
    bad = await supervisor.post("/api/reports/custom", json={**body, "recipients": ["nobody"]})
    assert_problem(bad, 422, "invalid-input", "body.recipients.0")
    assert (await supervisor.delete(f"/api/reports/custom/{report['id']}")).status_code == 204
    assert [r["name"] for r in (await teamlead.get("/api/reports/custom")).json()] == ["近30天各队列接通情况"]


async def test_a_scheduled_report_is_mailed_as_xlsx_with_its_chart(
    users: Users,
    seeded: Context,
    dataset: dict[str, int],
    smtp: tuple[int, Inbox],
) -> None:
    port, inbox = smtp
    admin = await users("admin")
    gateway = {
        "kind": "smtp",
        "config": {"host": "127.0.0.1", "port": port, "sender": "hotline@hotel.example"},
    }
    assert (await admin.put("/api/notify/gateways/email", json=gateway)).status_code == 200
    supervisor = await users("supervisor")
    body = {
        "name": "三月预订来源",
        "definition": {
            "subject": "bookings",
            "dimensions": ["source"],
            "measures": ["bookings", "revenue"],
            "period": MARCH,
            "chart": "bar",
        },
        "schedule": "daily",
        "hour": 7,
        "recipients": ["boss@hotel.example", "gm@hotel.example"],
    }
    report = (await supervisor.post("/api/reports/custom", json=body)).json()
    due = datetime.fromisoformat(report["next_send_at"])
    assert await mailing.send_due(seeded, due - timedelta(minutes=1)) == 0  # not yet
    assert await mailing.send_due(seeded, due + timedelta(minutes=1)) == 1
    assert sorted(m["To"] for m in inbox.messages) == ["boss@hotel.example", "gm@hotel.example"]
    mail = inbox.messages[0]
    assert "三月预订来源" in mail["Subject"]
    parts = [p for p in mail.iter_attachments()]
    assert len(parts) == 1 and parts[0].get_filename().endswith(".xlsx")
    book = openpyxl.load_workbook(io.BytesIO(parts[0].get_content()))
    sheet = book.active
    assert sheet is not None
    cells = [r for r in sheet.iter_rows(values_only=True) if r and r[0] in ("电话", "网站", "合计")]
    assert [(r[0], r[1], Decimal(str(r[2]))) for r in cells] == [
        ("电话", 3, Decimal("750.5")),
        ("网站", 1, Decimal("1000")),
        ("合计", 4, Decimal("1750.5")),
    ]
    assert len(sheet._charts) == 1  # the chart, native
    listed = (await supervisor.get("/api/reports/custom")).json()[0]
    assert listed["last_sent_at"] is not None and listed["last_error"] == ""
    assert datetime.fromisoformat(listed["next_send_at"]) == due + timedelta(days=1)
    assert await mailing.send_due(seeded, due + timedelta(minutes=2)) == 0  # once per day
