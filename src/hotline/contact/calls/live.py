"""Call controls from the agent's desktop (T7, D1): hold, mute, keys, hang up, blind and
consultative transfer to an agent, a queue or a number, three-way calls, click-to-dial, and a
supervisor's listen / whisper / barge.

A `LiveCall` is one conversation between a caller and the centre from the moment an agent
answers (or, for a call out, from the moment the customer answers): whom the caller talks to now
(`partner`), the agent responsible (`seat`, who changes with a transfer), and how the audio is
arranged: its mode, a lifecycle of its own (state.py, with its diagram), which `_move` alone
changes.

The call's own task (the caller's flow, or the click-to-dial task) runs `LiveCall.run()` until
the caller or the partner hangs up; operations arrive from the API meanwhile (controls.py) and
rearrange the media under the call's lock. Every operation is on the call's event log and tells
the agents' browsers (`routing.call_state`). Transfers and consultations are in consult.py, a
supervisor's monitoring in monitor.py.
"""

from __future__ import annotations

import asyncio
import contextlib

from hotline.contact.calls import state
from hotline.contact.calls.consult import Consulting
from hotline.contact.calls.monitor import Monitoring
from hotline.contact.calls.state import Mode
from hotline.core.errors import InvalidTransition
from hotline.voice.control import settle
from hotline.voice.media.g711 import tone, ulaw_encode

RINGBACK = ulaw_encode(tone(450, 1000)) + bytes([0xFF]) * 32000
"""What the agent hears while the customer's phone rings: China's ring-back, 1 s on, 4 s off."""


class LiveCall(Consulting, Monitoring):
    async def run(self, *, announce: bytes | None = None) -> None:
        """Bridge the caller and the agent (after `announce`, said to both), and keep the
        call going through holds and transfers until the caller hangs up, or the partner does
        with nobody to hand the caller to."""
        self.host.live[self.call_id] = self
        try:
            if announce is not None:
                # the caller hears who serves them, and the agent hears it with them from the moment
                # they answer: their audio starts at once, and the end of it says "speak now"
                heard = [self.caller] if self.partner is None else [self.caller, self.partner]
                await asyncio.gather(*(leg.play(announce) for leg in heard))
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

    async def _close(self) -> None:
        self.host.live.pop(self.call_id, None)
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

    async def hold(self, held: bool) -> None:
        async with self.lock:
            if held and self.mode is not Mode.HELD:
                state.check(self.mode, "hold")
                await self._end_monitor("the agent put the caller on hold")
                if self.bridge is not None:
                    self.bridge.pause(True)
                await self._start_music()
                self._move("hold")
                self._log("held")
            elif not held and self.mode is Mode.HELD:
                await self._stop_music()
                if self.bridge is not None:
                    self.bridge.pause(False)
                self._move("resume")
                self._log("resumed")
            self._tell()

    def mute(self, muted: bool) -> None:
        """The caller (and a colleague on a three-way call) stops hearing the agent."""
        state.check(self.mode, "mute")
        if self.partner is None:
            raise InvalidTransition("The call is being transferred", reason="call-being-transferred")
        self.partner.mute(muted)
        self.muted = muted
        self._tell()

    async def keys(self, keys: str) -> None:
        state.check(self.mode, "keys")
        self._log("keys", "".join("*" if k.isdigit() else k for k in keys))  # which keys is not logged: PINs
        await self.caller.send_digits(keys)

    async def hang_up(self) -> None:
        """The agent ends their part from the browser: the call ends, or in a three-way call the
        other two stay connected."""
        async with self.lock:
            state.check(self.mode, "hang_up")
            if self.partner is None:
                raise InvalidTransition("The call is being transferred", reason="call-being-transferred")
            if self.mode is Mode.THREE_WAY:
                await self._complete("the agent left the three-way call")
                return
        with contextlib.suppress(Exception):
            await self.partner.hang_up()
