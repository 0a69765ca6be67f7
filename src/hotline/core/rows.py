"""The two things every service does with a row: find it or say so, and change the fields given.

    hotel = await get_or_404(session, Hotel, hotel_id, "hotel")
    room = await get_or_404(session, RoomType, room_id, "room type", where=RoomType.hotel_id == hotel_id)
    changed = apply_partial(hotel, data)          # only the fields the client sent

`get_or_404` raises `NotFound` naming the field (`hotel_id` unless told otherwise), so the problem
details say which id was wrong; `where` adds conditions the row must also meet (it belongs to
this hotel), reported the same way as a missing row, which does not tell a caller whether an id
exists elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.errors import NotFound

T = TypeVar("T")


async def get_or_404(
    session: AsyncSession,
    model: type[T],
    key: Any,
    what: str,
    *,
    field: str | None = None,
    where: ColumnElement[bool] | None = None,
    for_update: bool = False,
    error: type[NotFound] = NotFound,
) -> T:
    """The row of `model` with primary key `key`, or `NotFound` ("No hotel 7", field hotel_id);
    `error` is the domain's own kind of NotFound where it has one (`ticket-not-found`)."""
    if where is None and not for_update:
        row = await session.get(model, key)
    else:
        pk = model.__mapper__.primary_key[0]  # type: ignore[attr-defined]
        query = select(model).where(pk == key)
        if where is not None:
            query = query.where(where)
        if for_update:
            query = query.with_for_update()
        row = await session.scalar(query)
    if row is None:
        raise error(f"No {what} {key}", field=field or f"{what.replace(' ', '_')}_id")
    return row


def apply_partial(
    row: object, data: BaseModel, *, exclude: Iterable[str] = (), only_set: bool = True
) -> dict[str, tuple[Any, Any]]:
    """Copy the fields of `data` onto `row` (only those the client sent, by default) and return
    what changed as {field: (before, after)}; fields in `exclude` are left to the caller."""
    values = data.model_dump(exclude_unset=only_set, exclude=set(exclude))
    changed: dict[str, tuple[Any, Any]] = {}
    for name, value in values.items():
        before = getattr(row, name)
        if before != value:
            setattr(row, name, value)
            changed[name] = (before, value)
    return changed
