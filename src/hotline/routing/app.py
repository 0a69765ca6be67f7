"""What the voice engine runs for each inbound call: the IVR flow of the number dialled, and the
queues its transfer nodes send callers to.

The DID's entry point picks the published flow. A transfer to a queue waits in the `QueueRunner`
(hold music, position and estimated-wait announcements, "press 1 for a callback"), rings the
agent the router chose, says the agent's work number and bridges and records the call. A call
from an extension straight to another extension rings it. Every step goes to the stored event
log (`StoredJournal`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Coroutine, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog

from hotline import domains
from hotline.core import privacy
from hotline.core.context import Context
from hotline.crm import service as crm
from hotline.crm import timeline
from hotline.routing import center
from hotline.routing.controls import RINGBACK, LiveCall
from hotline.routing.events import CallControlled, CallOffered, DeskClosed, DeskOpened
from hotline.routing.flow import SHIPPED_NAMES, Flow, Speech, TransferNode, load_shipped
from hotline.routing.ivr import FlowRun, FlowServices, Lookup, SpokenVoice, Voice, run_flow
from hotline.routing.journal import StoredJournal
from hotline.routing.metrics import AgentEvent, CallEvent
from hotline.routing.queue import Answered, NoAgent, QueueRunner, Seat
from hotline.routing.service import audit_flow_event, live_flows
from hotline.routing.transfer import Agent, RingGroups
from hotline.telephony import service as telephony
from hotline.voice.apps import prompt_and_collect
from hotline.voice.control import CallControl, Leg, LegState, OriginateFailed
from hotline.voice.media.tts import PromptCache

log = structlog.get_logger(__name__)


def domain_lookups(ctx: Context) -> dict[str, Lookup]:
    """The IVR lookups the domains offer (domains.py), bound to the router's context: flows name
    them (`orders.latest_for_member`, `travel.latest_order` …) and routing imports no domain."""

    def bind(function: Any) -> Lookup:
        async def lookup(variables: Mapping[str, Any]) -> Any:
            return await function(ctx, dict(variables))

        return lookup

    return {name: bind(function) for name, function in domains.ivr_lookups().items()}


POSITION = Speech(text="您前面还有{position}位客户，预计等待{minutes}分钟。")
CALLBACK_OFFER = Speech(text="如需我们稍后回电，请按1。")
CALLBACK_TAKEN = Speech(text="好的，我们会保留您的排队位置，轮到您时给您回电。再见。")


class QueueTransfers:
    """The flows' transfer node: queues through the runner; agents, extensions and outside
    numbers rung directly."""

    def __init__(self, router: CallRouter, control: CallControl, runner: QueueRunner) -> None:
        self.router, self.control, self.runner = router, control, runner
        self.direct = RingGroups(control, router.voice, {"": router.agents}, record_to=router.record_to)

    async def transfer(self, leg: Leg, node: TransferNode, run: FlowRun) -> bool:
        if node.to != "queue":
            return await self.direct.transfer(leg, node, run)
        variables = run.variables
        waiting = asyncio.ensure_future(
            self.runner.wait_for_agent(
                leg, node.target, priority=int(variables.get("priority") or 0),
                last_agent=variables.get("last_agent"), customer=variables.get("customer_id"),
            )
        )  # fmt: skip
        hold = asyncio.ensure_future(self._hold(leg, node.target, variables))
        try:
            answered = await waiting
        except NoAgent:
            return False
        finally:
            hold.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await hold
        await self._connect(leg, answered, node.announce, variables)
        return True

    async def _connect(
        self, leg: Leg, answered: Answered, announce: Speech | None, variables: dict[str, Any]
    ) -> None:
        seat = answered.seat
        variables["agent"] = {
            "user_id": seat.agent_id, "extension": seat.extension,
            "work_number": seat.work_number, "name": seat.name,
        }  # fmt: skip
        variables["routing_reason"] = answered.decision.reason
        if isinstance(run := leg.variables.get("flow_run"), FlowRun):
            run.outcome = f"transferred:queue:{answered.queue}"
        if isinstance(customer_id := variables.get("customer_id"), int):  # the next call prefers this agent
            self.router.spawn(crm.served_by(self.router.ctx, customer_id, seat.agent_id))
        call = LiveCall(
            self.router, self, call_id=leg.id, caller=leg, partner=answered.agent_leg, seat=seat,
            queue=answered.queue, variables=variables,
        )  # fmt: skip
        greeting = await self.router.voice.audio(announce, variables) if announce is not None else None
        await call.run(announce=greeting)

    async def _hold(self, leg: Leg, queue: str, variables: dict[str, Any]) -> None:
        """Music (or product ads) on hold; every so often the caller's position and estimated
        wait, and the callback offer."""
        settings = self.router.hold.get(queue)
        music = await self.router.hold_audio(settings.prompt if settings else None)
        every = settings.announce_seconds if settings else 0
        offer_callback = settings.offer_callback if settings else False
        leg.key_pressed.clear()
        while not leg.ended.is_set():
            if every > 0:
                place = self.runner.position(leg.id)
                if place is not None:
                    position, wait = place
                    words = {"position": position, "minutes": max(1, round(wait / 60))}
                    await leg.play(await self.router.voice.audio(POSITION, words))
                if offer_callback:
                    await leg.play(await self.router.voice.audio(CALLBACK_OFFER, variables))
            pressed = asyncio.Event()
            music_task = asyncio.ensure_future(leg.play(music, loop=True, interrupt=pressed))
            try:
                while True:
                    try:
                        key = await asyncio.wait_for(leg.digits.get(), every if every > 0 else None)
                    except TimeoutError:
                        break
                    if key == "1" and offer_callback and self.runner.request_callback(leg.id):
                        pressed.set()
                        await music_task
                        await leg.play(await self.router.voice.audio(CALLBACK_TAKEN, variables))
                        await leg.hang_up()
                        return
            finally:
                pressed.set()
                with contextlib.suppress(Exception):
                    await music_task


class CallRouter:
    def __init__(self, ctx: Context, prompts: PromptCache, *, record_to: Path | None = None) -> None:
        self.ctx = ctx
        self.flows: dict[str, Flow] = {name: load_shipped(name) for name in SHIPPED_NAMES}
        self.voice: Voice = SpokenVoice(prompts, lambda name: telephony.prompt_audio(ctx, name))
        self.agents: list[Agent] = []
        self.control: CallControl | None = None
        self.runner: QueueRunner | None = None
        self.journal = StoredJournal(ctx)
        self.lookups = domain_lookups(ctx)
        self._calls: dict[str, dict[str, Any]] = {}
        """What the desktop pop needs of each call in progress: number, arrival, IVR path, caller."""
        self.live: dict[str, LiveCall] = {}
        """Calls with an agent on this node, by call id: what the softphone controls act on."""
        self.hold: dict[str, center.HoldSettings] = {}
        self.record_to = record_to
        self.recent: deque[FlowRun] = deque(maxlen=200)
        """The latest calls' paths and variables on this node."""
        self._fallback = prompt_and_collect(prompts)
        self._music: dict[str | None, bytes] = {}
        self._upkeep: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self, control: CallControl, *, upkeep_seconds: float = 5.0) -> None:
        """Attach to the engine, load queues and agents, and restore agents' states from the log."""
        self.control = control
        self.journal.start()
        self.runner = QueueRunner(control, {}, sink=self._record, keep_log=False)
        await self.reload()
        await center.restore_presence(self.ctx, self.runner)
        self._upkeep = asyncio.create_task(self._keep_up(upkeep_seconds), name="routing-upkeep")

    async def stop(self) -> None:
        if self._upkeep is not None:
            self._upkeep.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._upkeep
        await self.journal.stop()

    async def _keep_up(self, every: float) -> None:
        """Phones that registered since, leave-when-empty, and the reconciler."""
        while True:
            await asyncio.sleep(every)
            if self.runner is not None:
                try:
                    self.runner.tick()
                    self.runner.reconcile()
                except Exception as exc:  # never let upkeep die
                    log.error("routing upkeep failed", error=repr(exc))

    async def reload(self) -> None:
        """The published flows, the queues, and the agents with an extension."""
        self.flows = await live_flows(self.ctx)
        setup = await center.load_setup(self.ctx)
        self.agents = setup.agents
        self.hold = setup.hold
        self._music.clear()
        if self.runner is not None:
            self.runner.router.configure(setup.queues)
            self.runner.queues = setup.queues
            self.runner.rules = setup.rules
            for agent_id, seat in setup.seats.items():
                old = self.runner.seats.get(agent_id)
                if old is not None:
                    seat.calls_taken = old.calls_taken
            self.runner.seats = setup.seats

    async def hold_audio(self, prompt: str | None) -> bytes:
        if prompt not in self._music:
            audio = await telephony.prompt_audio(self.ctx, prompt) if prompt else None
            self._music[prompt] = audio or bytes([0xFF]) * 8000  # a second of silence
        return self._music[prompt]

    def phone_registered(self, extension: str) -> None:
        """A phone registered: if its agent is ready, it can take calls now."""
        if self.runner is not None and self.runner.unreachable:
            self.runner.tick()

    def _record(self, event: CallEvent | AgentEvent) -> None:
        """The runner's events: to the log; a caller left unanswered becomes a callback task; an
        offer pops on the agent's desktop."""
        self.journal(event)
        if isinstance(event, CallEvent) and event.kind in center.MISSED and event.caller:
            self.spawn(center.missed_call(self.ctx, event))
        if isinstance(event, CallEvent) and event.kind == "offered" and event.agent_id is not None:
            self._calls.setdefault(event.call_id, {}).setdefault("offered_to", set()).add(event.agent_id)
            self.spawn(self.ctx.bus.publish(self._offer(event, event.agent_id)))

    def caller_offered_to(self, call_id: str, agent_id: int) -> str | None:
        """The number of a call in progress that was offered to this agent (None otherwise)."""
        call = self._calls.get(call_id) or {}
        return str(call.get("caller") or "") or None if agent_id in call.get("offered_to", ()) else None

    def in_progress(self, call_id: str) -> Mapping[str, Any]:
        """What this node knows of a call while it lasts: the caller's number, its arrival, the
        IVR path and the flow's variables (who the caller is); empty once it is over."""
        return self._calls.get(call_id) or {}

    def _offer(self, event: CallEvent, agent_id: int) -> CallOffered:
        return self.offer_for(event.call_id, agent_id, event.queue, event.detail)

    def offer_for(self, call_id: str, agent_id: int, queue: str, reason: str) -> CallOffered:
        """What an agent's desktop pops for a call ringing them (from a queue or a transfer)."""
        call = self._calls.get(call_id) or {}
        variables = call.get("variables", {})
        return CallOffered(
            audience=[agent_id], call_id=call_id, queue=queue,
            caller=call.get("caller", ""),
            caller_class=variables.get("caller_class", "unknown"),
            customer={**variables["customer"], "id": variables.get("customer_id"),
                      "tier": variables.get("tier", "")} if variables.get("customer") else None,
            path=list(call.get("path", [])), waited=round(time.time() - call.get("arrived", time.time()), 1),
            reason=reason,
        )  # fmt: skip

    def call_of(self, agent_id: int) -> LiveCall | None:
        """The call this agent is responsible for now, if any."""
        return next((call for call in self.live.values() if call.agent_id == agent_id), None)

    async def call_out(self, call_id: str, seat: Seat, number: str, customer_id: int | None) -> None:
        """Click-to-dial: ring the agent's phone, then (with ring-back in the agent's ear) the
        number; once both answer it is a call like any other, with the same controls."""
        control, runner = self.control, self.runner
        assert control is not None and runner is not None  # noqa: S101 - dial() checked
        self._calls[call_id] = {"caller": number, "arrived": time.time(), "path": [],
                                "variables": {"customer_id": customer_id} if customer_id else {}}  # fmt: skip
        agent_leg: Leg | None = None
        customer_leg: Leg | None = None
        outcome = "answered"
        try:
            try:
                agent_leg = await control.originate(seat.extension, caller=number, ring_for=20.0)
            except OriginateFailed as exc:
                outcome = f"your phone: {exc.reason.value}"
                return
            stop = asyncio.Event()
            ringback = asyncio.ensure_future(agent_leg.play(RINGBACK, loop=True, interrupt=stop))
            dialling = asyncio.ensure_future(control.originate(number, caller=seat.extension, ring_for=45.0))
            gave_up = asyncio.ensure_future(agent_leg.ended.wait())
            try:
                await asyncio.wait({dialling, gave_up}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                gave_up.cancel()
                stop.set()
                with contextlib.suppress(Exception):
                    await ringback
            if not dialling.done():
                dialling.cancel()
                with contextlib.suppress(BaseException):
                    await dialling
                outcome = "the agent hung up"
                return
            if (failure := dialling.exception()) is not None:
                outcome = failure.reason.value if isinstance(failure, OriginateFailed) else repr(failure)
                return
            self.journal.call(call_id, "answered", agent_id=seat.agent_id)
            customer_leg = dialling.result()
            call = LiveCall(
                self, QueueTransfers(self, control, runner), call_id=call_id, caller=customer_leg,
                partner=agent_leg, seat=seat, queue="", outbound=True,
                variables={"customer_id": customer_id} if customer_id else {},
            )  # fmt: skip
            await call.run()
        finally:
            self._calls.pop(call_id, None)
            if outcome != "answered":
                self.journal.call(call_id, "dial_failed", agent_id=seat.agent_id, detail=outcome)
                runner.call_ended(call_id, seat, "", wrap=False)
                note = CallControlled(audience=[seat.agent_id], call=None, note=f"not connected: {outcome}")
                self.spawn(self.ctx.bus.publish(note))
            for leg in (agent_leg, customer_leg):  # whoever is still on when the call is over
                if leg is not None and leg.state is not LegState.ENDED:
                    with contextlib.suppress(Exception):
                        await leg.hang_up()
            self.journal.call(call_id, "finished", detail=outcome)
            if customer_id is not None:
                self.spawn(self._called_out(call_id, customer_id, number, seat, outcome))

    async def _called_out(
        self, call_id: str, customer_id: int, number: str, seat: Seat, outcome: str
    ) -> None:
        """A call out on the customer's timeline (C3)."""
        title = f"去电 {privacy.mask_phone(number)} · {seat.work_number}号 {seat.name}"
        detail = "已接通" if outcome == "answered" else f"未接通（{outcome}）"
        await timeline.add(self.ctx, customer_id, "call", title, ref=f"call:{call_id}", detail=detail)

    async def desk_closed(self, event: DeskClosed) -> None:
        """An agent closed their desktop: not ready (if ready), and a call ringing them goes back
        in line, as a missed offer does."""
        if self.runner is not None:
            self.runner.desk_closed(event.agent_id)

    async def desk_opened(self, event: DeskOpened) -> None:
        if self.runner is not None:
            self.runner.desk_opened(event.agent_id)

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

    async def _caller(self, leg: Leg) -> dict[str, Any]:
        """Who is calling (R4), for the flow and the queues: the caller's class, the customer,
        their last agent (sticky routing) and their tier's priority. A failure here never
        stops the call: the caller is then unknown."""
        try:
            found = await crm.identify_caller(self.ctx, leg.caller)
        except Exception as exc:
            log.error("caller identification failed", error=repr(exc))
            return {"caller_class": "unknown"}
        variables: dict[str, Any] = {"caller_class": found.caller_class, "priority": found.priority}
        if found.caller_class == "known":
            customer = found.customers[0]
            about = {"name": customer.name, "title": customer.title, "member_number": customer.member_number}
            variables |= {"customer_id": customer.id, "last_agent": found.last_agent_id, "customer": about,
                          "tier": customer.tier}  # fmt: skip
        self.journal.call(leg.id, "identified", detail=found.caller_class)
        self._calls.setdefault(leg.id, {})["variables"] = variables
        return variables

    def _voicemail(self, leg: Leg, path: Path, seconds: float) -> None:
        """A message left: in the call's log, and a callback task for the number (tickets take
        voicemail from the log once they exist)."""
        event = CallEvent(
            asyncio.get_running_loop().time(),
            leg.id,
            "voicemail",
            "",
            None,
            f"{seconds:.0f} s: {path}",
            leg.caller,
        )
        self._record(event)

    def _surveyed(self, leg_id: str, score: int | None, variables: dict[str, Any]) -> None:
        """The post-call survey's score, kept with the call and the agent who took it (T8)."""
        agent = variables.get("agent") or {}
        self.journal(
            CallEvent(asyncio.get_running_loop().time(), leg_id, "survey", "", agent.get("user_id"),
                      "" if score is None else str(score))
        )  # fmt: skip

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

    def _visited(self, flow: str, node: str, leg_id: str) -> None:
        self.journal.call(leg_id, "ivr", queue=flow, detail=node)
        self._calls.setdefault(leg_id, {}).setdefault("path", []).append(node)

    async def __call__(self, leg: Leg) -> None:
        if self.control is None or self.runner is None:
            raise RuntimeError("the router has no voice engine")
        transfers = QueueTransfers(self, self.control, self.runner)
        flow = self.flows.get(leg.entry)
        self.journal.call(leg.id, "arrived", queue=leg.entry, detail=f"{leg.caller} → {leg.number}")
        self._calls[leg.id] = {"caller": leg.caller, "arrived": time.time(), "path": []}
        try:
            if flow is None and self.control.reachable(leg.number):  # extension to extension
                await leg.answer()
                await transfers.direct.connect(
                    leg, [Agent(leg.number)], announce=None, variables=leg.variables
                )
                return
            if flow is None:
                await self._fallback(leg)
                return
            services = FlowServices(
                voice=self.voice, transfers=transfers, lookups=self.lookups, visited=self._visited,
                surveyed=self._surveyed, record_to=self.record_to, voicemail=self._voicemail,
                logged=self._logged,
            )  # fmt: skip
            await run_flow(flow, leg, services, variables=await self._caller(leg))
        finally:  # also when the caller hung up and the flow was cancelled
            run = leg.variables.get("flow_run")
            outcome = run.outcome if isinstance(run, FlowRun) else ""
            self.journal.call(leg.id, "finished", detail=outcome or "caller-hung-up")
            self._calls.pop(leg.id, None)
            if isinstance(run, FlowRun):
                self.recent.append(run)
                if isinstance(customer_id := run.variables.get("customer_id"), int):
                    self.spawn(self._on_timeline(leg, customer_id, run))

    async def _on_timeline(self, leg: Leg, customer_id: int, run: FlowRun) -> None:
        """The call on the customer's timeline (C3), once."""
        agent = run.variables.get("agent") or {}
        talk = (leg.cdr.ended_at or time.time()) - leg.cdr.bridged_at if leg.cdr.bridged_at else 0.0
        if agent:
            who = f"{agent.get('work_number', '')}号 {agent.get('name', '')}"
            title = f"来电 {leg.number} · {run.flow.title} · {who}接听"
            detail = f"通话 {talk / 60:.0f} 分钟" + (" · 已录音" if run.variables.get("recording") else "")
        elif run.variables.get("voicemail"):
            title, detail = f"来电 {leg.number} · {run.flow.title} · 留言", ""
        else:
            title, detail = f"来电 {leg.number} · {run.flow.title} · 未接通", " → ".join(run.path)
        started = datetime.fromtimestamp(leg.cdr.offered_at or time.time(), UTC)
        await timeline.add(
            self.ctx, customer_id, "call", title, ref=f"call:{leg.id}", detail=detail, at=started
        )
