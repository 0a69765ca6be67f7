"""The SIP server of the voice plane: transports, server transactions, registrar, OPTIONS.

Requests are matched to server transactions by the RFC 3261 §17.2.3 key (Via branch,
sent-by, method), so a retransmitted request gets the stored response again and is never
processed twice. Calls (INVITE) go to the voice engine once the caller is allowed in.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog

from hotline.voice.apps import prompt_and_collect
from hotline.voice.control import Application
from hotline.voice.engine import Engine
from hotline.voice.sip.digest import Algorithm, DigestAuthority, DigestSecret
from hotline.voice.sip.message import SipRequest, SipResponse, extension_of, response_to
from hotline.voice.sip.registrar import FailureGuard, Registrar
from hotline.voice.sip.transport import Peer, SipTransports
from hotline.voice.sip.trunk import Trunk, TrunkRegistration

log = structlog.get_logger(__name__)

ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, INFO, REFER, NOTIFY"
TRANSACTION_LINGER = 32.0  # Timer J for unreliable transports (64 × T1)


@dataclass
class SipServerStats:
    requests: int = 0
    retransmissions: int = 0
    dropped_blocked: int = 0


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

    def __post_init__(self) -> None:
        self.registrar = Registrar(
            DigestAuthority(self.realm, self.secret, algorithms=self.algorithms),
            self.extensions,
            self.guard,
            clock=self.clock,
        )
        self.transports = SipTransports(self.host, self.port, self.on_message)
        self.engine = Engine(
            host=self.host, port=lambda: self.port, send=self.transports.send, trunks=self.trunks,
            application=self.application, locate=self.registrar.contacts, max_calls=self.max_calls,
            is_extension=lambda target: target in self.extensions,
            rtp_ports=self.rtp_ports,
        )  # fmt: skip
        self._transactions: dict[tuple[str, str, str], tuple[float, bytes]] = {}

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
        await self.transports.start()
        self.port = self.transports.port
        log.info("SIP listening", host=self.host, port=self.port)
        for registration in self.registrations:
            registration.start()

    async def stop(self) -> None:
        for registration in self.registrations:
            await registration.stop()
        await self.engine.stop()
        await self.transports.stop()

    def on_message(self, message: SipRequest | SipResponse, peer: Peer) -> None:
        if isinstance(message, SipResponse):
            self.engine.response(message)
            return
        if self.guard.blocked(peer.host):
            self.stats.dropped_blocked += 1
            return  # silence costs a scanner more than an answer
        self.stats.requests += 1
        key = self._key(message)
        now = self.clock()
        self._transactions = {k: v for k, v in self._transactions.items() if v[0] > now}
        if key in self._transactions:
            self.stats.retransmissions += 1
            self.transports.send(self._transactions[key][1], peer)
            return
        if message.method == "ACK" and message.call_id not in self.engine.legs:
            return  # the ACK of a non-2xx final response ends its own transaction
        response = self.handle(message, peer)
        if response is None:
            return
        wire = bytes(response)
        self._transactions[key] = (now + TRANSACTION_LINGER, wire)
        self.transports.send(wire, peer)

    @staticmethod
    def _key(request: SipRequest) -> tuple[str, str, str]:
        via = request.vias[0]
        sent_by = f"{via.host}:{via.port or 5060}"
        method = "INVITE" if request.method == "ACK" else request.method
        return (via.branch or f"{request.call_id}/{request.cseq[0]}", sent_by, method)

    def handle(self, request: SipRequest, peer: Peer) -> SipResponse | None:
        in_dialog = ";tag=" in (request.headers.get("To") or "")
        if (in_dialog and request.method != "INVITE") or request.method in ("ACK", "CANCEL"):
            return self.engine.in_dialog(request, peer)
        if request.method == "REGISTER":
            return self.registrar.register(request, peer)
        if request.method == "OPTIONS":
            response = response_to(request, 200, "OK")
            response.headers.add("Allow", ALLOW)
            response.headers.add("Accept", "application/sdp")
            return response
        if request.method == "INVITE":
            if in_dialog:
                return self.engine.invite(request, peer, caller="")
            number = extension_of(request.uri) or ""
            if self.engine.trunk_for(peer, number) is not None:
                caller = extension_of(request.headers.get("From") or "") or "anonymous"
                return self.engine.invite(request, peer, caller, entry=self.entry_for(number))
            if self.engine.is_retransmission(request):
                return self.engine.invite(request, peer, caller="")
            signed = self.registrar.authenticate(request, peer)
            if isinstance(signed, SipResponse):
                return signed
            return self.engine.invite(request, peer, signed, entry=self.entry_for(number))
        response = response_to(request, 405, "Method Not Allowed")
        response.headers.add("Allow", ALLOW)
        return response
