"""Live updates to browsers over one WebSocket per tab (`/api/live`).

A socket is only a doorbell: what it announces is also in the database, and a browser that
reconnects reloads from there (the bell's count, later the desktop's state)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated

from fastapi import APIRouter, Depends, WebSocket, WebSocketDisconnect

from hotline.api.deps import SESSION_COOKIE, AppState, _anonymous_context
from hotline.core.context import Context
from hotline.core.errors import NotAuthenticated

router = APIRouter(tags=["live"])


async def signed_in_socket(websocket: WebSocket) -> Context | None:
    """The signed-in user of a WebSocket (the web UI's session cookie), or None."""
    state: AppState = websocket.app.state.hotline
    secret = websocket.cookies.get(SESSION_COOKIE)
    if not secret:
        return None
    try:
        actor = await state.auth.session_actor(secret)
    except NotAuthenticated:
        return None
    return _anonymous_context(websocket).as_actor(actor)  # type: ignore[arg-type]


signed_in_socket.__access__ = "signed-in"  # type: ignore[attr-defined]


@router.websocket("/api/live")
async def live(websocket: WebSocket, ctx: Annotated[Context | None, Depends(signed_in_socket)]) -> None:
    """Pushes `{"name": …, "data": …}` for events addressed to the signed-in user; closes with
    4401 without a valid session."""
    if ctx is None or ctx.actor.user_id is None:
        await websocket.close(code=4401)
        return
    user_id = ctx.actor.user_id
    state: AppState = websocket.app.state.hotline
    await websocket.accept()
    async with state.hub.connect(user_id) as queue:
        await websocket.send_json({"name": "live.hello", "data": {"user_id": user_id}})
        reader = asyncio.create_task(_drain(websocket))
        try:
            while not reader.done():
                getter = asyncio.create_task(queue.get())
                done, _ = await asyncio.wait({getter, reader}, return_when=asyncio.FIRST_COMPLETED)
                if getter in done:
                    await websocket.send_json(getter.result())
                else:
                    getter.cancel()
        except WebSocketDisconnect:
            pass
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
                await reader


async def _drain(websocket: WebSocket) -> None:
    """Read (and ignore) what the browser sends until it goes away."""
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            await websocket.receive_text()
