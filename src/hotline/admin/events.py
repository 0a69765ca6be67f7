from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel

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


class AuditProblem(BaseModel):
    kind: str
    message: str
    seq: int | None = None
    window: str = ""


class AuditFailed(Event):
    """Verification found new problems in the audit trail (committed with its record). notify
    tells everyone who may read the audit log, in-app and in the auditors' mailbox."""

    name: ClassVar[str] = "admin.audit_failed"
    problems: list[AuditProblem]
