"""Signing in: passwords, login with throttling, sessions and the authenticator that turns a
session cookie or an API token into the actor of a request (cached briefly, dropped at once when
access changes).

Check first (permission, input, state), then change data in one transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.admin import errors
from hotline.admin.events import SessionRevoked, UserChanged
from hotline.admin.models import ApiToken, LoginThrottle, User, UserSession
from hotline.core import security
from hotline.core.clock import as_utc, utcnow
from hotline.core.config import Settings
from hotline.core.context import Actor, Context
from hotline.core.db import Database
from hotline.core.errors import NotAuthenticated, SessionExpired
from hotline.core.events import Event, EventBus
from hotline.core.permissions import permissions_for

TOKEN_PREFIX = "hl_"  # noqa: S105 - a marker, not a secret

# ---------------------------------------------------------------- passwords


async def hash_password(settings: Settings, password: str) -> str:
    # Argon2 is deliberately slow; keep it off the event loop the voice plane shares.
    return await asyncio.to_thread(
        security.hash_password,
        password,
        time_cost=settings.argon2_time_cost,
        memory_kib=settings.argon2_memory_kib,
    )


async def verify_password(password_hash: str, password: str) -> bool:
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

    valid = await verify_password(user.password_hash if user else security.DUMMY_HASH, password)
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


async def session_ends(ctx: Context, secret: str) -> datetime | None:
    """When the signed-in user's web session behind `secret` ends at the latest (its limit from
    sign-in; idleness may end it sooner); None when it is not a live session of theirs."""
    async with ctx.read() as session:
        user_session = await session.scalar(
            select(UserSession).where(
                UserSession.token_hash == security.digest(secret),
                UserSession.user_id == ctx.actor.user_id,
                UserSession.revoked_at.is_(None),
            )
        )
    if user_session is None or as_utc(user_session.expires_at) <= utcnow():
        return None
    return as_utc(user_session.expires_at)


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


async def actor_by_id(session: AsyncSession, user_id: int, via: str = "system") -> Actor | None:
    """The active user as they act when they are not there (a report mailed on their behalf)."""
    user = await session.get(User, user_id)
    return actor_of(user, via) if user is not None and user.is_active else None


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
            raise NotAuthenticated("Malformed API token", reason="malformed-api-token")
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
            raise NotAuthenticated("Unknown API token", reason="unknown-api-token")
        api_token, user = row
        if api_token.revoked_at is not None or (
            api_token.expires_at is not None and as_utc(api_token.expires_at) <= now
        ):
            raise SessionExpired("API token revoked or expired", reason="api-token-revoked-expired")
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
