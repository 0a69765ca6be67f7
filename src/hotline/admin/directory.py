"""Who works here: admin's read functions for the other domains (its models stay inside admin).

Names and work numbers to show, who holds a role or a permission (to tell them something, to
offer them as assignees), a person's department. Each function reads in the caller's session, so
a service sees the staff as its own transaction does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.admin.models import Department, User, UserRole
from hotline.core.context import Context
from hotline.core.permissions import ROLE_PERMISSIONS, Permission, Role


@dataclass(frozen=True)
class Person:
    id: int
    username: str
    name: str
    work_number: str
    active: bool
    department_id: int | None

    @property
    def label(self) -> str:
        """How the contact log names them: "003 张三" (the name alone without a work number)."""
        return f"{self.work_number} {self.name}".strip()


def _person(user: User) -> Person:
    return Person(
        user.id, user.username, user.display_name, user.work_number or "", user.is_active, user.department_id
    )


async def person(session: AsyncSession, user_id: int | None) -> Person | None:
    if user_id is None:
        return None
    user = await session.get(User, user_id)
    return None if user is None else _person(user)


async def people(session: AsyncSession, user_ids: Iterable[int | None]) -> dict[int, Person]:
    wanted = {i for i in user_ids if i is not None}
    if not wanted:
        return {}
    return {u.id: _person(u) for u in await session.scalars(select(User).where(User.id.in_(wanted)))}


async def names(session: AsyncSession, user_ids: Iterable[int | None]) -> dict[int, str]:
    """Display names by user id (the ids that exist)."""
    wanted = {i for i in user_ids if i is not None}
    if not wanted:
        return {}
    rows = await session.execute(select(User.id, User.display_name).where(User.id.in_(wanted)))
    return {int(i): str(n) for i, n in rows.all()}


async def people_words(session: AsyncSession, keys: set[Any] | None) -> dict[Any, str]:
    """People's names for a report's keys (user ids; None: everyone, as a filter's choices)."""
    if keys is None:
        return await all_names(session)
    return await names(session, {int(k) for k in keys if k is not None})


async def all_names(session: AsyncSession) -> dict[int, str]:
    return {int(i): str(n) for i, n in (await session.execute(select(User.id, User.display_name))).all()}


async def active(session: AsyncSession, user_ids: Iterable[int]) -> list[int]:
    """Those of `user_ids` who are active users."""
    wanted = set(user_ids)
    if not wanted:
        return []
    found = await session.scalars(select(User.id).where(User.id.in_(wanted), User.is_active.is_(True)))
    return sorted(found.all())


async def existing(session: AsyncSession, user_ids: Iterable[int]) -> set[int]:
    """Those of `user_ids` that are users (active or not)."""
    wanted = set(user_ids)
    if not wanted:
        return set()
    return set((await session.scalars(select(User.id).where(User.id.in_(wanted)))).all())


async def with_role(session: AsyncSession, role: Role) -> list[tuple[int, str]]:
    """Active users who have `role`: (id, display name), in id order."""
    rows = await session.execute(
        select(User.id, User.display_name)
        .join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == role.value, User.is_active.is_(True))
        .order_by(User.id)
    )
    return [(int(i), str(n)) for i, n in rows.all()]


async def holders_of(session: AsyncSession, permission: Permission) -> list[int]:
    """Active users whose roles grant `permission`."""
    roles = [role.value for role, granted in ROLE_PERMISSIONS.items() if permission in granted]
    rows = await session.scalars(
        select(User.id)
        .join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role.in_(roles), User.is_active.is_(True))
        .distinct()
    )
    return sorted(rows.all())


async def by_handle(session: AsyncSession, handles: Iterable[str]) -> list[int]:
    """Active users named by work number or username (an @mention)."""
    wanted = sorted(set(handles))
    if not wanted:
        return []
    rows = await session.scalars(
        select(User.id).where(
            User.is_active.is_(True), or_(User.work_number.in_(wanted), User.username.in_(wanted))
        )
    )
    return sorted(set(rows.all()))


async def colleagues(session: AsyncSession, user_id: int | None) -> list[int]:
    """The people of the user's department (a team lead's team); the user alone without one."""
    if user_id is None:
        return []
    department = await session.scalar(select(User.department_id).where(User.id == user_id))
    if department is None:
        return [user_id]
    return list((await session.scalars(select(User.id).where(User.department_id == department))).all())


async def department_exists(session: AsyncSession, department_id: int) -> bool:
    return await session.get(Department, department_id) is not None


async def staff(
    ctx: Context, ids: Iterable[int] | None = None, *, active: bool | None = None
) -> dict[int, Person]:
    """The users with these ids (every user when None), by id, read in a session of their own;
    `active` keeps only active (True) or inactive (False) ones. For services that checked their
    caller's permission already (the contact layer naming the agent on a call, a wallboard)."""
    query = select(User)
    if ids is not None:
        wanted = set(ids)
        if not wanted:
            return {}
        query = query.where(User.id.in_(wanted))
    if active is not None:
        query = query.where(User.is_active.is_(active))
    async with ctx.read() as session:
        return {u.id: _person(u) for u in await session.scalars(query)}
