"""Digest authentication for SIP (RFC 3261 §22, RFC 7616 algorithms MD5 and SHA-256, RFC 8760).

Nonces are stateless: a timestamp and an HMAC over it with the server's secret, so any node
of a cluster can check a nonce another node issued, and a stale nonce is told apart from a
forged one (the phone retries a stale nonce without asking its user).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class Algorithm(StrEnum):
    MD5 = "MD5"
    SHA256 = "SHA-256"


def _h(algorithm: Algorithm, text: str) -> str:
    name = "md5" if algorithm is Algorithm.MD5 else "sha256"
    return hashlib.new(name, text.encode(), usedforsecurity=False).hexdigest()


@dataclass(frozen=True)
class DigestSecret:
    """What the registrar keeps of an extension's password: HA1 = H(user:realm:password) per
    algorithm (RFC 7616 §3.4.2), so the password itself is never stored."""

    md5: str
    sha256: str

    @classmethod
    def from_password(cls, username: str, realm: str, password: str) -> DigestSecret:
        text = f"{username}:{realm}:{password}"
        return cls(_h(Algorithm.MD5, text), _h(Algorithm.SHA256, text))

    def ha1(self, algorithm: Algorithm) -> str:
        return self.md5 if algorithm is Algorithm.MD5 else self.sha256


def hashed(passwords: dict[str, str], realm: str = "hotline") -> dict[str, DigestSecret]:
    """Extension → DigestSecret for a realm, from plain passwords (demo data and tests)."""
    return {user: DigestSecret.from_password(user, realm, password) for user, password in passwords.items()}


def response(
    algorithm: Algorithm,
    *,
    username: str,
    realm: str,
    password: str = "",
    ha1: str | None = None,
    method: str,
    uri: str,
    nonce: str,
    qop: str | None = None,
    nc: str | None = None,
    cnonce: str | None = None,
) -> str:
    """The `response` value a client sends (RFC 7616 §3.4.1; without qop, RFC 2069 style)."""
    ha1 = ha1 or _h(algorithm, f"{username}:{realm}:{password}")
    ha2 = _h(algorithm, f"{method}:{uri}")
    if qop:
        return _h(algorithm, f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
    return _h(algorithm, f"{ha1}:{nonce}:{ha2}")


_PARAM = re.compile(r'\s*([A-Za-z0-9_-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s,]+)\s*(?:,|$)')


def parse_credentials(value: str) -> tuple[str, dict[str, str]]:
    """Split `Digest username="…", realm="…", …` into its scheme and parameters."""
    scheme, _, rest = value.strip().partition(" ")
    params: dict[str, str] = {}
    position = 0
    rest = rest.strip()
    while position < len(rest):
        match = _PARAM.match(rest, position)
        if match is None:
            raise ValueError(f"malformed authentication parameters at {rest[position : position + 20]!r}")
        name, raw = match.groups()
        params[name.lower()] = raw[1:-1].replace('\\"', '"') if raw.startswith('"') else raw
        position = match.end()
    return scheme, params


@dataclass(frozen=True)
class Verdict:
    ok: bool
    stale: bool = False
    reason: str = ""


class DigestAuthority:
    """Issues challenges and checks credentials for one realm."""

    def __init__(
        self,
        realm: str,
        secret: bytes | None = None,
        *,
        nonce_ttl: int = 300,
        algorithms: tuple[Algorithm, ...] = (Algorithm.MD5,),
    ) -> None:
        self.realm, self.algorithms = realm, algorithms
        self._secret = secret or secrets.token_bytes(32)
        self.nonce_ttl = nonce_ttl

    def rekey(self, secret: bytes) -> None:
        """Sign nonces with the site's key from now on, so every voice node checks every node's
        nonces (site.py); nonces signed before read as stale and phones simply retry."""
        self._secret = secret

    def nonce(self, now: float | None = None) -> str:
        stamp = f"{int(now if now is not None else time.time()):x}"
        mac = hmac.new(self._secret, stamp.encode(), hashlib.sha256).hexdigest()[:32]
        return f"{stamp}.{mac}"

    def challenge(self, algorithm: Algorithm, *, stale: bool = False, now: float | None = None) -> str:
        value = (
            f'Digest realm="{self.realm}", nonce="{self.nonce(now)}", algorithm={algorithm.value}, qop="auth"'
        )
        return value + (", stale=true" if stale else "")

    def challenges(self, *, stale: bool = False) -> list[str]:
        """One challenge per algorithm, in `self.algorithms` order.

        RFC 8760 wants the preferred (SHA-256) first, but SIPp 3.6 reads only the first challenge
        and baresip 1.0 gives up when any challenge is SHA-256, so the default is MD5 alone; a site
        whose phones all do SHA-256 configures it (docs/decisions/0002).
        """
        return [self.challenge(algorithm, stale=stale) for algorithm in self.algorithms]

    def _nonce_state(self, nonce: str, now: float) -> str:
        stamp, _, mac = nonce.partition(".")
        expected = hmac.new(self._secret, stamp.encode(), hashlib.sha256).hexdigest()[:32]
        # as bytes: compare_digest raises TypeError for str with non-ASCII characters
        if not mac or not hmac.compare_digest(mac.encode(), expected.encode()):
            return "forged"
        try:
            issued = int(stamp, 16)
        except ValueError:
            return "forged"
        return "fresh" if 0 <= now - issued <= self.nonce_ttl else "stale"

    def check(
        self, header: str, *, method: str, secrets: Mapping[str, DigestSecret], now: float | None = None
    ) -> tuple[str | None, Verdict]:
        """Check an Authorization header; returns the username it claims and the verdict."""
        try:
            scheme, params = parse_credentials(header)
        except ValueError as exc:
            return None, Verdict(False, reason=str(exc))
        username = params.get("username")
        if scheme.lower() != "digest" or not username:
            return username, Verdict(False, reason="not digest credentials")
        if params.get("realm") != self.realm:
            return username, Verdict(False, reason="wrong realm")
        try:
            algorithm = Algorithm(params.get("algorithm", "MD5").upper().replace("SHA256", "SHA-256"))
        except ValueError:
            return username, Verdict(False, reason="unsupported algorithm")
        secret = secrets.get(username)
        state = self._nonce_state(params.get("nonce", ""), now if now is not None else time.time())
        if state == "forged" or secret is None:
            return username, Verdict(False, reason="unknown user or nonce")
        qop = params.get("qop")
        if qop not in (None, "auth"):
            return username, Verdict(False, reason="unsupported qop")
        expected = response(
            algorithm, username=username, realm=self.realm, ha1=secret.ha1(algorithm), method=method,
            uri=params.get("uri", ""), nonce=params["nonce"], qop=qop, nc=params.get("nc"),
            cnonce=params.get("cnonce"),
        )  # fmt: skip
        if not hmac.compare_digest(expected.encode(), params.get("response", "").encode()):
            return username, Verdict(False, reason="wrong password")
        if state == "stale":
            return username, Verdict(False, stale=True, reason="stale nonce")
        return username, Verdict(True)


def answer_challenges(
    challenges: list[str], *, username: str, password: str, method: str, uri: str, nc: int = 1
) -> str | None:
    """The Authorization value a client sends for the best challenge it can answer (SHA-256 over
    MD5); None when no challenge is a digest one it can do."""
    offers: list[tuple[Algorithm, dict[str, str]]] = []
    for value in challenges:
        try:
            scheme, params = parse_credentials(value)
        except ValueError:
            continue
        name = params.get("algorithm", "MD5").upper().replace("SHA256", "SHA-256")
        if scheme.lower() == "digest" and name in Algorithm.__members__.values() and "nonce" in params:
            offers.append((Algorithm(name), params))
    if not offers:
        return None
    algorithm, params = max(offers, key=lambda offer: offer[0] is Algorithm.SHA256)
    qop = "auth" if "auth" in [q.strip() for q in params.get("qop", "").split(",")] else None
    cnonce, count = secrets.token_hex(8), f"{nc:08x}"
    digest = response(
        algorithm, username=username, realm=params.get("realm", ""), password=password, method=method,
        uri=uri, nonce=params["nonce"], qop=qop, nc=count if qop else None, cnonce=cnonce if qop else None,
    )  # fmt: skip
    fields = [
        f'username="{username}"', f'realm="{params.get("realm", "")}"', f'nonce="{params["nonce"]}"',
        f'uri="{uri}"', f'response="{digest}"', f"algorithm={algorithm.value}",
    ]  # fmt: skip
    if "opaque" in params:
        fields.append(f'opaque="{params["opaque"]}"')
    if qop:
        fields += [f"qop={qop}", f"nc={count}", f'cnonce="{cnonce}"']
    return "Digest " + ", ".join(fields)
