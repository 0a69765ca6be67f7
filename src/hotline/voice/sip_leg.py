"""A leg on the built-in engine: one SIP dialog and its RTP session. Answering re-sends the 200 OK
until the ACK comes (RFC 3261 §13.3.1.4); keys arrive as RFC 4733 events or SIP INFO; hanging up
is a BYE, a CANCEL or a final refusal, whichever the leg's state calls for.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, Protocol

from hotline.voice.control import Direction, EndReason, Leg, LegEnded, LegEvent, LegRecording, LegState
from hotline.voice.media.recorder import MessageRecorder
from hotline.voice.rtp.session import RtpSession
from hotline.voice.sdp import Media, SdpError, SessionDescription
from hotline.voice.sip.dialog import T1, T2, ClientTransactions, Dialog, ack_failure, tag_of, uri_of
from hotline.voice.sip.message import SipRequest, SipResponse, response_to
from hotline.voice.sip.transport import Peer

TIMER_H = 64 * T1
REINVITE_ATTEMPTS = 3
"""A re-INVITE answered 491 (the phone sent one of its own meanwhile) is tried this many times."""
_ORIGIN = re.compile(r"^o=[^\r\n]*", re.M)


class ReinviteFailed(Exception):
    """The phone refused a re-INVITE (or did not answer it): the call stays on its old media."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"re-INVITE refused: {status} {reason}")
        self.status, self.reason = status, reason


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
        self.remote_sdp = b""  # the phone's SDP: its offer (inbound) or its answer (outbound)
        self.own_sdp: SessionDescription | None = None  # Hotline's, pointing at self.rtp
        self.relayed_by: str | None = None
        """The SDP the phone was last sent when its media goes elsewhere (rtpengine), else None."""
        self.reinviting = False
        self.on_mute: Callable[[bool], None] | None = None  # the media relay's part of mute()
        self._sdp_version = 0

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
        if self.on_mute is not None:
            self.on_mute(muted)
        super().mute(muted)

    # ------------------------------------------------------------------ re-INVITE (RFC 3261 §14)

    def offer_sdp(self, sdp: str | None = None) -> bytes:
        """`sdp` (another's, e.g. rtpengine's), or Hotline's own media of this leg, as the next
        offer in this dialog: Hotline's o= line with its version one higher (RFC 3264 §8)."""
        own = self.own_sdp
        if own is None:
            raise RuntimeError(f"{self.id} has no media of its own")
        user, session, version, *rest = own.origin.split()
        self._sdp_version = max(self._sdp_version, int(version) if version.isdigit() else 0) + 1
        origin = " ".join([user, session, str(self._sdp_version), *rest])
        if sdp is None:
            self.rtp.describe(own.media[0])
            sdp = str(own)
        return _ORIGIN.sub(f"o={origin}", sdp, count=1).encode()

    async def reinvite(self, sdp: bytes) -> str:
        """Offers `sdp` inside the dialog (next CSeq, its route set), waits for the 2xx and ACKs it;
        returns the phone's answer. A 491 (the phone's own re-INVITE crossed ours) is tried again
        after 2.1–4 s (§14.1); any other failure raises `ReinviteFailed` and the call stays on
        its old media."""
        for attempt in range(1, REINVITE_ATTEMPTS + 1):
            if self.dialog is None or self.state not in (LegState.ANSWERED, LegState.HELD):
                raise ReinviteFailed(481, "the call is not up")
            invite = self.dialog.request("INVITE")
            invite.headers.add("Content-Type", "application/sdp")
            invite.body = sdp
            self.reinviting = True
            try:
                final = await self.engine.transactions.request(invite, self.peer)
            finally:
                self.reinviting = False
            if final is None:
                raise ReinviteFailed(408, "Request Timeout")
            if 200 <= final.status < 300:
                contact = final.headers.get_all("Contact")
                if contact:  # a target refresh (§12.2.1.2)
                    self.dialog.remote_target = uri_of(contact[0])
                self.ack_wire = bytes(self.dialog.request("ACK", cseq=invite.cseq[0]))
                self.engine.send(self.ack_wire, self.peer)
                return final.body.decode("utf-8", "replace")
            self.engine.send(bytes(ack_failure(invite, final)), self.peer)
            if final.status != 491 or attempt == REINVITE_ATTEMPTS:
                raise ReinviteFailed(final.status, final.reason)
            await asyncio.sleep(2.1 + secrets.randbelow(1901) / 1000)
        raise ReinviteFailed(491, "Request Pending")  # not reached: the loop returns or raises

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
