"""The member token a partner site signs for its logged-in member, so that the web chat knows who
they are (issue 24, item 1): a JWT (RFC 7519) signed HS256 with the site's secret, which any
library produces. Its claims:

    sub    the member's id on that site (required, at most 64 characters)
    name   their name (optional)
    phone  their mobile number (and/or `email`): a phone is what links the chat to a customer
    aud    the site key of the widget (`data-site`): a token for another site is refused
    iat    when it was made; exp at most 15 minutes after now (a short-lived token, not a login)

Pure: no I/O, no clock of its own (the caller passes `now`). Anything else — another algorithm,
`alg: none`, a bad signature, a claim missing or of the wrong type — is refused with a
`MemberTokenRefused` naming why.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jwt

ALGORITHM = "HS256"
MAX_LIFETIME = 15 * 60
"""Seconds: a token whose `exp` is further ahead than this is refused"""
LEEWAY = 30
"""Seconds of clock difference allowed between the partner's server and ours"""
MAX_LENGTH = 2048
PHONE = re.compile(r"^\+?[0-9]{7,20}$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


class MemberTokenRefused(ValueError):
    """Why a member token is not believed: `reason` is a stable kebab-case code."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


@dataclass(frozen=True)
class Member:
    id: str
    name: str
    phone: str
    email: str


def check(token: str, *, secret: str, site: str, now: datetime) -> Member:
    """The member a token names, if the site's secret signed it for this site and it is fresh."""
    if not secret:
        raise MemberTokenRefused("member-token-not-enabled", "This site has no member-token secret")
    if len(token) > MAX_LENGTH or not _canonical(token):
        raise MemberTokenRefused("member-token-malformed", "The member token is not a JWT")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise MemberTokenRefused("member-token-malformed", "The member token is not a JWT") from error
    if header.get("alg") != ALGORITHM:
        raise MemberTokenRefused("member-token-algorithm", f"The member token must be signed {ALGORITHM}")
    try:
        claims: dict[str, Any] = jwt.decode(
            token, secret, algorithms=[ALGORITHM], audience=site or None,
            options={"require": ["sub", "aud", "exp", "iat"], "verify_exp": False, "verify_iat": False,
                     "verify_nbf": False},
        )  # fmt: skip
    except jwt.InvalidSignatureError as error:
        raise MemberTokenRefused("member-token-signature", "The member token's signature is wrong") from error
    except (jwt.InvalidAudienceError, jwt.MissingRequiredClaimError) as error:
        if isinstance(error, jwt.MissingRequiredClaimError) and error.claim != "aud":
            raise MemberTokenRefused(
                "member-token-claims", f"The member token has no {error.claim}"
            ) from error
        raise MemberTokenRefused("member-token-site", "The member token is for another site") from error
    except jwt.PyJWTError as error:
        raise MemberTokenRefused("member-token-claims", "The member token's claims are not valid") from error
    return _member(claims, now.timestamp())


def _member(claims: dict[str, Any], now: float) -> Member:
    exp, iat = claims["exp"], claims["iat"]
    if not _number(exp) or not _number(iat):
        raise MemberTokenRefused("member-token-claims", "exp and iat must be numbers")
    if exp <= now - LEEWAY:
        raise MemberTokenRefused("member-token-expired", "The member token has expired")
    if exp > now + MAX_LIFETIME + LEEWAY or iat > now + LEEWAY:
        raise MemberTokenRefused("member-token-future", "The member token reaches too far ahead")
    nbf = claims.get("nbf")
    if nbf is not None and (not _number(nbf) or nbf > now + LEEWAY):
        raise MemberTokenRefused("member-token-future", "The member token is not valid yet")
    sub, name = claims["sub"], claims.get("name", "")
    phone, email = claims.get("phone", ""), claims.get("email", "")
    if not all(isinstance(value, str) for value in (sub, name, phone, email)):
        raise MemberTokenRefused("member-token-claims", "sub, name, phone and email must be text")
    phone = phone.replace(" ", "").replace("-", "")
    if (
        not 1 <= len(sub) <= 64
        or len(name) > 40
        or (phone and not PHONE.match(phone))
        or (email and not EMAIL.match(email))
    ):
        raise MemberTokenRefused("member-token-claims", "sub, name, phone or email is not valid")
    return Member(id=sub, name=name.strip(), phone=phone, email=email)


def _canonical(token: str) -> bool:
    """Three segments in unpadded base64url, each exactly as its bytes encode: a token altered in
    the bits base64 ignores (the last character's) is not the token that was signed."""
    parts = token.split(".")
    if len(parts) != 3:
        return False
    for part in parts:
        try:
            raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        except (binascii.Error, ValueError):
            return False
        if base64.urlsafe_b64encode(raw).rstrip(b"=").decode() != part:
            return False
    return True


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def sign(claims: dict[str, Any], secret: str) -> str:
    """A token as a partner site makes it (demo data, docs and tests)."""
    return jwt.encode(claims, secret, algorithm=ALGORITHM)
