"""One holder at a time across nodes: a lease in Redis, renewed while the holder lives.

`Leadership` keeps trying to take the lease (`SET NX PX`); whoever gets it is told `elected(epoch)`
and renews it every `renew` seconds. Each taking increments the lease's *epoch*, a fencing token
the holder stamps on what it commands, so whoever acts on the commands can refuse an older
holder's. A holder that could not renew for `ttl − renew` seconds is told `deposed()` before
anyone else can take the lease: a holder paused or cut off from Redis stops acting on its own,
before its successor starts. A holder that dies simply stops renewing; another node takes over
within `ttl` + `retry` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import structlog
from redis.exceptions import RedisError

log = structlog.get_logger(__name__)

_TAKE = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  local epoch = redis.call('INCR', KEYS[2])
  local now = redis.call('TIME')
  local floor = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
  if epoch < floor then
    redis.call('SET', KEYS[2], floor)
    epoch = floor
  end
  return epoch
end
return 0
"""
"""The epoch never goes back, even when Redis restarted empty: it is at least Redis's clock in
milliseconds, and one more than the last otherwise."""
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_GIVE_UP = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class Leadership:
    def __init__(
        self,
        redis: Any,
        name: str,
        holder: str,
        *,
        elected: Callable[[int], Coroutine[Any, Any, None]],
        deposed: Callable[[], Awaitable[None]],
        ttl: float = 2.0,
        renew: float = 0.5,
        retry: float = 0.1,
    ) -> None:
        if not 0 < renew < ttl / 2:
            raise ValueError("renew must be under half the lease")
        self.redis, self.key, self.epoch_key = redis, f"hotline:lease:{name}", f"hotline:lease:{name}:epoch"
        self.holder = holder
        self._elected, self._deposed = elected, deposed
        self.ttl, self.renew, self.retry = ttl, renew, retry
        self.epoch: int | None = None
        """The epoch this node holds the lease at (None: not the holder)."""
        self._task: asyncio.Task[None] | None = None
        self._taking_over: asyncio.Task[None] | None = None
        """`elected` runs beside the renewals: a slow start must not let the lease lapse."""

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"lease-{self.key}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self.epoch is not None:
            await self._step_down()
            with contextlib.suppress(RedisError, OSError):
                await self.redis.eval(_GIVE_UP, 1, self.key, self.holder)  # the next one need not wait

    async def holder_now(self) -> str | None:
        value = await self.redis.get(self.key)
        return value.decode() if isinstance(value, bytes) else value

    async def _run(self) -> None:
        renewed_at = 0.0
        while True:
            try:
                if self.epoch is None:
                    epoch = int(
                        await self.redis.eval(
                            _TAKE, 2, self.key, self.epoch_key, self.holder, int(self.ttl * 1000)
                        )
                    )
                    if epoch:
                        renewed_at = time.monotonic()
                        self.epoch = epoch
                        log.info("lease taken", lease=self.key, epoch=epoch, holder=self.holder)
                        self._taking_over = asyncio.create_task(
                            self._elected(epoch), name=f"elected-{self.key}"
                        )
                elif await self._renew():
                    renewed_at = time.monotonic()
                else:
                    log.warning("lease lost to another holder", lease=self.key)
                    await self._step_down()
            except (RedisError, OSError) as exc:
                log.warning("lease: Redis unreachable", lease=self.key, error=repr(exc))
            if self.epoch is not None and time.monotonic() - renewed_at > self.ttl - self.renew:
                log.warning("lease not renewed in time: stepping down", lease=self.key)
                await self._step_down()
            await asyncio.sleep(self.renew if self.epoch is not None else self.retry)

    async def _renew(self) -> bool:
        return bool(await self.redis.eval(_RENEW, 1, self.key, self.holder, int(self.ttl * 1000)))

    async def _step_down(self) -> None:
        self.epoch = None
        if self._taking_over is not None:
            self._taking_over.cancel()
            await asyncio.gather(self._taking_over, return_exceptions=True)
            self._taking_over = None
        try:
            await self._deposed()
        except Exception as exc:
            log.error("lease: stepping down failed", lease=self.key, error=repr(exc))
