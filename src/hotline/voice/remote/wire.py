"""What travels between the router and the voice nodes, over Redis pub/sub.

Each voice node listens on its own channel (`node_channel`) for commands; the router listens on
`router_channel` for the nodes' heartbeats, new calls, leg events and replies. One publisher per process
keeps its messages in order, so a leg's events and the replies about it arrive as they happened.
Prompts travel once by content (`audio_key`): a command names the audio by its digest. A publish
carries one message; a listener also takes a JSON array of them (publishing what waits together is
not done yet: measured, it saved little next to the cuts of benchmarks/README.md, "Cluster").

Every command carries the router's epoch (the lease's fencing token, `core.lease`): a node
refuses commands from an older router than the newest it has heard from, so a router that lost
its lease cannot offer a call a second time.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
from collections.abc import Callable
from typing import Any

import structlog
from redis.exceptions import RedisError

from hotline.core import tasks
from hotline.core.events import subscribe_forever

log = structlog.get_logger(__name__)

HEARTBEAT_SECONDS = 0.5
"""How often a voice node says it is alive (and how busy it is)."""
NODE_LOST_SECONDS = 3.0
"""A node not heard from for this long is gone: its calls end with the reason `node-lost`."""
HANDOVER_SECONDS = 10.0
"""After a takeover, how long voice nodes offer the new router the calls the old one drove (then
a caller is let go), and how long the new router leaves agents on calls it has not heard of yet."""
REPLY_SECONDS = 10.0
"""How long the router waits for a node's reply to a quick command (answer, hang up, stop)."""
AUDIO_KEEP_SECONDS = 24 * 3600

Message = dict[str, Any]


def router_channel(site: str) -> str:
    """Where the site's router hears its voice nodes (pub/sub ignores Redis databases: the site's
    name keeps two clusters on one Redis apart)."""
    return f"hotline:{site}:voice:router"


def node_channel(site: str, node: str) -> str:
    return f"hotline:{site}:voice:node:{node}"


def audio_key(site: str, digest: str) -> str:
    return f"hotline:{site}:voice:audio:{digest}"


def digest(audio: bytes) -> str:
    return hashlib.blake2b(audio, digest_size=16).hexdigest()


def encode(message: Message) -> str:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


def decode(raw: bytes | str) -> list[Message | None]:
    """The messages of one publish (an object, or an array of them): each a JSON object with a
    type (`t`), or None for anything else."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return [None]
    return [_checked(m) for m in data] if isinstance(data, list) else [_checked(data)]


def _checked(message: Any) -> Message | None:
    if not isinstance(message, dict) or not isinstance(message.get("t"), str):
        return None
    return message


class Publisher:
    """Publishes messages in the order they were given, from one connection, off the caller's
    path (`send` never waits)."""

    def __init__(self, redis: Any) -> None:
        self._redis = redis
        self._queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="voice-wire-publisher")

    @property
    def backlog(self) -> int:
        return self._queue.qsize()

    def send(self, channel: str, message: Message) -> None:
        self._queue.put_nowait((channel, encode(message)))

    async def _run(self) -> None:
        while True:
            channel, data = await self._queue.get()
            await self._publish(channel, data)
            self._queue.task_done()

    async def _publish(self, channel: str, data: str) -> None:
        while True:
            try:
                await self._redis.publish(channel, data)
                return
            except (RedisError, OSError) as exc:  # Redis restarting: the messages wait
                log.warning("voice wire: publish failed, retrying", error=repr(exc))
                await asyncio.sleep(0.2)

    async def stop(self) -> None:
        if self._task is not None:
            # what was sent before stopping still goes out (a node's last words)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._queue.join(), 1.0)
            await tasks.stop(self._task)
            self._task = None


async def listen(
    redis: Any, channel: str, handle: Callable[[Message], None], ready: Callable[[], None]
) -> None:
    """Deliver each message on `channel` to `handle` until cancelled, across Redis restarts."""

    def decoded(data: bytes | str) -> None:
        for message in decode(data):
            if message is None:
                log.warning("voice wire: dropped an undecodable message", channel=channel)
                continue
            try:
                handle(message)
            except Exception as exc:  # one bad message must not cost the others of its publish
                log.error("voice wire: a message could not be handled", kind=message["t"], error=repr(exc))

    await subscribe_forever(redis, channel, decoded, ready)
