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
import random
from collections.abc import Iterator

from hotline.notify.events import ChatWindowMoved, ConversationChanged

MAX_WAIT = 25.0
"""Under the 30 s idle timeouts of common proxies and load balancers."""
TYPING_WAIT = 3.0
"""While an agent types, a window asks again soon: the mark goes when they stop, with no event."""
SPREAD = 0.2
"""A wait that runs out is ended up to this share of it early, at random: windows that began
together (a thousand visitors' pages after a node restarted, or a load test) drift apart instead
of all asking again in the same instant every 25 s — such a herd once held every message behind
a thousand reads for seconds."""


def hold_for(wait: float, agent_typing: bool) -> float:
    """How long a window's question is held when nothing is new."""
    if agent_typing:
        return min(wait, TYPING_WAIT)
    held = min(wait, MAX_WAIT)
    return held * (1 - SPREAD * random.random())  # noqa: S311 (spread, not secrecy)


class ChatWaits:
    def __init__(self) -> None:
        self._waiting: dict[int, set[asyncio.Event]] = {}

    async def changed(self, event: ConversationChanged | ChatWindowMoved) -> None:
        if isinstance(event, ChatWindowMoved) or event.channel == "web":
            for woken in self._waiting.get(event.conversation_id, ()):
                woken.set()

    @contextlib.contextmanager
    def watching(self, conversation_id: int) -> Iterator[asyncio.Event]:
        """An event set when the conversation moves from now on: taken before the window's state is
        read, so an answer stored while it is read still wakes the wait."""
        woken = asyncio.Event()
        self._waiting.setdefault(conversation_id, set()).add(woken)
        try:
            yield woken
        finally:
            waiting = self._waiting.get(conversation_id)
            if waiting is not None:
                waiting.discard(woken)
                if not waiting:
                    del self._waiting[conversation_id]

    @staticmethod
    async def until(woken: asyncio.Event, seconds: float) -> bool:
        """Whether the conversation moved within `seconds`."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(woken.wait(), seconds)
        return woken.is_set()

    @property
    def held(self) -> int:
        return sum(len(w) for w in self._waiting.values())
