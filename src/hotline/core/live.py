"""Who is listening live: each signed-in browser tab holds a queue here, and events that carry
an `audience` (user ids) are put on their queues; events of a `feed` (ClassVar, e.g. "tickets")
go to the tabs subscribed to it. The WebSocket route (api/live.py) drains them.
With the Redis bus every node sees every event, so a user is reached wherever they are connected."""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

from hotline.core.events import Event, EventBus

QUEUE_SIZE = 100


class Hub:
    def __init__(self) -> None:
        self._queues: dict[int, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)
        self._topics: dict[str, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)
        """Sockets that asked for a feed (the wallboard) rather than for their own events."""

    def attach(self, bus: EventBus) -> None:
        bus.subscribe(None, self._on_event)

    async def _on_event(self, event: Event) -> None:
        audience = getattr(event, "audience", None)
        feed = getattr(event, "feed", None)
        if not audience and not feed:
            return
        payload = {"name": event.name, "data": event.model_dump(mode="json")}
        if feed:
            self.push(feed, payload)
        for user_id in audience or ():
            for queue in self._queues.get(user_id, ()):
                with contextlib.suppress(asyncio.QueueFull):  # a stuck tab misses pushes, not data
                    queue.put_nowait(payload)

    @contextlib.asynccontextmanager
    async def connect(self, user_id: int) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_SIZE)
        self._queues[user_id].add(queue)
        try:
            yield queue
        finally:
            self._queues[user_id].discard(queue)
            if not self._queues[user_id]:
                del self._queues[user_id]
            for subscribers in self._topics.values():
                subscribers.discard(queue)

    def subscribe(self, topic: str, queue: asyncio.Queue[dict[str, Any]]) -> None:
        self._topics[topic].add(queue)

    def unsubscribe(self, topic: str, queue: asyncio.Queue[dict[str, Any]]) -> None:
        self._topics.get(topic, set()).discard(queue)

    def listeners(self, topic: str) -> int:
        return len(self._topics.get(topic, ()))

    def push(self, topic: str, payload: dict[str, Any]) -> None:
        """A feed's update to every socket subscribed to it on this node."""
        for queue in self._topics.get(topic, ()):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(payload)

    def connections(self, user_id: int) -> int:
        return len(self._queues.get(user_id, ()))
