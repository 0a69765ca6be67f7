"""Visitors' chat windows waiting for their chat to move (long polling, issue 24).

A visitor's window asks `GET /api/chat/state?after=…&wait=25`: when nothing is new it is held
until the conversation moves — an agent answers, reads or closes (`ConversationChanged`), types or
their thread shows the visitor's lines (`ChatWindowMoved`) — or the wait runs out, then read again.
The agent's answer reaches the visitor as soon as it is stored, and a thousand idle windows cost a
request every 25 s each instead of one every 2 s. Each node keeps its own waits and hears the
events on the bus (over Redis with several nodes), so a window held on one node wakes for an answer
written on another. No database session is held while waiting.
"""

from __future__ import annotations

import asyncio
import contextlib

from hotline.notify.events import ChatWindowMoved, ConversationChanged

MAX_WAIT = 25.0
"""Under the 30 s idle timeouts of common proxies and load balancers."""
TYPING_WAIT = 3.0
"""While an agent types, a window asks again soon: the mark goes when they stop, with no event."""


class ChatWaits:
    def __init__(self) -> None:
        self._waiting: dict[int, set[asyncio.Event]] = {}

    async def changed(self, event: ConversationChanged | ChatWindowMoved) -> None:
        if isinstance(event, ChatWindowMoved) or event.channel == "web":
            for woken in self._waiting.get(event.conversation_id, ()):
                woken.set()

    async def until_changed(self, conversation_id: int, seconds: float) -> None:
        """Return when the conversation moves, or after `seconds`."""
        woken = asyncio.Event()
        self._waiting.setdefault(conversation_id, set()).add(woken)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(woken.wait(), seconds)
        finally:
            waiting = self._waiting.get(conversation_id)
            if waiting is not None:
                waiting.discard(woken)
                if not waiting:
                    del self._waiting[conversation_id]

    @property
    def held(self) -> int:
        return sum(len(w) for w in self._waiting.values())
