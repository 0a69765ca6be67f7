"""Registrar for agent extensions (RFC 3261 §10) with digest authentication and scanner blocking.

Two kinds of credentials: an extension's own password (desk phones and softphones, over UDP and
TCP), and a browser's phone credential bound to a web session (credentials.py), accepted only
over a WebSocket that the extension's own user opened. A binding made over a WebSocket lives as
long as the connection: when it closes, the extension is unreachable at once.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from hotline.voice.sip.credentials import PhoneCredential
from hotline.voice.sip.digest import DigestAuthority, DigestSecret, parse_credentials
from hotline.voice.sip.message import SipRequest, SipResponse, extension_of, response_to
from hotline.voice.sip.transport import Peer

_URI_IN_BRACKETS = re.compile(r"<([^>]+)>")


def _seconds(text: str, otherwise: int) -> int:
    """An Expires value: ASCII digits (not "²"), capped before int() could choke on thousands."""
    if not text or not text.isascii() or not text.isdigit():
        return otherwise
    return int(text) if len(text) <= 10 else 2**31


@dataclass
class Binding:
    contact: str
    expires_at: float
    peer: Peer
    call_id: str
    path: tuple[str, ...] = ()
    """The Path it registered with (RFC 3327): the edge to reach it through, first."""

    @property
    def local(self) -> bool:
        """Only this node can reach it: a connection that ends here (a browser's WebSocket, a
        phone's own TCP), not an edge's Path nor a UDP address any node can send to."""
        return not self.path and self.peer.transport != "UDP"


@dataclass
class FailureGuard:
    """Blocks an address after repeated authentication failures (SIP scanners, toll fraud)."""

    max_failures: int = 10
    window: float = 60.0
    block_for: float = 600.0
    clock: Callable[[], float] = time.monotonic
    _failures: dict[str, list[float]] = field(default_factory=dict)
    _blocked_until: dict[str, float] = field(default_factory=dict)
    refused: int = 0

    def blocked(self, host: str) -> bool:
        until = self._blocked_until.get(host)
        if until is None:
            return False
        if self.clock() >= until:
            del self._blocked_until[host]
            return False
        return True

    def failed(self, host: str) -> None:
        now = self.clock()
        recent = [t for t in self._failures.get(host, []) if now - t < self.window] + [now]
        self._failures[host] = recent
        self.refused += 1
        if len(recent) >= self.max_failures:
            self._blocked_until[host] = now + self.block_for
            self._failures.pop(host, None)

    def succeeded(self, host: str) -> None:
        self._failures.pop(host, None)

    def blocked_hosts(self) -> list[str]:
        return sorted(host for host in list(self._blocked_until) if self.blocked(host))

    def unblock(self, host: str) -> None:
        """An operator lets an address in again (a phone with a mistyped password, fixed)."""
        self._blocked_until.pop(host, None)
        self._failures.pop(host, None)


class Registrar:
    def __init__(
        self,
        authority: DigestAuthority,
        extensions: Mapping[str, DigestSecret],
        guard: FailureGuard,
        *,
        min_expires: int = 60,
        max_expires: int = 3600,
        clock: Callable[[], float] = time.monotonic,
        phone_key: bytes | None = None,
        websocket_extension: Callable[[Peer], str | None] = lambda peer: None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.authority, self.extensions, self.guard = authority, extensions, guard
        self.min_expires, self.max_expires, self.clock = min_expires, max_expires, clock
        self.phone_key = phone_key
        """The key browsers' phone credentials are signed with (None: none are accepted)."""
        self.websocket_extension, self.wall_clock = websocket_extension, wall_clock
        self._bindings: dict[str, dict[str, Binding]] = {}
        self.listeners: list[Callable[[str], None]] = []
        """Told the extension after each successful registration, and when a WebSocket's binding
        goes with its connection (routing offers its agent calls, or stops)."""
        self.shared: Callable[[str, Sequence[Binding], Sequence[str], bool], None] | None = None
        """Told each registration's changes (the extension, bindings made or renewed, contacts
        removed, whether all were): the site's store keeps them for every node (site.py)."""

    def contacts(self, extension: str) -> list[Binding]:
        now = self.clock()
        live = {c: b for c, b in self._bindings.get(extension, {}).items() if b.expires_at > now}
        self._bindings[extension] = live
        return list(live.values())

    def authenticate(
        self, request: SipRequest, peer: Peer, *, origin: Peer | None = None
    ) -> SipResponse | str:
        """The extension that signed the request, or the 401/403 to send back; failures count
        against `origin`, its real sender behind an edge."""
        source = (origin or peer).source
        header = request.headers.get("Authorization")
        if not header:
            return self._challenge(request)
        credential = self._phone_credential(header)
        known = self._secrets(credential, peer)
        username, verdict = self.authority.check(header, method=request.method, secrets=known)
        if verdict.ok and username is not None:
            if credential is not None:
                if credential.expired(self.wall_clock()):
                    # the browser fetches a new one from its session; not a scanner's guess
                    return self._challenge(request)
                if self.websocket_extension(peer) != credential.extension:
                    self.guard.failed(source)
                    return response_to(request, 403, "Forbidden")
                username = credential.extension
            self.guard.succeeded(source)
            return username
        if verdict.stale:
            return self._challenge(request, stale=True)
        self.guard.failed(source)
        return self._challenge(request)

    @staticmethod
    def _phone_credential(header: str) -> PhoneCredential | None:
        try:
            _, params = parse_credentials(header)
        except ValueError:
            return None
        return PhoneCredential.parse(params.get("username", ""))

    def _secrets(self, credential: PhoneCredential | None, peer: Peer) -> Mapping[str, DigestSecret]:
        """What a request from `peer` may sign with: over a WebSocket only a phone credential
        (derived from the key, for an enabled extension), elsewhere only extensions' passwords."""
        if not peer.websocket:
            return {} if credential is not None else self.extensions
        if credential is None or self.phone_key is None or credential.extension not in self.extensions:
            return {}
        password = credential.password(self.phone_key)
        return {
            credential.username: DigestSecret.from_password(
                credential.username, self.authority.realm, password
            )
        }

    def _challenge(self, request: SipRequest, *, stale: bool = False) -> SipResponse:
        response = response_to(request, 401, "Unauthorized")
        for value in self.authority.challenges(stale=stale):
            response.headers.add("WWW-Authenticate", value)
        return response

    def register(
        self, request: SipRequest, peer: Peer, *, origin: Peer | None = None, path: Sequence[str] = ()
    ) -> SipResponse:
        """Authenticate and bind; `path` is the Path of a REGISTER an edge relayed (its phone is
        reached through it), `origin` the phone's own address behind that edge."""
        signed = self.authenticate(request, peer, origin=origin)
        if isinstance(signed, SipResponse):
            return signed
        extension = extension_of(request.headers.get("To") or "")
        if extension != signed:
            self.guard.failed((origin or peer).source)
            return response_to(request, 403, "Forbidden")
        expires_header = (request.headers.get("Expires") or "").strip()
        default = _seconds(expires_header, self.max_expires)
        contacts = request.headers.get_all("Contact")
        if contacts == ["*"]:
            if default != 0:
                return response_to(request, 400, "Bad Request")
            self._bindings.pop(extension, None)
            if self.shared is not None:
                self.shared(extension, [], [], True)
            return response_to(request, 200, "OK")
        now = self.clock()
        current = self._bindings.setdefault(extension, {})
        made: list[Binding] = []
        removed: list[str] = []
        for value in contacts:
            match = _URI_IN_BRACKETS.search(value)
            uri = match.group(1) if match else value.split(";")[0].strip()
            param = re.search(r";\s*expires=([0-9]+)", value[match.end() :] if match else value)
            expires = min(_seconds(param.group(1), default) if param else default, self.max_expires)
            if expires == 0:
                current.pop(uri, None)
                removed.append(uri)
                continue
            if expires < self.min_expires:
                response = response_to(request, 423, "Interval Too Brief")
                response.headers.add("Min-Expires", str(self.min_expires))
                return response
            current[uri] = Binding(uri, now + expires, peer, request.call_id, tuple(path))
            made.append(current[uri])
        if self.shared is not None:
            self.shared(extension, [b for b in made if not b.local], removed, False)
        response = response_to(request, 200, "OK")
        for value in path:  # RFC 3327 §5.3
            response.headers.add("Path", value)
        for binding in self.contacts(extension):
            left = max(0, round(binding.expires_at - now))
            response.headers.add("Contact", f"<{binding.contact}>;expires={left}")
        for listener in self.listeners:
            listener(extension)
        return response

    def replace(self, extension: str, bindings: Sequence[Binding]) -> None:
        """Another node changed `extension`'s registrations: take the site's set, keeping the
        bindings only this node can reach (never shared), and tell the listeners."""
        mine = {c: b for c, b in self._bindings.get(extension, {}).items() if b.local}
        before = self._bindings.get(extension, {})
        after = {b.contact: b for b in bindings} | mine
        self._bindings[extension] = after
        if before.keys() != after.keys():
            for listener in self.listeners:
                listener(extension)

    def extensions_bound(self) -> list[str]:
        return list(self._bindings)

    def connection_closed(self, peer: Peer) -> None:
        """A WebSocket went away: its bindings go with it, and listeners hear of each extension."""
        gone = []
        for extension, bindings in self._bindings.items():
            for contact in [c for c, b in bindings.items() if b.peer == peer]:
                del bindings[contact]
                gone.append(extension)
        for extension in dict.fromkeys(gone):
            for listener in self.listeners:
                listener(extension)
