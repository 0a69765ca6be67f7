from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, field_serializer

from hotline.core import privacy
from hotline.core.schemas import NON_BLANK, DbId, Input, Output, Paging

Locale = Literal["zh-CN", "en"]
Password = Annotated[str, StringConstraints(strip_whitespace=False, min_length=1, max_length=256)]
"""Passwords are taken exactly as typed: no trimming."""
Name = Annotated[str, StringConstraints(min_length=1, max_length=120, pattern=NON_BLANK)]
Username = Field(min_length=2, max_length=64, pattern=r"^[a-zA-Z0-9][a-zA-Z0-9._-]*$")
WorkNumber = Field(default=None, min_length=1, max_length=16, pattern=r"^[0-9A-Za-z]+$")


class LoginIn(Input):
    username: str = Field(min_length=1, max_length=64)
    password: Password


class Me(Output):
    id: int
    username: str
    display_name: str
    roles: list[str]
    permissions: list[str]
    locale: Locale
    work_number: str | None


class MeUpdate(Input):
    display_name: Name | None = None
    locale: Locale | None = None


class PasswordChange(Input):
    current_password: Password
    new_password: Password


class PasswordReset(Input):
    new_password: Password


class UserOut(Output):
    id: int
    username: str
    display_name: str
    roles: list[str]
    is_active: bool
    work_number: str | None
    locale: Locale
    created_at: datetime
    last_login_at: datetime | None
    locked_until: datetime | None = None


class UserCreate(Input):
    username: str = Username
    display_name: Name
    password: Password
    roles: list[str] = Field(default_factory=list, max_length=16)
    work_number: str | None = WorkNumber


class UserUpdate(Input):
    display_name: Name | None = None
    is_active: bool | None = None
    work_number: str | None = WorkNumber


class RolesSet(Input):
    roles: list[str] = Field(max_length=16)


class UserFilter(Paging):
    q: str | None = Field(default=None, max_length=64)
    role: str | None = Field(default=None, max_length=32)
    active: bool | None = None


class RoleOut(Output):
    code: str
    permissions: list[str]


class TokenCreate(Input):
    name: Annotated[str, StringConstraints(min_length=1, max_length=80, pattern=NON_BLANK)]
    expires_in_days: int | None = Field(default=90, ge=1, le=3650)


class TokenOut(Output):
    id: int
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="The secret; shown once, store it now.")


class AuditFilter(Paging):
    actor_id: DbId | None = None
    entity_type: str | None = Field(default=None, max_length=60)
    entity_id: str | None = Field(default=None, max_length=120)
    action: str | None = Field(default=None, max_length=60)
    since: datetime | None = None
    until: datetime | None = None


class AuditKinds(Output):
    """What the log holds, for the audit page's filters to offer as choices (worded by the UI)."""

    actions: list[str] = Field(description="Every action recorded, e.g. auth.login, reservations.update")
    entity_types: list[str] = Field(description="Every kind of object acted on, e.g. reservation")


class AuditEntryOut(Output):
    seq: int
    at: datetime
    actor_id: int | None
    actor_name: str | None
    action: str
    entity_type: str
    entity_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    ip: str | None
    request_id: str | None

    @field_serializer("before", "after")
    def _personal_masked(self, values: dict[str, Any] | None) -> dict[str, Any] | None:
        """A row's personal columns (phones, e-mail, address…) masked as in every other view."""
        return privacy.masked_columns(self.entity_type, values)


class AuditProblemOut(Output):
    kind: str = Field(
        description="chain-broken, tail-cut, log-rewritten, checkpoint-forged, checkpoints-broken, "
        "checkpoint-gap, checkpoints-stale, no-checkpoints, checkpoint-unreadable"
    )
    message: str
    seq: int | None = None
    since: datetime | None = Field(default=None, description="Start of the time window concerned")
    until: datetime | None = Field(default=None, description="End of the time window concerned")


class AuditVerifyOut(Output):
    at: datetime
    trigger: str = Field(description="job, checkpoint, cli or ui")
    actor_name: str
    ok: bool
    entries: int = Field(description="Entries whose hash chain verified")
    head_seq: int
    checkpoints: int = Field(description="Genuine checkpoints compared with the log")
    last_checkpoint_at: datetime | None
    problems: list[AuditProblemOut]


class AuditCheckpointOut(Output):
    n: int
    seq: int
    at: datetime
    reason: str
    key_id: str
    node: str
    genuine: bool = Field(description="Its signature holds against the keyring")


class AuditStatusOut(Output):
    interval_minutes: int
    signing_key_id: str | None = Field(description="The key this node signs with; none: no checkpoints")
    last_checkpoint: AuditCheckpointOut | None
    last_verification: AuditVerifyOut | None


# ---------------------------------------------------------------- teams

TeamName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80, pattern=NON_BLANK)
]


class TeamCreate(Input):
    name: TeamName
    leader_id: DbId | None = None
    department_id: DbId | None = None
    member_ids: list[DbId] = Field(default_factory=list, max_length=200)


class TeamUpdate(Input):
    """Rename, name another leader (null: none) or move the team to a department (null: none)."""

    name: TeamName | None = None
    leader_id: DbId | None = None
    department_id: DbId | None = None


class TeamMembersIn(Input):
    user_ids: list[DbId] = Field(min_length=1, max_length=200)


class TeamMemberOut(Output):
    id: int
    name: str
    work_number: str
    active: bool


class TeamOut(Output):
    id: int
    name: str
    department_id: int | None
    leader: TeamMemberOut | None
    members: list[TeamMemberOut]
    mine: bool = False
    """The signed-in user leads it (a team lead's team filter starts on it)."""


class TeamCandidateOut(Output):
    id: int
    name: str
    work_number: str
    team_id: int | None
    roles: list[str]
