"""The SIP server of the voice plane: transports, server transactions, registrar, OPTIONS.

Requests are matched to server transactions by the RFC 3261 §17.2.3 key (Via branch,
sent-by, method), so a retransmitted request gets the stored response again and is never
processed twice. Calls (INVITE) go to the voice engine once the caller is allowed in.

Under a burst, three things keep every request answered: the UDP receive buffer is sized to
hold it (transport.py), OPTIONS outside a dialog — keep-alives and monitoring probes, most of
any burst — are answered statelessly (RFC 3261 §8.2.7: no transaction kept, a To tag derived
from the request so a retransmission gets the same answer), and each source address and port
has a token bucket (limits.py): beyond it a request gets 503 with Retry-After, counted, never
silence. Requests inside a call in progress (ACK, BYE, re-INVITE, INFO) are never limited.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from hotline.voice.apps import prompt_and_collect
from hotline.voice.control import Application, EndReason, LegState
from hotline.voice.engine import Engine
from hotline.voice.rtpengine.bridge import Rtpengine
from hotline.voice.rtpengine.client import NgClient, NgError, parse_address
from hotline.voice.sip.digest import Algorithm, DigestAuthority, DigestSecret
from hotline.voice.sip.edge import Edges
from hotline.voice.sip.limits import SourceLimits
from hotline.voice.sip.message import SipRequest, SipResponse, extension_of, response_to
from hotline.voice.sip.metrics import REFUSED
from hotline.voice.sip.registrar import FailureGuard, Registrar
from hotline.voice.sip.site import SiteBindings
from hotline.voice.sip.transport import Peer, SipTransports
from hotline.voice.sip.trunk import Trunk, TrunkRegistration

log = structlog.get_logger(__name__)

ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, INFO, REFER, NOTIFY"
TRANSACTION_LINGER = 32.0  # Timer J for unreliable transports (64 × T1)
MAX_TRANSACTIONS = 50_000
"""Answers kept for retransmissions; beyond it the oldest go first (a flood of distinct requests
must not grow memory without bound)."""
RECEIVE_BUFFER = 4 * 1024 * 1024
BROWSER_RETURN_SECONDS = 20.0
"""How long a call waits for a browser whose socket dropped mid-call to come back (its phone
reconnects within seconds and re-INVITEs); past it the leg ends, and the caller is not left in
silence until they give up."""
"""UDP receive buffer asked for by default: some 5,000 small requests waiting at once."""


@dataclass
class SipServerStats:
    requests: int = 0
    retransmissions: int = 0
    dropped_blocked: int = 0
    options: int = 0
    """OPTIONS answered statelessly."""
    rate_limited: int = 0
    """Requests answered 503 because their source sent too many."""


@dataclass
class SipServer:
    host: str
    port: int
    realm: str
    extensions: dict[str, DigestSecret]
    """Agent extensions and their digest secrets (`hashed({...})` from plain passwords)."""
    secret: bytes | None = None
    clock: Callable[[], float] = time.monotonic
    trunks: list[Trunk] = field(default_factory=list)
    """Carriers: their addresses may call their numbers (DIDs) without authentication."""
    application: Application = field(default_factory=prompt_and_collect)
    max_calls: int = 200
    rtp_ports: tuple[int, int] = (20000, 30000)
    algorithms: tuple[Algorithm, ...] = (Algorithm.MD5,)
    guard: FailureGuard = field(default_factory=FailureGuard)
    stats: SipServerStats = field(default_factory=SipServerStats)
    limits: SourceLimits = field(default_factory=SourceLimits)
    """Requests each source (address and port) may send: a burst, then a rate."""
    receive_buffer: int | None = RECEIVE_BUFFER
    """UDP receive buffer to ask the kernel for, in bytes (None: the kernel's default)."""
    phone_key: bytes | None = None
    """The key browsers' phone credentials are signed with (voice/sip/credentials.py)."""
    media_address: str | None = None
    """Where browsers reach our media when `host` is not that address (NAT): a second candidate."""
    edge_proxies: tuple[str, ...] = ()
    """The SIP edges in front of this node (IP:port): they name a request's real sender (edge.py)."""
    site_redis: str | None = None
    """Redis of the site: registrations are shared there with every voice node (site.py)."""
    node_id: str = ""
    rtpengine_ng: str | None = None
    """rtpengine's ng listener (host:port): bridges of two SIP phones are relayed there."""
    rtpengine_recordings: Path | None = None
    """rtpengine's --recording-dir as this node reads it (None: recorded bridges stay here)."""

    def __post_init__(self) -> None:
        self.edges = Edges.of(self.edge_proxies)
        self.transports = SipTransports(
            self.host, self.port, self.on_message, receive_buffer=self.receive_buffer
        )
        self.registrar = Registrar(
            DigestAuthority(self.realm, self.secret, algorithms=self.algorithms),
            self.extensions,
            self.guard,
            clock=self.clock,
            phone_key=self.phone_key,
            websocket_extension=self.transports.websocket_extension,
        )
        self.site = (
            None if self.site_redis is None else SiteBindings(self.site_redis, self.registrar, self.node_id)
        )
        self.transports.websocket_closed.append(self.registrar.connection_closed)
        self.transports.websocket_closed.append(self._browser_dropped)
        self.engine = Engine(
            host=self.host, port=lambda: self.port, send=self.transports.send, trunks=self.trunks,
            application=self.application, locate=self.registrar.contacts, max_calls=self.max_calls,
            is_extension=lambda target: target in self.extensions,
            rtp_ports=self.rtp_ports, media_address=self.media_address,
        )  # fmt: skip
        if self.site is not None:
            self.engine.look_further = self.site.lookup
        self._transactions: dict[tuple[str, str, str], tuple[float, bytes]] = {}
        """Answers by transaction key, oldest first: every entry lingers as long, so the dict's
        order is also the order in which they expire."""
        self._tag_key = secrets.token_bytes(16)

        self.registrations = [
            TrunkRegistration(trunk, self.engine.transactions, via_host=lambda: self.engine.via_host)
            for trunk in self.trunks
            if trunk.register
        ]

    async def reconfigure(self, extensions: dict[str, DigestSecret], trunks: list[Trunk]) -> None:
        """Take a new configuration while calls go on: registrations of unchanged trunks carry on,
        removed ones unregister, new ones start; calls in progress are not touched."""
        self.extensions.clear()
        self.extensions.update(extensions)  # the registrar and engine read this same mapping
        self.trunks[:] = trunks
        self.engine.trunks = self.trunks
        keep = [t for t in trunks if t.register]
        for registration in [r for r in self.registrations if r.trunk not in keep]:
            await registration.stop()
            self.registrations.remove(registration)
        running = [r.trunk for r in self.registrations]
        for trunk in [t for t in keep if t not in running]:
            registration = TrunkRegistration(
                trunk, self.engine.transactions, via_host=lambda: self.engine.via_host
            )
            self.registrations.append(registration)
            registration.start()

    def entry_for(self, number: str) -> str:
        """The entry point (IVR flow) a dialled number starts; "" for numbers without one."""
        return next((t.dids[number] for t in self.trunks if number in t.dids), "")

    async def start(self) -> None:
        if self.rtpengine_ng is not None:
            ng = NgClient(parse_address(self.rtpengine_ng))
            await ng.start()
            self.engine.rtpengine = Rtpengine(ng, self.rtpengine_recordings)
            try:
                await ng.ping()
                log.info("rtpengine relays bridged calls", ng=self.rtpengine_ng)
            except NgError as error:  # bridges fall back to the built-in relay until it answers
                log.warning("rtpengine.unreachable", ng=self.rtpengine_ng, error=str(error))
        await self.transports.start()
        self.port = self.transports.port
        log.info("SIP listening", host=self.host, port=self.port)
        if self.site is not None:
            await self.site.start()
        for registration in self.registrations:
            registration.start()

    async def stop(self) -> None:
        for registration in self.registrations:
            await registration.stop()
        await self.engine.stop()
        if self.engine.rtpengine is not None:
            await self.engine.rtpengine.ng.stop()
        await self.transports.stop()
        if self.site is not None:
            await self.site.stop()

    def on_message(self, message: SipRequest | SipResponse, peer: Peer) -> None:
        if isinstance(message, SipResponse):
            self.engine.response(message)
            return
        in_call = message.call_id in self.engine.legs
        origin = self.edges.origin(message, peer)  # who sent it, behind an edge
        if self.guard.blocked(origin.source) and not in_call and not self._trunk_call(message, origin):
            self.stats.dropped_blocked += 1
            REFUSED.labels("blocked").inc()
            return  # silence costs a scanner more than an answer
        self.stats.requests += 1
        if in_call and peer.websocket:
            self._follow_browser(message.call_id, peer)
        if message.method == "ACK":  # never answered: it confirms a call or ends its own transaction
            if in_call:
                self.engine.in_dialog(message, peer)
            return
        if not in_call and (wait := self.limits.take((origin.source, origin.port))):
            self.stats.rate_limited += 1
            REFUSED.labels("rate-limited").inc()
            busy = response_to(message, 503, "Service Unavailable", to_tag=self._stateless_tag(message))
            busy.headers.add("Retry-After", str(self.limits.retry_after(wait)))
            self.transports.send(bytes(busy), peer)
            return
        if message.method == "OPTIONS" and ";tag=" not in (message.headers.get("To") or ""):
            self.stats.options += 1
            self.transports.send(bytes(self.options(message)), peer)
            return
        key = self._key(message)
        now = self.clock()
        self._expire(now)
        if key in self._transactions:
            self.stats.retransmissions += 1
            self.transports.send(self._transactions[key][1], peer)
            return
        response = self.handle(message, peer, origin)
        if response is None:
            return
        wire = bytes(response)
        self._transactions[key] = (now + TRANSACTION_LINGER, wire)
        self.transports.send(wire, peer)

    def _browser_dropped(self, peer: Peer) -> None:
        """A browser's socket closed: each of its calls waits for it to come back (`_follow_browser`)."""
        loop = asyncio.get_running_loop()
        for call_id, leg in list(self.engine.legs.items()):
            if leg.peer == peer and leg.state in (LegState.ANSWERED, LegState.HELD):
                loop.call_later(BROWSER_RETURN_SECONDS, self._browser_gone, call_id, peer)

    def _browser_gone(self, call_id: str, peer: Peer) -> None:
        leg = self.engine.legs.get(call_id)
        if leg is None or leg.peer != peer or leg.state is LegState.ENDED:
            return  # ended meanwhile, or the browser came back on a new socket
        log.warning("a browser did not come back to its call", call_id=call_id, extension=leg.number)
        self.engine.bye(leg, EndReason.UNREACHABLE)

    def _follow_browser(self, call_id: str, peer: Peer) -> None:
        """A browser whose socket dropped mid-call comes back on a new one and carries on (a
        re-INVITE to restart ICE): the call's way back moves to the new socket, if the old one is
        gone and the new one is the same extension's."""
        leg = self.engine.legs.get(call_id)
        if leg is None or leg.peer == peer or not leg.peer.websocket:
            return
        if self.transports.websocket_extension(leg.peer) is not None:
            return  # the old socket is still open: nobody else speaks for it
        owner = self.transports.websocket_extension(peer)
        if owner is None or owner not in (leg.number, leg.caller):
            return
        leg.peer = peer
        if leg.dialog is not None:
            leg.dialog.peer = peer

    def _trunk_call(self, request: SipRequest, peer: Peer) -> bool:
        """A call from a trunk's address to one of its numbers: let in even when the address is
        blocked for failed registrations (a phone with a wrong password beside the trunk, as on
        the demo's 127.0.0.1), or the whole hotline would go silent."""
        return (
            request.method == "INVITE"
            and self.engine.trunk_for(peer, extension_of(request.uri) or "") is not None
        )

    def _expire(self, now: float) -> None:
        transactions = self._transactions
        while transactions:
            key = next(iter(transactions))
            if transactions[key][0] > now and len(transactions) < MAX_TRANSACTIONS:
                return
            del transactions[key]

    @property
    def transactions(self) -> int:
        """Server transactions whose answers are kept for retransmissions."""
        self._expire(self.clock())
        return len(self._transactions)

    def _stateless_tag(self, request: SipRequest) -> str:
        """The same To tag for the same request every time (RFC 3261 §8.2.7), without state."""
        seed = "\n".join(
            (request.call_id, request.headers.get("From") or "", request.headers.get("CSeq") or "",
             (request.headers.get_all("Via") or [""])[0])
        )  # fmt: skip
        return hashlib.blake2s(seed.encode(), digest_size=5, key=self._tag_key).hexdigest()

    def options(self, request: SipRequest) -> SipResponse:
        """What this server supports (RFC 3261 §11.2), answered statelessly."""
        response = response_to(request, 200, "OK", to_tag=self._stateless_tag(request))
        response.headers.add("Allow", ALLOW)
        response.headers.add("Accept", "application/sdp")
        return response

    @staticmethod
    def _key(request: SipRequest) -> tuple[str, str, str]:
        via = request.vias[0]
        sent_by = f"{via.host}:{via.port or 5060}"
        method = "INVITE" if request.method == "ACK" else request.method
        return (via.branch or f"{request.call_id}/{request.cseq[0]}", sent_by, method)

    def handle(self, request: SipRequest, peer: Peer, origin: Peer | None = None) -> SipResponse | None:
        """Answer `request` from `peer`; `origin` is its real sender when an edge relayed it."""
        origin = origin or peer
        in_dialog = ";tag=" in (request.headers.get("To") or "")
        if (in_dialog and request.method != "INVITE") or request.method in ("ACK", "CANCEL"):
            return self.engine.in_dialog(request, peer)
        if request.method == "REGISTER":
            path = request.headers.get_all("Path") if self.edges.is_edge(peer) else []
            return self.registrar.register(request, peer, origin=origin, path=path)
        if request.method == "OPTIONS":
            return self.options(request)
        if request.method == "INVITE":
            if in_dialog:
                return self.engine.invite(request, peer, caller="")
            number = extension_of(request.uri) or ""
            if self.engine.trunk_for(origin, number) is not None:
                caller = extension_of(request.headers.get("From") or "") or "anonymous"
                return self.engine.invite(request, peer, caller, entry=self.entry_for(number))
            if self.engine.is_retransmission(request):
                return self.engine.invite(request, peer, caller="")
            signed = self.registrar.authenticate(request, peer, origin=origin)
            if isinstance(signed, SipResponse):
                return signed
            return self.engine.invite(request, peer, signed, entry=self.entry_for(number))
        response = response_to(request, 405, "Method Not Allowed")
        response.headers.add("Allow", ALLOW)
        return response
