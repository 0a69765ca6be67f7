"""Schemathesis over every route, as a supervisor, an agent and an admin: no input gets a 5xx,
every answer matches the OpenAPI schema. `make fuzz` runs the same, deeper and with a new seed
(the harness is tests/api/fuzzing.py; docs/platform.md, "Fuzzing", says how to replay a finding).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select, text

from hotline import demo
from hotline.admin import auth
from hotline.admin import tokens as admin_tokens
from hotline.admin.models import User
from hotline.admin.schemas import TokenCreate
from hotline.api.app import create_app
from hotline.core.compute import ComputePool
from hotline.core.context import Actor, Context
from hotline.core.db import Database
from hotline.core.events import InProcessBus
from hotline.core.permissions import ROLE_PERMISSIONS, Role
from tests.api import fuzzing
from tests.api.test_route_permissions import declared
from tests.conftest import PG_URL, free_port, make_settings, reset_postgres

USERS = ("supervisor", "agent1", "admin")
SELF_LOCKING = ("/api/users/{user_id}", "/api/users/{user_id}/roles", "/api/users/{user_id}/password")


@dataclass
class Target:
    app: fuzzing.ASGIApp
    tokens: dict[str, str]
    pinned: dict[str, dict[str, dict[str, Any]]]
    """Per user: path -> parameters fixed so the run cannot lock that user out."""
    ids: dict[str, list[Any]]
    access: dict[str, str]
    """"METHOD /path" -> the permission the route declares, or "signed-in" / "public"."""
    profile: fuzzing.Profile


def operations_for(user: str, access: dict[str, str]) -> list[str]:
    """The supervisor tries every route; an agent what an agent may call; the admin what only an
    admin may call (everything else it would repeat the supervisor's run)."""
    open_to_all = {"signed-in", "public"}
    if user == "supervisor":
        return sorted(access)
    if user == "agent1":
        allowed = ROLE_PERMISSIONS[Role.AGENT] | open_to_all
        return sorted(op for op, needs in access.items() if needs in allowed)
    supervisor = ROLE_PERMISSIONS[Role.SUPERVISOR] | open_to_all
    return sorted(op for op, needs in access.items() if needs not in supervisor)


async def arrange(url: str, settings: Any) -> tuple[dict[str, str], dict[str, Any], dict[str, list[Any]]]:
    db = Database(url)
    pool = ComputePool.from_settings(settings)  # the demo's chat picture is read in a worker
    ctx = Context(settings, db, InProcessBus(), Actor.system("test"), pool=pool)
    await pool.start()
    try:
        await demo.load(ctx, hotel_days=30)
    finally:
        await pool.stop()
    tokens, pinned = {}, {}
    async with db.read() as session:
        users = {u.username: u for u in await session.scalars(select(User).where(User.username.in_(USERS)))}
        expendable = await session.scalar(select(User.id).where(User.username == "agent5"))
    for username, user in users.items():
        actor = ctx.as_actor(auth.actor_of(user, "cli"))
        _, tokens[username] = await admin_tokens.create_token(actor, TokenCreate(name="fuzz"))
        spare, _ = await admin_tokens.create_token(actor, TokenCreate(name="spare"))
        pinned[username] = {
            "/api/tokens/{token_id}": {"token_id": spare.id},
            **{path: {"user_id": expendable} for path in SELF_LOCKING},
        }
    ids: dict[str, list[Any]] = {}
    async with db.read() as session:
        for name, sources in fuzzing.ID_SOURCES.items():
            ids[name] = []
            for source in (sources,) if isinstance(sources, str) else sources:
                table, column = source.split(".")
                # Names from the constant above, never from input.
                sql = f"SELECT DISTINCT {column} FROM {table} WHERE {column} IS NOT NULL ORDER BY 1 LIMIT 40"  # noqa: S608
                ids[name] += [value for value in await session.scalars(text(sql)) if value not in ids[name]]
    await db.dispose()
    return tokens, pinned, ids


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory, _template: str) -> Iterator[Target]:
    if PG_URL:
        reset_postgres()
        url = PG_URL
    else:
        path = tmp_path_factory.mktemp("fuzz") / "hotline.db"
        shutil.copy(_template.split(":///", 1)[1], path)
        url = f"sqlite+aiosqlite:///{path}"
    # The voice role too: agent states, calls and monitoring then run their real code. Sessions
    # are cached as deployed (the tests' default reads them every time): twice the requests.
    settings = make_settings(url, roles=["api", "voice"], sip_port=free_port(), session_cache_seconds=5.0)
    tokens, pinned, ids = asyncio.run(arrange(url, settings))
    app = create_app(settings)
    access = {
        f"{method} {route.split(' ', 1)[1]}": next(iter(needs))
        for route, needs in declared(app).items()
        for method in route.split(" ", 1)[0].split(",")
        if route.split(" ", 1)[0] != "WS"
    }
    profile = fuzzing.Profile.from_env()
    try:
        yield Target(fuzzing.as_served(app), tokens, pinned, ids, access, profile)  # type: ignore[arg-type]
    finally:
        fuzzing.stop_app()


# Not judged by the stall monitor (tests/conftest.py): the fuzzer sends the largest bodies the
# schema allows (a megabyte of JSON parsed and validated is a few hundred milliseconds of CPU on a
# slow machine, and the collections it triggers traverse hypothesis's whole heap), while its own
# generation holds the GIL beside the app's loop. CI failed twice on such a stall, in the SQLite
# run and then the PostgreSQL one. What a request may cost the loop is measured where the heap is
# a node's: benchmarks/heavy_requests.py.
@pytest.mark.blocks_the_loop
@pytest.mark.parametrize("user", USERS)
def test_no_input_gets_a_server_error_or_an_answer_outside_the_schema(target: Target, user: str) -> None:
    operations = operations_for(user, target.access)
    started = time.monotonic()
    outcome = fuzzing.run(
        target.app,
        user,
        target.tokens[user],
        target.ids,
        target.pinned[user],
        operations,
        target.profile,
        # The agent's invalid inputs would meet the same validation as the supervisor's.
        coverage="positive" if user == "agent1" else "all",
    )
    took = time.monotonic() - started
    tested = {operation for operation, _ in outcome.statuses}
    unreached = ", ".join(outcome.operations_never_answered_2xx()) or "none"
    print(
        f"\n{user}: {len(tested)}/{len(operations)} operations, {outcome.statuses.total()} requests "
        f"in {took:.0f}s (profile {target.profile.name}, seed {target.profile.seed}); "
        f"{outcome.replayed} kept failure(s) replayed, {outcome.saved} new one(s) saved; "
        f"never answered 2xx: {unreached}"
    )
    report = "\n".join(str(finding) for finding in outcome.findings[:40])
    assert not outcome.findings, (
        f"{len(outcome.findings)} finding(s) as {user} (seed {target.profile.seed}):\n{report}"
    )
    assert not outcome.errors, "\n".join(outcome.errors)
    if not os.environ.get("HOTLINE_FUZZ_ONLY"):
        assert len(tested) >= len(operations) * 0.95, sorted(set(operations) - tested)
