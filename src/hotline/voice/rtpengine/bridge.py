"""A bridge whose media rtpengine relays (docs/voice.md, "rtpengine").

It starts as the built-in bridge (`SipBridge`: the call is connected at once, through Hotline)
and then moves the media: `offer` with leg A's SDP (call-id = the bridge's id and a counter,
from-tag `a`), a re-INVITE of leg B with rtpengine's side for it, `answer` with B's new SDP
(to-tag `b`), a re-INVITE of A. Both legs' own RTP sessions stay open: when the bridge is paused
(hold, a consultation, a supervisor joining: the conference mixer needs the media) or stopped,
both legs are re-INVITEd back to them and the call is deleted in rtpengine; unpaused, the media
moves to rtpengine again (a new call there). A phone that refuses a re-INVITE (e.g. 488) leaves
the bridge on the built-in relay for good; the call is not lost.

Recorded bridges ask rtpengine to `record call` (a pcap per rtpengine call); when the bridge
stops, the captures are read (off the event loop) into the built-in recorder, which writes
a.wav, b.wav and mix.wav where it always does, with what passed through Hotline in between.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from hotline.voice.control import LegState, Recording
from hotline.voice.media.g711 import ALAW_TO_ULAW
from hotline.voice.media.recorder import CallRecorder, LegRecorder
from hotline.voice.mixing import SipBridge
from hotline.voice.rtpengine.client import NgClient, NgError
from hotline.voice.rtpengine.pcap import PcapError, rtp_packets
from hotline.voice.sdp import SdpError, SessionDescription
from hotline.voice.sip_leg import ReinviteFailed, SipLeg

log = structlog.get_logger(__name__)
Spawn = Callable[[Coroutine[Any, Any, object]], asyncio.Task[object]]
_UP = (LegState.ANSWERED, LegState.HELD)
_PCMU, _PCMA = 0, 8
CAPTURE_WAIT = 2.0
"""How long a capture may take to appear after its call was deleted, in seconds."""


@dataclass
class Rtpengine:
    """A voice node's rtpengine: its ng client, and the folder where rtpengine's
    `--recording-dir` can be read (None: recorded bridges stay on the built-in relay)."""

    ng: NgClient
    recordings: Path | None = None


class RtpengineBridge(SipBridge):
    def __init__(
        self, a: SipLeg, b: SipLeg, record_to: Path | None, rtpengine: Rtpengine, spawn: Spawn
    ) -> None:
        super().__init__(a, b, record_to)
        self.rtpengine, self._spawn = rtpengine, spawn
        self.id = secrets.token_hex(8)
        self.anchored: str | None = None
        """rtpengine's call-id while the media goes through rtpengine."""
        self.refused = False
        """A phone or rtpengine refused the move: the bridge stays on the built-in relay."""
        self.captures: list[tuple[str, dict[int, str]]] = []
        """Recorded rtpengine calls, with the port each party sent to ("a" or "b")."""
        self.settled = asyncio.Event()
        """Set whenever the media is where it should be (for tests and the benchmark)."""
        self._paused = self._stopping = False
        self._count = 0
        self._worker: asyncio.Task[object] | None = None
        self._clock = (time.time(), time.monotonic())
        self._kick()

    # ------------------------------------------------------------------ the wanted state

    def _want(self) -> bool:
        if self._paused or self._stopping or self.refused:
            return False
        if self.anchored is not None:
            return all(leg.state in _UP for leg in self.legs)
        return all(leg.state is LegState.ANSWERED for leg in self.legs)

    def _kick(self) -> None:
        self.settled.clear()
        if self._worker is None or self._worker.done():
            self._worker = self._spawn(self._converge())

    async def _converge(self) -> None:
        try:
            while self._want() != (self.anchored is not None):
                if self.anchored is None:
                    await self._anchor()
                else:
                    await self._release()
        except Exception as error:  # whatever it was, the call keeps its media
            self._refuse(error)
            if self.anchored is not None:
                with contextlib.suppress(Exception):
                    await self._release()
        finally:
            self.settled.set()

    def pause(self, paused: bool) -> None:
        super().pause(paused)
        self._paused = paused
        self._kick()

    async def stop(self) -> Recording | None:
        self._stopping = True
        self._kick()
        if self._worker is not None:
            await asyncio.wait({self._worker})  # (a worker cancelled at shutdown raises nothing here)
        return await super().stop()

    # ------------------------------------------------------------------ moving the media

    async def _anchor(self) -> None:
        a, b = self.legs
        ng = self.rtpengine.ng
        self._count += 1
        call_id = f"{self.id}.{self._count}"
        options: dict[str, object] = {"record call": "yes"} if self.recorder is not None else {}
        try:
            to_b = await ng.offer(call_id, "a", a.remote_sdp.decode("utf-8", "replace"), options)
            b_answer = await b.reinvite(b.offer_sdp(to_b))
        except (NgError, ReinviteFailed) as error:
            await self._forget(call_id)
            self._refuse(error)
            return
        b.relayed_by = to_b
        try:
            to_a = await ng.answer(call_id, "a", "b", b_answer, options)
            await a.reinvite(a.offer_sdp(to_a))
        except (NgError, ReinviteFailed) as error:
            await self._return(b)
            await self._forget(call_id)
            self._refuse(error)
            return
        a.relayed_by = to_a
        self.anchored = call_id
        if options:
            self.captures.append((call_id, {_port(to_a): "a", _port(to_b): "b"}))
        for leg, tag in ((a, "a"), (b, "b")):
            leg.on_mute = self._muter(call_id, tag)
            if leg.muted:
                await self._block(call_id, tag, True)
        log.info("rtpengine.anchored", bridge=self.id, call_id=call_id)

    def _refuse(self, error: Exception) -> None:
        self.refused = True
        log.warning("rtpengine.bridge_stays_builtin", bridge=self.id, error=str(error))

    async def _release(self) -> None:
        call_id = self.anchored
        assert call_id is not None  # noqa: S101 - only called while anchored
        for leg in self.legs:
            leg.on_mute = None
        await self._block(call_id, None, True)  # hold and the like take effect at once
        await asyncio.gather(*(self._return(leg) for leg in self.legs))
        self.anchored = None
        await self._forget(call_id)
        log.info("rtpengine.released", bridge=self.id, call_id=call_id)

    async def _return(self, leg: SipLeg) -> None:
        """Back to the leg's own RTP session (a leg that ended needs nothing)."""
        if leg.relayed_by is None:
            return
        if leg.state in _UP:
            try:
                await leg.reinvite(leg.offer_sdp())
            except ReinviteFailed as error:
                log.warning("rtpengine.return_refused", leg=leg.id, error=str(error))
        leg.relayed_by = None

    async def _forget(self, call_id: str) -> None:
        with contextlib.suppress(NgError):
            await self.rtpengine.ng.delete(call_id)

    async def _block(self, call_id: str, tag: str | None, blocked: bool) -> None:
        ng = self.rtpengine.ng
        try:
            await (ng.block_media(call_id, tag) if blocked else ng.unblock_media(call_id, tag))
        except NgError as error:
            log.warning("rtpengine.block_failed", bridge=self.id, error=str(error))

    def _muter(self, call_id: str, tag: str) -> Callable[[bool], None]:
        def mute(muted: bool) -> None:
            if self.anchored == call_id:
                self._spawn(self._block(call_id, tag, muted))

        return mute

    # ------------------------------------------------------------------ the recording

    async def merge(self, recorder: CallRecorder) -> None:
        folder = self.rtpengine.recordings
        if folder is None or not self.captures:
            return
        wall, monotonic = self._clock
        for call_id, ports in self.captures:
            path = await _capture(folder / "pcaps", call_id)
            if path is None:
                log.warning("rtpengine.capture_missing", bridge=self.id, call_id=call_id)
                continue
            parties = {port: recorder.a if side == "a" else recorder.b for port, side in ports.items()}
            try:
                await asyncio.to_thread(_place, path, parties, monotonic - wall)
            except (OSError, PcapError) as error:
                log.warning("rtpengine.capture_unreadable", path=str(path), error=str(error))


async def _capture(folder: Path, call_id: str) -> Path | None:
    deadline = time.monotonic() + CAPTURE_WAIT
    while True:
        found = sorted(await asyncio.to_thread(lambda: list(folder.glob(f"{call_id}-*.pcap"))))
        if found or time.monotonic() > deadline:
            return found[0] if found else None
        await asyncio.sleep(0.05)


def _place(path: Path, parties: dict[int, LegRecorder], shift: float) -> None:
    """Each captured audio frame into the recorder of the party that sent it, by its RTP
    timestamp (a new source placed by its capture time, on the recorder's monotonic clock)."""
    for packet in rtp_packets(path):
        recorder = parties.get(packet.destination_port)
        if recorder is None or packet.payload_type not in (_PCMU, _PCMA):
            continue
        payload = packet.payload if packet.payload_type == _PCMU else packet.payload.translate(ALAW_TO_ULAW)
        recorder.packet(packet.timestamp, packet.ssrc, payload, packet.at + shift)


def _port(sdp: str) -> int:
    try:
        return SessionDescription.parse(sdp).audio.port
    except SdpError:
        return 0
