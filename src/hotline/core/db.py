"""Database plumbing: declarative base, engine, and the read/write units of work.

One model, two engines: SQLite (WAL, foreign keys on) for the embedded mode and
PostgreSQL in production. Writes go through `Database.write()`, which on SQLite
serialises writers in-process and takes the file's write lock up front
(`BEGIN IMMEDIATE`), so a read-then-write never fails half-way with
SQLITE_BUSY; on PostgreSQL it is an ordinary transaction.

On PostgreSQL a read (`Database.read()`) runs its statements without a transaction (autocommit):
under READ COMMITTED each statement saw the newest committed rows anyway, and a read is spared the
BEGIN and ROLLBACK round trips — most requests are reads, and a web chat's window asks every few
seconds. A read that needs one transaction (a `SET LOCAL`, one snapshot) asks for it:
`read(transaction=True)`. Read sessions never flush: an object changed for display is not written.
A pooled connection is pinged before use only when it sat idle for `IDLE_PING` seconds (the driver's
ping is three round trips); one that failed is thrown away and another taken. A server that
restarts within those seconds fails the statement that meets a dead connection, and SQLAlchemy then
renews every pooled connection.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, DateTime, MetaData, Numeric, event, func, select
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, InstrumentedAttribute
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator

from hotline.core.clock import as_utc

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware UTC in, aware UTC out, on both engines (SQLite keeps naive UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use aware UTC datetimes")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        return None if value is None else as_utc(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this mapping
        dt.datetime: UTCDateTime(),
        Decimal: Numeric(18, 4),
        dict[str, Any]: JSON(),
        list[Any]: JSON(),
    }


class Database:
    """Owns the engine; hands out read sessions and serialised write sessions."""

    def __init__(self, url: str, *, echo: bool = False, pool_size: int | None = None) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            # aiosqlite runs each connection on its own thread; a few connections serve many
            # concurrent requests faster than many threads fighting over the GIL.
            kwargs |= {"pool_size": pool_size or 4, "max_overflow": 0, "pool_timeout": 60}
        else:
            kwargs |= {"pool_size": pool_size or 10, "max_overflow": 20}
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._reads = self._sessions
        if not self.is_sqlite:
            _ping_when_idle(self.engine)
            reads = self.engine.execution_options(isolation_level="AUTOCOMMIT")
            self._reads = async_sessionmaker(reads, expire_on_commit=False, autoflush=False)
        self._write_lock = asyncio.Lock()
        if self.is_sqlite:
            _configure_sqlite(self.engine)
            path = url.split(":///", 1)[-1]
            if path and not path.startswith(":memory:"):
                Path(path).parent.mkdir(parents=True, exist_ok=True)

    @asynccontextmanager
    async def read(self, *, transaction: bool = False) -> AsyncIterator[AsyncSession]:
        """A session to read with; on PostgreSQL without a transaction unless asked for one."""
        async with (self._sessions if transaction else self._reads)() as session:
            yield session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A transaction that commits on success and rolls back on any error."""
        if not self.is_sqlite:
            async with self._sessions() as session, session.begin():
                yield session
            return
        async with self._write_lock, self.engine.connect() as conn:
            conn = await conn.execution_options(hotline_begin="BEGIN IMMEDIATE")
            async with AsyncSession(bind=conn, expire_on_commit=False) as session, session.begin():
                yield session

    async def dispose(self) -> None:
        await self.engine.dispose()


IDLE_PING = 10.0
"""Seconds a pooled PostgreSQL connection may sit unused before it is pinged on its next use"""


def _ping_when_idle(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _fresh(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info["used_at"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkin")
    def _returned(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info["used_at"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _ping(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        if time.monotonic() - record.info.get("used_at", 0.0) < IDLE_PING:
            return
        try:
            dbapi_connection.ping()
        except Exception as exc:  # the server restarted or the line dropped: the pool takes another
            raise DisconnectionError("a pooled connection did not answer its ping") from exc


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",
            "foreign_keys=ON",
            "busy_timeout=10000",
            "synchronous=NORMAL",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(conn.get_execution_options().get("hotline_begin", "BEGIN"))


async def next_number(session: AsyncSession, column: InstrumentedAttribute[str], first: int) -> int:
    """The next of a running number read out on the phone (member, reservation, group): one above
    the highest stored, starting at `first`. Two writers may draw the same one; the column's unique
    constraint decides and the caller retries."""
    highest = await session.scalar(select(func.max(column)))
    return max(first, int(highest) + 1 if highest else first)
