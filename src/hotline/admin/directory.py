"""The staff directory: what other domains may read about users (names, work numbers, whether
they are active), without reading the users table themselves.

These are reads for services that already checked their caller's permission (the contact layer
naming the agent on a call, a wallboard, a dispatcher): they check none of their own and never
return a password hash, sessions or roles.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select

from hotline.admin.models import User
from hotline.core.context import Context


@dataclass(frozen=True)
class Person:
    id: int
    username: str
    display_name: str
    work_number: str
    """工号, "" when the user has none."""
    active: bool

    @property
    def label(self) -> str:
        """How the contact log names them: "003 张三" (the name alone without a work number)."""
        return f"{self.work_number} {self.display_name}".strip()


async def people(
    ctx: Context, ids: Iterable[int] | None = None, *, active: bool | None = None
) -> dict[int, Person]:
    """The users with these ids (every user when None), by id; `active` keeps only active (True)
    or inactive (False) ones."""
    query = select(User.id, User.username, User.display_name, User.work_number, User.is_active)
    if ids is not None:
        wanted = set(ids)
        if not wanted:
            return {}
        query = query.where(User.id.in_(wanted))
    if active is not None:
        query = query.where(User.is_active.is_(active))
    async with ctx.read() as session:
        rows = (await session.execute(query)).all()
    return {
        user_id: Person(user_id, username, name, work or "", bool(is_active))
        for user_id, username, name, work, is_active in rows
    }


async def person(ctx: Context, user_id: int) -> Person | None:
    """One user, or None when there is no such user."""
    return (await people(ctx, [user_id])).get(user_id)
