"""Accounts: login and sessions, API tokens, users and roles, and the audit log viewer.

Check first (permission, input, state), then change data in one transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.admin import errors
from hotline.admin.events import SessionRevoked, UserChanged, UserCreated
from hotline.admin.models import ApiToken, LoginThrottle, User, UserRole, UserSession
from hotline.admin.schemas import (
    AuditFilter,
    MeUpdate,
    PasswordChange,
    TokenCreate,
    UserCreate,
    UserFilter,
    UserUpdate,
)
from hotline.core import security
from hotline.core.audit import AuditEntry
from hotline.core.clock import as_utc, utcnow
from hotline.core.config import Settings
from hotline.core.context import Actor, Context
from hotline.core.db import Database
from hotline.core.errors import NotAuthenticated, SessionExpired
from hotline.core.events import Event, EventBus
from hotline.core.permissions import ROLE_CODES, Permission, Role, permissions_for

TOKEN_PREFIX = "hl_"  # noqa: S105 - a marker, not a secret

# ---------------------------------------------------------------- passwords


async def _hash(settings: Settings, password: str) -> str:
    # Argon2 is deliberately slow; keep it off the event loop the voice plane shares.
    return await asyncio.to_thread(
        security.hash_password,
        password,
        time_cost=settings.argon2_time_cost,
        memory_kib=settings.argon2_memory_kib,
    )


async def _verify(password_hash: str, password: str) -> bool:
    return await asyncio.to_thread(security.verify_password, password_hash, password)


def check_password_policy(settings: Settings, password: str, username: str, field: str) -> None:
    problems = security.password_problems(
        password, username=username, min_length=settings.password_min_length
    )
    if problems:
        raise errors.PasswordPolicy("The password " + "; ".join(problems), field=field, problems=problems)


# ---------------------------------------------------------------- login and sessions


def _throttle_keys(username: str, ip: str | None) -> list[tuple[str, int]]:
    """Per username, and per address with a higher bar: a whole call center may share one IP."""
    return [(f"user:{username.lower()}", 1), *([(f"ip:{ip}", 10)] if ip else [])]


async def _locked_until(session: AsyncSession, keys: list[str], now: datetime) -> datetime | None:
    rows = await session.scalars(
        select(LoginThrottle.locked_until).where(
            LoginThrottle.key.in_(keys), LoginThrottle.locked_until > now
        )
    )
    until = [as_utc(value) for value in rows if value is not None]
    return max(until) if until else None


async def _count_failure(
    session: AsyncSession, settings: Settings, keys: list[tuple[str, int]], now: datetime
) -> datetime | None:
    window = timedelta(minutes=settings.login_failure_window_minutes)
    locked: datetime | None = None
    for key, factor in keys:
        row = await session.get(LoginThrottle, key)
        if row is None:
            row = LoginThrottle(key=key, failures=0, window_started_at=now)
            session.add(row)
        if as_utc(row.window_started_at) + window < now:
            row.failures, row.window_started_at, row.locked_until = 0, now, None
        row.failures += 1
        if row.failures >= settings.login_max_failures * factor:
            row.locked_until = now + timedelta(minutes=settings.login_lockout_minutes)
            row.failures, row.window_started_at = 0, now
            locked = row.locked_until
    return locked


@dataclass(frozen=True)
class LoginResult:
    secret: str
    user: User
    expires_at: datetime


async def login(ctx: Context, username: str, password: str, *, user_agent: str | None = None) -> LoginResult:
    settings, now = ctx.settings, utcnow()
    keys = _throttle_keys(username, ctx.ip)
    async with ctx.read() as session:
        locked = await _locked_until(session, [key for key, _ in keys], now)
        user = await session.scalar(select(User).where(User.username == username.lower()))
    if locked is not None:
        raise errors.LoginLocked(retry_after=max(1, int((locked - now).total_seconds())))

    valid = await _verify(user.password_hash if user else security.DUMMY_HASH, password)
    if user is None or not valid:
        async with ctx.write() as tx:
            locked = await _count_failure(tx.session, settings, keys, now)
            tx.audit(
                "auth.login_failed",
                "users",
                user.id if user else None,
                after={"username": username},
            )
            if locked:
                tx.audit(
                    "auth.login_locked",
                    "users",
                    user.id if user else None,
                    after={"username": username, "until": locked.isoformat()},
                )
        raise errors.InvalidCredentials()
    if not user.is_active:
        raise errors.AccountDisabled()

    secret = security.new_secret()
    expires_at = now + timedelta(hours=settings.session_max_hours)
    async with ctx.as_actor(actor_of(user, "session")).write() as tx:
        tx.session.add(
            UserSession(
                token_hash=security.digest(secret),
                user_id=user.id,
                created_at=now,
                last_seen_at=now,
                expires_at=expires_at,
                ip=ctx.ip,
                user_agent=(user_agent or "")[:255] or None,
            )
        )
        await tx.session.execute(update(User).where(User.id == user.id).values(last_login_at=now))
        throttle = await tx.session.get(LoginThrottle, keys[0][0])
        if throttle is not None:
            await tx.session.delete(throttle)
        tx.audit("auth.login", "users", user.id, after={"username": user.username})
    return LoginResult(secret, user, expires_at)


async def logout(ctx: Context, secret: str) -> None:
    token_hash = security.digest(secret)
    async with ctx.write() as tx:
        result = await tx.session.execute(
            update(UserSession)
            .where(UserSession.token_hash == token_hash, UserSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        if result.rowcount:  # type: ignore[attr-defined]
            tx.audit("auth.logout", "users", ctx.actor.user_id)
        tx.publish(SessionRevoked(token_hash=token_hash))


def actor_of(user: User, via: str) -> Actor:
    return Actor(
        user_id=user.id,
        username=user.username,
        roles=frozenset(user.roles),
        permissions=permissions_for(user.roles),
        display_name=user.display_name,
        via=via,
        locale=user.locale,
        work_number=user.work_number,
    )


class Authenticator:
    """Turns a session cookie or bearer token into an `Actor`, with a short in-process cache.

    The cache keeps authenticated reads off the database; it is invalidated at once on
    this node and, through the event bus, on every other node when a session is revoked
    or a user's access changes.
    """

    def __init__(self, settings: Settings, db: Database, bus: EventBus) -> None:
        self.settings, self.db = settings, db
        self._cache: dict[str, tuple[float, Actor, datetime]] = {}
        self._loading: dict[str, asyncio.Future[Actor]] = {}
        self._refreshing: set[asyncio.Task[None]] = set()
        bus.subscribe(SessionRevoked, self._on_revoked)
        bus.subscribe(UserChanged, self._on_access_changed)

    async def _on_revoked(self, event: Event) -> None:
        if isinstance(event, SessionRevoked):
            self._cache.pop(event.token_hash, None)

    async def _on_access_changed(self, event: Event) -> None:
        if isinstance(event, UserChanged):
            self.forget_user(event.user_id)

    def forget_user(self, user_id: int) -> None:
        for key in [k for k, (_, actor, _) in self._cache.items() if actor.user_id == user_id]:
            self._cache.pop(key, None)

    # An entry older than the cache time is still served while one background task reloads it,
    # so requests never wait on the database for a known session; past this many cache times
    # it is no longer trusted and the request waits for the reload.
    STALE_FACTOR = 6

    def _fresh(self, key: str) -> tuple[Actor | None, bool]:
        """The cached actor (None if absent or too old) and whether it should be reloaded."""
        hit = self._cache.get(key)
        if hit is None:
            return None, True
        fetched, actor, expires_at = hit
        age, ttl = time.monotonic() - fetched, self.settings.session_cache_seconds
        if utcnow() >= expires_at or age > ttl * self.STALE_FACTOR:
            self._cache.pop(key, None)
            return None, True
        return actor, age > ttl

    async def _resolve(self, key: str, load: Callable[[str], Awaitable[Actor]]) -> Actor:
        """From the cache, or loaded once however many requests ask at the same moment."""
        actor, stale = self._fresh(key)
        if actor is not None:
            if stale and key not in self._loading:
                task = asyncio.create_task(self._refresh(key, load))
                self._refreshing.add(task)
                task.add_done_callback(self._refreshing.discard)
            return actor
        pending = self._loading.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        return await self._reload(key, load)

    async def _reload(self, key: str, load: Callable[[str], Awaitable[Actor]]) -> Actor:
        future: asyncio.Future[Actor] = asyncio.get_running_loop().create_future()
        self._loading[key] = future
        try:
            actor = await load(key)
        except BaseException as exc:
            self._cache.pop(key, None)
            future.set_exception(exc)
            future.exception()  # retrieved here, so an unwaited failure is not reported twice
            raise
        else:
            future.set_result(actor)
            return actor
        finally:
            del self._loading[key]

    async def _refresh(self, key: str, load: Callable[[str], Awaitable[Actor]]) -> None:
        # A failed reload (session revoked, user disabled, database away) has dropped the entry;
        # the next request for it goes to the database and gets the real answer.
        with contextlib.suppress(Exception):
            await self._reload(key, load)

    async def close(self) -> None:
        for task in list(self._refreshing):
            task.cancel()
        await asyncio.gather(*self._refreshing, return_exceptions=True)

    async def session_actor(self, secret: str) -> Actor:
        return await self._resolve(security.digest(secret), self._load_session)

    async def token_actor(self, token: str) -> Actor:
        if not token.startswith(TOKEN_PREFIX):
            raise NotAuthenticated("Malformed API token")
        return await self._resolve(security.digest(token), self._load_token)

    async def _load_session(self, key: str) -> Actor:
        now = utcnow()
        idle = timedelta(minutes=self.settings.session_idle_minutes)
        async with self.db.read() as session:
            row = (
                await session.execute(
                    select(UserSession, User)
                    .join(User, User.id == UserSession.user_id)
                    .where(UserSession.token_hash == key)
                )
            ).first()
        if row is None:
            raise NotAuthenticated()
        user_session, user = row
        if (
            user_session.revoked_at is not None
            or as_utc(user_session.expires_at) <= now
            or as_utc(user_session.last_seen_at) + idle <= now
        ):
            raise SessionExpired()
        if not user.is_active:
            raise errors.AccountDisabled()
        if now - as_utc(user_session.last_seen_at) > timedelta(seconds=60):
            async with self.db.write() as session:
                await session.execute(
                    update(UserSession).where(UserSession.id == user_session.id).values(last_seen_at=now)
                )
        actor = actor_of(user, "session")
        expires = min(as_utc(user_session.expires_at), now + idle)
        self._cache[key] = (time.monotonic(), actor, expires)
        return actor

    async def _load_token(self, key: str) -> Actor:
        now = utcnow()
        async with self.db.read() as session:
            row = (
                await session.execute(
                    select(ApiToken, User)
                    .join(User, User.id == ApiToken.user_id)
                    .where(ApiToken.token_hash == key)
                )
            ).first()
        if row is None:
            raise NotAuthenticated("Unknown API token")
        api_token, user = row
        if api_token.revoked_at is not None or (
            api_token.expires_at is not None and as_utc(api_token.expires_at) <= now
        ):
            raise SessionExpired("API token revoked or expired")
        if not user.is_active:
            raise errors.AccountDisabled()
        if api_token.last_used_at is None or now - as_utc(api_token.last_used_at) > timedelta(minutes=5):
            async with self.db.write() as session:
                await session.execute(
                    update(ApiToken).where(ApiToken.id == api_token.id).values(last_used_at=now)
                )
        actor = actor_of(user, "token")
        expires = as_utc(api_token.expires_at) if api_token.expires_at else now + timedelta(days=1)
        self._cache[key] = (time.monotonic(), actor, expires)
        return actor


# ---------------------------------------------------------------- own account


async def get_me(ctx: Context) -> User:
    return await _user(ctx, _self_id(ctx))


def _self_id(ctx: Context) -> int:
    if ctx.actor.user_id is None:
        raise NotAuthenticated()
    return ctx.actor.user_id


async def update_me(ctx: Context, data: MeUpdate) -> User:
    async with ctx.write() as tx:
        user = await _load_user(tx.session, _self_id(ctx))
        if data.display_name is not None:
            user.display_name = data.display_name
        if data.locale is not None:
            user.locale = data.locale
        tx.publish(UserChanged(user_id=user.id))
    return user


async def change_password(ctx: Context, data: PasswordChange) -> None:
    user = await get_me(ctx)
    if not await _verify(user.password_hash, data.current_password):
        raise errors.WrongPassword(field="body.current_password")
    check_password_policy(ctx.settings, data.new_password, user.username, "body.new_password")
    new_hash = await _hash(ctx.settings, data.new_password)
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
        raise errors.UnknownRole(f"Unknown role(s): {', '.join(unknown)}", field=field, roles=unknown)
    return sorted(set(roles))


async def _user(ctx: Context, user_id: int) -> User:
    async with ctx.read() as session:
        return await _load_user(session, user_id)


async def _load_user(session: AsyncSession, user_id: int) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise errors.UserNotFound(f"No user with id {user_id}")
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
    password_hash = await _hash(ctx.settings, data.password)
    async with ctx.write() as tx:
        if await tx.session.scalar(select(User.id).where(User.username == username)):
            raise errors.UsernameTaken(f"Username {username!r} is taken", field="body.username")
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
        raise errors.WorkNumberTaken(f"Work number {work_number} is in use", field="body.work_number")


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
    new_hash = await _hash(ctx.settings, new_password)
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


# ---------------------------------------------------------------- API tokens


async def list_tokens(ctx: Context) -> list[ApiToken]:
    async with ctx.read() as session:
        return list(
            (
                await session.scalars(
                    select(ApiToken)
                    .where(ApiToken.user_id == _self_id(ctx), ApiToken.revoked_at.is_(None))
                    .order_by(ApiToken.created_at.desc())
                )
            ).all()
        )


async def create_token(ctx: Context, data: TokenCreate) -> tuple[ApiToken, str]:
    secret = TOKEN_PREFIX + security.new_secret()
    expires = utcnow() + timedelta(days=data.expires_in_days) if data.expires_in_days else None
    async with ctx.write() as tx:
        token = ApiToken(
            user_id=_self_id(ctx),
            name=data.name,
            prefix=secret[:10],
            token_hash=security.digest(secret),
            expires_at=expires,
        )
        tx.session.add(token)
        await tx.session.flush()
    return token, secret


async def revoke_token(ctx: Context, token_id: int) -> None:
    async with ctx.write() as tx:
        token = await tx.session.get(ApiToken, token_id)
        if token is None or token.user_id != _self_id(ctx) or token.revoked_at is not None:
            raise errors.TokenNotFound(f"No API token with id {token_id}")
        token.revoked_at = utcnow()
        tx.publish(SessionRevoked(token_hash=token.token_hash))


# ---------------------------------------------------------------- audit log


def _audit_filtered(query: Select[Any], data: AuditFilter) -> Select[Any]:
    if data.actor_id is not None:
        query = query.where(AuditEntry.actor_id == data.actor_id)
    if data.entity_type:
        query = query.where(AuditEntry.entity_type == data.entity_type)
    if data.entity_id:
        query = query.where(AuditEntry.entity_id == data.entity_id)
    if data.action:
        query = query.where(AuditEntry.action.like(f"{data.action}%"))
    if data.since:
        query = query.where(AuditEntry.at >= data.since)
    if data.until:
        query = query.where(AuditEntry.at < data.until)
    return query


async def list_audit(ctx: Context, data: AuditFilter) -> tuple[list[AuditEntry], int]:
    ctx.require(Permission.AUDIT_READ)
    async with ctx.read() as session:
        total = await session.scalar(_audit_filtered(select(func.count(AuditEntry.seq)), data))
        entries = (
            await session.scalars(
                _audit_filtered(select(AuditEntry), data)
                .order_by(AuditEntry.seq.desc())
                .limit(data.limit)
                .offset(data.offset)
            )
        ).all()
    return list(entries), int(total or 0)
