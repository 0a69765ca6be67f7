"""Users and roles, and one's own account: who may sign in, with which roles and work number,
never leaving the organisation without an active admin.

Check first (permission, input, state), then change data in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.admin import errors
from hotline.admin.auth import check_password_policy, hash_password, verify_password
from hotline.admin.events import UserChanged, UserCreated
from hotline.admin.models import LoginThrottle, User, UserRole, UserSession
from hotline.admin.schemas import (
    MeUpdate,
    PasswordChange,
    UserCreate,
    UserFilter,
    UserUpdate,
)
from hotline.core.clock import as_utc, utcnow
from hotline.core.context import Context
from hotline.core.errors import NotAuthenticated
from hotline.core.permissions import ROLE_CODES, Permission, Role

# ---------------------------------------------------------------- own account


async def get_me(ctx: Context) -> User:
    return await _user(ctx, self_id(ctx))


def self_id(ctx: Context) -> int:
    if ctx.actor.user_id is None:
        raise NotAuthenticated()
    return ctx.actor.user_id


async def update_me(ctx: Context, data: MeUpdate) -> User:
    async with ctx.write() as tx:
        user = await _load_user(tx.session, self_id(ctx))
        if data.display_name is not None:
            user.display_name = data.display_name
        if data.locale is not None:
            user.locale = data.locale
        tx.publish(UserChanged(user_id=user.id))
    return user


async def change_password(ctx: Context, data: PasswordChange) -> None:
    user = await get_me(ctx)
    if not await verify_password(user.password_hash, data.current_password):
        raise errors.WrongPassword(field="body.current_password")
    check_password_policy(ctx.settings, data.new_password, user.username, "body.new_password")
    new_hash = await hash_password(ctx.settings, data.new_password)
    async with ctx.write() as tx:
        user = await _load_user(tx.session, user.id)
        user.password_hash, user.password_changed_at = new_hash, utcnow()
        await _revoke_sessions(tx.session, user.id)
        tx.publish(UserChanged(user_id=user.id))


async def _revoke_sessions(session: AsyncSession, user_id: int) -> None:
    await session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


# ---------------------------------------------------------------- users and roles


def _check_roles(roles: list[str], field: str) -> list[str]:
    unknown = sorted(set(roles) - ROLE_CODES)
    if unknown:
        raise errors.UnknownRole(
            f"Unknown role(s): {', '.join(unknown)}",
            field=field,
            roles=unknown,
            reason="unknown-role",
            params={"value": ", ".join(unknown)},
        )
    return sorted(set(roles))


async def _user(ctx: Context, user_id: int) -> User:
    async with ctx.read() as session:
        return await _load_user(session, user_id)


async def _load_user(session: AsyncSession, user_id: int) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise errors.UserNotFound(
            f"No user with id {user_id}", reason="no-user-id", params={"user_id": user_id}
        )
    return user


def _filtered(query: Select[Any], data: UserFilter) -> Select[Any]:
    if data.q:
        pattern = f"%{data.q.lower()}%"
        query = query.where(
            or_(
                func.lower(User.username).like(pattern),
                func.lower(User.display_name).like(pattern),
                User.work_number.like(pattern),
            )
        )
    if data.role:
        query = query.where(User.id.in_(select(UserRole.user_id).where(UserRole.role == data.role)))
    if data.active is not None:
        query = query.where(User.is_active.is_(data.active))
    return query


@dataclass(frozen=True)
class UserRow:
    user: User
    locked_until: datetime | None


async def list_users(ctx: Context, data: UserFilter) -> tuple[list[UserRow], int]:
    ctx.require(Permission.USERS_READ)
    now = utcnow()
    async with ctx.read() as session:
        total = await session.scalar(_filtered(select(func.count(User.id)), data))
        users = (
            await session.scalars(
                _filtered(select(User), data).order_by(User.username).limit(data.limit).offset(data.offset)
            )
        ).all()
        locks = {
            key.removeprefix("user:"): as_utc(until)
            for key, until in (
                await session.execute(
                    select(LoginThrottle.key, LoginThrottle.locked_until).where(
                        LoginThrottle.key.in_([f"user:{u.username}" for u in users]),
                        LoginThrottle.locked_until > now,
                    )
                )
            ).all()
            if until is not None
        }
    return [UserRow(u, locks.get(u.username)) for u in users], int(total or 0)


async def get_user(ctx: Context, user_id: int) -> User:
    ctx.require(Permission.USERS_READ)
    return await _user(ctx, user_id)


async def create_user(ctx: Context, data: UserCreate) -> User:
    ctx.require(Permission.USERS_WRITE)
    username = data.username.lower()
    roles = _check_roles(data.roles, "body.roles")
    check_password_policy(ctx.settings, data.password, username, "body.password")
    password_hash = await hash_password(ctx.settings, data.password)
    async with ctx.write() as tx:
        if await tx.session.scalar(select(User.id).where(User.username == username)):
            raise errors.UsernameTaken(
                f"Username {username!r} is taken",
                field="body.username",
                reason="username-taken",
                params={"username": repr(username)},
            )
        await _check_work_number(tx.session, data.work_number, None)
        user = User(
            username=username,
            display_name=data.display_name,
            password_hash=password_hash,
            work_number=data.work_number,
            role_links=[UserRole(role=role) for role in roles],
        )
        tx.session.add(user)
        await tx.session.flush()
        tx.publish(UserCreated(user_id=user.id, username=username))
    return user


async def _check_work_number(session: AsyncSession, work_number: str | None, user_id: int | None) -> None:
    if work_number is None:
        return
    owner = await session.scalar(select(User.id).where(User.work_number == work_number))
    if owner is not None and owner != user_id:
        raise errors.WorkNumberTaken(
            f"Work number {work_number} is in use",
            field="body.work_number",
            reason="work-number-use",
            params={"work_number": work_number},
        )


async def _check_not_last_admin(session: AsyncSession, user: User) -> None:
    others = await session.scalar(
        select(func.count(User.id)).where(
            User.id != user.id,
            User.is_active.is_(True),
            User.id.in_(select(UserRole.user_id).where(UserRole.role == Role.ADMIN.value)),
        )
    )
    if not others:
        raise errors.LastAdmin()


async def update_user(ctx: Context, user_id: int, data: UserUpdate) -> User:
    ctx.require(Permission.USERS_WRITE)
    async with ctx.write() as tx:
        user = await _load_user(tx.session, user_id)
        changes = data.model_dump(exclude_unset=True)
        if changes.get("is_active") is False and user.is_active and Role.ADMIN.value in user.roles:
            await _check_not_last_admin(tx.session, user)
        if "work_number" in changes:
            await _check_work_number(tx.session, data.work_number, user.id)
        for key, value in changes.items():
            if key == "work_number" or value is not None:  # null clears a work number, keeps the rest
                setattr(user, key, value)
        if changes.get("is_active") is False:
            await _revoke_sessions(tx.session, user.id)
        tx.publish(UserChanged(user_id=user.id))
    return user


async def set_roles(ctx: Context, user_id: int, roles: list[str]) -> User:
    ctx.require(Permission.USERS_WRITE)
    wanted = _check_roles(roles, "body.roles")
    async with ctx.write() as tx:
        user = await _load_user(tx.session, user_id)
        if Role.ADMIN.value in user.roles and Role.ADMIN.value not in wanted:
            await _check_not_last_admin(tx.session, user)
        user.role_links = [
            *(link for link in user.role_links if link.role in wanted),
            *(UserRole(role=role) for role in wanted if role not in user.roles),
        ]
        tx.publish(UserChanged(user_id=user.id))
    async with ctx.read() as session:
        return await _load_user(session, user_id)


async def reset_password(ctx: Context, user_id: int, new_password: str) -> None:
    ctx.require(Permission.USERS_WRITE)
    user = await _user(ctx, user_id)
    check_password_policy(ctx.settings, new_password, user.username, "body.new_password")
    new_hash = await hash_password(ctx.settings, new_password)
    async with ctx.write() as tx:
        user = await _load_user(tx.session, user_id)
        user.password_hash, user.password_changed_at = new_hash, utcnow()
        await _revoke_sessions(tx.session, user.id)
        throttle = await tx.session.get(LoginThrottle, f"user:{user.username}")
        if throttle is not None:
            await tx.session.delete(throttle)
        tx.publish(UserChanged(user_id=user.id))


def list_roles() -> list[tuple[str, list[str]]]:
    from hotline.core.permissions import ROLE_PERMISSIONS

    return [(role.value, sorted(p.value for p in perms)) for role, perms in ROLE_PERMISSIONS.items()]
