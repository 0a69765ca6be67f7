from __future__ import annotations

from typing import ClassVar

from hotline.core.events import Event


class UserCreated(Event):
    name: ClassVar[str] = "admin.user_created"
    user_id: int
    username: str


class UserAccessChanged(Event):
    """Roles, active flag or password changed: cached sessions of this user must be dropped."""

    name: ClassVar[str] = "admin.user_access_changed"
    user_id: int


class SessionRevoked(Event):
    name: ClassVar[str] = "admin.session_revoked"
    token_hash: str
