"""One WebSocket connection as a SIP transport (RFC 7118): a browser's phone.

The web server accepts the socket (it knows who signed in) and reads its frames; each frame is
one SIP message (§5), handed to `SipTransports.received` like a datagram. What Hotline sends to
the connection's `Peer` goes into the link's bounded queue, and the web server writes each item
as one frame. Nothing here knows about the web framework: the voice plane stays below the API.

A connection that is closed or cannot keep up drops what is sent to it and says so once in the
log; SIP's own timers and the browser's reconnect take it from there.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import structlog

if TYPE_CHECKING:
    from hotline.voice.sip.transport import Peer

log = structlog.get_logger(__name__)

SEND_QUEUE = 256
"""Messages waiting to be written to one browser; a phone has a few in flight at a time, so a
full queue means the connection is stuck."""


class WebSocketLink:
    """A browser's WebSocket, as the SIP stack sees it: a peer, the extension the user who opened
    it may register, and the frames waiting to be written."""

    def __init__(self, peer: Peer, extension: str, *, queue: int = SEND_QUEUE) -> None:
        self.peer, self.extension = peer, extension
        self._queue: asyncio.Queue[bytes | None] = asyncio.Queue(queue)
        self.closed = False
        self.dropped = 0
        self._warned = False

    def send(self, data: bytes) -> None:
        if not self.closed:
            try:
                self._queue.put_nowait(data)
                return
            except asyncio.QueueFull:
                pass
        self.dropped += 1
        if not self._warned:
            self._warned = True
            why = "connection closed" if self.closed else "send queue full"
            log.warning("SIP message to a browser dropped", peer=self.peer, reason=why)

    async def outgoing(self) -> bytes | None:
        """The next message to write as one frame; None once the link is closed."""
        if self.closed and self._queue.empty():
            return None
        return await self._queue.get()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        while not self._queue.empty():  # nobody will write them: the writer gets the end marker
            self._queue.get_nowait()
        self._queue.put_nowait(None)
