"""What the voice engine runs for each inbound call: the IVR flow of the number dialled.

Flows come from the shipped YAML files (versioned flows edited in the admin UI come next in
issue 4); the DID's entry point picks the flow. A call from an extension straight to another
extension rings it. Until the ACD lands, each queue named by a flow is a ring group of the
agents who have an extension.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Any

import structlog
from sqlalchemy import select

from hotline.admin.models import User
from hotline.core.context import Context
from hotline.routing.flow import SHIPPED_NAMES, Flow, load_shipped
from hotline.routing.ivr import FlowRun, FlowServices, Lookup, SpokenVoice, run_flow
from hotline.routing.service import live_flows
from hotline.routing.transfer import Agent, RingGroups
from hotline.telephony import service as telephony
from hotline.telephony.models import Extension
from hotline.voice.apps import prompt_and_collect
from hotline.voice.control import CallControl, Leg
from hotline.voice.media.tts import PromptCache

log = structlog.get_logger(__name__)


async def _no_orders_yet(variables: Mapping[str, Any]) -> None:
    """Order lookups answer once the hotel and travel domains exist (issues 6 and 9)."""
    return None


LOOKUPS: dict[str, Lookup] = {"orders.latest_for_member": _no_orders_yet}


class CallRouter:
    def __init__(self, ctx: Context, prompts: PromptCache) -> None:
        self.ctx = ctx
        self.flows: dict[str, Flow] = {name: load_shipped(name) for name in SHIPPED_NAMES}
        self.voice = SpokenVoice(prompts, lambda name: telephony.prompt_audio(ctx, name))
        self.agents: list[Agent] = []
        self.control: CallControl | None = None
        self.visits: dict[tuple[str, str], int] = {}
        self.recent: deque[FlowRun] = deque(maxlen=200)
        """The latest calls' paths and variables on this node (the live view reads them)."""
        self._fallback = prompt_and_collect(prompts)

    async def reload(self) -> None:
        """The published flows, and the agents with an extension in extension order (the ring
        order until the ACD)."""
        self.flows = await live_flows(self.ctx)
        async with self.ctx.read() as session:
            rows = await session.execute(
                select(Extension.number, User.work_number, User.display_name)
                .join(User, User.id == Extension.user_id)
                .where(Extension.enabled.is_(True), User.is_active.is_(True))
                .order_by(Extension.number)
            )
            self.agents = [Agent(number, work or "", name) for number, work, name in rows]

    def _visited(self, flow: str, node: str) -> None:
        self.visits[(flow, node)] = self.visits.get((flow, node), 0) + 1

    async def __call__(self, leg: Leg) -> None:
        if self.control is None:
            raise RuntimeError("the router has no voice engine")
        groups = {name: self.agents for name in ("hotel", "travel", "emergency")}
        transfers = RingGroups(self.control, self.voice, groups)
        flow = self.flows.get(leg.entry)
        if flow is None and self.control.reachable(leg.number):  # extension to extension
            await leg.answer()
            await transfers.connect(leg, [Agent(leg.number)], announce=None, variables=leg.variables)
            return
        if flow is None:
            await self._fallback(leg)
            return
        services = FlowServices(voice=self.voice, transfers=transfers, lookups=LOOKUPS, visited=self._visited)
        try:
            await run_flow(flow, leg, services)
        finally:  # also when the caller hung up and the flow was cancelled
            if isinstance(run := leg.variables.get("flow_run"), FlowRun):
                self.recent.append(run)
