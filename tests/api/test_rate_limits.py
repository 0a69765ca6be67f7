"""Public routes are rate-limited per client address and CORS admits only the configured sites
(issue 24, item 6; docs/security.md, "Rate limits, proxies and CORS").

Each test runs an app of its own with low limits; over a limit the answer is a 429 problem with
Retry-After, in the client's language, and nothing is done. Addresses come from X-Forwarded-For
through the trusted proxy 127.0.0.1 (the test client's address), each test's own, so that the
buckets kept in Redis by one test or run are not another's.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from hotline.admin.models import UserSession
from hotline.api.app import create_app
from hotline.core.audit import AuditEntry
from hotline.core.config import Settings
from hotline.core.context import Context
from hotline.notify.models import ConversationMessage
from tests.conftest import DEMO_PASSWORD, REDIS_URL, Users, assert_problem
from tests.notify.conftest import MO_TOKEN

WIDGET_SITE = "https://www.example-hotel.com"


def an_address() -> str:
    """A documentation address (RFC 3849) in a /64 of this test alone."""
    return f"2001:db8:{secrets.token_hex(2)}:{secrets.token_hex(2)}::1"


@asynccontextmanager
async def node(settings: Settings, **change: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app started with `settings` changed."""
    app = create_app(settings.model_copy(update=change))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hotline.test") as http:
            yield http


async def count(ctx: Context, what: Any, *where: Any) -> int:
    async with ctx.read() as session:
        return int(await session.scalar(select(func.count(what)).where(*where)) or 0)


async def test_given_a_login_limit_when_one_address_keeps_guessing_then_429_and_nothing_recorded(
    seeded: Context, settings: Settings
) -> None:
    guesser, colleague = {"X-Forwarded-For": an_address()}, {"X-Forwarded-For": an_address()}
    wrong = {"username": "agent1", "password": "wrong-password-1"}
    async with node(settings, rate_limit_login=3) as http:
        for _ in range(3):
            assert_problem(
                await http.post("/api/auth/login", json=wrong, headers=guesser), 401, "invalid-credentials"
            )
        failures = await count(seeded, AuditEntry.seq, AuditEntry.action == "auth.login_failed")
        sessions = await count(seeded, UserSession.token_hash)

        refused = await http.post("/api/auth/login", json=wrong, headers=guesser)
        body = assert_problem(refused, 429, "rate-limited")
        # a bucket of 3 a minute refills one every 20 s: that is when the next one gets through
        assert refused.headers["Retry-After"] == "20" and body["retry_after"] == 20
        assert body["reason"] == "too-many-requests-from-address"
        assert body["params"] == {"limit": 3, "seconds": 20}
        assert body["detail"] == "此地址每分钟请求超过 3 次，请 20 秒后再试"
        english = await http.post("/api/auth/login", json=wrong, headers={**guesser, "Accept-Language": "en"})
        assert assert_problem(english, 429, "rate-limited")["detail"] == (
            "More than 3 requests a minute from this address; try again in 20 s"
        )
        # even the right password: not checked, no session, no failure counted towards the lockout
        right = await http.post("/api/auth/login", json={**wrong, "password": DEMO_PASSWORD}, headers=guesser)
        assert_problem(right, 429, "rate-limited")
        assert await count(seeded, AuditEntry.seq, AuditEntry.action == "auth.login_failed") == failures
        assert await count(seeded, UserSession.token_hash) == sessions

        # the limit is the address's: agent1 signs in from elsewhere
        signed_in = await http.post(
            "/api/auth/login", json={**wrong, "password": DEMO_PASSWORD}, headers=colleague
        )
        assert signed_in.status_code == 200, signed_in.text


async def test_given_a_callback_limit_when_kannel_sends_more_replies_then_429_and_the_extra_not_stored(
    seeded: Context, settings: Settings, users: Users
) -> None:
    admin = await users("admin")
    sms = {"kind": "kannel", "config": {"url": "http://127.0.0.1:9/x", "mo_token": MO_TOKEN}}
    assert (await admin.put("/api/notify/gateways/sms", json=sms)).status_code == 200
    gateway = {"X-Forwarded-For": an_address()}
    reply = {"from": "13800138000", "to": "10690000", "text": "几点入住？", "token": MO_TOKEN}
    async with node(settings, rate_limit_callbacks=2) as http:
        for n in (1, 2):
            answer = await http.get(
                "/api/notify/mo/kannel", params={**reply, "id": f"rl-{n}"}, headers=gateway
            )
            assert answer.status_code == 200, answer.text
        third = await http.get("/api/notify/mo/kannel", params={**reply, "id": "rl-3"}, headers=gateway)
        assert_problem(third, 429, "rate-limited")
        assert int(third.headers["Retry-After"]) == 30
        # a delivery report counts against the same gateway's bucket
        report = await http.get("/api/notify/dlr/kannel", params={"id": 1, "token": "t" * 16, "type": 1},
                                headers=gateway)  # fmt: skip
        assert_problem(report, 429, "rate-limited")
    for n, stored in ((1, 1), (2, 1), (3, 0)):
        assert (
            await count(seeded, ConversationMessage.id, ConversationMessage.gateway_id == f"kannel:rl-{n}")
            == stored
        )


async def test_given_the_lowest_limits_then_health_probes_the_web_ui_and_the_api_docs_still_answer(
    settings: Settings,
) -> None:
    async with node(settings, rate_limit_login=1, rate_limit_links=1, rate_limit_callbacks=1) as http:
        for _ in range(30):
            assert (await http.get("/healthz")).status_code == 200
            assert (await http.get("/readyz")).status_code == 200
            assert (await http.get("/")).status_code == 200
            assert (await http.get("/docs")).status_code == 200
        assert (await http.get("/api/outbound/surveys/" + "x" * 20)).status_code in {404, 410}
        assert_problem(await http.get("/api/outbound/surveys/" + "x" * 20), 429, "rate-limited")


async def test_given_signed_links_when_one_address_tries_many_tokens_then_429(settings: Settings) -> None:
    async with node(settings, rate_limit_links=2) as http:
        for n in range(2):
            assert (await http.get(f"/api/quality/media/guess-{n}")).status_code in {400, 403, 404, 410}
        assert_problem(await http.get("/api/quality/media/guess-2"), 429, "rate-limited")
        assert_problem(await http.get("/api/outbound/surveys/" + "y" * 20), 429, "rate-limited")


async def test_x_forwarded_for_is_believed_from_a_trusted_proxy_only(
    seeded: Context, settings: Settings
) -> None:
    wrong = {"username": "nobody", "password": "wrong-password-1"}
    first, second = {"X-Forwarded-For": an_address()}, {"X-Forwarded-For": an_address()}
    async with node(settings, rate_limit_login=1, trusted_proxies=["127.0.0.1"]) as http:
        assert (await http.post("/api/auth/login", json=wrong, headers=first)).status_code == 401
        assert (await http.post("/api/auth/login", json=wrong, headers=second)).status_code == 401
        assert (await http.post("/api/auth/login", json=wrong, headers=first)).status_code == 429
    # no trusted proxy: the header is the client's word and counts for nothing; the peer is limited
    async with node(settings, rate_limit_login=1, trusted_proxies=[]) as http:
        assert (await http.post("/api/auth/login", json=wrong, headers=first)).status_code == 401
        assert (await http.post("/api/auth/login", json=wrong, headers=second)).status_code == 429


@pytest.mark.redis
@pytest.mark.skipif(not REDIS_URL, reason="needs HOTLINE_TEST_REDIS_URL (make test starts redis-server)")
async def test_given_redis_two_nodes_share_one_address_s_limit(seeded: Context, settings: Settings) -> None:
    wrong = {"username": "nobody", "password": "wrong-password-1"}
    guesser = {"X-Forwarded-For": an_address()}
    async with (
        node(settings, redis_url=REDIS_URL, rate_limit_login=2) as a,
        node(settings, redis_url=REDIS_URL, rate_limit_login=2) as b,
    ):
        assert (await a.post("/api/auth/login", json=wrong, headers=guesser)).status_code == 401
        assert (await b.post("/api/auth/login", json=wrong, headers=guesser)).status_code == 401
        refused = await a.post("/api/auth/login", json=wrong, headers=guesser)
        assert_problem(refused, 429, "rate-limited")
        assert 1 <= int(refused.headers["Retry-After"]) <= 30
        assert_problem(await b.post("/api/auth/login", json=wrong, headers=guesser), 429, "rate-limited")


async def test_cors_admits_the_configured_site_only_and_never_with_credentials(settings: Settings) -> None:
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    async with node(settings, cors_origins=[WIDGET_SITE], rate_limit_callbacks=1) as http:
        allowed = await http.options("/api/auth/login", headers={**preflight, "Origin": WIDGET_SITE})
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == WIDGET_SITE
        assert "access-control-allow-credentials" not in allowed.headers
        other = await http.options("/api/auth/login", headers={**preflight, "Origin": "https://evil.example"})
        assert other.status_code == 400 and "access-control-allow-origin" not in other.headers

        health = await http.get("/healthz", headers={"Origin": WIDGET_SITE})
        assert health.headers["access-control-allow-origin"] == WIDGET_SITE
        assert (
            "access-control-allow-origin"
            not in (await http.get("/healthz", headers={"Origin": "https://evil.example"})).headers
        )
        # a widget's page can read a refusal and when to come back
        site = {"Origin": WIDGET_SITE, "X-Forwarded-For": an_address()}
        await http.get("/api/notify/dlr/kannel", params={"id": 1, "token": "t" * 16, "type": 1}, headers=site)
        limited = await http.get("/api/notify/dlr/kannel", params={"id": 1, "token": "t" * 16, "type": 1},
                                 headers=site)  # fmt: skip
        assert limited.status_code == 429
        assert limited.headers["access-control-allow-origin"] == WIDGET_SITE
        assert "retry-after" in limited.headers["access-control-expose-headers"].lower()
    async with node(settings) as http:  # none configured: same origin only
        assert (
            "access-control-allow-origin"
            not in (await http.get("/healthz", headers={"Origin": WIDGET_SITE})).headers
        )
