"""The audit log records every write and is tamper-evident (SPEC X2)."""

from __future__ import annotations

import asyncio
import os
import subprocess

from sqlalchemy import delete, select, update

from hotline.admin import users
from hotline.admin.models import Department
from hotline.admin.schemas import UserCreate
from hotline.core.audit import AuditEntry, verify_chain
from hotline.core.context import Context
from tests.test_cli import cli_env


async def chain(ctx: Context) -> tuple[bool, int | None]:
    async with ctx.read() as session:
        result = await verify_chain(session)
    return result.ok, result.first_bad_seq


async def test_writes_are_captured_with_before_and_after_and_the_chain_verifies(
    ctx: Context,
) -> None:
    async with ctx.write() as tx:
        tx.session.add(Department(code="spa", name="水疗中心", kind="department"))
    async with ctx.write() as tx:
        department = await tx.session.scalar(select(Department).where(Department.code == "spa"))
        assert department is not None
        department.name = "康体中心"
    async with ctx.write() as tx:
        await tx.session.delete(department)
    async with ctx.read() as session:
        entries = (await session.scalars(select(AuditEntry).order_by(AuditEntry.seq))).all()
    assert [e.action for e in entries] == [
        "departments.create",
        "departments.update",
        "departments.delete",
    ]
    assert entries[0].before is None and entries[0].after["name"] == "水疗中心"  # type: ignore[index]
    assert entries[1].before["name"] == "水疗中心" and entries[1].after["name"] == "康体中心"  # type: ignore[index]
    assert entries[2].after is None and entries[2].actor_name == "test"
    assert await chain(ctx) == (True, None)


async def test_a_rolled_back_write_leaves_no_audit_entry(ctx: Context) -> None:
    try:
        async with ctx.write() as tx:
            tx.session.add(Department(code="ghost", name="幽灵部门", kind="department"))
            await tx.session.flush()
            raise RuntimeError("abort")
    except RuntimeError:
        pass
    async with ctx.read() as session:
        assert (await session.scalars(select(AuditEntry))).all() == []


async def test_editing_or_removing_an_entry_is_detected(ctx: Context) -> None:
    for i in range(5):
        async with ctx.write() as tx:
            tx.session.add(Department(code=f"d{i}", name=f"部门{i}", kind="department"))
    assert await chain(ctx) == (True, None)

    async with ctx.db.write() as session:  # bypasses the audit on purpose: an attacker with DB access
        await session.execute(update(AuditEntry).where(AuditEntry.seq == 3).values(actor_name="someone-else"))
    assert await chain(ctx) == (False, 3)

    async with ctx.db.write() as session:
        await session.execute(delete(AuditEntry).where(AuditEntry.seq == 3))
    assert await chain(ctx) == (False, 3)


async def test_cli_verify_exits_non_zero_on_a_tampered_log(ctx: Context) -> None:
    async with ctx.write() as tx:
        tx.session.add(Department(code="x", name="x", kind="department"))
    env = {**os.environ, **cli_env(ctx)}
    unanchored = subprocess.run(
        ["hotline", "audit", "verify"], env=env, capture_output=True, text=True, check=False
    )
    assert unanchored.returncode == 1 and "[no-checkpoints]" in unanchored.stderr
    taken = subprocess.run(
        ["hotline", "audit", "checkpoint"], env=env, capture_output=True, text=True, check=False
    )
    assert taken.returncode == 0 and "checkpoint 1: entry 1" in taken.stdout, taken.stderr
    good = subprocess.run(
        ["hotline", "audit", "verify"], env=env, capture_output=True, text=True, check=False
    )
    assert good.returncode == 0 and "1 entries verified against 1 checkpoint(s)" in good.stdout
    async with ctx.db.write() as session:
        await session.execute(update(AuditEntry).values(after={"name": "forged"}))
    bad = subprocess.run(["hotline", "audit", "verify"], env=env, capture_output=True, text=True, check=False)
    assert bad.returncode == 1 and "broken at entry 1" in bad.stderr
    assert "audit trail does not verify" in bad.stderr


async def test_concurrent_writers_keep_one_unbroken_chain(ctx: Context) -> None:
    async def create(i: int) -> None:
        await users.create_user(
            ctx,
            UserCreate(
                username=f"clerk{i}",
                display_name=f"Clerk {i}",
                password="Orchid-lane-42",
                roles=["agent"],
            ),
        )

    await asyncio.gather(*(create(i) for i in range(12)))
    ok, bad = await chain(ctx)
    assert (ok, bad) == (True, None)
    async with ctx.read() as session:
        seqs = list((await session.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq))).all())
    assert seqs == list(range(1, len(seqs) + 1)) and len(seqs) == 24  # a user row and a role row each


async def test_sensitive_read_is_recorded(ctx: Context) -> None:
    async with ctx.write() as tx:
        tx.audit("customers.read_pii", "customers", 42, after={"fields": ["id_number"]})
    async with ctx.read() as session:
        entry = await session.scalar(select(AuditEntry))
    assert entry is not None and (entry.action, entry.entity_id) == ("customers.read_pii", "42")
