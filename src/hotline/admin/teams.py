"""Teams (班组): agents under one leader, the unit of team filters and team figures.

A team has a unique name, at most one leader and optionally a department; its members are the users
whose `team_id` points at it, so an agent is in at most one team. Figures per team are sums over the
team's CURRENT members (a report of last month for a team counts the calls of today's members), as
docs/reports.md says.

Other domains ask through `member_ids`, `teams_of`, `led_by` and `scope`; they never read these tables.
Changes are audited row by row (Team and User are `Audited`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.admin import errors
from hotline.admin.directory import department_exists
from hotline.admin.models import Team, User, UserRole
from hotline.admin.schemas import TeamCandidateOut, TeamCreate, TeamMemberOut, TeamOut, TeamUpdate
from hotline.core.context import Context
from hotline.core.errors import InvalidInput
from hotline.core.permissions import Permission, Role

P = Permission


@dataclass(frozen=True)
class TeamRef:
    id: int
    name: str
    leader_id: int | None


def _ref(team: Team) -> TeamRef:
    return TeamRef(team.id, team.name, team.leader_id)


# ---------------------------------------------------------------- what other domains ask


async def member_ids(ctx: Context, team_id: int, *, field: str = "team_id") -> set[int]:
    """The users in the team now; TeamNotFound (naming `field`) when there is no such team."""
    async with ctx.read() as session:
        await _load(session, team_id, field)
        return set((await session.scalars(select(User.id).where(User.team_id == team_id))).all())


async def teams_of(ctx: Context, user_ids: Iterable[int]) -> dict[int, TeamRef]:
    """The team of each of these users that is in one, by user id."""
    wanted = set(user_ids)
    if not wanted:
        return {}
    async with ctx.read() as session:
        rows = (
            await session.execute(
                select(User.id, Team).join(Team, Team.id == User.team_id).where(User.id.in_(wanted))
            )
        ).all()
    return {int(user_id): _ref(team) for user_id, team in rows}


async def led_by(ctx: Context, user_id: int | None) -> TeamRef | None:
    """The team this user leads (the first by id if several), or None."""
    if user_id is None:
        return None
    async with ctx.read() as session:
        team = await session.scalar(select(Team).where(Team.leader_id == user_id).order_by(Team.id).limit(1))
    return None if team is None else _ref(team)


async def scope(
    ctx: Context, team_id: int | None, *, field: str = "team_id"
) -> tuple[TeamRef | None, set[int] | None]:
    """A team filter as reports apply it: the team asked for, else a team lead's own team, else
    everyone (None). Returns the team and its current members."""
    if team_id is None:
        if Role.TEAM_LEAD.value not in ctx.actor.roles or ctx.actor.can(P.TEAMS_WRITE):
            return None, None
        mine = await led_by(ctx, ctx.actor.user_id)
        if mine is None:
            return None, None
        team_id = mine.id
    async with ctx.read() as session:
        team = await _load(session, team_id, field)
        members = set((await session.scalars(select(User.id).where(User.team_id == team_id))).all())
    return _ref(team), members


# ---------------------------------------------------------------- the 团队管理 screen


async def list_teams(ctx: Context) -> list[TeamOut]:
    ctx.require(P.AGENTS_READ)
    async with ctx.read() as session:
        teams = list((await session.scalars(select(Team).order_by(Team.name))).all())
        return await _out(session, ctx, teams)


async def candidates(ctx: Context) -> list[TeamCandidateOut]:
    """Active agents and team leads, with the team each is in: whom the 团队管理 screen offers as
    members and leaders (a supervisor may not read the user list itself)."""
    ctx.require(P.AGENTS_READ)
    roles = (Role.AGENT.value, Role.TEAM_LEAD.value)
    async with ctx.read() as session:
        users = (
            await session.scalars(
                select(User)
                .where(
                    User.is_active.is_(True),
                    User.id.in_(select(UserRole.user_id).where(UserRole.role.in_(roles))),
                )
                .order_by(User.work_number, User.id)
            )
        ).all()
    return [
        TeamCandidateOut(
            id=u.id, name=u.display_name, work_number=u.work_number or "", team_id=u.team_id, roles=u.roles
        )
        for u in users
    ]


async def get_team(ctx: Context, team_id: int) -> TeamOut:
    ctx.require(P.AGENTS_READ)
    async with ctx.read() as session:
        team = await _load(session, team_id, "team_id")
        return (await _out(session, ctx, [team]))[0]


async def create_team(ctx: Context, data: TeamCreate) -> TeamOut:
    ctx.require(P.TEAMS_WRITE)
    async with ctx.write() as tx:
        await _check_name(tx.session, data.name, None)
        await _check_leader(tx.session, data.leader_id)
        await _check_department(tx.session, data.department_id)
        team = Team(name=data.name, leader_id=data.leader_id, department_id=data.department_id)
        tx.session.add(team)
        await tx.session.flush()
        await _join(tx.session, team, data.member_ids, "body.member_ids")
    return await get_team(ctx, team.id)


async def update_team(ctx: Context, team_id: int, data: TeamUpdate) -> TeamOut:
    ctx.require(P.TEAMS_WRITE)
    changes = data.model_dump(exclude_unset=True)
    if "name" in changes and data.name is None:
        raise InvalidInput("A team needs a name", field="body.name", reason="team-name-needed")
    async with ctx.write() as tx:
        team = await _load(tx.session, team_id, "team_id")
        if data.name is not None and data.name != team.name:
            await _check_name(tx.session, data.name, team.id)
            team.name = data.name
        if "leader_id" in changes:
            await _check_leader(tx.session, data.leader_id)
            team.leader_id = data.leader_id
        if "department_id" in changes:
            await _check_department(tx.session, data.department_id)
            team.department_id = data.department_id
    return await get_team(ctx, team_id)


async def add_members(ctx: Context, team_id: int, user_ids: list[int]) -> TeamOut:
    ctx.require(P.TEAMS_WRITE)
    async with ctx.write() as tx:
        team = await _load(tx.session, team_id, "team_id")
        await _join(tx.session, team, user_ids, "body.user_ids")
    return await get_team(ctx, team_id)


async def remove_member(ctx: Context, team_id: int, user_id: int) -> TeamOut:
    ctx.require(P.TEAMS_WRITE)
    async with ctx.write() as tx:
        await _load(tx.session, team_id, "team_id")
        user = await tx.session.get(User, user_id)
        if user is None or user.team_id != team_id:
            raise errors.UserNotFound(
                f"User {user_id} is not in team {team_id}",
                field="user_id",
                reason="not-team-member",
                params={"user_id": user_id},
            )
        user.team_id = None
    return await get_team(ctx, team_id)


async def delete_team(ctx: Context, team_id: int) -> None:
    """The team goes; its members stay, in no team."""
    ctx.require(P.TEAMS_WRITE)
    async with ctx.write() as tx:
        team = await _load(tx.session, team_id, "team_id")
        for user in (await tx.session.scalars(select(User).where(User.team_id == team_id))).all():
            user.team_id = None
        await tx.session.flush()
        await tx.session.delete(team)


# ---------------------------------------------------------------- checks


async def _load(session: AsyncSession, team_id: int, field: str) -> Team:
    team = await session.get(Team, team_id)
    if team is None:
        raise errors.TeamNotFound(
            f"No team with id {team_id}", field=field, reason="no-team-id", params={"team_id": team_id}
        )
    return team


async def _check_name(session: AsyncSession, name: str, team_id: int | None) -> None:
    owner = await session.scalar(select(Team.id).where(Team.name == name))
    if owner is not None and owner != team_id:
        raise errors.TeamNameTaken(
            f"A team is named {name!r} already",
            field="body.name",
            reason="team-name-taken",
            params={"name": name},
        )


async def _check_leader(session: AsyncSession, leader_id: int | None) -> None:
    if leader_id is None:
        return
    user = await session.get(User, leader_id)
    if user is None or not user.is_active:
        raise errors.UserNotFound(
            f"No active user with id {leader_id}",
            field="body.leader_id",
            reason="no-active-user",
            params={"user_id": leader_id},
        )


async def _check_department(session: AsyncSession, department_id: int | None) -> None:
    if department_id is not None and not await department_exists(session, department_id):
        raise InvalidInput(
            f"No department with id {department_id}",
            field="body.department_id",
            reason="no-department-id",
            params={"department_id": department_id},
        )


async def _join(session: AsyncSession, team: Team, user_ids: list[int], field: str) -> None:
    wanted = sorted(set(user_ids))
    if not wanted:
        return
    found = {u.id: u for u in (await session.scalars(select(User).where(User.id.in_(wanted)))).all()}
    missing = [i for i in wanted if i not in found]
    if missing:
        raise errors.UserNotFound(
            f"No user with id {missing[0]}", field=field, reason="no-user-id", params={"user_id": missing[0]}
        )
    for user_id in wanted:
        user = found[user_id]
        if user.team_id not in (None, team.id):
            other = await session.get(Team, user.team_id)
            raise errors.AlreadyInTeam(
                f"{user.display_name} is in team {other.name if other else user.team_id}",
                field=field,
                reason="already-in-team",
                params={"user": user.display_name, "team": other.name if other else str(user.team_id)},
            )
        user.team_id = team.id


async def _out(session: AsyncSession, ctx: Context, teams: list[Team]) -> list[TeamOut]:
    ids = [t.id for t in teams]
    leaders = {t.leader_id for t in teams if t.leader_id is not None}
    people = (
        (await session.scalars(select(User).where((User.team_id.in_(ids)) | (User.id.in_(leaders))))).all()
        if ids
        else []
    )
    by_id = {u.id: u for u in people}

    def member(user: User) -> TeamMemberOut:
        return TeamMemberOut(
            id=user.id, name=user.display_name, work_number=user.work_number or "", active=user.is_active
        )

    return [
        TeamOut(
            id=t.id,
            name=t.name,
            department_id=t.department_id,
            leader=member(by_id[t.leader_id]) if t.leader_id in by_id else None,
            members=sorted(
                (member(u) for u in people if u.team_id == t.id), key=lambda m: (m.work_number, m.id)
            ),
            mine=t.leader_id is not None and t.leader_id == ctx.actor.user_id,
        )
        for t in teams
    ]
