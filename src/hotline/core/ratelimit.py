"""Rate limits for the routes anyone may call: so many requests a minute per client address and
kind of route, shared by every node through Redis when `HOTLINE_REDIS_URL` is set.

Each (kind, address) pair is a GCRA bucket ("generic cell rate algorithm", a token bucket kept as
one number): a bucket of `per_minute` requests refilled evenly over the minute, so a client may
send a minute's worth at once and then one request every `60 / per_minute` seconds. The one number
is the theoretical arrival time (TAT) of the client's next request; a request is let through when
`TAT + interval - 60 s <= now` and then moves TAT on by one interval. A refused request moves
nothing, so a client that slows down to the limit gets every request through, and the answer says
exactly when the next one will be (`Retry-After`).

- `MemoryLimiter` keeps the buckets of one process in a dict bounded to `max_keys` (the least
  recently used go first; a bucket whose TAT has passed is as good as none and is dropped).
- `RedisLimiter` runs the same arithmetic in one Lua script per request, atomic across nodes, on
  Redis's clock; a key expires when its bucket is full again. Redis unreachable, each node falls
  back to its own buckets (logged) instead of refusing or letting everything through, and tries
  Redis again `RETRY_SECONDS` later, so requests do not each wait for a connection's timeout.

The address is the socket peer as the app sees it: uvicorn's proxy-headers middleware, installed
by the app with `HOTLINE_TRUSTED_PROXIES` only, replaces it with X-Forwarded-For's client when the
peer is a trusted proxy. An IPv6 address counts by its /64, which one subscriber usually holds.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

import structlog

from hotline.core.errors import HotlineError

if TYPE_CHECKING:
    from hotline.core.config import Settings

log = structlog.get_logger(__name__)

PERIOD = 60.0
"""Limits are per minute."""


class RouteKind(StrEnum):
    """What a public route is for, which decides how often one address may call it."""

    LOGIN = "login"
    """Signing in: guessing passwords from one address (the account lockout covers one user)."""
    LINK = "link"
    """Signed links sent to people: a recording's media, a survey by SMS."""
    CALLBACK = "callback"
    """Gateways calling back (Kannel's delivery reports and incoming SMS, WeChat): one address
    sends everything, so a high limit; also any public route not given another kind."""
    CHAT = "chat"
    """A site's visitors chatting (the web chat widget): each polls for answers every few seconds,
    and a hotel's lobby or an office may put many behind one address."""
    OPEN = "open"
    """Not limited: health probes, metrics, the web UI's files and the API's documents."""

    def per_minute(self, settings: Settings) -> int:
        """The limit the settings give this kind; 0 is none."""
        return {
            RouteKind.LOGIN: settings.rate_limit_login,
            RouteKind.LINK: settings.rate_limit_links,
            RouteKind.CALLBACK: settings.rate_limit_callbacks,
            RouteKind.CHAT: settings.rate_limit_chat,
            RouteKind.OPEN: 0,
        }[self]


class RateLimited(HotlineError):
    code = "rate-limited"
    status = 429
    title = "Too many requests"


def refuse(per_minute: int, wait: float) -> RateLimited:
    """The 429 for a client over `per_minute`, to come back in `wait` seconds (whole, at least 1)."""
    seconds = max(1, math.ceil(wait))
    return RateLimited(
        f"More than {per_minute} requests a minute from this address; try again in {seconds} s",
        reason="too-many-requests-from-address",
        params={"limit": per_minute, "seconds": seconds},
        retry_after=seconds,
    )


def client_key(kind: RouteKind, address: str | None) -> str:
    """The bucket of `address` for `kind`: the address itself, an IPv6 one's /64."""
    where = address or "unknown"
    try:
        ip = ipaddress.ip_address(where)
    except ValueError:
        pass  # a unix socket's path, a test client's name: counted as it is
    else:
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is None:
            where = str(ipaddress.IPv6Network((ip, 64), strict=False))
        elif isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            where = str(ip.ipv4_mapped)
    return f"hotline:ratelimit:{kind.value}:{where}"


class Limiter(Protocol):
    async def hit(self, key: str, per_minute: int) -> float:
        """Counts one request against `key`'s bucket: 0 when it may go on, else the seconds until
        one would be let through (nothing is counted then)."""
        ...

    async def close(self) -> None: ...


class MemoryLimiter:
    """One process's buckets: a dict of TATs in seconds of `clock`, at most `max_keys` of them."""

    def __init__(self, *, max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_keys = max_keys
        self._clock = clock
        self._tat: OrderedDict[str, float] = OrderedDict()

    def __len__(self) -> int:
        return len(self._tat)

    async def hit(self, key: str, per_minute: int) -> float:
        return self.hit_now(key, per_minute)

    def hit_now(self, key: str, per_minute: int) -> float:
        now = self._clock()
        interval = PERIOD / per_minute
        tat = max(self._tat.get(key, now), now)
        allowed_at = tat + interval - PERIOD
        if now < allowed_at:
            return allowed_at - now
        self._tat[key] = tat + interval
        self._tat.move_to_end(key)
        self._evict(now)
        return 0.0

    def _evict(self, now: float) -> None:
        # The front is the least recently hit: drop what has refilled, and beyond the bound, the oldest.
        while self._tat:
            key, tat = next(iter(self._tat.items()))
            if tat > now and len(self._tat) <= self.max_keys:
                return
            del self._tat[key]

    async def close(self) -> None:
        self._tat.clear()


# KEYS[1] the bucket; ARGV[1] the interval, ARGV[2] the period, in ms. Returns 0 (let through) or
# the ms to wait. Redis's own clock, so the nodes' clocks need not agree; TIME in a script is
# allowed since Redis 5 (effects are replicated, not the script).
_GCRA = """
local now = redis.call('TIME')
now = tonumber(now[1]) * 1000 + tonumber(now[2]) / 1000
local interval = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local allowed_at = tat + interval - period
if now < allowed_at then return math.max(1, math.ceil(allowed_at - now)) end
tat = tat + interval
redis.call('SET', KEYS[1], string.format('%.3f', tat), 'PX', math.max(1, math.ceil(tat - now)))
return 0
"""


class RedisLimiter:
    """Buckets in Redis, shared by every node; a node's own buckets while Redis cannot be reached."""

    RETRY_SECONDS = 5.0

    def __init__(
        self, url: str, *, timeout: float = 0.5, clock: Callable[[], float] = time.monotonic
    ) -> None:
        import redis.asyncio as redis

        self._redis = redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        self._script: Any = self._redis.register_script(_GCRA)
        self._clock = clock
        self.fallback = MemoryLimiter(clock=clock)
        self._failing_until: float | None = None

    async def hit(self, key: str, per_minute: int) -> float:
        import redis.exceptions

        if self._failing_until is not None and self._clock() < self._failing_until:
            return self.fallback.hit_now(key, per_minute)
        try:
            waited = await self._script(keys=[key], args=[PERIOD * 1000 / per_minute, PERIOD * 1000])
        except (redis.exceptions.RedisError, OSError) as exc:
            if self._failing_until is None:
                log.warning("rate limits fall back to this node's own counts", error=str(exc))
            self._failing_until = self._clock() + self.RETRY_SECONDS
            return self.fallback.hit_now(key, per_minute)
        if self._failing_until is not None:
            log.info("rate limits are shared through Redis again")
            self._failing_until = None
        return int(waited) / 1000

    async def close(self) -> None:
        await self._redis.aclose()


def create_limiter(redis_url: str | None) -> Limiter:
    return RedisLimiter(redis_url) if redis_url else MemoryLimiter()
