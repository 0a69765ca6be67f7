"""Call controls from the agent's desktop (T7, D1): hold, mute, keys, hang up, blind and
consultative transfer to an agent, a queue or a number, three-way calls, click-to-dial, and a
supervisor's listen / whisper / barge.

A `LiveCall` is one conversation between a caller and the centre from the moment an agent
answers (or, for a call out, from the moment the customer answers): whom the caller talks to now
(`partner`), the agent responsible (`seat`, who changes with a transfer), and how the audio is
arranged:

    talking ──hold──▶ held ──consult──▶ consulting ──conference──▶ three-way
       ▲    ◀─unhold─┘                      │ complete: the caller ↔ the colleague; the agent leaves
       └─────────── cancel / the colleague hangs up ┘

The call's own task (the caller's flow, or the click-to-dial task) runs `LiveCall.run()` until
the caller or the partner hangs up; operations arrive from the API meanwhile and rearrange the
media under the call's lock. Every operation is on the call's event log and tells the agents'
browsers (`routing.call_state`). A supervisor joining (listen/whisper/barge) mixes the three
legs; any other rearrangement ends the monitoring first (the supervisor's phone hangs up).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import structlog

from hotline.core import privacy
from hotline.core.context import Context
from hotline.core.errors import InvalidInput, InvalidTransition, NotFound
from hotline.core.permissions import Permission
from hotline.crm import service as crm
from hotline.routing.events import CallControlled
from hotline.routing.queue import NoAgent, Seat
from hotline.routing.schemas import (
    ConsultActionIn,
    ConsultOut,
    DialIn,
    DialOut,
    LiveCallOut,
    MonitorIn,
    MonitorOut,
    TransferIn,
)
from hotline.voice.control import (
    Bridge,
    Conference,
    EndReason,
    Leg,
    LegState,
    MonitorMode,
    OriginateFailed,
    monitor_hearing,
    settle,
)
from hotline.voice.media.g711 import tone, ulaw_encode

if TYPE_CHECKING:
    from hotline.routing.app import CallRouter, QueueTransfers

log = structlog.get_logger(__name__)

RING_SECONDS = 20.0
RINGBACK = ulaw_encode(tone(450, 1000)) + bytes([0xFF]) * 32000
"""What the agent hears while the customer's phone rings: China's ring-back, 1 s on, 4 s off."""


class Mode(StrEnum):
    TALKING = "talking"
    HELD = "held"
    CONSULTING = "consulting"
    THREE_WAY = "three_way"
    TRANSFERRING = "transferring"


@dataclass
class Consult:
    """The colleague (or number) an agent talks to while the caller holds."""

    call_id: str  # the consultation's own id on the event log and in the colleague's presence
    target: str
    seat: Seat | None  # a colleague, or None for a number
    leg: Leg | None = None  # once answered
    ringing: asyncio.Task[None] | None = None
    side: Bridge | None = None  # agent ↔ colleague while the caller holds


@dataclass
class Monitor:
    supervisor_id: int
    mode: MonitorMode | None  # None while the supervisor's phone rings
    leg: Leg | None = None
    conference: Conference | None = None
    ringing: asyncio.Task[None] | None = None


class LiveCall:
    def __init__(
        self,
        router: CallRouter,
        transfers: QueueTransfers,
        *,
        call_id: str,
        caller: Leg,
        partner: Leg | None,
        seat: Seat | None,
        queue: str,
        outbound: bool = False,
        variables: dict[str, Any] | None = None,
    ) -> None:
        self.router, self.transfers = router, transfers
        self.call_id, self.caller, self.partner, self.seat, self.queue = call_id, caller, partner, seat, queue
        self.outbound = outbound
        self.variables = variables if variables is not None else {}
        self.mode = Mode.TALKING
        self.muted = False
        self.since = time.time()
        self.lock = asyncio.Lock()
        self.bridge: Bridge | None = None
        self.consult: Consult | None = None
        self.three_way: Conference | None = None
        self.monitor: Monitor | None = None
        self._music: tuple[asyncio.Event, asyncio.Task[bool]] | None = None
        self._changed = asyncio.Event()
        self._parts = 0
        self._consults = 0
        self._released: set[int] = set()

    # ---------------------------------------------------------------- what the browser sees

    @property
    def agent_id(self) -> int | None:
        return self.seat.agent_id if self.seat is not None else None

    def out(self) -> LiveCallOut:
        consult = None
        if self.consult is not None:
            consult = ConsultOut(
                target=self.consult.target, state="talking" if self.consult.leg else "ringing"
            )
        customer = self.variables.get("customer_id")
        other = self.caller.number if self.outbound else self.caller.caller
        return LiveCallOut(
            call_id=self.call_id, direction="outbound" if self.outbound else "inbound", mode=self.mode.value,
            muted=self.muted, caller=other,
            customer_id=customer if isinstance(customer, int) else None, queue=self.queue,
            agent_id=self.agent_id, since=datetime.fromtimestamp(self.since, UTC), consult=consult,
        )  # fmt: skip

    def _tell(self, note: str = "", *, ended_for: list[int] | None = None) -> None:
        """Push the call's state to the agents on it (and `None` to those who just left it)."""
        colleague = self.consult.seat.agent_id if self.consult and self.consult.seat else None
        audience = [a for a in (self.agent_id, colleague) if a is not None]
        if audience:
            self.router.spawn(
                self.router.ctx.bus.publish(
                    CallControlled(audience=audience, call=self.out().model_dump(mode="json"), note=note)
                )
            )
        if ended_for:
            self.router.spawn(
                self.router.ctx.bus.publish(CallControlled(audience=ended_for, call=None, note=note))
            )

    def _log(self, kind: str, detail: str = "", agent_id: int | None = None) -> None:
        self.router.journal.call(
            self.call_id, kind, queue=self.queue, detail=detail, agent_id=agent_id or self.agent_id
        )

    # ---------------------------------------------------------------- the call's own task

    async def run(self, *, announce: bytes | None = None) -> None:
        """Bridge the caller and the agent (after `announce`, said to the caller), and keep the
        call going through holds and transfers until the caller hangs up, or the partner does
        with nobody to hand the caller to."""
        self.router.live[self.call_id] = self
        try:
            if announce is not None:
                await self.caller.play(announce)
            if self.partner is not None:
                self._connect(self.partner)
            self._tell()
            while True:
                partner = self.partner
                waits = {
                    asyncio.ensure_future(self.caller.ended.wait()),
                    asyncio.ensure_future(self._changed.wait()),
                }
                if partner is not None:
                    waits.add(asyncio.ensure_future(partner.ended.wait()))
                try:
                    await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for waiting in waits:
                        waiting.cancel()
                if self.caller.ended.is_set():
                    return
                if self._changed.is_set():
                    self._changed.clear()
                    continue
                async with self.lock:
                    if partner is not self.partner:
                        continue
                    if self.mode in (Mode.CONSULTING, Mode.THREE_WAY) and self.consult and self.consult.leg:
                        await self._complete("the agent hung up during the consultation")  # handing over
                        continue
                    return  # the partner hung up: the flow goes on (e.g. to the survey)
        finally:
            await settle(self._close())

    def _connect(self, partner: Leg) -> None:
        folder = self.router.record_to / self.caller.id if self.router.record_to is not None else None
        if folder is not None and self._parts:
            folder = folder / f"part{self._parts + 1}"
        self._parts += 1
        self.partner = partner
        self.bridge = (
            self.router.control.bridge(self.caller, partner, record_to=folder)
            if self.router.control
            else None
        )

    async def _unbridge(self) -> None:
        """End the current bridge; its recording (one per part of the call) goes on the log."""
        bridge, self.bridge = self.bridge, None
        if bridge is None:
            return
        recording = await bridge.stop()
        if recording is not None:
            self.variables["recording"] = str(recording.mix)
            self._log("recorded", str(recording.mix))

    async def _close(self) -> None:
        self.router.live.pop(self.call_id, None)
        await self._end_monitor("the call ended")
        await self._stop_music()
        if self.three_way is not None:
            await self.three_way.stop()
            self.three_way = None
        if self.consult is not None:
            await self._drop_consult()
        await self._unbridge()
        leaving = self.agent_id
        self._release()
        self.seat = None
        if self.partner is not None and self.partner is not self.caller:
            with contextlib.suppress(Exception):
                await self.partner.hang_up()
        self._tell(ended_for=[leaving] if leaving is not None else None)

    def _release(self) -> None:
        """The responsible agent's part is over: wrap-up, then ready (the queue's rules)."""
        if (
            self.seat is not None
            and self.seat.agent_id not in self._released
            and self.router.runner is not None
        ):
            self._released.add(self.seat.agent_id)
            self.router.runner.call_ended(self.call_id, self.seat, self.queue)

    # ---------------------------------------------------------------- hold, mute, keys

    async def _start_music(self) -> None:
        settings = self.router.hold.get(self.queue)
        music = await self.router.hold_audio(settings.prompt if settings else None)
        stop = asyncio.Event()
        self._music = (stop, asyncio.ensure_future(self.caller.play(music, loop=True, interrupt=stop)))

    async def _stop_music(self) -> None:
        if self._music is not None:
            stop, task = self._music
            self._music = None
            stop.set()
            with contextlib.suppress(Exception):
                await task

    async def hold(self, held: bool) -> None:
        async with self.lock:
            if held and self.mode is Mode.TALKING:
                await self._end_monitor("the agent put the caller on hold")
                if self.bridge is not None:
                    self.bridge.pause(True)
                await self._start_music()
                self.mode = Mode.HELD
                self._log("held")
            elif not held and self.mode is Mode.HELD:
                await self._stop_music()
                if self.bridge is not None:
                    self.bridge.pause(False)
                self.mode = Mode.TALKING
                self._log("resumed")
            elif (self.mode is Mode.HELD) is not held:
                raise InvalidTransition(f"The call is {self.mode.value}: finish that first")
            self._tell()

    def mute(self, muted: bool) -> None:
        """The caller (and a colleague on a three-way call) stops hearing the agent."""
        if self.mode is Mode.TRANSFERRING or self.partner is None:
            raise InvalidTransition("The call is being transferred")
        self.partner.mute(muted)
        self.muted = muted
        self._tell()

    async def keys(self, keys: str) -> None:
        if self.mode is not Mode.TALKING:
            raise InvalidTransition(f"The call is {self.mode.value}: keys go to a caller you talk to")
        self._log("keys", "".join("*" if k.isdigit() else k for k in keys))  # which keys is not logged: PINs
        await self.caller.send_digits(keys)

    async def hang_up(self) -> None:
        """The agent ends their part from the browser: the call ends, or in a three-way call the
        other two stay connected."""
        async with self.lock:
            if self.mode is Mode.CONSULTING:
                raise InvalidTransition("Complete or cancel the consultation first")
            if self.mode is Mode.TRANSFERRING or self.partner is None:
                raise InvalidTransition("The call is being transferred")
            if self.mode is Mode.THREE_WAY:
                await self._complete("the agent left the three-way call")
                return
        with contextlib.suppress(Exception):
            await self.partner.hang_up()

    # ---------------------------------------------------------------- transfers

    def _target(self, data: TransferIn) -> tuple[str, Seat | None]:
        runner = self.router.runner
        assert runner is not None  # noqa: S101 - a live call exists only on a voice node
        if data.to == "agent":
            seat = next((s for s in runner.seats.values() if s.work_number == data.target), None)
            if seat is None:
                raise NotFound(f"No agent with work number {data.target}", field="body.target")
            if seat.agent_id == self.agent_id:
                raise InvalidInput("That is you", field="body.target")
            return f"{seat.label} {seat.name}".strip(), seat
        if data.to == "queue":
            if data.mode == "consult":
                raise InvalidInput(
                    "Consult an agent or a number; a queue can only take the caller", field="body.to"
                )
            if data.target not in runner.queues:
                raise NotFound(f"No queue {data.target!r}", field="body.target")
            if self.outbound:
                raise InvalidTransition(
                    "A call you made cannot wait in a queue: pass it to an agent or a number"
                )
            return data.target, None
        number = data.target.removeprefix("+")
        if not number.isdigit() or not 3 <= len(number) <= 20:
            raise InvalidInput("A phone number is 3 to 20 digits", field="body.target")
        if self.router.control is None or not self.router.control.reachable(data.target):
            why = "no trunk calls out, or the phone is not registered"
            raise InvalidInput(f"Nothing can ring {data.target}: {why}", field="body.target")
        return data.target, None

    async def transfer(self, data: TransferIn) -> None:
        target, seat = self._target(data)
        async with self.lock:
            if self.mode not in (Mode.TALKING, Mode.HELD):
                raise InvalidTransition(f"The call is {self.mode.value}: finish that first")
            if seat is not None and self.router.runner is not None:
                state = self.router.runner.presence.agent(seat.agent_id).state.value
                if state != "ready":
                    raise InvalidTransition(f"{target} is {state}, not ready to take a call")
            if data.mode == "consult":
                await self._begin_consult(target, seat)
                return
            await self._blind(data, target, seat)

    async def _blind(self, data: TransferIn, target: str, seat: Seat | None) -> None:
        """The agent is free at once; the caller hears music until the target answers, and goes
        back in the queue if it does not."""
        await self._end_monitor("the agent transferred the call")
        await self._unbridge()
        leaving, agent_leg = self.agent_id, self.partner
        self._log("transferred", f"blind to {target}")
        self._release()
        self.seat, self.partner, self.mode = None, None, Mode.TRANSFERRING
        self._changed.set()
        if agent_leg is not None:
            with contextlib.suppress(Exception):
                await agent_leg.hang_up()
        self._tell(f"transferred to {target}", ended_for=[leaving] if leaving else None)
        self.router.spawn(self._deliver(data.to, data.target, seat))

    async def _deliver(self, to: str, target: str, seat: Seat | None) -> None:
        if to == "queue":
            await self._requeue(target)
            return
        await self._start_music()
        leg = await self._ring(target, seat, self.call_id, f"transferred from the desktop to {target}")
        await self._stop_music()
        async with self.lock:
            if self.caller.ended.is_set():
                if leg is not None:
                    await leg.hang_up()
                return
            if leg is None:
                if self.queue and not self.outbound:
                    self.router.spawn(self._requeue(self.queue))
                else:
                    await self.caller.hang_up()
                return
            self.seat = seat
            self._connect(leg)
            self.mode = Mode.TALKING
            self._changed.set()
            self._tell()

    async def _ring(self, target: str, seat: Seat | None, call_id: str, reason: str) -> Leg | None:
        """Ring a colleague (offered as from a queue, their desktop pops the caller) or a number;
        the answered leg, or None."""
        runner, control = self.router.runner, self.router.control
        assert runner is not None and control is not None  # noqa: S101
        if seat is not None:
            try:
                runner.offer_directly(seat.agent_id, call_id, self.queue, reason)
            except InvalidTransition:
                return None
            self._pop(seat.agent_id, reason)
        try:
            leg = await control.originate(seat.extension if seat else target, caller=self.caller.caller,
                                          ring_for=RING_SECONDS)  # fmt: skip
        except (OriginateFailed, asyncio.CancelledError) as exc:
            if seat is not None:
                why = exc.reason.value if isinstance(exc, OriginateFailed) else "cancelled"
                runner.not_answered(call_id, seat, self.queue, why)
            if isinstance(exc, asyncio.CancelledError):
                raise
            self._log("transfer_failed", f"{target}: {exc.reason.value}")
            return None
        if seat is not None:
            runner.answered_directly(call_id, seat, self.queue)
        return leg

    def _pop(self, agent_id: int, reason: str) -> None:
        """The colleague's desktop shows who is calling, as for a call from the queue."""
        offer = self.router.offer_for(self.call_id, agent_id, self.queue, reason)
        if offer is not None:
            self.router.spawn(self.router.ctx.bus.publish(offer))

    async def _requeue(self, queue: str) -> None:
        """Back in a queue (with music, announcements and the callback offer), then with whoever
        the router finds."""
        runner = self.router.runner
        assert runner is not None  # noqa: S101
        self.queue, self.mode = queue, Mode.TRANSFERRING
        self._log("requeued", queue)
        waiting = asyncio.ensure_future(runner.wait_for_agent(
            self.caller, queue, priority=int(self.variables.get("priority") or 0),
            customer=self.variables.get("customer_id"),
        ))  # fmt: skip
        hold = asyncio.ensure_future(self.transfers._hold(self.caller, queue, self.variables))
        try:
            answered = await waiting
        except NoAgent:
            await self.caller.hang_up()
            return
        finally:
            hold.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await hold
        async with self.lock:
            self.seat = answered.seat
            self._connect(answered.agent_leg)
            self.mode = Mode.TALKING
            self._released.discard(answered.seat.agent_id)
            self._changed.set()
            self._tell()

    async def _begin_consult(self, target: str, seat: Seat | None) -> None:
        if self.mode is Mode.TALKING:
            await self._end_monitor("the agent consulted a colleague")
            if self.bridge is not None:
                self.bridge.pause(True)
            await self._start_music()
        self._consults += 1
        consult = Consult(f"{self.call_id}~c{self._consults}", target, seat)
        self.consult, self.mode = consult, Mode.CONSULTING
        self._log("consulting", target)
        consult.ringing = asyncio.ensure_future(self._consult_ring(consult))
        self._tell()

    async def _consult_ring(self, consult: Consult) -> None:
        by = self.seat.label if self.seat else ""
        leg = await self._ring(consult.target, consult.seat, consult.call_id, f"consulted by {by}")
        async with self.lock:
            consult.ringing = None
            if self.consult is not consult:
                if leg is not None:
                    await leg.hang_up()
                return
            if leg is None or self.partner is None:
                self.consult, self.mode = None, Mode.HELD
                self._tell(f"{consult.target} did not answer")
                return
            consult.leg = leg
            consult.side = self.router.control.bridge(self.partner, leg) if self.router.control else None
            self._tell()
        self.router.spawn(self._watch_consult(consult))

    async def _watch_consult(self, consult: Consult) -> None:
        """The colleague hung up during the consultation or the three-way call: the agent has the
        caller again (held after a consultation, talking after a three-way call)."""
        assert consult.leg is not None  # noqa: S101
        await consult.leg.ended.wait()
        async with self.lock:
            if self.consult is not consult:
                return
            note = f"{consult.target} hung up"
            if self.mode is Mode.THREE_WAY:
                await self._back_to_two()
            else:
                await self._drop_consult()
                self.mode = Mode.HELD
            self._tell(note)

    async def _drop_consult(self) -> None:
        consult, self.consult = self.consult, None
        if consult is None:
            return
        if consult.ringing is not None:
            consult.ringing.cancel()
            with contextlib.suppress(BaseException):
                await consult.ringing
        if consult.side is not None:
            await consult.side.stop()
        if consult.leg is not None:
            with contextlib.suppress(Exception):
                await consult.leg.hang_up()
            if consult.seat is not None and self.router.runner is not None:
                self.router.runner.call_ended(consult.call_id, consult.seat, self.queue, wrap=False)
            self._tell(ended_for=[consult.seat.agent_id] if consult.seat else None)

    async def _back_to_two(self) -> None:
        if self.three_way is not None:
            await self.three_way.stop()
            self.three_way = None
        await self._drop_consult()
        if self.bridge is not None:
            self.bridge.pause(False)
        self.mode = Mode.TALKING

    async def finish_consult(self, data: ConsultActionIn) -> None:
        async with self.lock:
            if self.consult is None or self.mode not in (Mode.CONSULTING, Mode.THREE_WAY):
                raise InvalidTransition("There is no consultation on this call")
            if data.action == "cancel":
                target = self.consult.target
                if self.mode is Mode.THREE_WAY:
                    await self._back_to_two()
                else:
                    await self._drop_consult()
                    await self._stop_music()
                    if self.bridge is not None:
                        self.bridge.pause(False)
                    self.mode = Mode.TALKING
                self._log("consult_cancelled", target)
                self._tell()
                return
            if self.consult.leg is None:
                raise InvalidTransition(f"{self.consult.target} has not answered yet")
            if data.action == "complete":
                await self._complete("completed")
                return
            if self.mode is Mode.THREE_WAY:
                raise InvalidTransition("This is a three-way call already")
            await self._three_way()

    async def _three_way(self) -> None:
        consult = self.consult
        assert consult is not None and consult.leg is not None and self.partner is not None  # noqa: S101
        if consult.side is not None:
            await consult.side.stop()
            consult.side = None
        await self._stop_music()
        legs = (self.caller, self.partner, consult.leg)
        if self.router.control is not None:
            self.three_way = self.router.control.conference({leg: set(legs) - {leg} for leg in legs})
        self.mode = Mode.THREE_WAY
        self._log("three_way", consult.target)
        self._tell()

    async def _complete(self, why: str) -> None:
        """The caller goes to the consulted colleague (or number); the agent's part ends."""
        consult = self.consult
        assert consult is not None and consult.leg is not None  # noqa: S101
        runner = self.router.runner
        if self.three_way is not None:
            await self.three_way.stop()
            self.three_way = None
        if consult.side is not None:
            await consult.side.stop()
        await self._stop_music()
        await self._unbridge()
        leaving, agent_leg = self.agent_id, self.partner
        self._log("transferred", f"to {consult.target} ({why})")
        self._release()
        self.consult = None
        if consult.seat is not None and runner is not None:
            runner.take_over(consult.call_id, self.call_id, consult.seat, self.queue)
            self._released.discard(consult.seat.agent_id)
        self.seat = consult.seat
        self._connect(consult.leg)
        self.mode, self.muted = Mode.TALKING, False
        self._changed.set()
        if agent_leg is not None and agent_leg is not consult.leg:
            with contextlib.suppress(Exception):
                await agent_leg.hang_up()
        self._tell(f"transferred to {consult.target}", ended_for=[leaving] if leaving else None)

    # ---------------------------------------------------------------- supervisor

    async def listen_in(self, supervisor: Seat, mode: MonitorMode) -> None:
        async with self.lock:
            if self.monitor is not None:
                if self.monitor.supervisor_id != supervisor.agent_id:
                    raise InvalidTransition("Another supervisor is on this call")
                joined = self.monitor.leg
                if self.monitor.conference is None or joined is None or self.partner is None:
                    raise InvalidTransition("Your phone is still ringing")
                self.monitor.mode = mode
                self.monitor.conference.set_hearing(monitor_hearing(self.caller, self.partner, joined, mode))
                self._log("monitor", f"{mode.value} by {supervisor.label}", agent_id=self.agent_id)
                return
            if self.mode is not Mode.TALKING or self.partner is None:
                raise InvalidTransition(
                    f"The call is {self.mode.value}: join when the agent talks to the caller"
                )
            monitor = Monitor(supervisor.agent_id, None)
            self.monitor = monitor
            monitor.ringing = asyncio.ensure_future(self._monitor_ring(monitor, supervisor, mode))

    async def _monitor_ring(self, monitor: Monitor, supervisor: Seat, mode: MonitorMode) -> None:
        control = self.router.control
        assert control is not None  # noqa: S101
        try:
            shown = self.seat.extension if self.seat else ""
            leg = await control.originate(supervisor.extension, caller=shown, ring_for=RING_SECONDS)
        except OriginateFailed:
            async with self.lock:
                if self.monitor is monitor:
                    self.monitor = None
            return
        async with self.lock:
            monitor.ringing = None
            if self.monitor is not monitor or self.mode is not Mode.TALKING or self.partner is None:
                await leg.hang_up()
                return
            if self.bridge is not None:
                self.bridge.pause(True)
            monitor.leg, monitor.mode = leg, mode
            monitor.conference = control.conference(monitor_hearing(self.caller, self.partner, leg, mode))
            self._log("monitor", f"{mode.value} by {supervisor.label}")
        await leg.ended.wait()
        async with self.lock:
            if self.monitor is monitor:
                await self._end_monitor("the supervisor hung up")

    async def _end_monitor(self, why: str) -> None:
        monitor, self.monitor = self.monitor, None
        if monitor is None:
            return
        if monitor.ringing is not None:
            monitor.ringing.cancel()
        if monitor.conference is not None:
            await monitor.conference.stop()
            if self.bridge is not None and self.mode is Mode.TALKING:
                self.bridge.pause(False)
        if monitor.leg is not None and monitor.leg.state is not LegState.ENDED:
            with contextlib.suppress(Exception):
                await monitor.leg.hang_up(EndReason.HOTLINE_HUNG_UP)
        self._log("monitor_ended", why)

    def monitor_out(self) -> MonitorOut | None:
        if self.monitor is None or self.agent_id is None:
            return None
        mode = self.monitor.mode.value if self.monitor.mode is not None else "ringing"
        return MonitorOut(agent_id=self.agent_id, call_id=self.call_id, mode=mode)


# -------------------------------------------------------------------- services (what the API calls)


def _router(router: CallRouter | None) -> CallRouter:
    from hotline.routing.center import VoiceNodeUnavailable

    if router is None or router.runner is None or router.control is None:
        raise VoiceNodeUnavailable()
    return router


def _my_call(ctx: Context, router: CallRouter | None) -> LiveCall:
    ctx.require(Permission.CALLS_HANDLE)
    call = _router(router).call_of(ctx.actor.user_id or 0)
    if call is None:
        raise NotFound("You are not on a call", field="call")
    return call


async def _audit(ctx: Context, call: LiveCall, action: str, **after: Any) -> None:
    async with ctx.write() as tx:
        tx.audit(f"call.{action}", "call", call.call_id, after=after or None)


def current_call(ctx: Context, router: CallRouter | None) -> LiveCallOut | None:
    """The caller's call as the agent's softphone panel shows it (None: not on a call)."""
    ctx.require(Permission.CALLS_HANDLE)
    if router is None:
        return None
    call = router.call_of(ctx.actor.user_id or 0)
    return call.out() if call is not None else None


async def hold(ctx: Context, router: CallRouter | None, held: bool) -> LiveCallOut:
    call = _my_call(ctx, router)
    await call.hold(held)
    await _audit(ctx, call, "held" if held else "resumed")
    return call.out()


async def mute(ctx: Context, router: CallRouter | None, muted: bool) -> LiveCallOut:
    call = _my_call(ctx, router)
    call.mute(muted)
    await _audit(ctx, call, "muted" if muted else "unmuted")
    return call.out()


async def send_keys(ctx: Context, router: CallRouter | None, keys: str) -> LiveCallOut:
    call = _my_call(ctx, router)
    await call.keys(keys)
    await _audit(ctx, call, "keys", count=len(keys))
    return call.out()


async def hang_up(ctx: Context, router: CallRouter | None) -> None:
    call = _my_call(ctx, router)
    await call.hang_up()
    await _audit(ctx, call, "hung_up")


async def transfer(ctx: Context, router: CallRouter | None, data: TransferIn) -> LiveCallOut | None:
    call = _my_call(ctx, router)
    await call.transfer(data)
    await _audit(ctx, call, "transferred", to=data.to, target=data.target, mode=data.mode)
    return call.out() if data.mode == "consult" else None


async def finish_consult(
    ctx: Context, router: CallRouter | None, data: ConsultActionIn
) -> LiveCallOut | None:
    call = _my_call(ctx, router)
    await call.finish_consult(data)
    await _audit(ctx, call, f"consult_{data.action}")
    return call.out() if call.agent_id == ctx.actor.user_id else None


async def dial(ctx: Context, router: CallRouter | None, data: DialIn) -> DialOut:
    """Click-to-dial (D1): the agent's phone rings first, then the number; the customer's number
    is never shown to the agent when dialled from their file."""
    ctx.require(Permission.CALLS_HANDLE)
    live = _router(router)
    runner, control = live.runner, live.control
    assert runner is not None and control is not None  # noqa: S101
    me = ctx.actor.user_id or 0
    seat = runner.seats.get(me)
    if seat is None:
        raise NotFound("You have no extension to call from", field="user")
    if (data.number is None) == (data.customer_id is None):
        raise InvalidInput("Give a number, or a customer (and which of their phones)", field="body.number")
    number, customer_id = data.number, data.customer_id
    if customer_id is not None:
        number = await crm.phone_to_dial(ctx, customer_id, data.phone_id)
    assert number is not None  # noqa: S101
    if not control.reachable(number):
        raise InvalidInput(
            f"Nothing can ring {privacy.mask_phone(number)}: no trunk calls out", field="body.number"
        )
    call_id = f"out-{secrets.token_hex(6)}"
    runner.dialled(me, call_id, privacy.mask_phone(number))  # refused while ringing or on a call
    async with ctx.write() as tx:
        tx.audit(
            "call.dialled",
            "call",
            call_id,
            after={"number": privacy.mask_phone(number), "customer_id": customer_id},
        )
    live.spawn(live.call_out(call_id, seat, number, customer_id))
    return DialOut(call_id=call_id)


async def monitor(ctx: Context, router: CallRouter | None, agent_id: int, data: MonitorIn) -> MonitorOut:
    """A supervisor listens to, whispers to or barges into an agent's call (T7): their own phone
    rings and joins; the same request changes the mode later. Audited."""
    ctx.require(Permission.CALLS_MONITOR)
    live = _router(router)
    assert live.runner is not None  # noqa: S101
    supervisor = live.runner.seats.get(ctx.actor.user_id or 0)
    if supervisor is None:
        raise NotFound("You have no extension to listen on", field="user")
    call = live.call_of(agent_id)
    if call is None or call.agent_id != agent_id:
        raise NotFound("This agent is not on a call", field="agent_id")
    await call.listen_in(supervisor, MonitorMode(data.mode))
    async with ctx.write() as tx:
        tx.audit("call.monitored", "call", call.call_id, after={"agent_id": agent_id, "mode": data.mode})
    out = call.monitor_out()
    return out or MonitorOut(agent_id=agent_id, call_id=call.call_id, mode="ringing")


async def stop_monitor(ctx: Context, router: CallRouter | None, agent_id: int) -> None:
    ctx.require(Permission.CALLS_MONITOR)
    call = _router(router).call_of(agent_id)
    if call is None or call.monitor is None or call.monitor.supervisor_id != ctx.actor.user_id:
        raise NotFound("You are not on this agent's call", field="agent_id")
    async with call.lock:
        await call._end_monitor("the supervisor left")
    async with ctx.write() as tx:
        tx.audit("call.monitor_ended", "call", call.call_id, after={"agent_id": agent_id})
