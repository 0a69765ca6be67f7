"""Who works the tickets of a unit: its members, who of them is at work, whose turn it is."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.admin import directory
from hotline.contact.agents import service as contact_agents
from hotline.tickets.models import Unit, UnitMember


async def present(session: AsyncSession, user_ids: Iterable[int]) -> set[int]:
    """Who of `user_ids` is at work: an active user whose last agent state (in the contact event
    log) is not logged out. Staff who never log in as agents count as present while active."""
    ids = sorted(set(user_ids))
    if not ids:
        return set()
    active = set(await directory.active(session, ids))
    return active - await contact_agents.logged_out(session, ids)


async def members(session: AsyncSession, unit_id: int) -> list[int]:
    return sorted(
        (await session.scalars(select(UnitMember.user_id).where(UnitMember.unit_id == unit_id))).all()
    )


async def next_in_turn(session: AsyncSession, unit: Unit) -> int | None:
    """Round-robin over the unit's present staff, after the one assigned last; None when nobody
    is present (the ticket waits unassigned in the unit's queue)."""
    staff = await members(session, unit.id)
    here = await present(session, staff)
    turn = [u for u in staff if u in here]
    if not turn:
        return None
    after = [u for u in turn if unit.last_assigned_id is not None and u > unit.last_assigned_id]
    chosen = after[0] if after else turn[0]
    unit.last_assigned_id = chosen
    return chosen


async def team_units(session: AsyncSession, user_id: int | None) -> list[int]:
    """The units the user is a member or the lead of."""
    if user_id is None:
        return []
    mine = set((await session.scalars(select(UnitMember.unit_id).where(UnitMember.user_id == user_id))).all())
    mine |= set((await session.scalars(select(Unit.id).where(Unit.lead_id == user_id))).all())
    return sorted(mine)
