"""PostgreSQL sessions: a read runs without a transaction and never writes; a pooled connection
whose server went away (a restart, a dropped line) is replaced before a request uses it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from hotline.core import db as database
from hotline.core.context import Context
from hotline.crm.models import Customer


async def test_a_read_has_no_transaction_and_writes_nothing(ctx: Context) -> None:
    if ctx.db.is_sqlite:
        pytest.skip("PostgreSQL's autocommit reads")
    async with ctx.db.read() as session:
        # no BEGIN was sent: each statement is its own transaction, so two see different clocks
        first = await session.scalar(text("SELECT now()"))
        assert await session.scalar(text("SELECT now()")) != first
        before = await session.scalar(select(func.count(Customer.id)))
        session.add(Customer(name="只读会话里的客户"))
        await session.scalar(select(func.count(Customer.id)))  # no autoflush in a read
    async with ctx.db.read() as session:
        assert await session.scalar(select(func.count(Customer.id))) == before
    async with ctx.db.read(transaction=True) as session:  # asked for: one transaction
        first = await session.scalar(text("SELECT now()"))
        assert await session.scalar(text("SELECT now()")) == first


async def test_a_connection_the_server_dropped_is_replaced_before_use(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    if ctx.db.is_sqlite:
        pytest.skip("PostgreSQL's pool")
    async with ctx.db.read() as doomed, ctx.db.read() as other:  # the server ends one, as a restart would
        dropped = await doomed.scalar(text("SELECT pg_backend_pid()"))
        assert await other.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": dropped})
    monkeypatch.setattr(database, "IDLE_PING", 0.0)  # as if it had sat idle
    for _ in range(3):  # every pooled connection is tried; none fails a request
        async with ctx.db.read() as session:
            assert await session.scalar(text("SELECT 1")) == 1
    async with ctx.db.write() as session:
        assert await session.scalar(text("SELECT 1")) == 1
