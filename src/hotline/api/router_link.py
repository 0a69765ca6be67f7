"""Any node of a cluster controls any call: what only the site's router can do is done there.

A request that needs the contact layer (an agent's state, the call on their desk, hold, transfer,
click-to-dial…) answers 503 `voice-node-unavailable` on a node that does not hold the router's
lease. On a cluster node, `RouterForward` catches that answer before it leaves, sends the same
request to the router's node (its address is in Redis, written when it took the lease) and
answers with what the router answered. The router's node checks the session, the permission and
the input again, and audits what it does: nothing is trusted because it was forwarded. A request
that was forwarded once is never forwarded again (`x-hotline-forwarded`), so a lease changing
hands meanwhile gives the caller the 503, never a loop.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

import httpx
import structlog
from redis.exceptions import RedisError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hotline.core.config import Settings

log = structlog.get_logger(__name__)

FORWARDED = b"x-hotline-forwarded"
_UNAVAILABLE = b'"voice-node-unavailable"'
_HOP_BY_HOP = {b"host", b"content-length", b"connection", b"transfer-encoding", b"keep-alive"}
FORWARD_SECONDS = 15.0


def router_key(site: str) -> str:
    return f"hotline:{site}:router:address"


def wallboard_key(site: str) -> str:
    return f"hotline:{site}:wallboard"


WALLBOARD_KEPT_MS = 5000
"""A board older than this is not shown: the router's node stopped computing it."""


def own_address(settings: Settings) -> str:
    return settings.internal_url or f"http://{settings.host}:{settings.port}"


class RouterLink:
    """This node's way to the router's node (created on cluster nodes; None elsewhere)."""

    def __init__(self, settings: Settings) -> None:
        import redis.asyncio as redis

        self.settings = settings
        self.redis = redis.from_url(str(settings.redis_url))
        self.http = httpx.AsyncClient(timeout=FORWARD_SECONDS)

    async def announce(self, epoch: int) -> None:
        """This node took the router's lease: other nodes send it what only the router does."""
        value = {"node": self.settings.node_id, "url": own_address(self.settings), "epoch": epoch}
        await self.redis.set(router_key(self.settings.cluster_name), json.dumps(value))

    async def address(self) -> str | None:
        try:
            raw = await self.redis.get(router_key(self.settings.cluster_name))
        except (RedisError, OSError):
            return None
        if raw is None:
            return None
        value = json.loads(raw)
        return None if value.get("node") == self.settings.node_id else str(value["url"])

    async def share_wallboard(self, board: dict[str, Any]) -> None:
        """The router's node shares the wallboard it computes each second with the other nodes."""
        with contextlib.suppress(RedisError, OSError):
            await self.redis.set(
                wallboard_key(self.settings.cluster_name), json.dumps(board), px=WALLBOARD_KEPT_MS
            )

    async def wallboard(self) -> dict[str, Any] | None:
        try:
            raw = await self.redis.get(wallboard_key(self.settings.cluster_name))
        except (RedisError, OSError):
            return None
        return json.loads(raw) if raw is not None else None

    async def close(self) -> None:
        await self.http.aclose()
        await self.redis.aclose()


class RouterForward:
    def __init__(self, app: ASGIApp, *, link: RouterLink) -> None:
        self.app, self.link = app, link

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or any(name == FORWARDED for name, _ in scope["headers"]):
            await self.app(scope, receive, send)
            return
        body = await _whole_body(receive)
        held: list[Message] = []
        passing = replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:  # after the body: what the client does next (a disconnect)
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def hold(message: Message) -> None:
            nonlocal passing
            if message["type"] == "http.response.start" and message["status"] != 503:
                passing = True
            if passing:
                await send(message)
            else:
                held.append(message)

        await self.app(scope, replay, hold)
        answered = b"".join(m.get("body", b"") for m in held if m["type"] == "http.response.body")
        if not passing and _UNAVAILABLE in answered and await self._forward(scope, body, send):
            return
        for message in held:
            await send(message)

    async def _forward(self, scope: Scope, body: bytes, send: Send) -> bool:
        url = await self.link.address()
        if url is None:
            return False
        headers = [(k, v) for k, v in scope["headers"] if k.lower() not in _HOP_BY_HOP]
        headers.append((FORWARDED, self.link.settings.node_id.encode()))
        if (client := scope.get("client")) is not None:
            headers.append((b"x-forwarded-for", str(client[0]).encode()))
        query = scope.get("query_string", b"").decode("latin-1")
        target = f"{url}{scope['path']}" + (f"?{query}" if query else "")
        pairs = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers]
        try:
            response = await self.link.http.request(scope["method"], target, content=body, headers=pairs)
        except httpx.HTTPError as exc:
            log.warning("router's node unreachable", url=url, error=repr(exc))
            return False
        kept = [
            (k.encode("latin-1"), v.encode("latin-1"))
            for k, v in response.headers.multi_items()
            if k.lower().encode() not in _HOP_BY_HOP and k.lower() != "content-encoding"
        ]
        kept.append((b"content-length", str(len(response.content)).encode()))
        await send({"type": "http.response.start", "status": response.status_code, "headers": kept})
        await send({"type": "http.response.body", "body": response.content, "more_body": False})
        return True


async def _whole_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message: Any = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)
