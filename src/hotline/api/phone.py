"""The browser phone's SIP over WebSocket (RFC 7118) on the web server's own port: `/api/phone/ws`.

The socket is accepted only with the `sip` subprotocol (§4.1), for a signed-in user who may
handle calls and has an extension; it is then one SIP connection of the voice plane
(voice/sip/websocket.py), over which that user's browser may register that extension only, with
the credential from `POST /api/phone/credentials`. Refusals close the socket with a code and a
reason the desktop can show: 4401 (no session), 4403 (no permission or no extension), 4503 (no
voice plane in this process). Sign-out, losing the permission or the session's end closes it,
and its registration goes with it.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, WebSocket, WebSocketDisconnect

from hotline.admin import auth
from hotline.admin.events import SessionRevoked, UserChanged
from hotline.api.deps import SESSION_COOKIE, AppState
from hotline.api.live import signed_in_socket
from hotline.core import security
from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.core.errors import NotAuthenticated
from hotline.core.events import Event
from hotline.core.permissions import Permission
from hotline.telephony import phone as telephony
from hotline.voice.sip.websocket import WebSocketLink

router = APIRouter(tags=["phone"])
log = structlog.get_logger(__name__)

SUBPROTOCOL = "sip"
NO_SESSION, FORBIDDEN, NO_VOICE = 4401, 4403, 4503


async def phone_socket(websocket: WebSocket) -> Context | None:
    """The signed-in user of the socket; the route itself checks the permission, so that a refusal
    is a close code the browser can read rather than a failed handshake."""
    return await signed_in_socket(websocket)


phone_socket.__access__ = Permission.CALLS_HANDLE.value  # type: ignore[attr-defined]


@dataclass(eq=False)
class PhoneSocket:
    user_id: int
    session_hash: str
    secret: str
    closing: asyncio.Future[tuple[int, str]] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )

    def close(self, code: int, reason: str) -> None:
        if not self.closing.done():
            self.closing.set_result((code, reason))


class PhoneSockets:
    """The browser phones connected to this node, closed when their session is revoked (sign-out,
    a password change) or their user loses the permission or is disabled, on any node."""

    def __init__(self, authenticator: auth.Authenticator) -> None:
        self.auth = authenticator
        self._open: set[PhoneSocket] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def add(self, socket: PhoneSocket) -> None:
        self._open.add(socket)

    def discard(self, socket: PhoneSocket) -> None:
        self._open.discard(socket)

    def __len__(self) -> int:
        return len(self._open)

    async def session_revoked(self, event: Event) -> None:
        if isinstance(event, SessionRevoked):
            for socket in [s for s in self._open if s.session_hash == event.token_hash]:
                socket.close(NO_SESSION, "signed out")

    async def user_changed(self, event: Event) -> None:
        if not isinstance(event, UserChanged):
            return
        self.auth.forget_user(event.user_id)
        for socket in [s for s in self._open if s.user_id == event.user_id]:
            try:
                actor = await self.auth.session_actor(socket.secret)
            except NotAuthenticated:
                socket.close(NO_SESSION, "session ended")
                continue
            if not actor.can(Permission.CALLS_HANDLE):
                socket.close(FORBIDDEN, "may no longer handle calls")


@router.websocket("/api/phone/ws")
async def phone_ws(websocket: WebSocket, ctx: Annotated[Context | None, Depends(phone_socket)]) -> None:
    """SIP over WebSocket for the signed-in agent's extension (subprotocol `sip`)."""
    if SUBPROTOCOL not in websocket.scope.get("subprotocols", []):
        await websocket.close(code=1002, reason="the sip subprotocol is required (RFC 7118)")
        return  # before accepting: the handshake is refused
    await websocket.accept(subprotocol=SUBPROTOCOL)
    state: AppState = websocket.app.state.hotline
    secret = websocket.cookies.get(SESSION_COOKIE) or ""
    ends = await auth.session_ends(ctx, secret) if ctx is not None and ctx.actor.user_id else None
    if ctx is None or ctx.actor.user_id is None or ends is None:
        await websocket.close(code=NO_SESSION, reason="not signed in")
        return
    if not ctx.actor.can(Permission.CALLS_HANDLE):
        await websocket.close(code=FORBIDDEN, reason="requires permission calls.handle")
        return
    extension = await telephony.phone_extension(ctx)
    if extension is None:
        await websocket.close(code=FORBIDDEN, reason="no extension for this user")
        return
    if state.sip is None or state.phones is None:
        await websocket.close(code=NO_VOICE, reason="no voice plane on this server")
        return
    host, port = websocket.client or ("", 0)
    secure = websocket.url.scheme == "wss"  # uvicorn sets it from a trusted proxy's X-Forwarded-Proto
    link = state.sip.transports.open_websocket(host, port, secure=secure, extension=extension)
    socket = PhoneSocket(ctx.actor.user_id, security.digest(secret), secret)
    state.phones.add(socket)
    log.info("browser phone connected", extension=extension, peer=link.peer)
    try:
        code, reason = await _serve(websocket, state, link, socket, ends)
    finally:
        state.phones.discard(socket)
        state.sip.transports.close_websocket(link)
        log.info("browser phone disconnected", extension=extension, peer=link.peer)
    with contextlib.suppress(Exception):  # already gone
        await websocket.close(code=code, reason=reason)


async def _serve(
    websocket: WebSocket, state: AppState, link: WebSocketLink, socket: PhoneSocket, ends: datetime
) -> tuple[int, str]:
    """Frames both ways until the browser leaves, the session ends or is revoked; the close to send."""
    reader = asyncio.create_task(_read(websocket, state, link))
    writer = asyncio.create_task(_write(websocket, link))
    session_over = asyncio.create_task(asyncio.sleep(max(0.0, (ends - utcnow()).total_seconds())))
    waiting: set[asyncio.Future[Any]] = {reader, writer, session_over, socket.closing}
    try:
        await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (reader, writer, session_over):
            task.cancel()
        await asyncio.gather(reader, writer, session_over, return_exceptions=True)
    if socket.closing.done():
        return socket.closing.result()
    if session_over.done() and not session_over.cancelled():
        return NO_SESSION, "session ended"
    return 1000, ""


async def _read(websocket: WebSocket, state: AppState, link: WebSocketLink) -> None:
    """Each frame, text or binary, is one SIP message (RFC 7118 §5)."""
    sip = state.sip
    assert sip is not None  # noqa: S101 - checked before the socket was opened
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            data = message.get("bytes")
            if data is None:
                data = (message.get("text") or "").encode("utf-8", "surrogateescape")
            try:
                sip.transports.received(data, link.peer)
            except Exception:  # a bug on one message must not end the agent's phone
                log.exception("SIP message from a browser failed", peer=link.peer)


async def _write(websocket: WebSocket, link: WebSocketLink) -> None:
    """One frame per SIP message: text when it is UTF-8 (as browsers' SIP stacks read it)."""
    while (data := await link.outgoing()) is not None:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            await websocket.send_bytes(data)
        else:
            await websocket.send_text(text)
