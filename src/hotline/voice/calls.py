"""Inbound calls: the INVITE server side, dialogs, and the media of each call.

A call is accepted from a configured trunk address to a known number (DID), or from an
extension that passes digest authentication. Hotline answers at once with its SDP, keeps
re-sending the 200 until the ACK arrives (RFC 3261 §13.3.1.4), and runs the call's
application (the IVR, later) as an owned task with the call's RTP session.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import structlog

from hotline.voice.media.g711 import tone, ulaw_encode
from hotline.voice.media.tts import PromptCache, TtsUnavailable
from hotline.voice.rtp.session import NoFreePort, RtpSession
from hotline.voice.sdp import SdpError, SessionDescription, answer
from hotline.voice.sip.message import SipRequest, SipResponse, extension_of, response_to
from hotline.voice.sip.transport import Peer

log = structlog.get_logger(__name__)

T1, T2, TIMER_H = 0.5, 4.0, 32.0


@dataclass
class Call:
    call_id: str
    caller: str
    number: str
    peer: Peer
    invite: SipRequest
    local_tag: str
    rtp: RtpSession
    remote_target: str
    digits: list[str] = field(default_factory=list)
    acked: asyncio.Event = field(default_factory=asyncio.Event)
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    local_cseq: int = 1

    @property
    def remote_tag(self) -> str:
        from_header = self.invite.headers.get("From") or ""
        return from_header.split(";tag=", 1)[1].split(";")[0] if ";tag=" in from_header else ""


CallApplication = Callable[[Call], Coroutine[Any, Any, None]]

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


class CallHandler:
    """Owns the calls of one SIP server."""

    def __init__(
        self,
        *,
        host: str,
        send: Callable[[bytes, Peer], None],
        trunks: dict[str, set[str]],
        application: CallApplication,
        max_calls: int = 200,
    ) -> None:
        self.host, self.send, self.trunks = host, send, trunks
        self.application, self.max_calls = application, max_calls
        self.calls: dict[str, Call] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._client: dict[str, asyncio.Event] = {}
        self.refused = 0

    def trunk_allows(self, peer: Peer, number: str) -> bool:
        return number in self.trunks.get(peer.host, set())

    def invite(self, request: SipRequest, peer: Peer, caller: str) -> SipResponse | None:
        """Answer a new INVITE; returns the final response to store in the transaction."""
        existing = self.calls.get(request.call_id)
        if existing is not None and request.cseq == existing.invite.cseq:
            return None  # a retransmitted INVITE: the call task is already re-sending its 200
        if existing is not None:  # a re-INVITE (hold/resume): answer with our SDP again
            return self._reinvite(existing, request)
        number = extension_of(request.uri if request.uri.startswith("sip") else "") or request.uri
        if len(self.calls) >= self.max_calls:
            self.refused += 1
            response = response_to(request, 503, "Service Unavailable")
            response.headers.add("Retry-After", "5")
            return response
        try:
            offer = SessionDescription.parse(request.body)
            media = offer.audio
        except (SdpError, UnicodeDecodeError):
            return response_to(request, 488, "Not Acceptable Here")
        rtp = RtpSession(self.host, (media.address or offer.address, media.port))
        try:
            reply = answer(offer, address=self.host, port=0, session_id=secrets.randbelow(2**31))
        except SdpError:
            return response_to(request, 488, "Not Acceptable Here")
        chosen = reply.media[0]  # its port is filled in once the RTP socket is bound
        events = [pt for pt in chosen.formats if chosen.rtpmap.get(pt, ("",))[0] == "telephone-event"]
        rtp.payload_type = chosen.formats[0]
        rtp.event_payload_type = events[0] if events else None
        self.send(bytes(response_to(request, 100, "Trying")), peer)
        return self._answer(request, peer, caller, number, rtp, reply)

    def _answer(
        self,
        request: SipRequest,
        peer: Peer,
        caller: str,
        number: str,
        rtp: RtpSession,
        reply: SessionDescription,
    ) -> SipResponse | None:
        contact = request.headers.get_all("Contact")
        target = (
            contact[0].split("<", 1)[-1].split(">", 1)[0] if contact else request.headers.get("From") or ""
        )
        call = Call(request.call_id, caller, number, peer, request, secrets.token_hex(6), rtp, target)
        self.calls[call.call_id] = call
        task = asyncio.create_task(self._run(call, reply))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return None  # the 200 OK is sent by the call task, once its RTP port is open

    def _ok(self, call: Call, request: SipRequest, sdp: SessionDescription) -> SipResponse:
        response = response_to(request, 200, "OK", to_tag=call.local_tag)
        response.headers.add("Contact", f"<sip:hotline@{self.host}>")
        response.headers.add("Content-Type", "application/sdp")
        response.body = bytes(sdp)
        return response

    def _reinvite(self, call: Call, request: SipRequest) -> SipResponse:
        try:
            offer = SessionDescription.parse(request.body)
            reply = answer(offer, address=self.host, port=call.rtp.port, session_id=1)
        except (SdpError, UnicodeDecodeError):
            return response_to(request, 488, "Not Acceptable Here", to_tag=call.local_tag)
        return self._ok(call, request, reply)

    async def _run(self, call: Call, reply: SessionDescription) -> None:
        try:
            await call.rtp.start()
        except NoFreePort:
            self.send(bytes(response_to(call.invite, 503, "Service Unavailable")), call.peer)
            self.calls.pop(call.call_id, None)
            return
        reply.media[0].port = call.rtp.port
        ok = bytes(self._ok(call, call.invite, reply))
        delay, waited = T1, 0.0
        self.send(ok, call.peer)
        while not call.acked.is_set() and waited < TIMER_H:  # re-send the 200 until the ACK (UDP)
            try:
                await asyncio.wait_for(call.acked.wait(), delay)
            except TimeoutError:
                waited += delay
                delay = min(delay * 2, T2)
                self.send(ok, call.peer)
        if not call.acked.is_set():
            self.hang_up(call)
            return
        app = asyncio.create_task(self.application(call))
        ended = asyncio.create_task(call.ended.wait())
        await asyncio.wait({app, ended}, return_when=asyncio.FIRST_COMPLETED)
        if not app.done():
            app.cancel()
        else:
            ended.cancel()
            if not call.ended.is_set():
                self.hang_up(call)
        await asyncio.gather(app, ended, return_exceptions=True)
        call.rtp.close()
        self.calls.pop(call.call_id, None)

    def in_dialog(self, request: SipRequest, peer: Peer) -> SipResponse | None:
        call = self.calls.get(request.call_id)
        if call is None:
            return response_to(request, 481, "Call/Transaction Does Not Exist")
        if request.method == "ACK":
            call.acked.set()
            return None
        if request.method in ("BYE", "CANCEL"):
            call.ended.set()
            return response_to(request, 200, "OK", to_tag=call.local_tag)
        if request.method == "INFO":
            digit = info_digit(request)
            if digit is not None:  # SIP INFO DTMF, for phones that do not send RFC 4733
                call.rtp.dtmf.on_digit(digit)
        return response_to(request, 200, "OK", to_tag=call.local_tag)

    def hang_up(self, call: Call) -> None:
        """End the call and send BYE as a non-INVITE client transaction (RFC 3261 §17.1.2)."""
        call.local_cseq += 1
        branch = f"z9hG4bK{secrets.token_hex(8)}"
        via = f"SIP/2.0/{call.peer.transport} {self.host};branch={branch}"
        bye = SipRequest(method="BYE", uri=call.remote_target)
        bye.headers.add("Via", via)
        bye.headers.add("Max-Forwards", "70")
        bye.headers.add("From", f"{call.invite.headers.get('To')};tag={call.local_tag}")
        bye.headers.add("To", call.invite.headers.get("From") or "")
        bye.headers.add("Call-ID", call.call_id)
        bye.headers.add("CSeq", f"{call.local_cseq} BYE")
        answered = asyncio.Event()
        self._client[branch] = answered
        task = asyncio.create_task(self._retransmit(bytes(bye), call.peer, branch, answered))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        call.ended.set()

    async def _retransmit(self, wire: bytes, peer: Peer, branch: str, answered: asyncio.Event) -> None:
        """Timer E: re-send at T1, 2·T1… capped at T2 until any response, give up after 64·T1."""
        delay, waited = T1, 0.0
        try:
            while waited < 64 * T1:
                self.send(wire, peer)
                if peer.transport != "UDP":
                    delay = 64 * T1  # reliable transports need no retransmission
                try:
                    await asyncio.wait_for(answered.wait(), delay)
                    return
                except TimeoutError:
                    waited += delay
                    delay = min(delay * 2, T2)
        finally:
            self._client.pop(branch, None)

    def response(self, response: SipResponse) -> None:
        """A response to one of our requests (a BYE, so far): stop re-sending it."""
        vias = response.vias
        pending = self._client.get(vias[0].branch or "") if vias else None
        if pending is not None:
            pending.set()

    async def stop(self) -> None:
        for call in list(self.calls.values()):
            call.ended.set()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


WELCOME = "您好，欢迎致电英冠酒店集团。请输入您的会员号，以井号键结束。"


def prompt_and_collect(prompts: PromptCache | None = None) -> CallApplication:
    """Until the IVR takes over (issue 4): a spoken welcome, then up to 16 digits ending with #.

    Without espeak-ng and sox the welcome is a two-tone beep, so a call still works.
    """

    async def application(call: Call) -> None:
        try:
            audio = await prompts.mulaw(WELCOME) if prompts is not None else None
        except TtsUnavailable as exc:
            log.warning("spoken prompt unavailable; playing a tone", reason=str(exc))
            audio = None
        if audio is None:
            audio = ulaw_encode(tone(440, 400) + [0] * 800 + tone(660, 400))
        await call.rtp.play(audio, interrupt=call.rtp.key_pressed)
        digits = await call.rtp.collect(max_digits=16, first_timeout=10, next_timeout=5)
        call.digits.extend(digits)
        log.info("caller entered digits", call_id=call.call_id, number=call.number, digits=digits)

    return application
