"""The built-in voice engine: the call-control interface on Hotline's own SIP and RTP stacks.

Inbound: an INVITE from a trunk (to a known DID) or from an authenticated extension becomes an
offered `SipLeg` (sip_leg.py); Hotline sends 100 Trying, opens the leg's RTP port and runs the
application (the IVR) with it. `answer()` sends the 200 OK and re-sends it until the ACK (RFC 3261
§13.3.1.4). A CANCEL before that gets the INVITE a 487.

Outbound: `originate()` (dialing.py) rings every registered contact of an extension at once
(parallel forking); the first to answer wins and the others are cancelled.

Bridging forwards raw RTP between two legs, with a recorder tap on each; a conference mixes
(mixing.py).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Coroutine, Sequence
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
    LegState,
    run_application,
)
from hotline.voice.dialing import Dialing
from hotline.voice.mixing import SipBridge, SipConference
from hotline.voice.rtp.session import NoFreePort, RtpSession
from hotline.voice.rtp.webrtc import WebRtcSession
from hotline.voice.rtpengine.bridge import Rtpengine, RtpengineBridge
from hotline.voice.sdp import Direction as SdpDirection
from hotline.voice.sdp import SdpError, SessionDescription, answer
from hotline.voice.sip.dialog import ClientTransactions, Dialog, tag_of, uri_of
from hotline.voice.sip.message import SipRequest, SipResponse, extension_of, response_to
from hotline.voice.sip.metrics import REFUSED
from hotline.voice.sip.registrar import Binding
from hotline.voice.sip.transport import Peer
from hotline.voice.sip.trunk import Trunk
from hotline.voice.sip_leg import SipLeg, configure_media, info_digit

log = structlog.get_logger(__name__)
__all__ = ["Engine", "SipLeg", "info_digit"]


class Engine(Dialing, CallControl):
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
        media_address: str | None = None,
    ) -> None:
        super().__init__()
        self.host, self._port, self.send, self.trunks = host, port, send, trunks
        self.application, self.locate, self.is_extension = application, locate, is_extension
        self.max_calls, self.rtp_ports = max_calls, rtp_ports
        self.media_address = media_address
        """Browsers' second ICE candidate: our media's address as seen from outside (NAT)."""
        self.legs: dict[str, SipLeg] = {}
        self.transactions = ClientTransactions(send)
        self.transactions.stray = self._stray
        self._tasks: set[asyncio.Task[object]] = set()
        self.refused = 0
        self.rtpengine: Rtpengine | None = None
        """Set when the node's media relay is rtpengine: bridges of two SIP phones go through it."""

    @property
    def via_host(self) -> str:
        return f"{self.host}:{self._port()}"

    @property
    def contact(self) -> str:
        return f"<sip:hotline@{self.via_host}>"

    def contact_for(self, peer: Peer) -> str:
        """Our Contact in messages to `peer`: with ;transport=ws over a WebSocket (RFC 7118 §5.4)."""
        return f"<sip:hotline@{self.via_host}{peer.uri_params}>"

    def spawn(self, coroutine: Coroutine[Any, Any, object]) -> asyncio.Task[object]:
        task: asyncio.Task[object] = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def trunk_for(self, peer: Peer, number: str) -> Trunk | None:
        """The trunk this call came in on, if it came from a trunk's address to one of its DIDs (never
        over a browser's WebSocket, whatever address it comes from)."""
        if peer.websocket:
            return None
        return next((t for t in self.trunks if t.host == peer.host and number in t.dids), None)

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
            local_tag = tag_of(leg.dialog.local if leg.dialog else None)
            if leg.state in (LegState.OFFERED, LegState.RINGING):
                # a second INVITE before the first one's final answer (RFC 3261 §14.2): it must
                # not answer the call behind the application's back
                pending = response_to(request, 500, "Server Internal Error", to_tag=local_tag or None)
                pending.headers.add("Retry-After", str(secrets.randbelow(11)))
                return pending
            if tag_of(request.headers.get("To")) != local_tag:  # not this dialog (§12.2.2)
                return response_to(request, 481, "Call/Transaction Does Not Exist")
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
        remote = (media.address or their_offer.address, media.port)
        rtp = (  # a browser's offer (decisions/0007)
            WebRtcSession(self.host, remote, port_range=self.rtp_ports, advertised=self.media_address)
            if media.webrtc
            else RtpSession(self.host, remote, port_range=self.rtp_ports)
        )
        try:
            rtp.negotiate(media)
        except SdpError:
            return response_to(request, 488, "Not Acceptable Here")
        configure_media(rtp, our_answer.media[0])
        leg = SipLeg(
            self, direction=Direction.INBOUND, caller=caller, number=number, rtp=rtp, peer=peer,
            call_id=request.call_id,
        )  # fmt: skip
        leg.invite, leg.local_sdp, leg.entry = request, our_answer, entry
        leg.own_sdp, leg.remote_sdp = our_answer, request.body
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
            contact=self.contact_for(peer),
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
        response.headers.add("Contact", self.contact_for(leg.peer))
        response.headers.add("Content-Type", "application/sdp")
        response.body = bytes(sdp)
        return response

    def _reinvite(self, leg: SipLeg, request: SipRequest) -> SipResponse:
        """Hold and resume (RFC 3264 §8.4): answer with the mirrored direction, same port (while
        rtpengine relays the call, its address and port: the media stays there)."""
        local_tag = tag_of(leg.dialog.local) if leg.dialog else None
        if leg.reinviting:  # ours and theirs crossed (RFC 3261 §14.2)
            return response_to(request, 491, "Request Pending", to_tag=local_tag)
        try:
            their_offer = SessionDescription.parse(request.body)
            reply = answer(their_offer, address=self.host, port=leg.rtp.port, session_id=1)
            if their_offer.audio.webrtc != isinstance(leg.rtp, WebRtcSession):
                raise SdpError("a call's media cannot change between WebRTC and plain RTP")
            leg.rtp.negotiate(their_offer.audio)  # (a browser's ICE restart: new credentials)
            leg.rtp.describe(reply.media[0])
            if leg.relayed_by is not None:
                relay = SessionDescription.parse(leg.relayed_by)
                reply.address, reply.media[0].port = relay.address, relay.audio.port
                reply.media[0].address = relay.audio.address
        except (SdpError, UnicodeDecodeError, RuntimeError):
            return response_to(request, 488, "Not Acceptable Here", to_tag=local_tag)
        leg.remote_sdp = request.body
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
        leg.rtp.describe(sdp.media[0])
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

    def bridge(self, a: Leg, b: Leg, *, record_to: Path | None = None) -> Bridge:
        if not isinstance(a, SipLeg) or not isinstance(b, SipLeg):
            raise TypeError("the built-in engine bridges its own legs")
        relay = self.rtpengine
        if (
            relay is not None
            and _relayable(a)
            and _relayable(b)
            and (record_to is None or relay.recordings is not None)
        ):
            return RtpengineBridge(a, b, record_to, relay, self.spawn)
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


def _relayable(leg: SipLeg) -> bool:
    """A leg rtpengine can relay: a SIP phone on plain RTP (a browser's WebRTC stays with Hotline)."""
    return not isinstance(leg.rtp, WebRtcSession) and not leg.peer.websocket and bool(leg.remote_sdp)
