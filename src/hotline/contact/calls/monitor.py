"""A supervisor on an agent's call (T7): listen, whisper or barge. The supervisor's own phone rings
and joins; the three legs are mixed, each hearing whom the mode says (`monitor_hearing`). Any
other rearrangement of the call ends the monitoring first (the supervisor's phone hangs up)."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

from hotline.contact.calls import state
from hotline.contact.calls.base import CallBase
from hotline.contact.calls.state import Mode
from hotline.contact.queues.floor import Seat
from hotline.contact.schemas import MonitorOut
from hotline.core.errors import InvalidTransition
from hotline.voice.control import (
    Conference,
    EndReason,
    Leg,
    LegState,
    MonitorMode,
    OriginateFailed,
    monitor_hearing,
)

RING_SECONDS = 20.0


@dataclass
class Monitor:
    supervisor_id: int
    mode: MonitorMode | None  # None while the supervisor's phone rings
    leg: Leg | None = None
    conference: Conference | None = None
    ringing: asyncio.Task[None] | None = None


class Monitoring(CallBase):
    """A supervisor's monitoring of a `LiveCall`."""

    monitor: Monitor | None = None

    async def listen_in(self, supervisor: Seat, mode: MonitorMode) -> None:
        async with self.lock:
            if self.monitor is not None:
                if self.monitor.supervisor_id != supervisor.agent_id:
                    raise InvalidTransition(
                        "Another supervisor is on this call", reason="another-supervisor-call"
                    )
                joined = self.monitor.leg
                if self.monitor.conference is None or joined is None or self.partner is None:
                    raise InvalidTransition("Your phone is still ringing", reason="your-phone-still-ringing")
                self.monitor.mode = mode
                self.monitor.conference.set_hearing(monitor_hearing(self.caller, self.partner, joined, mode))
                self._log("monitor", f"{mode.value} by {supervisor.label}", agent_id=self.agent_id)
                return
            state.check(self.mode, "monitor")
            if self.partner is None:
                raise InvalidTransition("The call is being transferred", reason="call-being-transferred")
            monitor = Monitor(supervisor.agent_id, None)
            self.monitor = monitor
            monitor.ringing = asyncio.ensure_future(self._monitor_ring(monitor, supervisor, mode))

    async def _monitor_ring(self, monitor: Monitor, supervisor: Seat, mode: MonitorMode) -> None:
        control = self.host.voice
        assert control is not None  # noqa: S101
        try:
            shown = self.seat.extension if self.seat else ""
            leg = await control.originate(
                supervisor.extension, caller=shown, ring_for=RING_SECONDS, near=self.caller
            )
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

    async def end_monitor(self, why: str) -> None:
        """The supervisor leaves (from the API; hanging up their phone does the same)."""
        async with self.lock:
            await self._end_monitor(why)

    def monitor_out(self) -> MonitorOut | None:
        if self.monitor is None or self.agent_id is None:
            return None
        mode = self.monitor.mode.value if self.monitor.mode is not None else "ringing"
        return MonitorOut(agent_id=self.agent_id, call_id=self.call_id, mode=mode)
