"""Signing in and out, sessions, throttling, passwords and API tokens (SPEC X5)."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import func, select, update

from hotline.admin.models import UserSession
from hotline.core.audit import AuditEntry
from hotline.core.clock import utcnow
from hotline.core.context import Context
from tests.conftest import DEMO_PASSWORD, Users, assert_problem


async def audit_actions(ctx: Context) -> list[str]:
    async with ctx.read() as session:
        return list((await session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq))).all())


async def test_given_demo_agent_when_signing_in_then_cookie_session_carries_agent_permissions(
    client: httpx.AsyncClient, seeded: Context
) -> None:
    response = await client.post("/api/auth/login", json={"username": "agent1", "password": DEMO_PASSWORD})
    assert response.status_code == 200
    cookie = response.headers["set-cookie"]
    assert "hotline_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    me = (await client.get("/api/auth/me")).json()
    assert me["username"] == "agent1" and me["work_number"] == "001" and me["roles"] == ["agent"]
    assert "customers.read" in me["permissions"] and "customers.read_pii" not in me["permissions"]
    assert_problem(await client.get("/api/users"), 403, "permission-denied")

    assert (await client.post("/api/auth/logout")).status_code == 204
    assert_problem(await client.get("/api/auth/me"), 401, "not-authenticated")
    actions = await audit_actions(seeded)
    assert actions[-2:] == ["auth.login", "auth.logout"]


async def test_given_a_stolen_cookie_when_user_logged_out_then_it_no_longer_works(
    users: Users, app: object
) -> None:
    agent = await users("agent2")
    stolen = agent.cookies["hotline_session"]
    await agent.post("/api/auth/logout")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://hotline.test"
    ) as thief:  # type: ignore[arg-type]
        thief.cookies.set("hotline_session", stolen)
        assert_problem(await thief.get("/api/auth/me"), 401, "session-expired")


async def test_given_idle_session_past_timeout_when_used_then_401_session_expired(
    users: Users, seeded: Context
) -> None:
    agent = await users("agent1")
    assert (await agent.get("/api/auth/me")).status_code == 200
    async with seeded.db.write() as session:
        await session.execute(
            update(UserSession).values(
                last_seen_at=utcnow() - timedelta(minutes=seeded.settings.session_idle_minutes + 1)
            )
        )
    assert_problem(await agent.get("/api/auth/me"), 401, "session-expired")


async def test_given_repeated_wrong_passwords_then_account_locks_even_for_right_password_and_is_audited(
    client: httpx.AsyncClient, seeded: Context
) -> None:
    limit = seeded.settings.login_max_failures
    for _ in range(limit):
        assert_problem(
            await client.post("/api/auth/login", json={"username": "agent3", "password": "wrong-guess-1"}),
            401,
            "invalid-credentials",
        )
    locked = await client.post("/api/auth/login", json={"username": "agent3", "password": DEMO_PASSWORD})
    body = assert_problem(locked, 429, "login-locked")
    assert 0 < int(body["retry_after"]) <= seeded.settings.login_lockout_minutes * 60  # type: ignore[call-overload]
    assert locked.headers["retry-after"] == str(body["retry_after"])
    actions = await audit_actions(seeded)
    assert actions.count("auth.login_failed") == limit and "auth.login_locked" in actions
    # Another user on the same machine is not locked out.
    assert (
        await client.post("/api/auth/login", json={"username": "agent4", "password": DEMO_PASSWORD})
    ).status_code == 200


async def test_given_unknown_user_when_signing_in_then_same_answer_as_wrong_password(
    client: httpx.AsyncClient, seeded: Context
) -> None:
    response = await client.post("/api/auth/login", json={"username": "nobody", "password": "whatever-123"})
    assert_problem(response, 401, "invalid-credentials")


async def test_given_disabled_account_then_sign_in_refused_and_open_sessions_end(
    users: Users,
) -> None:
    admin = await users("admin")
    agent = await users("agent5")
    agent_id = (await agent.get("/api/auth/me")).json()["id"]
    assert (await admin.patch(f"/api/users/{agent_id}", json={"is_active": False})).status_code == 200
    assert_problem(await agent.get("/api/auth/me"), 401, "session-expired")
    response = await agent.post("/api/auth/login", json={"username": "agent5", "password": DEMO_PASSWORD})
    assert_problem(response, 403, "account-disabled")


async def test_password_change_enforces_policy_and_signs_out_everywhere(
    users: Users, client: httpx.AsyncClient
) -> None:
    agent = await users("agent1")
    wrong = await agent.post(
        "/api/auth/password",
        json={"current_password": "nope-nope-1", "new_password": "Lotus-garden-77"},
    )
    assert_problem(wrong, 422, "wrong-password", field="body.current_password")
    for weak in ("short1", "onlyletterslong", "agent1-is-me-2024", "password123"):
        response = await agent.post(
            "/api/auth/password", json={"current_password": DEMO_PASSWORD, "new_password": weak}
        )
        assert_problem(response, 422, "password-policy", field="body.new_password")
    ok = await agent.post(
        "/api/auth/password",
        json={"current_password": DEMO_PASSWORD, "new_password": "Lotus-garden-77"},
    )
    assert ok.status_code == 204
    assert_problem(await agent.get("/api/auth/me"), 401, "session-expired")
    assert (
        await client.post("/api/auth/login", json={"username": "agent1", "password": DEMO_PASSWORD})
    ).status_code == 401
    assert (
        await client.post("/api/auth/login", json={"username": "agent1", "password": "Lotus-garden-77"})
    ).status_code == 200


async def test_api_token_acts_as_its_user_until_revoked(users: Users, app: object, seeded: Context) -> None:
    supervisor = await users("supervisor")
    created = await supervisor.post("/api/tokens", json={"name": "wallboard", "expires_in_days": 30})
    assert created.status_code == 201
    token = created.json()["token"]
    assert token.startswith("hl_") and created.json()["prefix"] == token[:10]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://hotline.test"
    ) as integration:  # type: ignore[arg-type]
        headers = {"Authorization": f"Bearer {token}"}
        assert (await integration.get("/api/auth/me", headers=headers)).json()["username"] == "supervisor"
        assert_problem(await integration.get("/api/users", headers=headers), 403, "permission-denied")
        assert_problem(
            await integration.get("/api/auth/me", headers={"Authorization": "Bearer hl_forged"}),
            401,
            "not-authenticated",
        )
        assert_problem(
            await integration.get("/api/auth/me", headers={"Authorization": "Bearer nonsense"}),
            401,
            "not-authenticated",
        )
        listed = (await supervisor.get("/api/tokens")).json()
        assert [t["name"] for t in listed] == ["wallboard"] and "token" not in listed[0]
        assert (await supervisor.delete(f"/api/tokens/{listed[0]['id']}")).status_code == 204
        assert_problem(await integration.get("/api/auth/me", headers=headers), 401, "session-expired")
    async with seeded.read() as session:
        secrets_in_audit = await session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.after["token_hash"].as_string() != "***")
        )
    assert secrets_in_audit == 0


async def test_a_session_revoked_on_another_node_stops_working_here_at_once(
    users: Users, seeded: Context, app: object
) -> None:
    """The session cache serves a known session without a query, but never past a revocation."""
    from hotline.admin.events import SessionRevoked
    from hotline.core import security

    state = app.state.hotline  # type: ignore[attr-defined]
    state.settings.session_cache_seconds = 60
    agent = await users("agent2")
    assert (await agent.get("/api/auth/me")).status_code == 200
    secret = agent.cookies["hotline_session"]
    async with seeded.db.write() as session:  # the other node's logout, as its database write
        await session.execute(update(UserSession).values(revoked_at=utcnow()))
    assert (await agent.get("/api/auth/me")).status_code == 200  # cached: no query
    await state.bus.publish(SessionRevoked(token_hash=security.digest(secret)))  # its event
    await state.bus.drain()
    assert_problem(await agent.get("/api/auth/me"), 401, "session-expired")
