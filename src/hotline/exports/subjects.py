"""What can be exported: a registry of subjects, each a name, a permission, its columns and a
source of rows that pages by keyset. Wiring a new export is one small function in its domain:

    @subject("tickets", Permission.TICKETS_READ, TicketFilters, ("工单", "Tickets"), COLUMNS)
    async def tickets(ctx: Context, filters: TicketFilters) -> Source:
        return Keyset(select(Ticket.id, Ticket.number, ...).where(...), Ticket.id)

and its module named in the domain's `exports` (domains.py). The rows come out raw — the
real phone, a UTC datetime, a Decimal — and the writer (exports/writer.py) masks each personal
column (`Column.personal`) unless the job may show it, and shows dates in the site's zone.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict
from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import InstrumentedAttribute

from hotline.core.context import Context
from hotline.core.permissions import Permission
from hotline.core.privacy import Kind

ColumnType = Literal["text", "int", "number", "datetime", "date", "bool"]
Row = tuple[Any, ...]
F = TypeVar("F", bound=BaseModel)


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    en: str
    type: ColumnType = "text"
    personal: Kind | None = None
    """Masked as every view shows it unless the export is with personal data."""
    width: int = 14

    def header(self, locale: str) -> str:
        return self.en if locale.startswith("en") else self.zh


class Source(Protocol):
    """The rows of one export: how many, then the pages in a stable order."""

    async def count(self, ctx: Context) -> int: ...
    def pages(self, ctx: Context, size: int) -> AsyncIterator[list[Row]]: ...


@dataclass
class Keyset:
    """A select whose first column is a unique, ordered key (an id): read a page at a time, each
    `WHERE key > last` in a short read of its own, so no transaction stays open for the whole
    export and page 1,000 costs what page 1 does. The key is not exported; `shape` may turn each
    page into the exported rows (names looked up for ids, lists joined)."""

    query: Select[*tuple[Any, ...]]
    key: ColumnElement[Any] | InstrumentedAttribute[Any]
    shape: Callable[[Context, list[Row]], Any] | None = None
    """async (ctx, rows without the key) -> rows, or None to export the rows as read."""

    async def count(self, ctx: Context) -> int:
        async with ctx.read() as session:
            return int(await session.scalar(select(func.count()).select_from(self.query.subquery())) or 0)

    async def pages(self, ctx: Context, size: int) -> AsyncIterator[list[Row]]:
        after: Any = None
        while True:
            page = self.query.order_by(self.key).limit(size)
            if after is not None:
                page = page.where(self.key > after)
            async with ctx.read() as session:
                rows = [tuple(r) for r in (await session.execute(page)).all()]
            if not rows:
                return
            after = rows[-1][0]
            body = [r[1:] for r in rows]
            yield body if self.shape is None else await self.shape(ctx, body)
            if len(rows) < size:
                return


@dataclass
class Computed:
    """Rows computed whole for the requester, once (a report, a month's sheet: tens or hundreds of
    lines, not millions), then written a page at a time."""

    compute: Callable[[Context], Awaitable[list[Row]]]
    _rows: list[Row] | None = None

    async def _computed(self, ctx: Context) -> list[Row]:
        if self._rows is None:
            self._rows = await self.compute(ctx)
        return self._rows

    async def count(self, ctx: Context) -> int:
        return len(await self._computed(ctx))

    async def pages(self, ctx: Context, size: int) -> AsyncIterator[list[Row]]:
        found = await self._computed(ctx)
        for start in range(0, len(found), size):
            yield found[start : start + size]


SourceFn = Callable[[Context, F], Awaitable[Source]]


class NoFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class Subject:
    name: str
    permission: Permission
    filters: type[BaseModel]
    """Validates the job's filters (extra keys refused), so a bad one is a 422 naming it."""
    title: tuple[str, str]
    """(zh-CN, en): the sheet's name and the file's."""
    columns: tuple[Column, ...]
    source: Callable[[Context, Any], Awaitable[Source]]
    personal: bool = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "personal", any(c.personal for c in self.columns))

    def sheet_name(self, locale: str) -> str:
        return (self.title[1] if locale.startswith("en") else self.title[0])[:31]


_SUBJECTS: dict[str, Subject] = {}


def subject(
    name: str,
    permission: Permission,
    filters: type[F],
    title: tuple[str, str],
    columns: Sequence[Column],
) -> Callable[[SourceFn[F]], SourceFn[F]]:
    """Register `async fn(ctx, filters) -> Source` as the export `name`."""

    def register(fn: SourceFn[F]) -> SourceFn[F]:
        if name in _SUBJECTS and _SUBJECTS[name].source is not fn:
            raise ValueError(f"export subject {name!r} registered twice")
        _SUBJECTS[name] = Subject(name, permission, filters, title, tuple(columns), fn)
        return fn

    return register


def _loaded() -> dict[str, Subject]:
    """The registry, once every domain's export modules (domains.py, `exports`) are imported."""
    from hotline import domains  # the domains' list sits above every domain

    for module in domains.export_modules():
        importlib.import_module(module)
    return _SUBJECTS


def named(name: str) -> Subject | None:
    return _loaded().get(name)


def every() -> list[Subject]:
    return sorted(_loaded().values(), key=lambda s: s.name)
