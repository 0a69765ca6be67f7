"""Bad input gets a 4xx problem-details answer and changes nothing."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
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
