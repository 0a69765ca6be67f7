"""Password hashing (argon2id), the password policy, opaque secrets for sessions and tokens, and
the signing keys kept in the database (`stored_key`)."""

from __future__ import annotations

import hashlib
import secrets
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import SecretStr
from sqlalchemy.exc import IntegrityError

if TYPE_CHECKING:
    from hotline.core.context import Context

# A few of the most common passwords and the call-center's own obvious choices;
# length and character rules do the rest (NIST 800-63B favours length over composition).
_COMMON = frozenset(
    {
        "password",
        "password1",
        "password123",
        "1234567890",
        "12345678910",
        "qwertyuiop",
        "1q2w3e4r5t",
        "iloveyou123",
        "admin12345",
        "administrator",
        "hotline123",
        "hotline1234",
        "changeme123",
        "welcome123",
        "abcdefghij",
        "a1234567890",
    }
)


@lru_cache(maxsize=8)
def _hasher(time_cost: int, memory_kib: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1)


def hash_password(password: str, *, time_cost: int = 3, memory_kib: int = 65536) -> str:
    return _hasher(time_cost, memory_kib).hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher(3, 65536).verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# Verifying against this keeps the time of a failed login the same whether or not the user exists.
DUMMY_HASH = hash_password("not-a-real-password", time_cost=1, memory_kib=1024)


def password_problems(password: str, *, username: str, min_length: int) -> list[str]:
    """What is wrong with a new password; empty when it is acceptable."""
    problems: list[str] = []
    if len(password) < min_length:
        problems.append(f"must be at least {min_length} characters")
    if len(password) > 128:
        problems.append("must be at most 128 characters")
    if password.lower() in _COMMON or len(set(password)) < 4:
        problems.append("is too common or too simple")
    if username and username.lower() in password.lower():
        problems.append("must not contain the username")
    if password.isalpha() or password.isdigit():
        problems.append("must mix letters with digits or symbols")
    return problems


def new_secret(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


_STORED_KEYS: dict[tuple[str, str], bytes] = {}


async def stored_key(ctx: Context, model: type[Any], configured: SecretStr | None) -> bytes:
    """A signing key: the setting when one is given, else the one row (id 1) of `model` (a table
    with `id` and `secret`), made by the first node that needs it — so every node and every restart
    sign and check alike. Cached per database."""
    if configured is not None:
        return configured.get_secret_value().encode()
    cache = (ctx.db.url, model.__tablename__)
    cached = _STORED_KEYS.get(cache)
    if cached is not None:
        return cached
    async with ctx.read() as session:
        row = await session.get(model, 1)
    if row is None:
        try:
            async with ctx.write() as tx:
                tx.session.add(model(id=1, secret=new_secret(48)))
        except IntegrityError:  # another node made it first: theirs is the key
            pass
        async with ctx.read() as session:
            row = await session.get(model, 1)
    assert row is not None  # noqa: S101 - made above
    _STORED_KEYS[cache] = row.secret.encode()
    return _STORED_KEYS[cache]


def digest(secret: str) -> str:
    """Session ids and API tokens are random and long, so a plain SHA-256 is the right store."""
    return hashlib.sha256(secret.encode()).hexdigest()
