"""A call a progressive or predictive dialer places (outbound/dialer.py decides when and to whom):
the number rings first, with no agent; once a person answers, a free agent of the campaign is
connected within the grace time (their phone asked to answer by itself), or the person hears the
campaign's message naming the company and its number and the call ends (an abandoned answered
call). Once connected it is a live call like any other, with the same controls and recording.

What happened is told back to the dialer through `CampaignCallEvents` (ringing ended, which agent,
abandoned), so the pacer learns and the attempt is written; the log lines are those of every call
out (`dialled` with the campaign, `answered` with the agent, `dial_failed` with the reason), so
the call records and the reports need nothing new.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from hotline.contact.calls.base import CallHost
from hotline.contact.calls.live import LiveCall
from hotline.contact.queues.floor import Seat
from hotline.core import privacy
from hotline.core.errors import InvalidTransition
from hotline.voice.control import Leg, LegState, OriginateFailed
from hotline.voice.media.amd import Detector, EndOfGreeting, Verdict

MAX_RING = 30.0
"""The dialer hangs up a number not answered by then (the pacer's `max_ring`)."""


@dataclass(frozen=True)
class Dial:
    """One number to call for a campaign."""

    call_id: str
    campaign: str  # the campaign's code, on the call's log lines
    number: str  # E.164
    caller_id: str  # the number the called person sees
    customer_id: int | None
    message: str  # said to a person no agent could take, naming the company and its number
    grace: float = 1.5  # seconds from the answer to an agent on the line, else the message (it
    # is rendered while the number rings, so it starts within the 2 s China's rules allow)
    ring_for: float = MAX_RING
    detect_machines: bool = False  # tell answering machines from people before an agent is sought
    machine_message: str = ""  # left on a machine after its greeting ('' : hang up)


class CampaignCallEvents(Protocol):
    def rang(self, dial: Dial, seconds: float, *, answered: bool, why: str) -> None:
        """The number stopped ringing: answered after `seconds`, or not (`why`: busy, no_answer …)."""

    def free_agents(self, dial: Dial) -> list[int]:
        """The campaign's agents free to take the call now, the one to try first first."""

    def connected(self, dial: Dial, agent_id: int, waited: float) -> None:
        """An agent is on the call, `waited` seconds after the person answered."""

    def abandoned(self, dial: Dial, waited: float) -> None:
        """No agent within the grace time: the person heard the message."""

    def machine(self, dial: Dial, why: str) -> None:
        """An answering machine answered (its message left, if the campaign has one)."""


class CampaignCall:
    """Runs one `Dial` as the node's background work (`CallRouter.campaign_call`)."""

    def __init__(self, host: CallHost, facts: dict[str, dict[str, Any]], speak: Callable[[str], Any]) -> None:
        self.host, self.facts, self.speak = host, facts, speak

    async def __call__(self, dial: Dial, events: CampaignCallEvents) -> None:
        host, voice, runner = self.host, self.host.voice, self.host.runner
        assert voice is not None and runner is not None  # noqa: S101 - the dialer runs on a voice node
        host.journal.call(
            dial.call_id, "dialled", queue=dial.campaign, detail=privacy.mask_phone(dial.number)
        )
        started = time.monotonic()
        message = asyncio.ensure_future(self.speak(dial.message))  # ready before anyone answers
        customer: Leg | None = None
        agent_leg: Leg | None = None
        outcome = "answered"
        try:
            try:
                customer = await voice.originate(dial.number, caller=dial.caller_id, ring_for=dial.ring_for)
            except OriginateFailed as exc:
                outcome = exc.reason.value
                events.rang(dial, time.monotonic() - started, answered=False, why=outcome)
                return
            answered_at = time.monotonic()
            events.rang(dial, answered_at - started, answered=True, why="")
            if dial.detect_machines:
                verdict, why = await _detect(customer)
                if verdict is Verdict.MACHINE:
                    outcome = "machine"
                    events.machine(dial, why)
                    if dial.machine_message:
                        await self._leave_message(customer, dial.machine_message)
                    return
                answered_at = time.monotonic()  # the greeting is over: the grace counts from here
            self.facts[dial.call_id] = {
                "caller": dial.number,
                "arrived": time.time(),
                "path": [],
                "variables": {"customer_id": dial.customer_id} if dial.customer_id else {},
            }
            connected = await self._agent(dial, events, answered_at, customer)
            if connected is None:
                outcome = "abandoned"
                events.abandoned(dial, time.monotonic() - answered_at)
                with contextlib.suppress(Exception):
                    await customer.play(await message)
                return
            seat, agent_leg = connected
            runner.answered_directly(dial.call_id, seat, "")  # the log's `answered`, with the agent
            events.connected(dial, seat.agent_id, time.monotonic() - answered_at)
            call = LiveCall(
                host,
                call_id=dial.call_id,
                caller=customer,
                partner=agent_leg,
                seat=seat,
                queue="",
                outbound=True,
                variables=self.facts[dial.call_id]["variables"],
            )
            await call.run()
        finally:
            if not message.done():
                message.cancel()
            self.facts.pop(dial.call_id, None)
            if outcome != "answered":
                host.journal.call(dial.call_id, "dial_failed", detail=outcome)
            for leg in (agent_leg, customer):
                if leg is not None and leg.state is not LegState.ENDED:
                    with contextlib.suppress(Exception):
                        await leg.hang_up()
            host.journal.call(dial.call_id, "finished", detail=outcome)

    async def _leave_message(self, leg: Leg, text: str) -> None:
        """After the machine's greeting (and its beep) is over, the campaign's message."""
        audio = asyncio.ensure_future(self.speak(text))
        end, heard = EndOfGreeting(), [time.monotonic()]

        def sink(payload: bytes) -> None:
            heard[0] = time.monotonic()
            end.feed(payload)

        stop = leg.listen(sink)
        deadline = time.monotonic() + 31.0
        try:  # over: a second of silence, or of no audio at all (a phone that stops sending)
            while not end.over and not leg.ended.is_set() and time.monotonic() < deadline:
                if time.monotonic() - heard[0] >= 1.0:
                    break
                await asyncio.sleep(0.1)
        finally:
            stop()
        with contextlib.suppress(Exception):
            await leg.play(await audio)

    async def _agent(
        self, dial: Dial, events: CampaignCallEvents, answered_at: float, customer: Leg
    ) -> tuple[Seat, Leg] | None:
        """A free agent of the campaign on the line before the grace time is out: each is offered
        the call (the desktop pops the file) and their phone asked to answer by itself."""
        voice, runner = self.host.voice, self.host.runner
        assert voice is not None and runner is not None  # noqa: S101
        tried: set[int] = set()
        while (left := dial.grace - (time.monotonic() - answered_at)) > 0.05:
            agent_id = next((a for a in events.free_agents(dial) if a not in tried), None)
            if agent_id is None:
                return None
            tried.add(agent_id)
            try:
                seat = runner.offer_directly(agent_id, dial.call_id, "", f"campaign {dial.campaign}")
            except (KeyError, InvalidTransition):  # taken meanwhile (an inbound call, a break)
                continue
            try:
                leg = await voice.originate(
                    seat.extension,
                    caller=dial.number,
                    ring_for=left,
                    auto_answer=True,
                    phone=seat.phone,
                    near=customer,
                )
            except OriginateFailed as exc:
                runner.not_answered(dial.call_id, seat, "", exc.reason.value)
                continue
            return seat, leg
        return None


async def _detect(leg: Leg) -> tuple[Verdict, str]:
    """A person or a machine, from what the called party says first (voice/media/amd.py)."""
    detector = Detector()
    decided = asyncio.Event()
    stop = leg.listen(lambda payload: decided.set() if detector.feed(payload) is not None else None)
    try:
        ended = asyncio.ensure_future(leg.ended.wait())
        waiting = asyncio.ensure_future(decided.wait())
        try:
            await asyncio.wait(
                {ended, waiting}, timeout=detector.s.total + 0.5, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            ended.cancel()
            waiting.cancel()
    finally:
        stop()
    return detector.finish(), detector.why
