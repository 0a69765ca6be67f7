"""The site's registrar in one place: every voice node sees every phone's registration.

A REGISTER reaches any node (through the edge, with a Path: edge.py), which authenticates it as
always and keeps the binding in its registrar; this store writes it to Redis as well (a hash per
extension, a field per contact) and says so on a channel, and every node reloads that extension
into its own registrar's memory. `Registrar.contacts()` (and so the engine's `reachable()`) stays
a synchronous look-up in memory, on every node.

Shared are bindings another node can use: through an edge (a Path), or over UDP straight to the
phone. A browser's WebSocket, or a phone's own TCP connection, ends at one node and is never
shared: browsers keep connecting straight to a node (docs/voice.md).

The digest nonces' key is the site's as well (kept in Redis), so a phone may answer one node's
challenge to another.

Redis restarts (it keeps nothing on disk here): a node that starts, or reconnects, first writes
back what its memory holds, then reloads the whole site, and tells the others to reload too. While
Redis is away, registrations go on in each node's memory and are written back on reconnection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from collections.abc import Callable, Sequence
from typing import Any

import structlog

from hotline.voice.sip.edge import path_peer
from hotline.voice.sip.registrar import Binding, Registrar
from hotline.voice.sip.transport import Peer

log = structlog.get_logger(__name__)

NONCE_KEY = "hotline:sip:nonce-key"
"""The key every voice node signs digest nonces with: a challenge from one node is answered to
whichever node the edge sends the next request to."""
KEY = "hotline:sip:bindings:"
CHANNEL = "hotline:sip:bindings"
EVERYTHING = "*"
"""Published when a node wrote back its memory: everyone reloads every extension."""
RETRY_SECONDS = 0.5


class SiteBindings:
    def __init__(
        self,
        url: str,
        registrar: Registrar,
        node_id: str = "",
        *,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        import redis.asyncio as redis

        self._redis: Any = redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)
        self.registrar, self.node_id, self.wall_clock = registrar, node_id, wall_clock
        self._listener: asyncio.Task[None] | None = None
        self._writes: set[asyncio.Task[None]] = set()
        self.loaded = asyncio.Event()
        """Set once the site's registrations are in memory (again, after each reconnection)."""
        self.reloads = 0
        registrar.shared = self.changed

    async def start(self) -> None:
        self._listener = asyncio.create_task(self._listen())
        with contextlib.suppress(TimeoutError):  # Redis away: calls still come in; we catch up
            await asyncio.wait_for(self.loaded.wait(), 10)

    async def stop(self) -> None:
        if self._writes:
            await asyncio.wait(self._writes, timeout=2)
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
        self.registrar.shared = None
        await self._redis.aclose()

    # ------------------------------------------------------------------ writing

    def changed(self, extension: str, made: Sequence[Binding], removed: Sequence[str], cleared: bool) -> None:
        """The registrar's hook: a registration changed `extension` on this node."""
        if not (made or removed or cleared):
            return
        task = asyncio.ensure_future(self._write(extension, made, removed, cleared))
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def _write(
        self, extension: str, made: Sequence[Binding], removed: Sequence[str], cleared: bool
    ) -> None:
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                key = KEY + extension
                if cleared:
                    pipe.delete(key)
                if removed:
                    pipe.hdel(key, *removed)
                for binding in made:
                    pipe.hset(key, binding.contact, self._encode(binding))
                if made:
                    pipe.expire(key, self._longest(made))
                pipe.publish(CHANNEL, extension)
                await pipe.execute()
        except (OSError, ConnectionError, TimeoutError) as exc:  # kept in memory; written back later
            log.warning("site registrar: Redis unreachable, binding kept on this node", error=str(exc))
        except Exception as exc:  # redis' own errors: a write must not kill the loop
            log.warning("site registrar: write failed", error=repr(exc))

    def _longest(self, bindings: Sequence[Binding]) -> int:
        now = self.registrar.clock()
        return max(1, max(round(b.expires_at - now) for b in bindings))

    def _encode(self, binding: Binding) -> str:
        expires = self.wall_clock() + (binding.expires_at - self.registrar.clock())
        peer = binding.peer
        return json.dumps(
            {"expires": expires, "peer": [peer.transport, peer.host, peer.port], "path": list(binding.path),
             "call_id": binding.call_id, "node": self.node_id}
        )  # fmt: skip

    def _decode(self, contact: str, raw: str | bytes) -> Binding | None:
        try:
            data = json.loads(raw)
            left = float(data["expires"]) - self.wall_clock()
            path = tuple(str(p) for p in data.get("path", []))
            transport, host, port = data["peer"]
            peer = (path_peer(path[0]) if path else None) or Peer(str(transport), str(host), int(port))
        except (ValueError, KeyError, TypeError):
            log.warning("site registrar: undecodable binding dropped", contact=contact)
            return None
        if left <= 0:
            return None
        return Binding(contact, self.registrar.clock() + left, peer, str(data.get("call_id", "")), path)

    # ------------------------------------------------------------------ reading

    async def lookup(self, extension: str) -> None:
        """The registrar's miss: the extension's bindings from Redis, if it is there now."""
        with contextlib.suppress(Exception):  # Redis away: the call is given up as before
            await asyncio.wait_for(self._load(extension), 0.5)

    async def _listen(self) -> None:
        while True:
            try:
                await self._follow()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis restarted or the network blinked
                if self.loaded.is_set():
                    log.warning("site registrar: lost Redis, reconnecting", error=repr(exc))
                self.loaded.clear()
                await asyncio.sleep(RETRY_SECONDS)

    async def _follow(self) -> None:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(CHANNEL)  # before loading: no change falls in between
            await self._share_nonce_key()
            await self._write_back()
            await self._load_all()
            self.loaded.set()
            self.reloads += 1
            while True:
                message = await pubsub.get_message(timeout=1.0)
                if message is None:
                    continue
                data = message.get("data")
                extension = data.decode() if isinstance(data, bytes) else str(data)
                if extension == EVERYTHING:
                    await self._load_all()
                else:
                    await self._load(extension)
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()

    async def _share_nonce_key(self) -> None:
        await self._redis.set(NONCE_KEY, secrets.token_bytes(32), nx=True)
        key = await self._redis.get(NONCE_KEY)
        if key:
            self.registrar.authority.rekey(bytes(key))

    async def _write_back(self) -> None:
        """What this node's memory holds goes to Redis where Redis lacks it (after a restart)."""
        wrote = False
        async with self._redis.pipeline(transaction=False) as pipe:
            for extension in self.registrar.extensions_bound():
                live = [b for b in self.registrar.contacts(extension) if not b.local]
                for binding in live:
                    pipe.hsetnx(KEY + extension, binding.contact, self._encode(binding))
                if live:
                    pipe.expire(KEY + extension, self._longest(live), nx=True)
                    wrote = True
            if wrote:
                pipe.publish(CHANNEL, EVERYTHING)
            await pipe.execute()

    async def _load_all(self) -> None:
        found: set[str] = set()
        async for key in self._redis.scan_iter(match=KEY + "*", count=500):
            extension = (key.decode() if isinstance(key, bytes) else str(key))[len(KEY) :]
            found.add(extension)
            await self._load(extension)
        for extension in set(self.registrar.extensions_bound()) - found:
            self.registrar.replace(extension, [])  # gone from the site (unregistered, expired)

    async def _load(self, extension: str) -> None:
        raw: dict[Any, Any] = await self._redis.hgetall(KEY + extension)
        bindings = []
        for field, value in raw.items():
            contact = field.decode() if isinstance(field, bytes) else str(field)
            binding = self._decode(contact, value)
            if binding is not None:
                bindings.append(binding)
        self.registrar.replace(extension, bindings)
