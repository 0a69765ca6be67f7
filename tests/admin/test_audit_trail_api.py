"""The audit page: the last signed checkpoint, the last verification, and administrators told
when the log no longer verifies (issue 28)."""

from __future__ import annotations

from sqlalchemy import delete, func, select

from hotline.admin import audit
from hotline.core.audit import AuditEntry
from hotline.core.context import Context
from tests.conftest import Users, assert_problem


async def test_the_page_shows_the_checkpoint_and_a_failed_verification_tells_the_admins(
    users: Users, seeded: Context
) -> None:
    admin = await users("admin")
    empty = (await admin.get("/api/audit/status")).json()
    assert empty["last_checkpoint"] is None and empty["last_verification"] is None
    assert empty["interval_minutes"] == 5

    checkpoint = await audit.take_checkpoint(seeded, "manual")
    assert checkpoint is not None
    verified = await admin.post("/api/audit/verify")
    assert verified.status_code == 200, verified.text
    body = verified.json()
    assert body["ok"] and body["checkpoints"] == 1 and body["entries"] >= checkpoint.seq
    assert body["trigger"] == "ui" and body["actor_name"] == "admin"
    status = (await admin.get("/api/audit/status")).json()
    assert status["last_checkpoint"]["seq"] == checkpoint.seq and status["last_checkpoint"]["genuine"]
    assert status["signing_key_id"] == checkpoint.key and status["last_verification"]["ok"]

    async with seeded.db.write() as session:  # an insider cuts the newest entries off
        await session.execute(delete(AuditEntry).where(AuditEntry.seq > checkpoint.seq - 3))
    failed = (await admin.post("/api/audit/verify")).json()
    assert not failed["ok"] and [p["kind"] for p in failed["problems"]] == ["tail-cut"]
    problem = failed["problems"][0]
    assert f"entries {checkpoint.seq - 2}..{checkpoint.seq} are missing" in problem["message"]
    assert problem["until"] is not None

    inbox = (await admin.get("/api/notify/inbox")).json()
    alarms = [n for n in inbox["items"] if n["kind"] == "audit"]
    assert len(alarms) == 1 and alarms[0]["title"].startswith("审计日志校验失败")
    assert alarms[0]["link"] == "/admin/audit"
    # The same finding again is not a new alarm.
    await admin.post("/api/audit/verify")
    inbox = (await admin.get("/api/notify/inbox")).json()
    assert len([n for n in inbox["items"] if n["kind"] == "audit"]) == 1
    last = (await admin.get("/api/audit/status")).json()["last_verification"]
    assert last["ok"] is False and last["problems"][0]["kind"] == "tail-cut"

    agent = await users("agent1")
    assert_problem(await agent.get("/api/audit/status"), 403, "permission-denied")
    assert_problem(await agent.post("/api/audit/verify"), 403, "permission-denied")
    async with seeded.read() as session:
        assert await session.scalar(select(func.count()).select_from(AuditEntry)) > 0


async def test_the_filters_offer_the_actions_and_objects_the_log_holds(users: Users, seeded: Context) -> None:
    admin = await users("admin")
    kinds = (await admin.get("/api/audit/kinds")).json()
    assert "auth.login" in kinds["actions"] and kinds["actions"] == sorted(set(kinds["actions"]))
    async with seeded.read() as session:
        types = set((await session.scalars(select(AuditEntry.entity_type).distinct())).all())
    assert set(kinds["entity_types"]) == types
    chosen = (await admin.get("/api/audit", params={"action": "auth.login"})).json()
    assert chosen["total"] >= 1 and {e["action"] for e in chosen["items"]} == {"auth.login"}
    assert_problem(await (await users("agent1")).get("/api/audit/kinds"), 403, "permission-denied")
