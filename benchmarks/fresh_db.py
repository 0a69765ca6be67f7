"""A fresh, migrated database for a benchmark run (a new SQLite file, or an emptied PostgreSQL
schema): the one way the benchmarks start from nothing."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from hotline.core.db import Database
from hotline.core.migrate import upgrade


async def fresh(url: str) -> Database:
    if url.startswith("sqlite"):
        Path(url.split(":///", 1)[1]).unlink(missing_ok=True)  # noqa: ASYNC240 - before anything runs
    db = Database(url)
    if url.startswith("postgresql"):
        async with db.write() as session:
            await session.execute(text("DROP SCHEMA public CASCADE"))
            await session.execute(text("CREATE SCHEMA public"))
    await upgrade(db)
    return db
