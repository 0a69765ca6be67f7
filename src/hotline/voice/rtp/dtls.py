"""DTLS-SRTP (RFC 5763, 5764) for WebRTC legs: the engine's certificate, and the DTLS server that
negotiates SRTP keys with a browser.

pyOpenSSL's DTLS runs on memory BIOs: no socket of its own, so the leg keeps its one UDP port and
demultiplexes STUN, DTLS and SRTP on it (RFC 7983). `DtlsServer` is sans-I/O: records in
(`receive`), records out (`outgoing`), and a retransmission deadline (`timeout`) for the owner to
keep on its event loop. Hotline is always the DTLS server (`a=setup:passive`): docs/decisions/0007.
"""

from __future__ import annotations

import contextlib
import datetime
import secrets
from dataclasses import dataclass

import pylibsrtp
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from OpenSSL import SSL

_HASHES: dict[str, hashes.HashAlgorithm] = {
    "sha-256": hashes.SHA256(),
    "sha-384": hashes.SHA384(),
    "sha-512": hashes.SHA512(),
}
CERTIFICATE_DAYS = 365
"""A certificate lives a year and is replaced a day before it ends (browsers check only the
fingerprint signalled in SDP, never a chain or the dates, but OpenSSL peers may check dates)."""


class DtlsError(Exception):
    """The handshake failed, or the browser's certificate is not the one its SDP announced."""


@dataclass(frozen=True)
class SrtpProfile:
    """An SRTP protection profile (RFC 5764 §4.1.2, RFC 7714) as OpenSSL and libsrtp name it."""

    openssl_name: bytes
    libsrtp: int
    key_length: int
    salt_length: int


PROFILES = (
    SrtpProfile(b"SRTP_AEAD_AES_128_GCM", pylibsrtp.Policy.SRTP_PROFILE_AEAD_AES_128_GCM, 16, 12),
    SrtpProfile(b"SRTP_AES128_CM_SHA1_80", pylibsrtp.Policy.SRTP_PROFILE_AES128_CM_SHA1_80, 16, 14),
)
"""What Hotline offers, preferred first (GCM: one pass for encryption and authentication)."""


@dataclass(frozen=True)
class SrtpKeys:
    """What the handshake yields: the profile, and the master key + salt for each direction."""

    profile: int
    """libsrtp's number for it (pylibsrtp.Policy.SRTP_PROFILE_…)."""
    inbound: bytes
    outbound: bytes


@dataclass(frozen=True)
class Identity:
    """The engine's certificate (ECDSA P-256, self-signed), its fingerprint and a DTLS context."""

    context: SSL.Context
    fingerprint: tuple[str, str]
    expires: datetime.datetime


_identity: Identity | None = None


def identity() -> Identity:
    """One certificate per engine process (made on first use: about a millisecond), renewed a day
    before it expires; a leg keeps the one it started with."""
    global _identity
    now = datetime.datetime.now(datetime.UTC)
    if _identity is None or _identity.expires - now < datetime.timedelta(days=1):
        _identity = _new_identity(now)
    return _identity


def _new_identity(now: datetime.datetime) -> Identity:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, f"hotline-{secrets.token_hex(8)}")])
    expires = now + datetime.timedelta(days=CERTIFICATE_DAYS)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(expires)
        .sign(key, hashes.SHA256())
    )
    context = SSL.Context(SSL.DTLS_METHOD)
    context.set_options(SSL.OP_NO_TICKET)
    context.use_certificate(certificate)
    context.use_privatekey(key)
    # A browser's certificate is self-signed: it is trusted by its fingerprint in the SDP, which
    # `DtlsServer.verify` checks after the handshake, not by a chain.
    context.set_verify(SSL.VERIFY_PEER | SSL.VERIFY_FAIL_IF_NO_PEER_CERT, lambda *_: True)
    context.set_tlsext_use_srtp(b":".join(profile.openssl_name for profile in PROFILES))
    return Identity(context, ("sha-256", fingerprint_of(certificate, "sha-256")), expires)


def fingerprint_of(certificate: x509.Certificate, algorithm: str) -> str:
    digest = certificate.fingerprint(_HASHES[algorithm]).hex().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


class DtlsServer:
    """The server side of one DTLS association, on memory BIOs."""

    def __init__(self, context: SSL.Context) -> None:
        self._ssl = SSL.Connection(context, None)
        self._ssl.set_accept_state()
        self.complete = False

    def receive(self, record: bytes) -> bool:
        """Feed a datagram from the browser; True once the handshake has just completed.
        Raises DtlsError when it fails."""
        self._ssl.bio_write(record)
        if self.complete:
            # (alerts, a retransmitted flight; WebRTC audio carries no application data)
            with contextlib.suppress(SSL.Error):
                self._ssl.recv(1500)
            return False
        return self._advance()

    def _advance(self) -> bool:
        try:
            self._ssl.do_handshake()
        except SSL.WantReadError:
            return False
        except SSL.Error as exc:
            raise DtlsError(f"DTLS handshake failed: {exc}") from exc
        self.complete = True
        return True

    def outgoing(self) -> list[bytes]:
        """Datagrams OpenSSL wants sent (each call to bio_read gives one DTLS flight's datagram)."""
        records = []
        while True:
            try:
                data = self._ssl.bio_read(1500)
            except SSL.WantReadError:
                break
            if not data:
                break
            records.append(data)
        return records

    def timeout(self) -> float | None:
        """Seconds until OpenSSL wants to retransmit its last flight, if a flight is outstanding."""
        if self.complete:
            return None
        return self._ssl.DTLSv1_get_timeout()

    def handle_timeout(self) -> None:
        if not self.complete:
            self._ssl.DTLSv1_handle_timeout()

    def verify(self, fingerprints: list[tuple[str, str]]) -> None:
        """The browser's certificate must be the one its SDP announced: every fingerprint given
        in a hash we know must match, and there must be one (RFC 8122 §5)."""
        certificate = self._ssl.get_peer_certificate(as_cryptography=True)
        if certificate is None:
            raise DtlsError("the browser presented no certificate")
        known = [(algorithm, value) for algorithm, value in fingerprints if algorithm in _HASHES]
        if not known:
            raise DtlsError("no fingerprint in a hash Hotline knows (sha-256, sha-384, sha-512)")
        for algorithm, value in known:
            if fingerprint_of(certificate, algorithm) != value.upper():
                raise DtlsError(f"the browser's certificate does not match its SDP's {algorithm} fingerprint")

    def srtp_keys(self) -> SrtpKeys:
        """The SRTP master keys (RFC 5764 §4.2): client key, server key, client salt, server salt;
        the server (Hotline) sends with the server's and receives with the client's."""
        chosen = self._ssl.get_selected_srtp_profile()
        profile = next((p for p in PROFILES if p.openssl_name == chosen), None)
        if profile is None:
            raise DtlsError(f"no SRTP profile agreed (browser chose {chosen!r})")
        k, s = profile.key_length, profile.salt_length
        material = self._ssl.export_keying_material(b"EXTRACTOR-dtls_srtp", 2 * (k + s))
        client_key, server_key = material[:k], material[k : 2 * k]
        client_salt, server_salt = material[2 * k : 2 * k + s], material[2 * k + s :]
        return SrtpKeys(profile.libsrtp, client_key + client_salt, server_key + server_salt)
