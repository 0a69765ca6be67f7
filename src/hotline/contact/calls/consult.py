"""Transfers and consultations of a live call (T7): blind to an agent, a queue or a number;
consultative (the caller holds while the agent talks to a colleague), then complete, cancel or a
three-way call. The steps of the call's mode are in state.py; the media is rearranged here under
the call's lock, and every step goes on the event log and to the agents' browsers."""

from __future__ import annotations

import asyncio
import contextlib

from hotline.contact.calls import state
from hotline.contact.calls.base import CallBase, Consult
from hotline.contact.calls.state import Mode
from hotline.contact.queues.floor import Seat
from hotline.contact.queues.reasons import RoutingReason
from hotline.contact.queues.runner import NoAgent
from hotline.contact.schemas import ConsultActionIn, TransferIn
from hotline.core.errors import InvalidInput, InvalidTransition, NotFound
from hotline.voice.control import Leg, OriginateFailed

RING_SECONDS = 20.0


class Consulting(CallBase):
    """The transfers and consultations of a `LiveCall`."""

    def _target(self, data: TransferIn) -> tuple[str, Seat | None]:
        runner = self.host.runner
        assert runner is not None  # noqa: S101 - a live call exists only on a voice node
        if data.to == "agent":
            seat = next((s for s in runner.seats.values() if s.work_number == data.target), None)
            if seat is None:
                raise NotFound(
                    f"No agent with work number {data.target}",
                    field="body.target",
                    reason="no-agent-work-number",
                    params={"target": data.target},
                )
            if seat.agent_id == self.agent_id:
                raise InvalidInput("That is you", field="body.target", reason="that-is-you")
            return f"{seat.label} {seat.name}".strip(), seat
        if data.to == "queue":
            if data.mode == "consult":
                raise InvalidInput(
                    "Consult an agent or a number; a queue can only take the caller",
                    field="body.to",
                    reason="consult-agent-number-queue-take",
                )
            if data.target not in runner.queues:
                raise NotFound(
                    f"No queue {data.target!r}",
                    field="body.target",
                    reason="no-queue-to-consult",
                    params={"target": repr(data.target)},
                )
            if self.outbound:
                raise InvalidTransition(
                    "A call you made cannot wait in a queue: pass it to an agent or a number",
                    reason="call-you-made-cannot-wait",
                )
            return data.target, None
        number = data.target.removeprefix("+")
        if not number.isdigit() or not 3 <= len(number) <= 20:
            raise InvalidInput(
                "A phone number is 3 to 20 digits", field="body.target", reason="phone-number-3-20-digits"
            )
        if self.host.voice is None or not self.host.voice.reachable(data.target):
            why = "no trunk calls out, or the phone is not registered"
            raise InvalidInput(
                f"Nothing can ring {data.target}: {why}",
                field="body.target",
                reason="nothing-ring",
                params={"target": data.target, "why": why},
            )
        return data.target, None

    async def transfer(self, data: TransferIn) -> None:
        target, seat = self._target(data)
        async with self.lock:
            state.check(self.mode, "consult" if data.mode == "consult" else "transfer")
            if seat is not None and self.host.runner is not None:
                now = self.host.runner.presence.agent(seat.agent_id).state.value
                if now != "ready":
                    raise InvalidTransition(
                        f"{target} is {now}, not ready to take a call",
                        reason="not-ready-take-call",
                        params={"target": target, "now": now},
                    )
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
        self.seat, self.partner = None, None
        self._move("transfer")
        self._changed.set()
        if agent_leg is not None:
            with contextlib.suppress(Exception):
                await agent_leg.hang_up()
        self._tell(f"transferred to {target}", ended_for=[leaving] if leaving else None)
        self.host.spawn(self._deliver(data.to, data.target, seat))

    async def _deliver(self, to: str, target: str, seat: Seat | None) -> None:
        if to == "queue":
            await self._requeue(target)
            return
        await self._start_music()
        leg = await self._ring(target, seat, self.call_id, RoutingReason("transferred", {"target": target}))
        await self._stop_music()
        async with self.lock:
            if self.caller.ended.is_set():
                if leg is not None:
                    await leg.hang_up()
                return
            if leg is None:
                if self.queue and not self.outbound:
                    self.host.spawn(self._requeue(self.queue))
                else:
                    await self.caller.hang_up()
                return
            self.seat = seat
            self._connect(leg)
            self._move("connected")
            self._changed.set()
            self._tell()

    async def _ring(self, target: str, seat: Seat | None, call_id: str, reason: RoutingReason) -> Leg | None:
        """Ring a colleague (offered as from a queue, their desktop pops the caller) or a number;
        the answered leg, or None."""
        runner, control = self.host.runner, self.host.voice
        assert runner is not None and control is not None  # noqa: S101
        if seat is not None:
            try:
                runner.offer_directly(seat.agent_id, call_id, self.queue, reason.encode())
            except InvalidTransition:
                return None
            self._pop(seat.agent_id, reason)
        try:
            leg = await control.originate(
                seat.extension if seat else target,
                caller=self.caller.caller,
                ring_for=RING_SECONDS,
                phone=seat.phone if seat else None,
                near=self.caller,
            )
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

    def _pop(self, agent_id: int, reason: RoutingReason) -> None:
        """The colleague's desktop shows who is calling, as for a call from the queue."""
        offer = self.host.offer_for(self.call_id, agent_id, self.queue, reason.encode())
        if offer is not None:
            self.host.spawn(self.host.ctx.bus.publish(offer))

    async def _requeue(self, queue: str) -> None:
        """Back in a queue (with music, announcements and the callback offer), then with whoever
        the router finds."""
        runner = self.host.runner
        assert runner is not None  # noqa: S101
        self.queue = queue
        self._move("requeue")
        self._log("requeued", queue)
        waiting = asyncio.ensure_future(
            runner.wait_for_agent(
                self.caller,
                queue,
                priority=int(self.variables.get("priority") or 0),
                customer=self.variables.get("customer_id"),
            )
        )
        hold = asyncio.ensure_future(self.host.hold_caller(self.caller, queue, self.variables))
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
            self._move("connected")
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
        self.consult = consult
        self._move("consult")
        self._log("consulting", target)
        consult.ringing = asyncio.ensure_future(self._consult_ring(consult))
        self._tell()

    async def _consult_ring(self, consult: Consult) -> None:
        by = self.seat.label if self.seat else ""
        leg = await self._ring(
            consult.target, consult.seat, consult.call_id, RoutingReason("consulted", {"by": by})
        )
        async with self.lock:
            consult.ringing = None
            if self.consult is not consult:
                if leg is not None:
                    await leg.hang_up()
                return
            if leg is None or self.partner is None:
                self.consult = None
                self._move("unanswered")
                self._tell(f"{consult.target} did not answer")
                return
            consult.leg = leg
            consult.side = self.host.voice.bridge(self.partner, leg) if self.host.voice else None
            self._tell()
        self.host.spawn(self._watch_consult(consult))

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
                self._move("unanswered")
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
            if consult.seat is not None and self.host.runner is not None:
                self.host.runner.call_ended(consult.call_id, consult.seat, self.queue, wrap=False)
            self._tell(ended_for=[consult.seat.agent_id] if consult.seat else None)

    async def _back_to_two(self) -> None:
        if self.three_way is not None:
            await self.three_way.stop()
            self.three_way = None
        await self._drop_consult()
        if self.bridge is not None:
            self.bridge.pause(False)
        self._move("cancel")

    async def finish_consult(self, data: ConsultActionIn) -> None:
        async with self.lock:
            if self.consult is None:
                raise InvalidTransition(
                    "There is no consultation on this call", reason="no-consultation-call"
                )
            state.check(self.mode, data.action)
            if data.action == "cancel":
                target = self.consult.target
                if self.mode is Mode.THREE_WAY:
                    await self._back_to_two()
                else:
                    await self._drop_consult()
                    await self._stop_music()
                    if self.bridge is not None:
                        self.bridge.pause(False)
                    self._move("cancel")
                self._log("consult_cancelled", target)
                self._tell()
                return
            if self.consult.leg is None:
                raise InvalidTransition(
                    f"{self.consult.target} has not answered yet",
                    reason="not-answered-yet",
                    params={"target": self.consult.target},
                )
            if data.action == "complete":
                await self._complete("completed")
                return
            if self.mode is Mode.THREE_WAY:
                raise InvalidTransition("This is a three-way call already", reason="three-way-call-already")
            await self._three_way()

    async def _three_way(self) -> None:
        consult = self.consult
        assert consult is not None and consult.leg is not None and self.partner is not None  # noqa: S101
        if consult.side is not None:
            await consult.side.stop()
            consult.side = None
        await self._stop_music()
        legs = (self.caller, self.partner, consult.leg)
        if self.host.voice is not None:
            self.three_way = self.host.voice.conference({leg: set(legs) - {leg} for leg in legs})
        self._move("conference")
        self._log("three_way", consult.target)
        self._tell()

    async def _complete(self, why: str) -> None:
        """The caller goes to the consulted colleague (or number); the agent's part ends."""
        consult = self.consult
        assert consult is not None and consult.leg is not None  # noqa: S101
        runner = self.host.runner
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
        self._move("complete")
        self.muted = False
        self._changed.set()
        if agent_leg is not None and agent_leg is not consult.leg:
            with contextlib.suppress(Exception):
                await agent_leg.hang_up()
        self._tell(f"transferred to {consult.target}", ended_for=[leaving] if leaving else None)
