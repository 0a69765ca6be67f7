"""SIP trunks to a carrier: who may call in, how Hotline registers, and where outbound calls go.

Inbound calls are accepted only from a trunk's address and only to its numbers (DIDs); each DID
names the entry point (IVR flow) it starts. Providers that want it get an outbound registration
(UAC REGISTER with digest auth, RFC 3261 §10.2), renewed before it expires and retried with
backoff when it fails; outbound calls go to the trunk and answer its 401/407 challenge.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog

from hotline.voice.sip.dialog import ClientTransactions, new_branch
from hotline.voice.sip.digest import answer_challenges
from hotline.voice.sip.message import SipRequest
from hotline.voice.sip.transport import Peer

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Trunk:
    name: str
    host: str
    port: int = 5060
    transport: str = "UDP"
    username: str = ""
    password: str = ""
    register: bool = False
    expires: int = 600
    dids: dict[str, str] = field(default_factory=dict)
    """Numbers this trunk delivers, each to the entry point (IVR flow) it starts."""
    outbound: bool = True
    caller_id: str = ""

    @property
    def peer(self) -> Peer:
        return Peer(self.transport, self.host, self.port)

    @property
    def domain(self) -> str:
        return self.host if self.port == 5060 else f"{self.host}:{self.port}"


@dataclass
class RegistrationState:
    registered: bool = False
    last_status: int | None = None
    last_error: str = ""
    expires_in: int = 0
    attempts: int = 0


class TrunkRegistration:
    """Keeps one trunk registered: REGISTER, answer the challenge, renew at 80% of the expiry."""

    def __init__(
        self,
        trunk: Trunk,
        transactions: ClientTransactions,
        *,
        via_host: Callable[[], str],
        retry_after: float = 30.0,
    ) -> None:
        self.trunk, self.transactions, self.via_host = trunk, transactions, via_host
        self.retry_after = retry_after
        self.state = RegistrationState()
        self.registered = asyncio.Event()
        self._call_id = f"{secrets.token_hex(10)}@hotline"
        self._cseq = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._keep())

    async def stop(self, *, unregister: bool = True) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if unregister and self.state.registered:  # a carrier that is gone must not hold up a shutdown
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.register_once(expires=0), 2)

    async def _keep(self) -> None:
        failures = 0
        while True:
            ok = await self.register_once(expires=self.trunk.expires)
            if ok:
                failures = 0
                await asyncio.sleep(max(1.0, self.state.expires_in * 0.8))
            else:
                failures += 1
                await asyncio.sleep(min(self.retry_after * 2 ** (failures - 1), 600))

    def _request(self, expires: int, authorization: tuple[str, str] | None) -> SipRequest:
        self._cseq += 1
        aor = f"sip:{self.trunk.username}@{self.trunk.domain}"
        request = SipRequest(method="REGISTER", uri=f"sip:{self.trunk.domain}")
        request.headers.add(
            "Via", f"SIP/2.0/{self.trunk.transport} {self.via_host()};rport;branch={new_branch()}"
        )
        request.headers.add("Max-Forwards", "70")
        request.headers.add("From", f"<{aor}>;tag={secrets.token_hex(5)}")
        request.headers.add("To", f"<{aor}>")
        request.headers.add("Call-ID", self._call_id)
        request.headers.add("CSeq", f"{self._cseq} REGISTER")
        request.headers.add("Contact", f"<sip:{self.trunk.username}@{self.via_host()}>")
        request.headers.add("Expires", str(expires))
        if authorization is not None:
            request.headers.add(*authorization)
        return request

    async def register_once(self, *, expires: int) -> bool:
        self.state.attempts += 1
        authorization: tuple[str, str] | None = None
        for _ in range(2):  # the plain request, then once with credentials
            request = self._request(expires, authorization)
            response = await self.transactions.request(request, self.trunk.peer)
            if response is None:
                return self._failed(None, "no response from the trunk")
            self.state.last_status = response.status
            if response.status in (401, 407) and authorization is None:
                header = "WWW-Authenticate" if response.status == 401 else "Proxy-Authenticate"
                value = answer_challenges(
                    response.headers.get_all(header), username=self.trunk.username,
                    password=self.trunk.password, method="REGISTER", uri=request.uri,
                )  # fmt: skip
                if value is None:
                    return self._failed(response.status, "the trunk asked for an authentication we cannot do")
                authorization = ("Authorization" if response.status == 401 else "Proxy-Authorization", value)
                continue
            if 200 <= response.status < 300:
                granted = response.headers.get("Expires") or ""
                self.state.expires_in = int(granted) if granted.isdigit() else expires
                self.state.registered = expires > 0
                self.state.last_error = ""
                if expires > 0:
                    self.registered.set()
                log.info("trunk registered", trunk=self.trunk.name, expires=self.state.expires_in)
                return True
            return self._failed(response.status, f"{response.status} {response.reason}")
        return self._failed(self.state.last_status, "credentials refused")

    def _failed(self, status: int | None, error: str) -> bool:
        self.state.registered = False
        self.state.last_error = error
        self.registered.clear()
        log.warning("trunk registration failed", trunk=self.trunk.name, status=status, error=error)
        return False
