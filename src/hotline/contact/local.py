"""The contact node of this process as the services see it (`LocalNode`).

Services read live state (agents' presence, who waits, the call an agent is on) from the node
running here, which `api/app.py` hands them as `AppState.router`: a `node.CallRouter` on a node
with the voice role, None on an API-only node (the services then answer from the event log, or
503 where only the voice node knows). The services name this protocol, never the router itself,
so the router can use them without an import cycle.
"""

from __future__ import annotations

from collections.abc import Coroutine, Mapping
from typing import Any, Protocol

from hotline.contact.calls.campaign_call import CampaignCallEvents, Dial
from hotline.contact.calls.live import LiveCall
from hotline.contact.chat_desk import ChatDesk
from hotline.contact.errors import VoiceNodeUnavailable
from hotline.contact.ports import VoiceNode
from hotline.contact.queues.floor import Seat
from hotline.contact.queues.runner import QueueRunner


class LocalNode(Protocol):
    @property
    def runner(self) -> QueueRunner | None:
        """Queues and agents' presence (None until the node started)."""
        ...

    @property
    def chats(self) -> ChatDesk | None:
        """Conversations routed by the ACD (None until the node started)."""
        ...

    @property
    def voice(self) -> VoiceNode | None:
        """The voice node the contact layer drives (None until started)."""
        ...

    async def flush(self) -> None:
        """Write what the node logged so far to the event log (a read right after sees it)."""
        ...

    def call_of(self, agent_id: int) -> LiveCall | None:
        """The call this agent is responsible for now, if any."""
        ...

    def in_progress(self, call_id: str) -> Mapping[str, Any]:
        """What the node knows of a call while it lasts (caller, arrival, IVR path, variables)."""
        ...

    def caller_offered_to(self, call_id: str, agent_id: int) -> str | None:
        """The number of a call in progress that was offered to this agent (None otherwise)."""
        ...

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run work off the request's path (kept until done, errors logged)."""
        ...

    async def call_out(
        self, call_id: str, seat: Seat, number: str, customer_id: int | None, caller_id: str = ""
    ) -> None:
        """Click-to-dial: the agent's phone, then the number, then a call like any other."""
        ...

    async def campaign_call(self, dial: Dial, events: CampaignCallEvents) -> None:
        """A dialer's call: the number first, then a free agent of the campaign, or the message."""
        ...


def running(node: LocalNode | None) -> tuple[LocalNode, QueueRunner, VoiceNode]:
    """The node with its runner and voice node, or 503: only a voice node has live calls."""
    if node is None or node.runner is None or node.voice is None:
        raise VoiceNodeUnavailable()
    return node, node.runner, node.voice
