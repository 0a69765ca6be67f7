"""SIP credentials for a browser's phone, bound to a web session and checked without state.

The username names the extension, when the credential ends and a random part
(`1001.1767225600.Xk3…`); the password is an HMAC of the username under the site's phone key
(`base64url(HMAC-SHA256(key, "phone|" + username))`). Any node holding the key can check one,
nothing is stored, and a credential cannot be stretched or moved to another extension without
the key. The registrar accepts it only over a WebSocket opened by the extension's own signed-in
user (registrar.py), so the credential alone, copied out of a browser, reaches nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

_USERNAME = re.compile(r"^([0-9]{2,16})\.([0-9]{1,12})\.([A-Za-z0-9_-]{8,64})$")


@dataclass(frozen=True)
class PhoneCredential:
    extension: str
    expires: int
    """Unix seconds."""
    nonce: str

    @classmethod
    def issue(cls, extension: str, expires: int) -> PhoneCredential:
        return cls(extension, expires, secrets.token_urlsafe(12))

    @classmethod
    def parse(cls, username: str) -> PhoneCredential | None:
        """The credential a digest username names; None for any other username (an extension's)."""
        match = _USERNAME.match(username)
        if match is None:
            return None
        extension, expires, nonce = match.groups()
        return cls(extension, int(expires), nonce)

    @property
    def username(self) -> str:
        return f"{self.extension}.{self.expires}.{self.nonce}"

    def password(self, key: bytes) -> str:
        mac = hmac.new(key, f"phone|{self.username}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")

    def expired(self, now: float) -> bool:
        return now >= self.expires
