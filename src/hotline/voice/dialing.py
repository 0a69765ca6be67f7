"""Calls out on the built-in engine: `originate()` rings every registered contact of an extension
at once (parallel forking), or a number through the first outbound trunk; the first to answer wins
and the others are cancelled (CANCEL once they rang, and the 487 acknowledged). `auto_answer` asks the
phone to answer by itself (an agent's headset on a predictive campaign). Ring timeout, busy
and unreachable end as `OriginateFailed` with the reason; a trunk's digest challenge is answered
once.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

from hotline.voice.control import Direction, EndReason, Leg, LegEvent, OriginateFailed, PhoneKind
from hotline.voice.rtp.session import NoFreePort, RtpSession
from hotline.voice.rtp.webrtc import WebRtcSession
from hotline.voice.sdp import SdpError, SessionDescription, offer
from hotline.voice.sip.dialog import T1, ClientTransactions, Dialog, ack_failure, new_branch, uri_of
from hotline.voice.sip.digest import answer_challenges
from hotline.voice.sip.message import SipRequest, SipResponse
from hotline.voice.sip.registrar import Binding
from hotline.voice.sip.transport import Peer
from hotline.voice.sip.trunk import Trunk
from hotline.voice.sip_leg import SipLeg, configure_media

_FAILURES = {486: EndReason.BUSY, 600: EndReason.BUSY, 408: EndReason.NO_ANSWER, 480: EndReason.NO_ANSWER}


@dataclass(frozen=True)
class Destination:
    uri: str  # the Request-URI
    peer: Peer  # where the INVITE goes
    to: str
    credentials: tuple[str, str] | None  # for a trunk's 401/407
    caller_id: str = ""
    route: tuple[str, ...] = ()
    """The Path a phone registered with through the edge: the INVITE's Route (RFC 3327)."""


class Dialing:
    """The outbound side of `engine.Engine`."""

    host: str
    trunks: Sequence[Trunk]
    locate: Callable[[str], Sequence[Binding]]
    look_further: Callable[[str], Awaitable[None]] | None = None
    """Where an extension `locate` does not know is looked for before a call to it is given up
    (the site's registrar: sip/site.py)."""
    is_extension: Callable[[str], bool]
    max_calls: int
    rtp_ports: tuple[int, int]
    media_address: str | None
    legs: dict[str, SipLeg]
    transactions: ClientTransactions
    send: Callable[[bytes, Peer], None]
    emit: Callable[[LegEvent], None]

    @property
    def via_host(self) -> str:
        raise NotImplementedError

    def contact_for(self, peer: Peer) -> str:
        raise NotImplementedError

    def spawn(self, coroutine: Coroutine[Any, Any, object]) -> asyncio.Task[object]:
        raise NotImplementedError

    def ok(self, leg: SipLeg, request: SipRequest, sdp: SessionDescription) -> SipResponse:
        raise NotImplementedError

    def bye(self, leg: SipLeg, reason: EndReason) -> None:
        raise NotImplementedError

    def finish(self, leg: SipLeg, reason: EndReason, *, keep_media: bool = False) -> None:
        raise NotImplementedError

    def reachable(self, target: str) -> bool:
        return bool(self._destinations(target))

    def _destinations(self, target: str, phone: PhoneKind | None = None) -> list[Destination]:
        """Where to send an INVITE for `target`: every registered contact of an extension (only
        those of the `phone` kind when it has any), or the first outbound trunk for any other
        number."""
        if self.is_extension(target) or self.locate(target):
            contacts = [
                Destination(b.contact, b.peer, f"<sip:{target}@{self.host}>", None, route=b.path)
                for b in self.locate(target)
            ]
            chosen = [d for d in contacts if (d.peer.transport in ("WS", "WSS")) == (phone == "browser")]
            return chosen if phone is not None and chosen else contacts
        trunk = next((t for t in self.trunks if t.outbound), None)
        if trunk is None:
            return []
        credentials = (trunk.username, trunk.password) if trunk.username else None
        uri = f"sip:{target}@{trunk.domain}"
        return [Destination(uri, trunk.peer, f"<{uri}>", credentials, trunk.caller_id)]

    async def originate(
        self,
        target: str,
        *,
        caller: str = "",
        ring_for: float = 30.0,
        auto_answer: bool = False,
        phone: PhoneKind | None = None,
        near: Leg | None = None,
    ) -> Leg:
        destinations = self._destinations(target, phone)
        if not destinations and self.look_further is not None and self.is_extension(target):
            await self.look_further(target)  # registered on another node a moment ago?
            destinations = self._destinations(target, phone)
        if not destinations:
            raise OriginateFailed(EndReason.UNREACHABLE, f"{target} is not registered and no trunk calls out")
        if len(self.legs) >= self.max_calls:
            raise OriginateFailed(EndReason.REJECTED, "call limit reached")
        try:
            media = await self._media_for(destinations)
        except NoFreePort as exc:
            raise OriginateFailed(EndReason.REJECTED, str(exc)) from exc
        sessions = {rtp for rtp, _ in media}
        attempts = [
            self._attempt(where, target, caller, rtp, sdp, auto_answer)
            for where, (rtp, sdp) in zip(destinations, media, strict=True)
        ]
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
            for rtp in sessions:
                rtp.close()
            raise
        for task in ringing:
            task.cancel()
        outcomes = await asyncio.gather(*ringing, return_exceptions=True)
        for outcome in outcomes:  # answered by two contacts at once: keep one, hang up the other
            if isinstance(outcome, SipLeg) and outcome is not winner:
                self.bye(outcome, EndReason.HOTLINE_HUNG_UP)
        for rtp in sessions:
            if winner is None or rtp is not winner.rtp:
                rtp.close()
        if winner is None:
            raise failure
        return winner

    async def _media_for(
        self, destinations: Sequence[Destination]
    ) -> list[tuple[RtpSession, SessionDescription]]:
        """The RTP session and SDP offer for each destination: one plain session shared by the
        desk phones and trunks (only one of them answers), and a WebRTC session of its own for
        each browser (a binding registered over WebSocket: decisions/0007)."""
        plain: tuple[RtpSession, SessionDescription] | None = None
        media: list[tuple[RtpSession, SessionDescription]] = []
        try:
            for where in destinations:
                browser = where.peer.transport in ("WS", "WSS")
                if not browser and plain is not None:
                    media.append(plain)
                    continue
                rtp = (
                    WebRtcSession(
                        self.host, ("127.0.0.1", 9), port_range=self.rtp_ports, advertised=self.media_address
                    )
                    if browser
                    else RtpSession(self.host, ("127.0.0.1", 9), port_range=self.rtp_ports)
                )
                media.append(
                    (
                        rtp,
                        offer(address=self.host, port=0, session_id=secrets.randbelow(2**31), webrtc=browser),
                    )
                )
                await rtp.start()
                rtp.describe(media[-1][1].media[0])
                if not browser:
                    plain = media[-1]
        except BaseException:
            for rtp, _ in media:
                rtp.close()
            raise
        return media

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
        self,
        where: Destination,
        target: str,
        caller: str,
        rtp: RtpSession,
        sdp: SessionDescription,
        auto_answer: bool = False,
    ) -> SipLeg:
        call_id = f"{secrets.token_hex(10)}@{self.host}"
        shown = where.caller_id or caller or "hotline"
        display = f'"{caller}" ' if caller else ""
        invite = SipRequest(method="INVITE", uri=where.uri)
        invite.headers.add(
            "Via", f"SIP/2.0/{where.peer.transport} {self.via_host};rport;branch={new_branch()}"
        )
        invite.headers.add("Max-Forwards", "70")
        for route in where.route:
            invite.headers.add("Route", route)
        invite.headers.add("From", f"{display}<sip:{shown}@{self.host}>;tag={secrets.token_hex(6)}")
        invite.headers.add("To", where.to)
        invite.headers.add("Call-ID", call_id)
        invite.headers.add("CSeq", "1 INVITE")
        invite.headers.add("Contact", self.contact_for(where.peer))
        if auto_answer:  # RFC 5373, and the Call-Info form most desk phones and softphones read
            invite.headers.add("Answer-Mode", "Auto")
            invite.headers.add("Call-Info", f"<sip:{self.host}>;answer-after=0")
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
                self.send(bytes(ack_failure(invite, final)), where.peer)
                invite = self._authorized(invite, final, *where.credentials)
                challenged = True
                continue
            break
        if not 200 <= final.status < 300:
            self.send(bytes(ack_failure(invite, final)), where.peer)
            reason = _FAILURES.get(final.status, EndReason.REJECTED)
            self.finish(leg, reason, keep_media=True)
            raise OriginateFailed(reason, f"{final.status} {final.reason}")
        try:
            their_answer = SessionDescription.parse(final.body)
            if their_answer.audio.webrtc != isinstance(rtp, WebRtcSession):
                raise SdpError(
                    f"answered {their_answer.audio.protocol} to an offer of {sdp.media[0].protocol}"
                )
            configure_media(rtp, their_answer.audio)
            rtp.negotiate(their_answer.audio)
            rtp.remote = (their_answer.audio.address or their_answer.address, their_answer.audio.port)
        except (SdpError, UnicodeDecodeError) as exc:
            self._confirm(leg, invite, final)
            self.bye(leg, EndReason.REJECTED)
            raise OriginateFailed(EndReason.REJECTED, f"unusable SDP answer: {exc}") from exc
        leg.own_sdp, leg.remote_sdp = sdp, final.body
        self._confirm(leg, invite, final)
        rtp.arm()
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
            contact=self.contact_for(leg.peer),
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
            for route in invite.headers.get_all("Route"):  # as the INVITE's (§9.1)
                cancel.headers.add("Route", route)
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
            self.send(bytes(ack_failure(invite, final)), leg.peer)
