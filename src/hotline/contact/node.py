"""The contact layer of a voice node (`CallRouter`): what runs for each inbound call — the IVR flow
of the number dialled, and the queues its transfer nodes send callers to.

`api/app.py` gives it a voice node (`ports.VoiceNode`) at start; it asks the node to run it for
every inbound call and to say when phones register. The DID's entry point picks the published
flow. A transfer to a queue waits in the `QueueRunner` (hold music, position and estimated-wait
announcements, "press 1 for a callback", queues/hold.py), rings the agent the router chose, says
the agent's work number and bridges and records the call (a `LiveCall`). A call from an extension
straight to another extension rings it. Every step goes to the stored event log (`StoredJournal`).

The services (agents, calls, desk, wallboard) see this router as a `local.LocalNode`; live calls
see it as their `calls.base.CallHost`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Coroutine, Mapping
from pathlib import Path
from typing import Any, cast

import structlog

from hotline.contact import callbacks, caller
from hotline.contact.agents.service import restore_presence
from hotline.contact.calls.adopted import see_through
from hotline.contact.calls.campaign_call import CampaignCall, CampaignCallEvents, Dial
from hotline.contact.calls.direct import Agent, RingGroups
from hotline.contact.calls.live import LiveCall
from hotline.contact.calls.outbound import CallOut
from hotline.contact.chat_desk import ChatDesk
from hotline.contact.events import CallOffered, CallRecorded, DeskClosed, DeskOpened, PhoneChosen
from hotline.contact.ivr.flow import SHIPPED_NAMES, Flow, Speech, load_shipped
from hotline.contact.ivr.interpreter import FlowRun, FlowServices, SpokenVoice, Voice, run_flow
from hotline.contact.ivr.lookups import audit_flow_event, domain_lookups
from hotline.contact.ivr.versions import live_flows
from hotline.contact.journal import StoredJournal
from hotline.contact.metrics import AgentEvent, CallEvent
from hotline.contact.ports import VoiceNode
from hotline.contact.queues.floor import Seat
from hotline.contact.queues.hold import HoldLine
from hotline.contact.queues.runner import QueueRunner
from hotline.contact.queues.settings import load_setup
from hotline.contact.queues.transfers import QueueTransfers
from hotline.contact.schemas import IvrStep, NodeKind, RoutingReasonOut
from hotline.core.context import Context
from hotline.notify.events import ConversationChanged
from hotline.telephony import service as telephony
from hotline.voice.apps import prompt_and_collect
from hotline.voice.control import Leg
from hotline.voice.media.tts import PromptCache

log = structlog.get_logger(__name__)


class CallRouter:
    def __init__(self, ctx: Context, prompts: PromptCache, *, record_to: Path | None = None) -> None:
        self.ctx = ctx
        self.flows: dict[str, Flow] = {name: load_shipped(name) for name in SHIPPED_NAMES}
        self.speech: Voice = SpokenVoice(prompts, lambda name: telephony.prompt_audio(ctx, name))
        """How flows and queues speak: recorded prompts, else TTS."""
        self.agents: list[Agent] = []
        self.queue_titles: dict[str, str] = {}
        self.voice: VoiceNode | None = None
        self.runner: QueueRunner | None = None
        self.chats: ChatDesk | None = None
        """Conversations routed by the same ACD (chat_desk.py)"""
        self.journal = StoredJournal(ctx)
        self.lookups = domain_lookups(ctx)
        self._calls: dict[str, dict[str, Any]] = {}
        """What the desktop pop needs of each call in progress: number, arrival, IVR path, caller."""
        self.live: dict[str, LiveCall] = {}
        """Calls with an agent on this node, by call id: what the softphone controls act on."""
        self.hold = HoldLine(ctx, self.speech)
        self.record_to = record_to
        self.recent: deque[FlowRun] = deque(maxlen=200)
        """The latest calls' paths and variables on this node."""
        self._fallback = prompt_and_collect(prompts)
        self._upkeep: asyncio.Task[None] | None = None
        self._reconcile_from = 0.0
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(
        self, voice: VoiceNode, *, upkeep_seconds: float = 5.0, handover_seconds: float = 0.0
    ) -> None:
        """Drive this voice node: take its inbound calls, load queues and agents, and restore the
        agents' states from the log. `handover_seconds`: a cluster's new router leaves agents on
        their calls that long, while the voice nodes hand over the conversations still going."""
        self.voice = voice
        self.journal.start()
        self.runner = QueueRunner(voice, {}, sink=self._record, keep_log=False)
        self.chats = ChatDesk(self.ctx, self.runner)
        await self.reload()
        await restore_presence(self.ctx, self.runner, clear_calls=not handover_seconds)
        self._reconcile_from = time.monotonic() + handover_seconds
        await self.chats.start()
        voice.watch_phones(self.phone_registered)
        voice.adopt(lambda caller, agent, bridge: self.spawn(see_through(self, caller, agent, bridge)))
        voice.serve(self)
        self._upkeep = asyncio.create_task(self._keep_up(upkeep_seconds), name="routing-upkeep")

    async def stop(self) -> None:
        if self._upkeep is not None:
            self._upkeep.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._upkeep
        if self.chats is not None:
            await self.chats.stop()
        await self.journal.stop()

    async def _keep_up(self, every: float) -> None:
        """Phones that registered since, leave-when-empty, and the reconciler."""
        while True:
            await asyncio.sleep(every)
            if self.runner is not None:
                try:
                    self.runner.tick()
                    if time.monotonic() >= self._reconcile_from:
                        self.runner.reconcile()
                    if self.chats is not None:
                        await self.chats.reconcile()
                except Exception as exc:  # never let upkeep die
                    log.error("routing upkeep failed", error=repr(exc))

    async def reload(self) -> None:
        """The published flows, the queues, and the agents with an extension."""
        self.flows = await live_flows(self.ctx)
        setup = await load_setup(self.ctx)
        self.agents = setup.agents
        self.queue_titles = setup.titles
        self.hold.configure(setup.hold)
        if self.runner is not None:
            self.runner.router.configure(setup.queues)
            self.runner.queues = setup.queues
            self.runner.rules = setup.rules
            for agent_id, seat in setup.seats.items():
                old = self.runner.seats.get(agent_id)
                if old is not None:
                    seat.calls_taken = old.calls_taken
            self.runner.seats = setup.seats
        if self.chats is not None:
            self.chats.configure(setup.queues, setup.chat_channels)

    # ---------------------------------------------------------------- what live calls and services ask

    async def flush(self) -> None:
        await self.journal.flush()

    async def hold_music(self, queue: str) -> bytes:
        return await self.hold.music(queue)

    async def hold_caller(self, leg: Leg, queue: str, variables: dict[str, Any]) -> None:
        if self.runner is not None:
            await self.hold.keep(leg, queue, variables, self.runner)

    def phone_registered(self, extension: str) -> None:
        """A phone registered: if its agent is ready, it can take calls now."""
        if self.runner is not None and self.runner.unreachable:
            self.runner.tick()

    def _record(self, event: CallEvent | AgentEvent) -> None:
        """The runner's events: to the log; a caller left unanswered becomes a callback task; an
        offer pops on the agent's desktop."""
        self.journal(event)
        if isinstance(event, CallEvent) and event.kind in callbacks.MISSED and event.caller:
            self.spawn(callbacks.missed_call(self.ctx, event))
        if isinstance(event, CallEvent) and event.kind == "offered" and event.agent_id is not None:
            self._calls.setdefault(event.call_id, {}).setdefault("offered_to", set()).add(event.agent_id)
            offer = self.offer_for(event.call_id, event.agent_id, event.queue, event.detail)
            self.spawn(self.ctx.bus.publish(offer))

    def caller_offered_to(self, call_id: str, agent_id: int) -> str | None:
        """The number of a call in progress that was offered to this agent (None otherwise)."""
        call = self._calls.get(call_id) or {}
        return str(call.get("caller") or "") or None if agent_id in call.get("offered_to", ()) else None

    def in_progress(self, call_id: str) -> Mapping[str, Any]:
        """What this node knows of a call while it lasts: the caller's number, its arrival, the
        IVR path and the flow's variables (who the caller is); empty once it is over."""
        return self._calls.get(call_id) or {}

    def offer_for(self, call_id: str, agent_id: int, queue: str, reason: str) -> CallOffered:
        """What an agent's desktop pops for a call ringing them (from a queue or a transfer)."""
        call = self._calls.get(call_id) or {}
        variables = call.get("variables", {})
        return CallOffered(
            audience=[agent_id],
            call_id=call_id,
            queue=queue,
            queue_title=self.queue_titles.get(queue, queue),
            caller=call.get("caller", ""),
            caller_class=variables.get("caller_class", "unknown"),
            customer={
                **variables["customer"],
                "id": variables.get("customer_id"),
                "tier": variables.get("tier", ""),
            }
            if variables.get("customer")
            else None,
            path=list(call.get("path", [])),
            waited=round(time.time() - call.get("arrived", time.time()), 1),
            reason=RoutingReasonOut.of(reason),
        )

    def call_of(self, agent_id: int) -> LiveCall | None:
        """The call this agent is responsible for now, if any."""
        return next((call for call in self.live.values() if call.agent_id == agent_id), None)

    async def call_out(
        self, call_id: str, seat: Seat, number: str, customer_id: int | None, caller_id: str = ""
    ) -> None:
        """Click-to-dial (calls/outbound.py)."""
        await CallOut(self, self._calls)(call_id, seat, number, customer_id, caller_id)

    async def campaign_call(self, dial: Dial, events: CampaignCallEvents) -> None:
        """A progressive or predictive dialer's call: the number first, then a free agent of the
        campaign (calls/campaign_call.py)."""
        await CampaignCall(self, self._calls, self._say)(dial, events)

    async def _say(self, text: str) -> bytes:
        return await self.speech.audio(Speech(text=text), {})

    async def desk_closed(self, event: DeskClosed) -> None:
        """An agent closed their desktop: not ready (if ready), and a call ringing them goes back
        in line, as a missed offer does."""
        if self.runner is not None:
            self.runner.desk_closed(event.agent_id)

    async def desk_opened(self, event: DeskOpened) -> None:
        if self.runner is not None:
            self.runner.desk_opened(event.agent_id)

    async def conversation_changed(self, event: ConversationChanged) -> None:
        if self.chats is not None:
            await self.chats.changed(event)

    async def phone_chosen(self, event: PhoneChosen) -> None:
        """An agent now answers on the other phone: their next calls ring that one only (when
        both are registered), from this moment, not from the next reload."""
        if self.runner is not None:
            for agent_id in event.audience:
                if (seat := self.runner.seats.get(agent_id)) is not None:
                    seat.phone = "browser" if event.phone == "browser" else "desk"

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Database work a call causes, off the call's path (kept until done, errors logged)."""

        async def guarded() -> None:
            try:
                await work
            except Exception as exc:
                log.error("routing side work failed", error=repr(exc))

        task = asyncio.ensure_future(guarded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ---------------------------------------------------------------- an inbound call

    def _voicemail(self, leg: Leg, path: Path, seconds: float) -> None:
        """A message left: in the call's log, and a callback task for the number (tickets take
        voicemail from the log)."""
        now = asyncio.get_running_loop().time()
        self._record(CallEvent(now, leg.id, "voicemail", "", None, f"{seconds:.0f} s: {path}", leg.caller))
        self.spawn(self.ctx.bus.publish(CallRecorded(call_id=leg.id)))

    def _surveyed(self, leg_id: str, score: int | None, variables: dict[str, Any]) -> None:
        """The post-call survey's score, kept with the call and the agent who took it (T8)."""
        agent = variables.get("agent") or {}
        self.journal(
            CallEvent(
                asyncio.get_running_loop().time(),
                leg_id,
                "survey",
                "",
                agent.get("user_id"),
                "" if score is None else str(score),
            )
        )

    def _logged(self, leg: Leg, event: str, detail: str, audit: bool) -> None:
        """A flow's `log` node: a line in the call's event log, and with `audit` an audit entry."""
        self.journal.call(leg.id, event, queue=leg.entry, detail=detail)
        if audit:
            self.spawn(
                audit_flow_event(
                    self.ctx,
                    leg.id,
                    event,
                    flow=leg.entry,
                    caller=leg.caller,
                    number=leg.number,
                    detail=detail,
                )
            )

    def _visited(self, flow: str, node: str, leg_id: str, kind: str, label: str) -> None:
        self.journal.call(leg_id, "ivr", queue=flow, detail=node, state=kind)
        step = IvrStep(node=node, kind=cast(NodeKind, kind), label=label)
        self._calls.setdefault(leg_id, {}).setdefault("path", []).append(step)

    def _asked(self, leg_id: str, about: str) -> None:
        self.journal.call(leg_id, "enquiry", detail=about)

    async def _identify(self, leg: Leg) -> dict[str, Any]:
        """Who is calling (R4), for the flow and the queues; unknown when that fails."""
        variables, caller_class = await caller.identify(self.ctx, leg.caller)
        if caller_class:
            self.journal.call(leg.id, "identified", detail=caller_class)
            self._calls.setdefault(leg.id, {})["variables"] = variables
        return variables

    async def __call__(self, leg: Leg) -> None:
        if self.voice is None or self.runner is None:
            raise RuntimeError("the router has no voice node")
        direct = RingGroups(self.voice, self.speech, {"": self.agents}, record_to=self.record_to)
        flow = self.flows.get(leg.entry)
        self.journal.call(leg.id, "arrived", queue=leg.entry, detail=f"{leg.caller} → {leg.number}")
        self._calls[leg.id] = {"caller": leg.caller, "arrived": time.time(), "path": []}
        try:
            if flow is None and self.voice.reachable(leg.number):  # extension to extension
                await leg.answer()
                await direct.connect(leg, [Agent(leg.number)], announce=None, variables=leg.variables)
                return
            if flow is None:
                await self._fallback(leg)
                return
            services = FlowServices(
                voice=self.speech,
                transfers=QueueTransfers(self, self.runner, direct, self.speech),
                lookups=self.lookups,
                visited=self._visited,
                surveyed=self._surveyed,
                record_to=self.record_to,
                voicemail=self._voicemail,
                logged=self._logged,
                asked=self._asked,
            )
            await run_flow(flow, leg, services, variables=await self._identify(leg))
        finally:  # also when the caller hung up and the flow was cancelled
            run = leg.variables.get("flow_run")
            outcome = run.outcome if isinstance(run, FlowRun) else ""
            self.journal.call(leg.id, "finished", detail=outcome or "caller-hung-up")
            self._calls.pop(leg.id, None)
            if isinstance(run, FlowRun):
                self.recent.append(run)
                if isinstance(customer_id := run.variables.get("customer_id"), int):
                    self.spawn(caller.on_timeline(self.ctx, leg, customer_id, run))
