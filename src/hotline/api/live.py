"""Live updates to browsers over one WebSocket per tab (`/api/live`).

A socket is only a doorbell: what it announces is also in the database, and a browser that
reconnects reloads from there (the bell's count, later the desktop's state)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, WebSocket, WebSocketDisconnect

from hotline.api.deps import SESSION_COOKIE, AppState, anonymous_context
from hotline.contact import wallboard
from hotline.contact.events import DeskClosed, DeskOpened
from hotline.core.context import Context
from hotline.core.errors import NotAuthenticated
from hotline.core.events import EventBus
from hotline.core.permissions import Permission

router = APIRouter(tags=["live"])
log = structlog.get_logger(__name__)


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
    return anonymous_context(websocket).as_actor(actor)  # type: ignore[arg-type]


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
        reader = asyncio.create_task(_listen(websocket, ctx, state, queue))
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
            if state.desks is not None:
                state.desks.closed(user_id, queue)


FEEDS = {
    "wallboard": Permission.AGENTS_READ,
    "desk": Permission.CALLS_HANDLE,
    "tickets": Permission.TICKETS_READ,
    "conversations": Permission.MESSAGES_SEND,
}
"""What a browser may subscribe to (`{"subscribe": "wallboard"}`), and the permission it takes.
`desk` is the agent desktop saying it is open (nothing is pushed on it); `tickets` says which
ticket moved, for open lists and boards to reload; `conversations` which conversation with a
customer moved (a message in or out, linked, closed)."""


async def _listen(websocket: WebSocket, ctx: Context, state: AppState, queue: asyncio.Queue[Any]) -> None:
    """What the browser sends until it goes away: subscriptions to feeds it may see."""
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            try:
                message = json.loads(await websocket.receive_text())
            except ValueError:
                continue
            if not isinstance(message, dict):
                continue
            user_id = ctx.actor.user_id or 0
            if isinstance(gone := message.get("unsubscribe"), str):
                state.hub.unsubscribe(gone, queue)
                if gone == "desk" and state.desks is not None:
                    state.desks.closed(user_id, queue)
            feed = message.get("subscribe")
            needed = FEEDS.get(feed) if isinstance(feed, str) else None
            if needed is None or not ctx.actor.can(needed):
                continue
            if feed == "desk":
                if state.desks is not None:
                    state.desks.opened(user_id, queue)
                continue
            state.hub.subscribe(str(feed), queue)
            if state.wallboard is not None:
                state.wallboard.wake()  # the first picture at once, not in a second


class Desks:
    """Which agents have their desktop open on this node. When an agent's last desktop closes
    and stays closed for `grace` seconds (a reload or a network blip is not leaving), the voice
    node hears `routing.desk_closed`: it stops offering them calls (R1, issue 8's re-offer)."""

    def __init__(self, bus: EventBus, *, grace: float = 8.0) -> None:
        self.bus, self.grace = bus, grace
        self._open: dict[int, set[asyncio.Queue[Any]]] = {}
        self._timers: dict[int, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._gone: set[int] = set()  # agents told closed, to be told when they are back

    def opened(self, user_id: int, socket: asyncio.Queue[Any]) -> None:
        self._open.setdefault(user_id, set()).add(socket)
        if (timer := self._timers.pop(user_id, None)) is not None:
            timer.cancel()
        if user_id in self._gone:
            self._gone.discard(user_id)
            self._publish(DeskOpened(agent_id=user_id))

    def closed(self, user_id: int, socket: asyncio.Queue[Any]) -> None:
        sockets = self._open.get(user_id)
        if sockets is None or socket not in sockets:
            return
        sockets.discard(socket)
        if not sockets:
            del self._open[user_id]
            loop = asyncio.get_running_loop()
            self._timers[user_id] = loop.call_later(self.grace, self._left, user_id)

    def is_open(self, user_id: int) -> bool:
        return bool(self._open.get(user_id))

    def _left(self, user_id: int) -> None:
        self._timers.pop(user_id, None)
        if not self.is_open(user_id):
            self._gone.add(user_id)
            self._publish(DeskClosed(agent_id=user_id))

    def _publish(self, event: DeskClosed | DeskOpened) -> None:
        task = asyncio.ensure_future(self.bus.publish(event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


class WallboardFeed:
    """Pushes the wallboard to the sockets subscribed to it on this node, once a second while
    anyone is watching (one computation for all of them)."""

    def __init__(self, state: AppState, ctx: Context, every: float = 1.0) -> None:
        self.state, self.ctx, self.every = state, ctx, every
        self.history = wallboard.WaitHistory()
        """Callers waiting per queue over the last hour, for the wallboard's chart: sampled
        whether anyone watches or not, so the chart has its hour when the screen is switched on."""
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="wallboard-feed")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def wake(self) -> None:
        self._wake.set()

    async def _run(self) -> None:
        link = self.state.router_link
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.every)
            self._wake.clear()
            watched = bool(self.state.hub.listeners("wallboard"))
            if link is not None and self.state.router is None:
                # a cluster node without the router shows the board the router's node computed
                data = await link.wallboard() if watched else None
                if data is not None:
                    self.state.hub.push(
                        "wallboard", {"name": "routing.wallboard", "data": data, "at": time.time()}
                    )
                continue
            if self.history.due(time.time()):
                self.history.record(time.time(), wallboard.waiting_now(self.state.router))
            if not watched and link is None:
                continue
            try:
                board = await wallboard.wallboard(self.ctx, self.state.router)
            except Exception as exc:  # the next second tries again
                log.warning("wallboard failed", error=repr(exc))
                continue
            data = board.model_dump(mode="json")
            if link is not None:
                await link.share_wallboard(data)  # for the other nodes' screens
            if watched:
                self.state.hub.push(
                    "wallboard", {"name": "routing.wallboard", "data": data, "at": time.time()}
                )
