"""A leg on the built-in engine: one SIP dialog and its RTP session. Answering re-sends the 200 OK
until the ACK comes (RFC 3261 §13.3.1.4); keys arrive as RFC 4733 events or SIP INFO; hanging up
is a BYE, a CANCEL or a final refusal, whichever the leg's state calls for.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, Protocol

from hotline.voice.control import Direction, EndReason, Leg, LegEnded, LegEvent, LegRecording, LegState
from hotline.voice.media.recorder import MessageRecorder
from hotline.voice.rtp.session import RtpSession
from hotline.voice.sdp import Media, SdpError, SessionDescription
from hotline.voice.sip.dialog import T1, T2, ClientTransactions, Dialog, tag_of
from hotline.voice.sip.message import SipRequest, SipResponse, response_to
from hotline.voice.sip.transport import Peer

TIMER_H = 64 * T1
_INFO_SIGNAL = re.compile(r"^Signal\s*=\s*([0-9*#A-Da-d])\s*$", re.M)


def info_digit(request: SipRequest) -> str | None:
    """The key in a SIP INFO body (application/dtmf-relay `Signal=5`, or application/dtmf `5`)."""
    kind = (request.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    text = request.body.decode("ascii", "replace").strip()
    if kind == "application/dtmf-relay":
        match = _INFO_SIGNAL.search(text)
        return match.group(1).upper() if match else None
    if kind == "application/dtmf" and len(text) == 1 and text in "0123456789*#ABCDabcd":
        return text.upper()
    return None


def configure_media(rtp: RtpSession, media: Media) -> None:
    """Take the codec and telephone-event payload type of an answer (ours or theirs)."""
    audio = [pt for pt in media.formats if (media.codec(pt) or ("",))[0].upper() in ("PCMU", "PCMA")]
    events = [pt for pt in media.formats if (media.codec(pt) or ("",))[0].lower() == "telephone-event"]
    if not audio:
        raise SdpError("no common codec: Hotline speaks PCMU and PCMA")
    codec = (media.codec(audio[0]) or ("PCMU",))[0].upper()
    rtp.payload_type = 8 if codec == "PCMA" else 0
    rtp.event_payload_type = events[0] if events else None


class Signalling(Protocol):
    """What a leg needs of the engine that owns it: SIP messages out, and the end of the leg."""

    transactions: ClientTransactions

    def emit(self, event: LegEvent) -> None: ...

    def send(self, wire: bytes, peer: Peer) -> None: ...

    def ok(self, leg: SipLeg, request: SipRequest, sdp: SessionDescription) -> SipResponse: ...

    def bye(self, leg: SipLeg, reason: EndReason) -> None: ...

    def finish(self, leg: SipLeg, reason: EndReason, *, keep_media: bool = False) -> None: ...

    def spawn(self, coroutine: Coroutine[Any, Any, object]) -> asyncio.Task[object]: ...


class SipLeg(Leg):
    def __init__(
        self,
        engine: Signalling,
        *,
        direction: Direction,
        caller: str,
        number: str,
        rtp: RtpSession,
        peer: Peer,
        call_id: str,
    ) -> None:
        super().__init__(direction=direction, caller=caller, number=number, emit=engine.emit)
        self.engine, self.rtp, self.peer, self.call_id = engine, rtp, peer, call_id
        self.rtp.on_digit = self.key
        self.rtp.on_failure = self._media_failed
        self.dialog: Dialog | None = None
        self.invite: SipRequest | None = None  # inbound: the caller's INVITE
        self.local_sdp: SessionDescription | None = None
        self.last_invite_response: bytes | None = None
        self.ack_wire: bytes | None = None  # outbound: our ACK, re-sent when the 200 is
        self.acked = asyncio.Event()
        self.transfer_target: str | None = None

    # ------------------------------------------------------------------ operations

    async def answer(self) -> None:
        if self.state is not LegState.OFFERED:
            if self.state is LegState.ENDED:
                raise LegEnded(self.id)
            return
        invite, sdp = self.inbound()
        ok = bytes(self.engine.ok(self, invite, sdp))
        self.last_invite_response = ok
        delay, waited = T1, 0.0
        self.engine.send(ok, self.peer)
        self.rtp.arm()
        while not self.acked.is_set() and not self.ended.is_set() and waited < TIMER_H:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.acked.wait(), delay)
            if self.acked.is_set() or self.ended.is_set():
                break
            waited += delay
            delay = min(delay * 2, T2)
            if self.peer.transport == "UDP":
                self.engine.send(ok, self.peer)
        if self.ended.is_set():
            raise LegEnded(self.id)
        if not self.acked.is_set():
            self.engine.bye(self, EndReason.NOT_ACKNOWLEDGED)
            raise LegEnded(self.id)
        self.mark_answered()

    def inbound(self) -> tuple[SipRequest, SessionDescription]:
        if self.invite is None or self.dialog is None or self.local_sdp is None:
            raise RuntimeError(f"{self.id} is not an inbound call")
        return self.invite, self.local_sdp

    async def play(self, audio: bytes, *, loop: bool = False, interrupt: asyncio.Event | None = None) -> bool:
        if self.state is LegState.ENDED:
            return False
        stops = (self.ended,) if interrupt is None else (self.ended, interrupt)
        return await self.rtp.play(audio, interrupt=stops, loop=loop) and not self.ended.is_set()

    async def send_digits(self, digits: str) -> None:
        if self.state is not LegState.ENDED:
            await self.rtp.send_digits(digits)

    async def hang_up(self, reason: EndReason = EndReason.HOTLINE_HUNG_UP) -> None:
        if self.state is LegState.OFFERED and self.invite is not None:
            refusal = response_to(
                self.invite,
                480,
                "Temporarily Unavailable",
                to_tag=tag_of(self.dialog.local if self.dialog else ""),
            )
            self.last_invite_response = bytes(refusal)
            self.engine.send(self.last_invite_response, self.peer)
            self.engine.finish(self, reason)
        elif self.state in (LegState.ANSWERED, LegState.HELD):
            self.engine.bye(self, reason)
        elif self.state is LegState.RINGING:
            self.engine.finish(self, reason)

    def _media_failed(self, reason: str) -> None:
        """A browser leg's ICE or DTLS did not complete (or its certificate was not the one its
        SDP announced): there is no audio to be had, so the call ends, with the reason kept."""
        self.variables["media_failure"] = reason
        self.engine.spawn(self.hang_up(EndReason.MEDIA_FAILED))

    def mute(self, muted: bool) -> None:
        self.rtp.muted = muted
        super().mute(muted)

    def record(self, path: Path) -> LegRecording:
        return SipLegRecording(self, path)

    def listen(self, sink: Callable[[bytes], None]) -> Callable[[], None]:
        def tap(timestamp: int, ssrc: int, payload: bytes) -> None:
            sink(payload)

        self.rtp.taps.append(tap)

        def stop() -> None:
            with contextlib.suppress(ValueError):
                self.rtp.taps.remove(tap)

        return stop

    def notify_transfer(self, status: int, reason: str) -> None:
        """Report a REFER's outcome to the phone that asked (RFC 3515 NOTIFY with a sipfrag)."""
        if self.dialog is None or self.state is LegState.ENDED:
            return
        notify = self.dialog.request("NOTIFY")
        notify.headers.add("Event", "refer")
        notify.headers.add("Subscription-State", "terminated;reason=noresource")
        notify.headers.add("Content-Type", "message/sipfrag;version=2.0")
        notify.body = f"SIP/2.0 {status} {reason}\r\n".encode()
        self.engine.spawn(self.engine.transactions.request(notify, self.peer))


class SipLegRecording(LegRecording):
    def __init__(self, leg: SipLeg, path: Path) -> None:
        self.leg, self.recorder = leg, MessageRecorder(path)
        leg.rtp.taps.append(self.recorder.leg.packet)

    async def stop(self) -> tuple[Path, float] | None:
        with contextlib.suppress(ValueError):
            self.leg.rtp.taps.remove(self.recorder.leg.packet)
        return await self.recorder.finish()
