"""Bad input gets a 4xx problem-details answer and changes nothing."""

from __future__ import annotations

import asyncio
import io
import time

import httpx
import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from hotline.core.audit import AuditEntry
from hotline.core.context import Context
from tests.conftest import Users, assert_problem


async def audit_count(ctx: Context) -> int:
    async with ctx.read() as session:
        return int(await session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


async def test_malformed_and_mistyped_bodies_are_refused_without_side_effects(
    users: Users, seeded: Context
) -> None:
    admin = await users("admin")
    before = await audit_count(seeded)
    headers = {"content-type": "application/json"}
    assert_problem(
        await admin.post("/api/users", content=b'{"username": "a",', headers=headers),
        400,
        "malformed-json",
    )
    assert_problem(
        await admin.post("/api/users", content=b"\xff\xfe", headers=headers), 400, "malformed-json"
    )
    assert_problem(
        await admin.post("/api/users", json=["not", "an", "object"]),
        422,
        "validation-failed",
        field="body",
    )
    assert_problem(
        await admin.patch("/api/users/1", json={"is_active": "maybe"}),
        422,
        "validation-failed",
        field="body.is_active",
    )
    assert_problem(
        await admin.patch("/api/auth/me", json={"locale": "fr"}),
        422,
        "validation-failed",
        field="body.locale",
    )
    assert_problem(
        await admin.get("/api/audit", params={"since": "yesterday"}),
        422,
        "validation-failed",
        field="query.since",
    )
    assert_problem(
        await admin.get("/api/users", params={"colour": "red"}),
        422,
        "validation-failed",
        field="query.colour",
    )
    assert_problem(await admin.delete("/api/users/1"), 405, "method-not-allowed")
    assert_problem(await admin.get("/api/no-such-thing"), 404, "not-found")
    assert await audit_count(seeded) == before


async def test_oversized_bodies_get_413_whether_declared_or_streamed(users: Users, seeded: Context) -> None:
    admin = await users("admin")
    limit = seeded.settings.max_body_bytes
    big = b'{"display_name": "' + b"x" * (limit + 10) + b'"}'
    declared = await admin.patch("/api/auth/me", content=big, headers={"content-type": "application/json"})
    assert_problem(declared, 413, "payload-too-large")

    async def stream() -> object:
        for _ in range(3):
            yield b"x" * (limit // 2 + 1)

    streamed = await admin.patch(
        "/api/auth/me", content=stream(), headers={"content-type": "application/json"}
    )  # type: ignore[arg-type]
    assert_problem(streamed, 413, "payload-too-large")
    assert (await admin.get("/api/auth/me")).json()["display_name"] == "系统管理员"


async def test_bad_credentials_and_tokens_get_401(client: httpx.AsyncClient, seeded: Context) -> None:
    assert_problem(await client.get("/api/users"), 401, "not-authenticated")
    client.cookies.set("hotline_session", "forged-session-id")
    assert_problem(await client.get("/api/users"), 401, "not-authenticated")
    assert_problem(
        await client.get("/api/users", headers={"Authorization": "Basic YWRtaW46aG90bGluZQ=="}),
        401,
        "not-authenticated",
    )
    assert_problem(
        await client.post("/api/auth/login", json={"username": "admin"}),
        422,
        "validation-failed",
        field="body.password",
    )


async def test_problems_are_translated_for_chinese_clients(
    client: httpx.AsyncClient, seeded: Context
) -> None:
    response = await client.get("/api/auth/me", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert response.json()["title"] == "请先登录"
    assert (await client.get("/api/auth/me", headers={"Accept-Language": "en"})).json()[
        "title"
    ] == "Authentication required"


async def test_request_ids_are_echoed_and_generated(client: httpx.AsyncClient) -> None:
    mine = await client.get("/healthz", headers={"X-Request-ID": "call-7781"})
    assert mine.headers["x-request-id"] == "call-7781"
    fresh = await client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert len(fresh.headers["x-request-id"]) == 32


async def test_health_readiness_and_metrics(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json()["status"] == "ok"
    assert (await client.get("/readyz")).json()["status"] == "ready"
    await client.get("/api/auth/me")
    metrics = (await client.get("/metrics")).text
    assert 'hotline_http_requests_total{method="GET",route="/api/auth/me",status="401"}' in metrics
    assert (await client.get("/openapi.json")).json()["info"]["title"] == "Hotline"


def hold_the_loop(seconds: float) -> None:
    """What a handler doing CPU work on the event loop would do (for `seconds` of CPU time, however
    busy the machine)."""
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


@pytest.mark.blocks_the_loop  # on purpose: the monitor must see it and name the code
async def test_a_blocked_event_loop_is_measured_and_logged_with_the_code_that_held_it(
    client: httpx.AsyncClient, app: object
) -> None:
    monitor = app.state.hotline.monitor  # type: ignore[attr-defined]
    await asyncio.sleep(monitor.interval * 3)  # let the heartbeat take normal readings first
    hold_the_loop(0.6)
    await asyncio.sleep(monitor.interval * 3)
    stall = monitor.stalls[-1]
    assert monitor.worst >= stall.lag >= 0.6 - monitor.interval and stall.ran >= 0.6
    assert "in hold_the_loop" in stall.stack and "test_bad_input.py" in stall.stack
    metrics = (await client.get("/metrics")).text
    assert "hotline_event_loop_lag_seconds_bucket" in metrics
    assert "hotline_event_loop_stalls_total" in metrics


# Found by the fuzzer (tests/api/test_schemathesis.py); each was a 500 or an answer outside the spec.


async def test_a_method_a_path_does_not_answer_gets_405_naming_every_method_it_does(
    users: Users, seeded: Context
) -> None:
    admin = await users("admin")
    # One path, three routes: the router alone named only the first one's method.
    assert (await admin.options("/api/customers/1")).headers["allow"] == "DELETE, GET, PATCH"
    assert (await admin.put("/api/users/1", json={})).headers["allow"] == "GET, PATCH"
    # Was a 404 (the web UI's catch-all answered GET): the login exists, for POST.
    login = await admin.get("/api/auth/login")
    assert_problem(login, 405, "method-not-allowed")
    assert login.headers["allow"] == "POST"
    # Was a 422 for customer "export": the export exists, for GET.
    export = await admin.patch("/api/customers/export", json={})
    assert_problem(export, 405, "method-not-allowed")
    assert export.headers["allow"] == "GET"
    assert (await admin.options("/api/telephony/prompts/hold-music")).headers["allow"] == "PUT"
    # A malformed id on a path no other route answers still names the field.
    assert_problem(await admin.get("/api/users/abc"), 422, "validation-failed", field="path.user_id")


async def test_a_stay_spanning_centuries_is_refused_before_its_nights_are_counted(
    users: Users, seeded: Context
) -> None:
    agent = await users("agent1")
    # With no open hotel in the city, the 340,000 nights went to the database as parameters (500).
    stay = {"arrival": "1094-04-09", "departure": "2026-02-16"}
    for where in ({"city": "火星"}, {"city": "上海"}):
        response = await agent.get("/api/hotels/availability", params={**where, **stay})
        assert_problem(response, 422, "invalid-input", field="query.departure")


async def test_departures_over_millennia_are_refused_before_their_days_are_listed(
    users: Users, seeded: Context
) -> None:
    # Found by the fuzzer: listing 3 million days held the event loop for two seconds.
    admin = await users("admin")
    batch = {"first": "2000-01-01", "last": "9999-12-31", "weekdays": [0], "capacity": 10}
    started = time.perf_counter()
    response = await admin.post("/api/travel/routes/1/departures/batch", json=batch)
    assert_problem(response, 422, "invalid-input", field="body.last")
    assert time.perf_counter() - started < 1


async def test_null_in_a_customer_patch_clears_what_a_customer_may_lack_and_keeps_the_rest(
    users: Users, seeded: Context
) -> None:
    agent = await users("agent1")
    customer_id = (await agent.get("/api/customers", params={"q": "88000001"})).json()[0]["id"]
    nulls = {"name": None, "title": None, "tier": None, "tags": None, "notes": None, "email": None}
    response = await agent.patch(f"/api/customers/{customer_id}", json=nulls)  # was a 500 (NOT NULL)
    assert response.status_code == 200, response.text
    after = response.json()
    assert (after["name"], after["tier"], after["email"]) == ("张伟", "gold", None)


async def test_a_name_with_a_control_character_does_not_break_the_xlsx_export(
    users: Users, seeded: Context
) -> None:
    supervisor = await users("supervisor")
    created = await supervisor.post("/api/customers", json={"name": "陈\x1b静", "city": "杭州"})
    assert created.status_code == 201, created.text
    response = await supervisor.get("/api/customers/export", params={"format": "xlsx", "city": "杭州"})
    assert response.status_code == 200, response.text  # was a 500 (IllegalCharacterError)
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    assert [row[1].value for row in sheet.iter_rows(min_row=2)] == ["陈静"]


async def test_null_in_a_user_patch_keeps_the_account_as_it_was(users: Users, seeded: Context) -> None:
    admin = await users("admin")
    agent5 = next(u for u in (await admin.get("/api/users")).json()["items"] if u["username"] == "agent5")
    response = await admin.patch(f"/api/users/{agent5['id']}", json={"is_active": None, "display_name": None})
    assert response.status_code == 200, response.text  # was a 500 (NOT NULL on is_active)
    assert (response.json()["is_active"], response.json()["display_name"]) == (True, "吴昊")
    await users("agent5")  # signs in: the account is still active


async def test_a_phone_longer_than_its_column_is_refused_naming_the_field(
    users: Users, seeded: Context
) -> None:
    supervisor = await users("supervisor")
    hotel = {"code": "HZ-XH", "name": "英冠酒店杭州西湖店", "city": "杭州", "address": "西湖区", "phone": ""}
    hotel["phone"] = "+" + "0571" * 5  # 21 characters: the pattern took them, PostgreSQL did not (500)
    response = await supervisor.post("/api/hotels", json=hotel)
    assert_problem(response, 422, "validation-failed", field="body.phone")


async def test_a_csv_import_with_a_bare_carriage_return_is_read_not_a_500(
    users: Users, seeded: Context
) -> None:
    agent = await users("agent1")
    csv_file = "姓名,城市\r\n孙丽,杭州\r周强,苏州\n".encode()  # a lone CR ends a row, as in old Mac files
    upload = {"file": ("customers.csv", csv_file, "text/csv")}
    report = await agent.post("/api/customers/import", params={"dry_run": "true"}, files=upload)
    assert report.status_code == 200, report.text  # was a 500 (_csv.Error)
    assert (report.json()["rows"], report.json()["valid"]) == (2, 2)
    too_big = {"file": ("big.csv", ("姓名\n" + "孙" * 200_000).encode(), "text/csv")}
    assert_problem(await agent.post("/api/customers/import", files=too_big), 422, "invalid-input", "file")
