from __future__ import annotations

from typing import ClassVar

from hotline.core.events import Event


class UserCreated(Event):
    name: ClassVar[str] = "admin.user_created"
    user_id: int
    username: str


class UserChanged(Event):
    """Roles, state, password or profile changed: every node drops its cached sessions of the user."""

    name: ClassVar[str] = "admin.user_changed"
    user_id: int


class SessionRevoked(Event):
    name: ClassVar[str] = "admin.session_revoked"
    token_hash: str
