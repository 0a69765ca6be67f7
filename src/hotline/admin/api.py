"""Routes for sign-in, the own account, users and roles, teams, API tokens and the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from hotline.admin import audit, auth, teams, tokens, users
from hotline.admin.models import User
from hotline.admin.schemas import (
    AuditEntryOut,
    AuditFilter,
    AuditKinds,
    AuditStatusOut,
    AuditVerifyOut,
    LoginIn,
    Me,
    MeUpdate,
    PasswordChange,
    PasswordReset,
    RoleOut,
    RolesSet,
    TeamCandidateOut,
    TeamCreate,
    TeamMembersIn,
    TeamOut,
    TeamUpdate,
    TokenCreate,
    TokenCreated,
    TokenOut,
    UserCreate,
    UserFilter,
    UserOut,
    UserUpdate,
)
from hotline.core.context import Context
from hotline.core.permissions import Permission, Role, permissions_for
from hotline.core.ratelimit import RouteKind
from hotline.core.schemas import Page
from hotline.core.web import SESSION_COOKIE, IdPath, public_as, requires, signed_in

router = APIRouter(prefix="/api")
P = Permission


def _me(user: User) -> Me:
    return Me(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        roles=user.roles,
        permissions=sorted(p.value for p in permissions_for(user.roles)),
        locale=user.locale,
        work_number=user.work_number,
    )


# ---------------------------------------------------------------- sign-in


@router.post("/auth/login", tags=["auth"])
async def login(
    body: LoginIn,
    request: Request,
    response: Response,
    ctx: Annotated[Context, Depends(public_as(RouteKind.LOGIN))],
) -> Me:
    result = await auth.login(ctx, body.username, body.password, user_agent=request.headers.get("user-agent"))
    response.set_cookie(
        SESSION_COOKIE,
        result.secret,
        max_age=ctx.settings.session_max_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=ctx.settings.cookie_secure,
        path="/",
    )
    return _me(result.user)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT, tags=["auth"])
async def logout(request: Request, response: Response, ctx: Annotated[Context, Depends(signed_in)]) -> None:
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        await auth.logout(ctx, secret)
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.get("/auth/me", tags=["auth"])
async def me(ctx: Annotated[Context, Depends(signed_in)]) -> Me:
    """Who is signed in, served from the session (no database read)."""
    actor = ctx.actor
    return Me(
        id=actor.user_id or 0,
        username=actor.username,
        display_name=actor.display_name,
        roles=sorted(actor.roles),
        permissions=sorted(p.value for p in actor.permissions),
        locale=actor.locale,
        work_number=actor.work_number,
    )


@router.patch("/auth/me", tags=["auth"])
async def update_me(body: MeUpdate, ctx: Annotated[Context, Depends(signed_in)]) -> Me:
    return _me(await users.update_me(ctx, body))


@router.post("/auth/password", status_code=status.HTTP_204_NO_CONTENT, tags=["auth"])
async def change_password(body: PasswordChange, ctx: Annotated[Context, Depends(signed_in)]) -> None:
    await users.change_password(ctx, body)


# ---------------------------------------------------------------- users and roles


@router.get("/users", tags=["users"])
async def list_users(
    query: Annotated[UserFilter, Query()], ctx: Annotated[Context, Depends(requires(P.USERS_READ))]
) -> Page[UserOut]:
    rows, total = await users.list_users(ctx, query)
    items = [
        UserOut.model_validate(row.user).model_copy(update={"locked_until": row.locked_until}) for row in rows
    ]
    return Page[UserOut](items=items, total=total)


@router.post("/users", status_code=status.HTTP_201_CREATED, tags=["users"])
async def create_user(body: UserCreate, ctx: Annotated[Context, Depends(requires(P.USERS_WRITE))]) -> UserOut:
    return UserOut.model_validate(await users.create_user(ctx, body))


@router.get("/users/{user_id}", tags=["users"])
async def get_user(user_id: IdPath, ctx: Annotated[Context, Depends(requires(P.USERS_READ))]) -> UserOut:
    return UserOut.model_validate(await users.get_user(ctx, user_id))


@router.patch("/users/{user_id}", tags=["users"])
async def update_user(
    user_id: IdPath, body: UserUpdate, ctx: Annotated[Context, Depends(requires(P.USERS_WRITE))]
) -> UserOut:
    return UserOut.model_validate(await users.update_user(ctx, user_id, body))


@router.put("/users/{user_id}/roles", tags=["users"])
async def set_roles(
    user_id: IdPath, body: RolesSet, ctx: Annotated[Context, Depends(requires(P.USERS_WRITE))]
) -> UserOut:
    return UserOut.model_validate(await users.set_roles(ctx, user_id, body.roles))


@router.post("/users/{user_id}/password", status_code=status.HTTP_204_NO_CONTENT, tags=["users"])
async def reset_password(
    user_id: IdPath, body: PasswordReset, ctx: Annotated[Context, Depends(requires(P.USERS_WRITE))]
) -> None:
    await users.reset_password(ctx, user_id, body.new_password)


@router.get("/roles", tags=["users"])
async def list_roles(ctx: Annotated[Context, Depends(requires(P.USERS_READ))]) -> list[RoleOut]:
    return [RoleOut(code=code, permissions=perms) for code, perms in users.list_roles()]


@router.get("/permissions", tags=["users"])
async def list_permissions(ctx: Annotated[Context, Depends(requires(P.USERS_READ))]) -> list[str]:
    return sorted(p.value for p in permissions_for([r.value for r in Role]))


# ---------------------------------------------------------------- API tokens


@router.get("/tokens", tags=["auth"])
async def list_tokens(ctx: Annotated[Context, Depends(signed_in)]) -> list[TokenOut]:
    return [TokenOut.model_validate(t) for t in await tokens.list_tokens(ctx)]


@router.post("/tokens", status_code=status.HTTP_201_CREATED, tags=["auth"])
async def create_token(body: TokenCreate, ctx: Annotated[Context, Depends(signed_in)]) -> TokenCreated:
    token, secret = await tokens.create_token(ctx, body)
    return TokenCreated(**TokenOut.model_validate(token).model_dump(), token=secret)


@router.delete("/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["auth"])
async def revoke_token(token_id: IdPath, ctx: Annotated[Context, Depends(signed_in)]) -> None:
    await tokens.revoke_token(ctx, token_id)


# ---------------------------------------------------------------- audit log


@router.get("/audit", tags=["audit"])
async def list_audit(
    query: Annotated[AuditFilter, Query()], ctx: Annotated[Context, Depends(requires(P.AUDIT_READ))]
) -> Page[AuditEntryOut]:
    entries, total = await audit.list_audit(ctx, query)
    return Page[AuditEntryOut](items=[AuditEntryOut.model_validate(e) for e in entries], total=total)


@router.get("/audit/kinds", tags=["audit"])
async def audit_kinds(ctx: Annotated[Context, Depends(requires(P.AUDIT_READ))]) -> AuditKinds:
    """The actions and object kinds the log holds: the choices of the audit page's filters."""
    return await audit.audit_kinds(ctx)


@router.get("/audit/status", tags=["audit"])
async def audit_status(ctx: Annotated[Context, Depends(requires(P.AUDIT_READ))]) -> AuditStatusOut:
    """The last signed checkpoint and the last verification."""
    return await audit.status(ctx)


@router.post("/audit/verify", tags=["audit"])
async def verify_audit(ctx: Annotated[Context, Depends(requires(P.AUDIT_READ))]) -> AuditVerifyOut:
    """Verify the whole log against the signed checkpoints now; the result is kept."""
    _report, row = await audit.verify(ctx, "ui")
    return AuditVerifyOut.model_validate(row)


# ---------------------------------------------------------------- teams


@router.get("/teams", tags=["teams"])
async def list_teams(ctx: Annotated[Context, Depends(requires(P.AGENTS_READ))]) -> list[TeamOut]:
    """Every team with its leader and members; `mine` marks the one the signed-in user leads."""
    return await teams.list_teams(ctx)


@router.get("/teams/candidates", tags=["teams"])
async def team_candidates(
    ctx: Annotated[Context, Depends(requires(P.AGENTS_READ))],
) -> list[TeamCandidateOut]:
    """Active agents and team leads with their team: the people a team can be made of."""
    return await teams.candidates(ctx)


@router.post("/teams", status_code=status.HTTP_201_CREATED, tags=["teams"])
async def create_team(body: TeamCreate, ctx: Annotated[Context, Depends(requires(P.TEAMS_WRITE))]) -> TeamOut:
    return await teams.create_team(ctx, body)


@router.patch("/teams/{team_id}", tags=["teams"])
async def update_team(
    team_id: IdPath, body: TeamUpdate, ctx: Annotated[Context, Depends(requires(P.TEAMS_WRITE))]
) -> TeamOut:
    """Rename, set the leader (null: none), set the department."""
    return await teams.update_team(ctx, team_id, body)


@router.delete("/teams/{team_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["teams"])
async def delete_team(team_id: IdPath, ctx: Annotated[Context, Depends(requires(P.TEAMS_WRITE))]) -> None:
    """The members stay, in no team."""
    await teams.delete_team(ctx, team_id)


@router.post("/teams/{team_id}/members", tags=["teams"])
async def add_team_members(
    team_id: IdPath, body: TeamMembersIn, ctx: Annotated[Context, Depends(requires(P.TEAMS_WRITE))]
) -> TeamOut:
    """Add users to the team; one already in another team is refused (remove them there first)."""
    return await teams.add_members(ctx, team_id, body.user_ids)


@router.delete("/teams/{team_id}/members/{user_id}", tags=["teams"])
async def remove_team_member(
    team_id: IdPath, user_id: IdPath, ctx: Annotated[Context, Depends(requires(P.TEAMS_WRITE))]
) -> TeamOut:
    return await teams.remove_member(ctx, team_id, user_id)
