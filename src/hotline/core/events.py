"""Domain events and the event bus.

Services queue events on their transaction; they are published only once it has
committed (see `Context.write`). The bus fans events out to subscribers on every
node: in-process by default, over Redis pub/sub when `HOTLINE_REDIS_URL` is set.
The bus is for fan-out (desktop, wallboard, timeline refresh); work that must
happen exactly once goes through jobs or an outbox, not through a subscriber.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, ClassVar, Protocol

import structlog
from pydantic import BaseModel, ConfigDict, Field

from hotline.core.clock import utcnow

log = structlog.get_logger(__name__)

_EVENT_TYPES: dict[str, type[Event]] = {}


class Event(BaseModel):
    """A fact that happened. Subclasses set `name` (`<domain>.<what_happened>`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: ClassVar[str]
    durable: ClassVar[bool] = False
    """Durable events are also stored in the publishing transaction (core.durable) for work
    that must not be lost, such as the messages notify sends."""
    occurred_at: datetime = Field(default_factory=utcnow)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        existing = _EVENT_TYPES.get(cls.name)
        if existing is not None and existing.__qualname__ != cls.__qualname__:
            raise TypeError(f"event name {cls.name!r} is used by {existing.__qualname__}")
        _EVENT_TYPES[cls.name] = cls

    @staticmethod
    def type_named(name: str) -> type[Event] | None:
        return _EVENT_TYPES.get(name)

    def to_json(self) -> str:
        return json.dumps({"name": self.name, "data": self.model_dump(mode="json")})

    @staticmethod
    def from_json(raw: str | bytes) -> Event:
        message = json.loads(raw)
        event_type = Event.type_named(message["name"])
        if event_type is None:
            raise ValueError(f"unknown event {message['name']!r}")
        return event_type.model_validate(message["data"])


Handler = Callable[[Event], Awaitable[None]]


class EventBus(Protocol):
    def subscribe(self, event_type: type[Event] | None, handler: Handler) -> None: ...
    async def publish(self, event: Event) -> None: ...
    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def drain(self) -> None: ...


class LocalDispatcher:
    """Runs subscribers as owned tasks so a slow or failing one never blocks the publisher."""

    def __init__(self) -> None:
        self._handlers: dict[str | None, list[Handler]] = defaultdict(list)
        self._tasks: set[asyncio.Task[None]] = set()

    def subscribe(self, event_type: type[Event] | None, handler: Handler) -> None:
        self._handlers[None if event_type is None else event_type.name].append(handler)

    def dispatch(self, event: Event) -> None:
        for handler in [*self._handlers.get(event.name, ()), *self._handlers.get(None, ())]:
            task = asyncio.create_task(self._run(handler, event))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _run(handler: Handler, event: Event) -> None:
        try:
            await handler(event)
        except Exception:
            # not `event=`: structlog's first argument is named so (a second one was a TypeError)
            log.exception("event handler failed", event_name=event.name, handler=repr(handler))

    async def drain(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def cancel_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)


class InProcessBus(LocalDispatcher):
    async def publish(self, event: Event) -> None:
        self.dispatch(event)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        await self.drain()


class RedisBus(LocalDispatcher):
    """Publishes to a Redis channel; every node (this one too) dispatches what it receives."""

    CHANNEL = "hotline:events"

    def __init__(self, url: str, *, channel: str = CHANNEL) -> None:
        super().__init__()
        import redis.asyncio as redis

        self._redis = redis.from_url(url)
        self._channel = channel
        self._listener: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def start(self) -> None:
        self._listener = asyncio.create_task(self._listen())
        await asyncio.wait_for(self._ready.wait(), timeout=10)

    async def _listen(self) -> None:
        await subscribe_forever(self._redis, self._channel, self._received, self._ready.set)

    def _received(self, data: bytes | str) -> None:
        try:
            event = Event.from_json(data)
        except (ValueError, KeyError, TypeError):
            log.warning("dropped undecodable event", raw=data)
            return
        self.dispatch(event)

    async def publish(self, event: Event) -> None:
        from redis.exceptions import RedisError

        try:
            await self._redis.publish(self._channel, event.to_json())
        except (RedisError, OSError) as exc:
            # Fan-out only (see above): while Redis restarts, views miss this event and rebuild
            # from the database when they reconnect; what must happen goes through jobs or outboxes.
            log.warning("event not published: Redis unreachable", event=event.name, error=repr(exc))

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
            self._listener = None
        await self.drain()
        await self._redis.aclose()


async def subscribe_forever(
    redis: Any, channel: str, handle: Callable[[bytes | str], None], ready: Callable[[], None]
) -> None:
    """Hand each message on a Redis pub/sub `channel` to `handle` until cancelled. When Redis goes
    away (a restart), subscribe again once it is back; `ready` is called at each subscription, so
    a listener can catch up on what it may have missed meanwhile."""
    from redis.exceptions import RedisError

    while True:
        pubsub = redis.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(channel)
            ready()
            while True:
                message = await pubsub.get_message(timeout=1.0)
                if message is not None:
                    handle(message["data"])
        except (RedisError, OSError) as exc:
            log.warning("Redis subscription lost, subscribing again", channel=channel, error=repr(exc))
            await asyncio.sleep(0.5)
        finally:
            with contextlib.suppress(RedisError, OSError):
                await pubsub.aclose()


def create_bus(redis_url: str | None) -> EventBus:
    return RedisBus(redis_url) if redis_url else InProcessBus()
