"""Pure ASGI middleware: request ids, access logs, Prometheus metrics, body size limit."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import structlog
from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = structlog.get_logger("hotline.access")

REQUESTS = Counter("hotline_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "hotline_http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def _problem(status: int, code: str, title: str, detail: str, request_id: str) -> bytes:
    import json

    return json.dumps(
        {
            "type": f"https://hotline.dev/problems/{code}",
            "title": title,
            "status": status,
            "detail": detail,
            "code": code,
            "request_id": request_id,
            "errors": [],
        }
    ).encode()


class RequestContextMiddleware:
    def __init__(
        self, app: ASGIApp, *, max_body_bytes: int, large_bodies: tuple[tuple[str, int], ...] = ()
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.large_bodies = tuple((re.compile(path), most) for path, most in large_bodies)
        """Paths (patterns) that take larger bodies than the rest: file uploads."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        supplied = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = supplied if _REQUEST_ID.match(supplied) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"].append((b"x-request-id", request_id.encode()))
            await send(message)

        try:
            most = next(
                (m for path, m in self.large_bodies if path.match(scope["path"])), self.max_body_bytes
            )
            limited = await self._limited(headers, receive, send, request_id, most)
            if limited is not None:
                await self.app(scope, limited, send_wrapper)
            else:
                status = 413
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", "unmatched")
            method = scope["method"]
            REQUESTS.labels(method, route, str(status)).inc()
            LATENCY.labels(method, route).observe(elapsed)
            log.info(
                "request",
                method=method,
                path=scope["path"],
                status=status,
                ms=round(elapsed * 1000, 1),
            )

    async def _limited(
        self, headers: dict[bytes, bytes], receive: Receive, send: Send, request_id: str, most: int
    ) -> Receive | None:
        """Refuse bodies over the limit with 413, before the app reads any of it."""
        length = headers.get(b"content-length")
        if length is not None:
            if not length.isdigit() or int(length) > most:
                await self._reject(send, request_id, most)
                return None
            return receive
        if b"chunked" not in headers.get(b"transfer-encoding", b""):
            return receive
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return receive
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > most:
                await self._reject(send, request_id, most)
                return None
            if not message.get("more_body", False):
                break
        body, replayed = b"".join(chunks), False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return replay

    async def _reject(self, send: Send, request_id: str, most: int) -> None:
        body = _problem(
            413,
            "payload-too-large",
            "Request body too large",
            f"The request body exceeds {most} bytes",
            request_id,
        )
        headers: list[Any] = [
            (b"content-type", b"application/problem+json"),
            (b"content-length", str(len(body)).encode()),
            (b"x-request-id", request_id.encode()),
        ]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})
