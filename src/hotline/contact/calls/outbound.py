"""Click-to-dial (D1): the agent's phone rings first, then (with ring-back in the agent's ear) the
customer's number; once both answer it is a live call like any other, with the same controls. A
call out that did not connect frees the agent at once (no wrap-up) and tells their desktop why.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from hotline.contact.calls.base import CallHost
from hotline.contact.calls.live import RINGBACK, LiveCall
from hotline.contact.events import CallControlled
from hotline.contact.queues.floor import Seat
from hotline.core import privacy
from hotline.crm import timeline
from hotline.voice.control import Leg, LegState, OriginateFailed


class CallOut:
    """One call out, run as the node's background work (`CallRouter.call_out`)."""

    def __init__(self, host: CallHost, facts: dict[str, dict[str, Any]]) -> None:
        self.host, self.facts = host, facts

    async def __call__(
        self, call_id: str, seat: Seat, number: str, customer_id: int | None, caller_id: str = ""
    ) -> None:
        """Click-to-dial: ring the agent's phone, then (with ring-back in the agent's ear) the
        number, showing `caller_id` (an outbound campaign's number) or the agent's extension; once
        both answer it is a call like any other, with the same controls. `facts` holds what the
        desktop pop needs while the call lasts."""
        host, control, runner = self.host, self.host.voice, self.host.runner
        assert control is not None and runner is not None  # noqa: S101 - dial() checked
        self.facts[call_id] = {
            "caller": number,
            "arrived": time.time(),
            "path": [],
            "variables": {"customer_id": customer_id} if customer_id else {},
        }
        agent_leg: Leg | None = None
        customer_leg: Leg | None = None
        outcome = "answered"
        try:
            try:
                # the agent just clicked: their phone may answer by itself (RFC 5373; the browser
                # phone does, a desk phone that does not know it rings as before)
                agent_leg = await control.originate(
                    seat.extension, caller=number, ring_for=20.0, auto_answer=True, phone=seat.phone
                )
            except OriginateFailed as exc:
                outcome = f"your phone: {exc.reason.value}"
                return
            stop = asyncio.Event()
            ringback = asyncio.ensure_future(agent_leg.play(RINGBACK, loop=True, interrupt=stop))
            dialling = asyncio.ensure_future(
                control.originate(number, caller=caller_id or seat.extension, ring_for=45.0, near=agent_leg)
            )
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
            host.journal.call(call_id, "answered", agent_id=seat.agent_id)
            customer_leg = dialling.result()
            call = LiveCall(
                host,
                call_id=call_id,
                caller=customer_leg,
                partner=agent_leg,
                seat=seat,
                queue="",
                outbound=True,
                variables={"customer_id": customer_id} if customer_id else {},
            )
            await call.run()
        finally:
            self.facts.pop(call_id, None)
            if outcome != "answered":
                host.journal.call(call_id, "dial_failed", agent_id=seat.agent_id, detail=outcome)
                runner.call_ended(call_id, seat, "", wrap=False)
                note = CallControlled(audience=[seat.agent_id], call=None, note=f"not connected: {outcome}")
                host.spawn(host.ctx.bus.publish(note))
            for leg in (agent_leg, customer_leg):  # whoever is still on when the call is over
                if leg is not None and leg.state is not LegState.ENDED:
                    with contextlib.suppress(Exception):
                        await leg.hang_up()
            host.journal.call(call_id, "finished", detail=outcome)
            if customer_id is not None:
                host.spawn(self._called_out(call_id, customer_id, number, seat, outcome))

    async def _called_out(
        self, call_id: str, customer_id: int, number: str, seat: Seat, outcome: str
    ) -> None:
        """A call out on the customer's timeline (C3)."""
        title = f"去电 {privacy.mask_phone(number)} · {seat.work_number}号 {seat.name}"
        detail = "已接通" if outcome == "answered" else f"未接通（{outcome}）"
        await timeline.add(self.host.ctx, customer_id, "call", title, ref=f"call:{call_id}", detail=detail)
