"""Dialogs and client transactions (RFC 3261 §12, §17.1).

A `Dialog` builds the requests Hotline sends inside a call (BYE, re-INVITE, NOTIFY, ACK) with
the right tags, CSeq, remote target and route set. `ClientTransactions` sends a request and
waits for its final response, re-sending it over UDP on the RFC timers (Timer A/E, capped at
T2 for non-INVITE) and giving up after 64·T1 (Timer B/F).
"""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from hotline.voice.sip.message import SipRequest, SipResponse
from hotline.voice.sip.transport import Peer

T1, T2 = 0.5, 4.0
_URI = re.compile(r"<([^>]+)>")


def tag_of(header: str | None) -> str:
    match = re.search(r";\s*tag=([^;>\s]+)", header or "")
    return match.group(1) if match else ""


def uri_of(header: str) -> str:
    """The URI in a name-addr (`"Ann" <sip:1001@h>;tag=x`) or addr-spec header value."""
    match = _URI.search(header)
    return match.group(1) if match else header.split(";")[0].strip()


def new_branch() -> str:
    return f"z9hG4bK{secrets.token_hex(8)}"


@dataclass
class Dialog:
    """One side's view of a dialog: who we are, who they are, and how to reach them."""

    call_id: str
    local: str  # our From/To header value, with our tag
    remote: str  # theirs, with their tag
    remote_target: str  # their Contact URI
    peer: Peer
    via_host: str  # our sent-by (host:port)
    route_set: list[str] = field(default_factory=list)
    local_cseq: int = 1
    contact: str = ""

    def request(self, method: str, *, cseq: int | None = None, branch: str | None = None) -> SipRequest:
        if cseq is None:
            self.local_cseq += 1
            cseq = self.local_cseq
        request = SipRequest(method=method, uri=self.remote_target)
        request.headers.add(
            "Via", f"SIP/2.0/{self.peer.transport} {self.via_host};rport;branch={branch or new_branch()}"
        )
        request.headers.add("Max-Forwards", "70")
        for route in self.route_set:
            request.headers.add("Route", route)
        request.headers.add("From", self.local)
        request.headers.add("To", self.remote)
        request.headers.add("Call-ID", self.call_id)
        request.headers.add("CSeq", f"{cseq} {method}")
        if self.contact and method in ("INVITE", "REFER", "NOTIFY", "SUBSCRIBE"):
            request.headers.add("Contact", self.contact)
        return request


def ack_failure(invite: SipRequest, final: SipResponse) -> SipRequest:
    """The ACK of a non-2xx final response: part of the INVITE transaction (§17.1.1.3)."""
    ack = SipRequest(method="ACK", uri=invite.uri)
    ack.headers.add("Via", invite.headers.get("Via") or "")
    ack.headers.add("Max-Forwards", "70")
    for route in invite.headers.get_all("Route"):  # as the INVITE's (§17.1.1.3)
        ack.headers.add("Route", route)
    ack.headers.add("From", invite.headers.get("From") or "")
    ack.headers.add("To", final.headers.get("To") or "")
    ack.headers.add("Call-ID", invite.call_id)
    ack.headers.add("CSeq", f"{invite.cseq[0]} ACK")
    return ack


@dataclass
class _Pending:
    final: asyncio.Future[SipResponse]
    provisional: Callable[[SipResponse], None] | None
    answered: asyncio.Event = field(default_factory=asyncio.Event)


class ClientTransactions:
    """Requests Hotline sent, waiting for their responses (matched on the top Via branch)."""

    def __init__(self, send: Callable[[bytes, Peer], None]) -> None:
        self.send = send
        self._pending: dict[tuple[str, str], _Pending] = {}
        self.stray: Callable[[SipResponse], None] | None = None
        """Gets responses no transaction waits for: retransmitted 2xx to an INVITE (re-ACK them)."""

    async def request(
        self,
        request: SipRequest,
        peer: Peer,
        *,
        provisional: Callable[[SipResponse], None] | None = None,
        give_up_after: float = 64 * T1,
    ) -> SipResponse | None:
        """Send and wait for the final response; None on timeout (no answer at all)."""
        key = (request.vias[0].branch or "", request.method)  # a CANCEL shares its INVITE's branch
        loop = asyncio.get_running_loop()
        pending = _Pending(loop.create_future(), provisional)
        self._pending[key] = pending
        task = asyncio.create_task(
            self._retransmit(bytes(request), peer, pending, invite=request.method == "INVITE")
        )
        try:
            if request.method == "INVITE":  # a ringing phone may take longer than Timer B
                return await asyncio.wait_for(pending.final, None)
            return await asyncio.wait_for(pending.final, give_up_after)
        except TimeoutError:
            return None
        finally:
            task.cancel()
            self._pending.pop(key, None)

    async def _retransmit(self, wire: bytes, peer: Peer, pending: _Pending, *, invite: bool) -> None:
        delay, waited = T1, 0.0
        self.send(wire, peer)
        if peer.transport != "UDP":
            return
        while waited < 64 * T1 and not pending.answered.is_set():
            try:
                await asyncio.wait_for(pending.answered.wait(), delay)
            except TimeoutError:
                waited += delay
                delay = delay * 2 if invite else min(delay * 2, T2)
                self.send(wire, peer)
        if invite and not pending.answered.is_set() and not pending.final.done():
            pending.final.set_exception(TimeoutError())  # Timer B: nobody there

    def response(self, response: SipResponse) -> bool:
        vias = response.vias
        pending = self._pending.get(((vias[0].branch or "") if vias else "", response.cseq[1]))
        if pending is None:
            if self.stray is not None:
                self.stray(response)
            return False
        pending.answered.set()
        if response.status < 200:
            if pending.provisional is not None:
                pending.provisional(response)
        elif not pending.final.done():
            pending.final.set_result(response)
        return True
