"""Tickets' canned responses join the conversations' phrases in one store (migration
0442cannedmerge), on the engine the suite runs on: every phrase is kept — a ticket's title, text,
type and whether it is active — and is offered on tickets; a chat's phrases stay chats'; the old
table is gone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from hotline.core import migrate
from hotline.core.db import Database, UTCDateTime
from tests.conftest import PG_URL

BEFORE = "0442assesschats"
TICKETS = [
    ("已受理", "您好，您的问题我们已受理，工单号{number}。", "", True),
    ("投诉致歉", "非常抱歉给您带来不便。", "complaint", True),
    ("一个很长的快捷回复标题：用于说明上门维修已完成并经客户确认正常使用", "维修完成。", "work_order", False),
]
tickets = sa.table(
    "ticket_canned_responses",
    sa.column("title", sa.String()), sa.column("body", sa.String()), sa.column("type_code", sa.String()),
    sa.column("active", sa.Boolean()),
)  # fmt: skip
phrases = sa.table(
    "canned_responses",
    sa.column("title", sa.String()), sa.column("text", sa.String()), sa.column("category", sa.String()),
    sa.column("sort_order", sa.Integer()), sa.column("active", sa.Boolean()),
    sa.column("updated_at", UTCDateTime(timezone=True)),
)  # fmt: skip


@pytest.fixture
async def empty(tmp_path: Path) -> AsyncIterator[Database]:
    """A database of its own, migrated to nothing yet (PostgreSQL: a database made for the test)."""
    if not PG_URL:
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'migration.db'}")
        yield db
        await db.dispose()
        return
    name = "hotline_canned_migration"
    admin = Database(PG_URL)
    async with admin.engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))
        await conn.execute(sa.text(f"CREATE DATABASE {name}"))
    db = Database(make_url(PG_URL).set(database=name).render_as_string(hide_password=False))
    try:
        yield db
    finally:
        await db.dispose()
        async with admin.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))
        await admin.dispose()


@pytest.mark.blocks_the_loop  # alembic runs synchronously
async def test_every_tickets_canned_response_is_kept_in_the_one_store_and_offered_on_tickets(
    empty: Database,
) -> None:
    await migrate.upgrade(empty, BEFORE)
    async with empty.engine.begin() as conn:
        keys = ("title", "body", "type_code", "active")
        await conn.execute(sa.insert(tickets), [dict(zip(keys, t, strict=True)) for t in TICKETS])
        chat = {"title": "开场问候", "text": "{客户称呼}您好", "category": "greeting", "sort_order": 0,
                "active": True, "updated_at": datetime.now(UTC)}  # fmt: skip
        await conn.execute(sa.insert(phrases), [chat])

    await migrate.upgrade(empty)
    async with empty.engine.connect() as conn:
        rows = (await conn.execute(sa.text(
            "SELECT title, text, category, used_in, ticket_type, active FROM canned_responses ORDER BY id"
        ))).all()  # fmt: skip
        tables = await conn.run_sync(lambda sync: sa.inspect(sync).get_table_names())
    assert [tuple(r) for r in rows] == [
        ("开场问候", "{客户称呼}您好", "greeting", "conversations", "", True),
        ("已受理", "您好，您的问题我们已受理，工单号{number}。", "other", "tickets", "", True),
        ("投诉致歉", "非常抱歉给您带来不便。", "complaint", "tickets", "complaint", True),
        (TICKETS[2][0], "维修完成。", "other", "tickets", "work_order", False),
    ]
    assert "ticket_canned_responses" not in tables
    assert await migrate.drift(empty) == []
