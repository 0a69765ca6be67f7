"""Media between legs on the built-in engine: a bridge relays raw RTP between two legs (with a
recorder tap on each), a conference mixes three or more on a 20 ms media clock."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from pathlib import Path

from hotline.voice.control import Bridge, Conference, Leg, LegState, Recording
from hotline.voice.media.mixer import Mixer
from hotline.voice.media.recorder import CallRecorder
from hotline.voice.rtp.session import media_clock
from hotline.voice.sip_leg import SipLeg


class SipBridge(Bridge):
    def __init__(self, a: SipLeg, b: SipLeg, record_to: Path | None) -> None:
        super().__init__(a, b)
        self.legs = (a, b)
        a.rtp.relay_to, b.rtp.relay_to = b.rtp, a.rtp
        self.recorder = CallRecorder(record_to) if record_to is not None else None
        if self.recorder is not None:
            a.rtp.taps.append(self.recorder.a.packet)
            b.rtp.taps.append(self.recorder.b.packet)

    def pause(self, paused: bool) -> None:
        a, b = self.legs
        if paused:
            if a.rtp.relay_to is b.rtp:
                a.rtp.relay_to = None
            if b.rtp.relay_to is a.rtp:
                b.rtp.relay_to = None
        elif LegState.ENDED not in (a.state, b.state):
            a.rtp.relay_to, b.rtp.relay_to = b.rtp, a.rtp

    async def merge(self, recorder: CallRecorder) -> None:
        """Add what another relay recorded of this call (rtpengine's bridge does)."""

    async def stop(self) -> Recording | None:
        a, b = self.legs
        if a.rtp.relay_to is b.rtp:
            a.rtp.relay_to = None
        if b.rtp.relay_to is a.rtp:
            b.rtp.relay_to = None
        if self.recorder is not None:
            with contextlib.suppress(ValueError):
                a.rtp.taps.remove(self.recorder.a.packet)
            with contextlib.suppress(ValueError):
                b.rtp.taps.remove(self.recorder.b.packet)
            await self.merge(self.recorder)
            leg_a, leg_b, mix, seconds = await self.recorder.finish()
            self.recording = Recording(leg_a, leg_b, mix, seconds)
            self.recorder = None
        self._unbridged()
        return self.recording


class SipConference(Conference):
    """Mixes its legs on a 20 ms media clock; their direct relays are paused meanwhile."""

    def __init__(self, hears: dict[Leg, set[Leg]]) -> None:
        legs = [leg for leg in hears if isinstance(leg, SipLeg)]
        if len(legs) != len(hears):
            raise TypeError("the built-in engine mixes its own legs")
        super().__init__(hears)
        self.legs: list[SipLeg] = legs
        self.mixer = Mixer()
        self._relays = {leg: leg.rtp.relay_to for leg in legs}
        self._taps: dict[SipLeg, Callable[[int, int, bytes], None]] = {}
        for leg in legs:
            leg.rtp.relay_to = None
            self._taps[leg] = self._tap(leg)
            leg.rtp.taps.append(self._taps[leg])
        self.set_hearing(hears)
        self._task = asyncio.ensure_future(self._run())

    def _tap(self, leg: SipLeg) -> Callable[[int, int, bytes], None]:
        def tap(timestamp: int, ssrc: int, payload: bytes) -> None:
            if not leg.muted:
                self.mixer.push(leg, payload)

        return tap

    def set_hearing(self, hears: dict[Leg, set[Leg]]) -> None:
        self.hears = hears
        self.mixer.set_hearing(dict(hears))  # type: ignore[arg-type]

    async def _run(self) -> None:
        clock = media_clock()
        try:
            async for _ in clock:
                for listener, frame in self.mixer.tick().items():
                    assert isinstance(listener, SipLeg)  # noqa: S101 - the mixer holds only our legs
                    if listener.state is not LegState.ENDED:
                        listener.rtp.send_frame(frame)
        finally:
            await clock.aclose()

    async def stop(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        for leg in self.legs:
            with contextlib.suppress(ValueError):
                leg.rtp.taps.remove(self._taps[leg])
            relay = self._relays[leg]
            if relay is not None and leg.state is not LegState.ENDED:
                leg.rtp.relay_to = relay
            leg.publish("conference-ended")
