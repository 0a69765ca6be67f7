"""The built-in voice engine: the call-control interface on Hotline's own SIP and RTP stacks.

Inbound: an INVITE from a trunk (to a known DID) or from an authenticated extension becomes an
offered `SipLeg`; Hotline sends 100 Trying, opens the leg's RTP port and runs the application
(the IVR) with it. `answer()` sends the 200 OK and re-sends it until the ACK (RFC 3261
§13.3.1.4). A CANCEL before that gets the INVITE a 487.

Outbound: `originate()` rings every registered contact of an extension at once (parallel
forking); the first to answer wins and the others are cancelled. Ring timeout, busy and
unreachable end as `OriginateFailed` with the reason.

Bridging forwards raw RTP between two legs (`RtpSession.relay`), with a recorder tap on each.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from hotline.voice.control import (
    Application,
    Bridge,
    CallControl,
    Conference,
    Direction,
    EndReason,
    Leg,
    LegEnded,
    LegRecording,
    LegState,
    OriginateFailed,
    Recording,
    run_application,
)
from hotline.voice.media.mixer import Mixer
from hotline.voice.media.recorder import CallRecorder, MessageRecorder
from hotline.voice.rtp.session import NoFreePort, RtpSession, media_clock
from hotline.voice.sdp import Direction as SdpDirection
from hotline.voice.sdp import Media, SdpError, SessionDescription, answer, offer
from hotline.voice.sip.dialog import T1, T2, ClientTransactions, Dialog, new_branch, tag_of, uri_of
from hotline.voice.sip.digest import answer_challenges
from hotline.voice.sip.message import SipRequest, SipResponse, extension_of, response_to
from hotline.voice.sip.metrics import REFUSED
from hotline.voice.sip.registrar import Binding
from hotline.voice.sip.transport import Peer
from hotline.voice.sip.trunk import Trunk

log = structlog.get_logger(__name__)

TIMER_H = 64 * T1
_INFO_SIGNAL = re.compile(r"^Signal\s*=\s*([0-9*#A-Da-d])\s*$", re.M)
_FAILURES = {486: EndReason.BUSY, 600: EndReason.BUSY, 408: EndReason.NO_ANSWER, 480: EndReason.NO_ANSWER}


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


def _configure_media(rtp: RtpSession, media: Media) -> None:
    """Take the codec and telephone-event payload type of an answer (ours or theirs)."""
    audio = [pt for pt in media.formats if (media.codec(pt) or ("",))[0].upper() in ("PCMU", "PCMA")]
    events = [pt for pt in media.formats if (media.codec(pt) or ("",))[0].lower() == "telephone-event"]
    if not audio:
        raise SdpError("no common codec: Hotline speaks PCMU and PCMA")
    codec = (media.codec(audio[0]) or ("PCMU",))[0].upper()
    rtp.payload_type = 8 if codec == "PCMA" else 0
    rtp.event_payload_type = events[0] if events else None


@dataclass(frozen=True)
class _Destination:
    uri: str  # the Request-URI
    peer: Peer  # where the INVITE goes
    to: str
    credentials: tuple[str, str] | None  # for a trunk's 401/407
    caller_id: str = ""


class SipLeg(Leg):
    def __init__(
        self,
        engine: Engine,
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

    def mute(self, muted: bool) -> None:
        self.rtp.muted = muted
        super().mute(muted)

    def record(self, path: Path) -> LegRecording:
        return SipLegRecording(self, path)

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


class Engine(CallControl):
    """Owns every leg of one SIP server."""

    def __init__(
        self,
        *,
        host: str,
        port: Callable[[], int],
        send: Callable[[bytes, Peer], None],
        trunks: Sequence[Trunk],
        application: Application,
        locate: Callable[[str], Sequence[Binding]] = lambda extension: (),
        is_extension: Callable[[str], bool] = lambda target: False,
        max_calls: int = 200,
        rtp_ports: tuple[int, int] = (20000, 30000),
    ) -> None:
        super().__init__()
        self.host, self._port, self.send, self.trunks = host, port, send, trunks
        self.application, self.locate, self.is_extension = application, locate, is_extension
        self.max_calls, self.rtp_ports = max_calls, rtp_ports
        self.legs: dict[str, SipLeg] = {}
        self.transactions = ClientTransactions(send)
        self.transactions.stray = self._stray
        self._tasks: set[asyncio.Task[object]] = set()
        self.refused = 0

    @property
    def via_host(self) -> str:
        return f"{self.host}:{self._port()}"

    @property
    def contact(self) -> str:
        return f"<sip:hotline@{self.via_host}>"

    def spawn(self, coroutine: Coroutine[Any, Any, object]) -> asyncio.Task[object]:
        task: asyncio.Task[object] = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def trunk_for(self, peer: Peer, number: str) -> Trunk | None:
        """The trunk this call came in on, if it came from a trunk's address to one of its DIDs."""
        return next((t for t in self.trunks if t.host == peer.host and number in t.dids), None)

    def reachable(self, target: str) -> bool:
        return bool(self._destinations(target))

    def _destinations(self, target: str) -> list[_Destination]:
        """Where to send an INVITE for `target`: every registered contact of an extension, or the
        first outbound trunk for any other number."""
        if self.is_extension(target) or self.locate(target):
            return [
                _Destination(b.contact, b.peer, f"<sip:{target}@{self.host}>", None)
                for b in self.locate(target)
            ]
        trunk = next((t for t in self.trunks if t.outbound), None)
        if trunk is None:
            return []
        credentials = (trunk.username, trunk.password) if trunk.username else None
        uri = f"sip:{target}@{trunk.domain}"
        return [_Destination(uri, trunk.peer, f"<{uri}>", credentials, trunk.caller_id)]

    # ------------------------------------------------------------------ inbound

    def is_retransmission(self, request: SipRequest) -> bool:
        leg = self.legs.get(request.call_id)
        return leg is not None and leg.invite is not None and leg.invite.cseq == request.cseq

    def invite(self, request: SipRequest, peer: Peer, caller: str, *, entry: str = "") -> SipResponse | None:
        """A new INVITE or a re-INVITE; returns a response to send at once, if any."""
        leg = self.legs.get(request.call_id)
        if leg is not None and self.is_retransmission(request):
            if leg.last_invite_response is not None:  # a retransmission: say again what we said
                self.send(leg.last_invite_response, peer)
            return None
        if leg is not None:
            return self._reinvite(leg, request)
        if ";tag=" in (request.headers.get("To") or ""):
            return response_to(request, 481, "Call/Transaction Does Not Exist")
        number = extension_of(request.uri) or request.uri
        if len(self.legs) >= self.max_calls:
            self.refused += 1
            REFUSED.labels("call-limit").inc()
            response = response_to(request, 503, "Service Unavailable")
            response.headers.add("Retry-After", "5")
            return response
        try:
            their_offer = SessionDescription.parse(request.body)
            media = their_offer.audio
            our_answer = answer(their_offer, address=self.host, port=0, session_id=secrets.randbelow(2**31))
        except (SdpError, UnicodeDecodeError):
            return response_to(request, 488, "Not Acceptable Here")
        rtp = RtpSession(
            self.host, (media.address or their_offer.address, media.port), port_range=self.rtp_ports
        )
        _configure_media(rtp, our_answer.media[0])
        leg = SipLeg(
            self, direction=Direction.INBOUND, caller=caller, number=number, rtp=rtp, peer=peer,
            call_id=request.call_id,
        )  # fmt: skip
        leg.invite, leg.local_sdp, leg.entry = request, our_answer, entry
        contact = request.headers.get_all("Contact")
        local_tag = secrets.token_hex(6)
        leg.dialog = Dialog(
            call_id=request.call_id,
            local=f"{request.headers.get('To')};tag={local_tag}",
            remote=request.headers.get("From") or "",
            remote_target=uri_of(contact[0]) if contact else uri_of(request.headers.get("From") or ""),
            peer=peer,
            via_host=self.via_host,
            route_set=request.headers.get_all("Record-Route"),
            contact=self.contact,
        )
        self.legs[request.call_id] = leg
        trying = bytes(response_to(request, 100, "Trying"))
        leg.last_invite_response = trying
        self.send(trying, peer)
        self.spawn(self._run(leg))
        return None

    def ok(self, leg: SipLeg, request: SipRequest, sdp: SessionDescription) -> SipResponse:
        response = response_to(request, 200, "OK", to_tag=tag_of(leg.dialog.local if leg.dialog else None))
        for route in request.headers.get_all("Record-Route"):
            response.headers.add("Record-Route", route)
        response.headers.add("Contact", self.contact)
        response.headers.add("Content-Type", "application/sdp")
        response.body = bytes(sdp)
        return response

    def _reinvite(self, leg: SipLeg, request: SipRequest) -> SipResponse:
        """Hold and resume (RFC 3264 §8.4): answer with the mirrored direction, same port."""
        local_tag = tag_of(leg.dialog.local) if leg.dialog else None
        try:
            their_offer = SessionDescription.parse(request.body)
            reply = answer(their_offer, address=self.host, port=leg.rtp.port, session_id=1)
        except (SdpError, UnicodeDecodeError, RuntimeError):
            return response_to(request, 488, "Not Acceptable Here", to_tag=local_tag)
        direction = their_offer.audio.direction
        leg.mark_held(direction in (SdpDirection.SENDONLY, SdpDirection.INACTIVE))
        return self.ok(leg, request, reply)

    async def _run(self, leg: SipLeg) -> None:
        invite, sdp = leg.inbound()
        try:
            await leg.rtp.start()
        except NoFreePort:
            self.send(bytes(response_to(invite, 503, "Service Unavailable")), leg.peer)
            self.finish(leg, EndReason.REJECTED)
            return
        if leg.ended.is_set():  # cancelled while the port was being opened
            leg.rtp.close()
            return
        sdp.media[0].port = leg.rtp.port
        leg.publish("offered", caller=leg.caller, number=leg.number)
        await run_application(self.application, leg)
        self.finish(leg, EndReason.HOTLINE_HUNG_UP)

    def in_dialog(self, request: SipRequest, peer: Peer) -> SipResponse | None:
        leg = self.legs.get(request.call_id)
        if leg is None:
            return (
                None
                if request.method == "ACK"
                else response_to(request, 481, "Call/Transaction Does Not Exist")
            )
        local_tag = tag_of(leg.dialog.local) if leg.dialog else None
        if request.method == "ACK":
            leg.acked.set()
            return None
        if request.method == "CANCEL":
            if leg.state is LegState.OFFERED and leg.invite is not None:
                terminated = bytes(response_to(leg.invite, 487, "Request Terminated", to_tag=local_tag))
                leg.last_invite_response = terminated
                self.send(terminated, leg.peer)
                self.finish(leg, EndReason.CANCELLED)
            return response_to(request, 200, "OK", to_tag=local_tag)
        if request.method == "BYE":
            self.finish(leg, EndReason.CALLER_HUNG_UP)
            return response_to(request, 200, "OK", to_tag=local_tag)
        if request.method == "INFO":
            digit = info_digit(request)
            if digit is not None:  # SIP INFO DTMF, for phones that do not send RFC 4733
                leg.key(digit)
        if request.method == "REFER":  # the phone transfers the other party (RFC 3515)
            target = request.headers.get("Refer-To")
            if not target:
                return response_to(request, 400, "Bad Request", to_tag=local_tag)
            uri = uri_of(target)
            leg.transfer_target = extension_of(f"<{uri}>") or uri
            leg.publish("transfer", target=leg.transfer_target)
            return response_to(request, 202, "Accepted", to_tag=local_tag)
        return response_to(request, 200, "OK", to_tag=local_tag)

    def bye(self, leg: SipLeg, reason: EndReason) -> None:
        """Send BYE as a non-INVITE client transaction (re-sent on Timer E until answered)."""
        if leg.dialog is not None and leg.state is not LegState.ENDED:
            self.spawn(self.transactions.request(leg.dialog.request("BYE"), leg.peer))
        self.finish(leg, reason)

    def finish(self, leg: SipLeg, reason: EndReason, *, keep_media: bool = False) -> None:
        if leg.state is not LegState.ENDED and leg.rtp.received_packets:
            leg.cdr.quality = leg.rtp.quality()
        leg.mark_ended(reason)
        if not keep_media:
            leg.rtp.close()
        if self.legs.get(leg.call_id) is leg:
            del self.legs[leg.call_id]

    def response(self, response: SipResponse) -> None:
        self.transactions.response(response)

    def _stray(self, response: SipResponse) -> None:
        """A 200 to our INVITE arriving again: its ACK was lost, send it again (§13.2.2.4)."""
        if response.cseq[1] != "INVITE" or not 200 <= response.status < 300:
            return
        leg = self.legs.get(response.call_id)
        if leg is not None and leg.ack_wire is not None:
            self.send(leg.ack_wire, leg.peer)

    # ------------------------------------------------------------------ outbound

    async def originate(self, target: str, *, caller: str = "", ring_for: float = 30.0) -> Leg:
        destinations = self._destinations(target)
        if not destinations:
            raise OriginateFailed(EndReason.UNREACHABLE, f"{target} is not registered and no trunk calls out")
        if len(self.legs) >= self.max_calls:
            raise OriginateFailed(EndReason.REJECTED, "call limit reached")
        rtp = RtpSession(self.host, ("127.0.0.1", 9), port_range=self.rtp_ports)
        try:
            await rtp.start()
        except NoFreePort as exc:
            raise OriginateFailed(EndReason.REJECTED, str(exc)) from exc
        sdp = offer(address=self.host, port=rtp.port, session_id=secrets.randbelow(2**31))
        attempts = [self._attempt(where, target, caller, rtp, sdp) for where in destinations]
        ringing = [asyncio.ensure_future(attempt) for attempt in attempts]
        try:
            winner = await asyncio.wait_for(self._first_answer(ringing), ring_for)
        except TimeoutError:
            winner = None
            failure = OriginateFailed(EndReason.NO_ANSWER, f"{target} did not answer in {ring_for:g} s")
        except OriginateFailed as exc:
            winner, failure = None, exc
        except asyncio.CancelledError:
            for task in ringing:
                task.cancel()
            await asyncio.gather(*ringing, return_exceptions=True)
            rtp.close()
            raise
        for task in ringing:
            task.cancel()
        outcomes = await asyncio.gather(*ringing, return_exceptions=True)
        for outcome in outcomes:  # answered by two contacts at once: keep one, hang up the other
            if isinstance(outcome, SipLeg) and outcome is not winner:
                self.bye(outcome, EndReason.HOTLINE_HUNG_UP)
        if winner is None:
            rtp.close()
            raise failure
        return winner

    @staticmethod
    async def _first_answer(ringing: Sequence[asyncio.Future[SipLeg]]) -> SipLeg:
        pending = set(ringing)
        failure: OriginateFailed | None = None
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task.exception() is None:
                    return task.result()
                error = task.exception()
                if isinstance(error, OriginateFailed) and (failure is None or error.reason is EndReason.BUSY):
                    failure = error
        raise failure or OriginateFailed(EndReason.UNREACHABLE)

    async def _attempt(
        self, where: _Destination, target: str, caller: str, rtp: RtpSession, sdp: SessionDescription
    ) -> SipLeg:
        call_id = f"{secrets.token_hex(10)}@{self.host}"
        shown = where.caller_id or caller or "hotline"
        display = f'"{caller}" ' if caller else ""
        invite = SipRequest(method="INVITE", uri=where.uri)
        invite.headers.add(
            "Via", f"SIP/2.0/{where.peer.transport} {self.via_host};rport;branch={new_branch()}"
        )
        invite.headers.add("Max-Forwards", "70")
        invite.headers.add("From", f"{display}<sip:{shown}@{self.host}>;tag={secrets.token_hex(6)}")
        invite.headers.add("To", where.to)
        invite.headers.add("Call-ID", call_id)
        invite.headers.add("CSeq", "1 INVITE")
        invite.headers.add("Contact", self.contact)
        invite.headers.add("Content-Type", "application/sdp")
        invite.body = bytes(sdp)
        leg = SipLeg(
            self, direction=Direction.OUTBOUND, caller=caller, number=target, rtp=rtp, peer=where.peer,
            call_id=call_id,
        )  # fmt: skip
        self.legs[call_id] = leg
        provisional = asyncio.Event()

        def on_provisional(response: SipResponse) -> None:
            if response.status in (180, 183) and "ringing" not in leg.variables:
                leg.variables["ringing"] = True
                leg.mark_ringing()
            provisional.set()

        challenged = False
        while True:
            request = asyncio.ensure_future(
                self.transactions.request(invite, where.peer, provisional=on_provisional)
            )
            try:
                final = await asyncio.shield(request)
            except asyncio.CancelledError:  # another contact answered, the caller left, or no answer
                self.finish(leg, EndReason.CANCELLED, keep_media=True)
                self.spawn(self._cancel(leg, invite, provisional, request))
                raise
            if final is None:
                self.finish(leg, EndReason.UNREACHABLE, keep_media=True)
                raise OriginateFailed(EndReason.UNREACHABLE, f"no response from {where.uri}")
            if final.status in (401, 407) and where.credentials is not None and not challenged:
                self.send(bytes(self._ack_failure(invite, final)), where.peer)
                invite = self._authorized(invite, final, *where.credentials)
                challenged = True
                continue
            break
        if not 200 <= final.status < 300:
            self.send(bytes(self._ack_failure(invite, final)), where.peer)
            reason = _FAILURES.get(final.status, EndReason.REJECTED)
            self.finish(leg, reason, keep_media=True)
            raise OriginateFailed(reason, f"{final.status} {final.reason}")
        try:
            their_answer = SessionDescription.parse(final.body)
            _configure_media(rtp, their_answer.audio)
            rtp.remote = (their_answer.audio.address or their_answer.address, their_answer.audio.port)
        except (SdpError, UnicodeDecodeError) as exc:
            self._confirm(leg, invite, final)
            self.bye(leg, EndReason.REJECTED)
            raise OriginateFailed(EndReason.REJECTED, f"unusable SDP answer: {exc}") from exc
        self._confirm(leg, invite, final)
        leg.mark_answered()
        return leg

    def _confirm(self, leg: SipLeg, invite: SipRequest, ok: SipResponse) -> None:
        """Build the dialog from a 2xx and send its ACK (a new transaction, §13.2.2.4)."""
        contact = ok.headers.get_all("Contact")
        leg.dialog = Dialog(
            call_id=invite.call_id,
            local=invite.headers.get("From") or "",
            remote=ok.headers.get("To") or "",
            remote_target=uri_of(contact[0]) if contact else invite.uri,
            peer=leg.peer,
            via_host=self.via_host,
            route_set=list(reversed(ok.headers.get_all("Record-Route"))),
            contact=self.contact,
        )
        ack = leg.dialog.request("ACK", cseq=1)
        leg.ack_wire = bytes(ack)
        leg.acked.set()
        self.send(leg.ack_wire, leg.peer)

    @staticmethod
    def _authorized(invite: SipRequest, challenge: SipResponse, username: str, password: str) -> SipRequest:
        """The INVITE again, with credentials for the trunk's challenge (new branch, next CSeq)."""
        proxy = challenge.status == 407
        value = answer_challenges(
            challenge.headers.get_all("Proxy-Authenticate" if proxy else "WWW-Authenticate"),
            username=username, password=password, method="INVITE", uri=invite.uri,
        )  # fmt: skip
        again = SipRequest(invite.headers.copy(), invite.body, "INVITE", invite.uri)
        via = invite.vias[0]
        via.params["branch"] = new_branch()
        again.headers.set("Via", str(via))
        again.headers.set("CSeq", f"{invite.cseq[0] + 1} INVITE")
        if value is not None:
            again.headers.add("Proxy-Authorization" if proxy else "Authorization", value)
        return again

    @staticmethod
    def _ack_failure(invite: SipRequest, final: SipResponse) -> SipRequest:
        """The ACK of a non-2xx final response: part of the INVITE transaction (§17.1.1.3)."""
        ack = SipRequest(method="ACK", uri=invite.uri)
        ack.headers.add("Via", invite.headers.get("Via") or "")
        ack.headers.add("Max-Forwards", "70")
        ack.headers.add("From", invite.headers.get("From") or "")
        ack.headers.add("To", final.headers.get("To") or "")
        ack.headers.add("Call-ID", invite.call_id)
        ack.headers.add("CSeq", f"{invite.cseq[0]} ACK")
        return ack

    async def _cancel(
        self,
        leg: SipLeg,
        invite: SipRequest,
        provisional: asyncio.Event,
        request: asyncio.Future[SipResponse | None],
    ) -> None:
        """CANCEL a ringing INVITE (§9.1) once it had a provisional response, ACK the 487 that
        ends it, and if the phone answered just as we cancelled, ACK and then BYE it."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(provisional.wait(), 4 * T1)
        if provisional.is_set() and not request.done():
            cancel = SipRequest(method="CANCEL", uri=invite.uri)
            cancel.headers.add("Via", invite.headers.get("Via") or "")
            cancel.headers.add("Max-Forwards", "70")
            for name in ("From", "To", "Call-ID"):
                cancel.headers.add(name, invite.headers.get(name) or "")
            cancel.headers.add("CSeq", f"{invite.cseq[0]} CANCEL")
            self.spawn(self.transactions.request(cancel, leg.peer))
        try:
            final = await asyncio.wait_for(request, 64 * T1)
        except TimeoutError:
            return
        if final is None:
            return
        if 200 <= final.status < 300:
            self._confirm(leg, invite, final)
            if leg.dialog is not None:
                await self.transactions.request(leg.dialog.request("BYE"), leg.peer)
        else:
            self.send(bytes(self._ack_failure(invite, final)), leg.peer)

    # ------------------------------------------------------------------ bridging

    def bridge(self, a: Leg, b: Leg, *, record_to: Path | None = None) -> Bridge:
        if not isinstance(a, SipLeg) or not isinstance(b, SipLeg):
            raise TypeError("the built-in engine bridges its own legs")
        return SipBridge(a, b, record_to)

    def conference(self, hears: dict[Leg, set[Leg]]) -> Conference:
        return SipConference(hears)

    async def stop(self) -> None:
        for leg in list(self.legs.values()):
            if leg.state in (LegState.ANSWERED, LegState.HELD):
                self.bye(leg, EndReason.SHUTDOWN)
            self.finish(leg, EndReason.SHUTDOWN)
        await asyncio.sleep(0)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
