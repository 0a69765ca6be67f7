"""The keys that sign audit checkpoints (docs/security.md, "Audit checkpoints").

One Ed25519 private key signs; it lives in a file (`HOTLINE_AUDIT_KEY_FILE`) or an environment
variable (`HOTLINE_AUDIT_KEY`), never in the database. A keyring of public keys, each under its
key id, verifies: the current key and every retired one, so a rotated key still vouches for the
checkpoints it signed.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import structlog
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from hotline.core.clock import utcnow
from hotline.core.config import Settings
from hotline.core.errors import HotlineError

log = structlog.get_logger(__name__)


class AuditKeyError(HotlineError):
    code = "audit-key-error"
    status = 409
    title = "The audit signing key cannot be used"


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public: Ed25519PublicKey) -> str:
    """A short, stable name for a public key: the start of its SHA-256."""
    return hashlib.sha256(_raw(public)).hexdigest()[:16]


def public_text(public: Ed25519PublicKey) -> str:
    return base64.b64encode(_raw(public)).decode()


def parse_public(text: str) -> Ed25519PublicKey:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("public key is not base64") from exc
    if len(raw) != 32:
        raise ValueError(f"an Ed25519 public key has 32 bytes, not {len(raw)}")
    return Ed25519PublicKey.from_public_bytes(raw)


@dataclass(frozen=True)
class SigningKey:
    private: Ed25519PrivateKey

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    @property
    def id(self) -> str:
        return key_id(self.public)

    def sign(self, message: bytes) -> str:
        return base64.b64encode(self.private.sign(message)).decode()

    def pem(self) -> bytes:
        return self.private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )


def _from_pem(data: bytes, where: str) -> SigningKey:
    try:
        private = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise AuditKeyError(
            f"{where} is not an unencrypted PEM private key: {exc}",
            reason="not-unencrypted-pem-private-key",
            params={"where": where, "exc": exc},
        ) from exc
    if not isinstance(private, Ed25519PrivateKey):
        raise AuditKeyError(
            f"{where} holds a {type(private).__name__}, not an Ed25519 key",
            reason="holds-not-ed25519-key",
            params={"where": where, "name": type(private).__name__},
        )
    return SigningKey(private)


def _from_seed(text: str) -> SigningKey:
    try:
        seed = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise AuditKeyError("HOTLINE_AUDIT_KEY is not base64", reason="hotline-audit-key-not-base64") from exc
    if len(seed) != 32:
        raise AuditKeyError(
            f"HOTLINE_AUDIT_KEY must be a 32-byte seed, not {len(seed)} bytes",
            reason="hotline-audit-key-must-32",
            params={"count": len(seed)},
        )
    return SigningKey(Ed25519PrivateKey.from_private_bytes(seed))


def load_signing_key(settings: Settings, *, create: bool = True) -> SigningKey | None:
    """The key that signs checkpoints, or None when there is none. Outside production a missing
    key file is created (with its public key added to the keyring) so `make run` works as it is;
    production must be given one (`hotline audit keygen`)."""
    if settings.audit_key is not None:
        return _from_seed(settings.audit_key.get_secret_value())
    path = settings.audit_key_file
    try:
        return _from_pem(path.read_bytes(), str(path))
    except FileNotFoundError:
        if not create or settings.environment == "production":
            return None
    except OSError as exc:
        raise AuditKeyError(
            f"cannot read {path}: {exc.strerror}",
            reason="cannot-read",
            params={"path": path, "strerror": exc.strerror},
        ) from exc
    key = generate_key(path, settings.audit_keyring_file, note="generated for development")
    log.warning("audit.dev_key_generated", path=str(path), key_id=key.id)
    return key


def generate_key(path: Path, keyring_path: Path, *, note: str = "") -> SigningKey:
    """A new private key written to `path` (readable by its owner only; never overwritten), its
    public key added to the keyring."""
    key = SigningKey(Ed25519PrivateKey.generate())
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise AuditKeyError(
            f"{path} exists; a signing key is never overwritten (give --out another file)",
            reason="exists-signing-key-never-overwritten",
            params={"path": path},
        ) from exc
    except OSError as exc:
        raise AuditKeyError(
            f"cannot write {path}: {exc.strerror}",
            reason="cannot-write",
            params={"path": path, "strerror": exc.strerror},
        ) from exc
    with os.fdopen(fd, "wb") as out:
        out.write(key.pem())
        out.flush()
        os.fsync(out.fileno())
    keyring = Keyring.load(keyring_path)
    keyring.add(key.public, note=note)
    keyring.save(keyring_path)
    return key


@dataclass(frozen=True)
class KeyringEntry:
    id: str
    public: Ed25519PublicKey
    added_at: str
    note: str


class Keyring:
    """Public keys that may have signed checkpoints, by key id (a JSON file)."""

    def __init__(self, entries: dict[str, KeyringEntry] | None = None) -> None:
        self.entries = dict(entries or {})

    @classmethod
    def load(cls, path: Path) -> Keyring:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise AuditKeyError(
                f"{path} is not a readable keyring: {exc}",
                reason="not-readable-keyring",
                params={"path": path, "exc": exc},
            ) from exc
        entries: dict[str, KeyringEntry] = {}
        try:
            for item in data["keys"]:
                public = parse_public(item["public_key"])
                kid = key_id(public)
                entries[kid] = KeyringEntry(
                    kid, public, str(item.get("added_at", "")), str(item.get("note", ""))
                )
        except (KeyError, TypeError, ValueError) as exc:
            raise AuditKeyError(
                f"{path}: a key entry is malformed ({exc})",
                reason="key-entry-malformed",
                params={"path": path, "exc": exc},
            ) from exc
        return cls(entries)

    def add(self, public: Ed25519PublicKey, *, note: str = "", now: datetime | None = None) -> str:
        kid = key_id(public)
        if kid not in self.entries:
            self.entries[kid] = KeyringEntry(kid, public, (now or utcnow()).isoformat(), note)
        return kid

    def save(self, path: Path) -> None:
        data = {
            "keys": [
                {"id": e.id, "public_key": public_text(e.public), "added_at": e.added_at, "note": e.note}
                for e in self.entries.values()
            ]
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        os.replace(temporary, path)

    def verify(self, kid: str, signature: str, message: bytes) -> str | None:
        """None when the signature holds; otherwise why not."""
        entry = self.entries.get(kid)
        if entry is None:
            return f"signed by key {kid}, which is not in the keyring"
        try:
            entry.public.verify(base64.b64decode(signature, validate=True), message)
        except (InvalidSignature, binascii.Error, ValueError):
            return f"signature does not match key {kid}"
        return None


def verifying_keyring(settings: Settings) -> Keyring:
    """The keyring, plus the current signing key's public half when this node holds it."""
    keyring = Keyring.load(settings.audit_keyring_file)
    with contextlib.suppress(AuditKeyError):
        key = load_signing_key(settings, create=False)
        if key is not None:
            keyring.add(key.public, note="current signing key")
    return keyring
