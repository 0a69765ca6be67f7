"""Agents as services: who takes calls (extension, skills), their presence, and who is at work.

Agents' states live in the voice node's `QueueRunner` (the state machine decides every change)
and every change is appended to `contact_events`; on start the node restores each agent's last
state from that log and the reconciler clears calls that no longer exist. State changes through
the API reach the runner of this process; a node without the voice role answers 503.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.admin import directory
from hotline.contact.agents.presence import Agent as Presence
from hotline.contact.agents.presence import AgentState
from hotline.contact.agents.schemas import AgentPhoneIn, AgentProfileIn, AgentStateIn
from hotline.contact.calls import desk
from hotline.contact.errors import WrapUpRequired
from hotline.contact.events import PhoneChosen, QueuesChanged
from hotline.contact.local import LocalNode, running
from hotline.contact.models import AgentProfile, ContactEvent, QueueDef
from hotline.contact.queues.runner import QueueRunner
from hotline.contact.schemas import AgentOut
from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.core.errors import InvalidInput, InvalidTransition, NotFound
from hotline.core.permissions import Permission
from hotline.notify import webchat
from hotline.telephony import service as telephony


def _last_states(ids: Iterable[int] | None = None) -> Select[Any]:
    """The id of each agent's last state line on the log (of these agents, or all)."""
    query = select(func.max(ContactEvent.id)).where(
        ContactEvent.kind == "agent", ContactEvent.agent_id.is_not(None)
    )
    if ids is not None:
        query = query.where(ContactEvent.agent_id.in_(set(ids)))
    return query.group_by(ContactEvent.agent_id)


async def present_agents(ctx: Context) -> frozenset[int]:
    """The agents logged in now: their last state on the event log is not logged out."""
    async with ctx.read() as session:
        here = await session.scalars(
            select(ContactEvent.agent_id).where(
                ContactEvent.id.in_(_last_states()), ContactEvent.state != AgentState.LOGGED_OUT.value
            )
        )
        return frozenset(a for a in here.all() if a is not None)


async def _anyone_to_chat(ctx: Context, site: str) -> bool:
    """For the web chat (any site, for now): an agent is at work who would be given one — signed
    in, allowed to take contacts, with room for conversations (`chat_capacity` > 0) and a skill of
    a queue that takes web chats. Busy or on a break still counts: the chat waits in line for them."""
    present = await present_agents(ctx)
    if not present:
        return False
    async with ctx.read() as session:
        staff = present & set(await directory.holders_of(session, Permission.CALLS_HANDLE))
        queues = await session.scalars(select(QueueDef))
        skills = {q.skill for q in queues if "web" in (q.chat_channels or ())}
        if not staff or not skills:
            return False
        profiles = await session.scalars(
            select(AgentProfile).where(AgentProfile.user_id.in_(staff), AgentProfile.chat_capacity > 0)
        )
        return any(skills & set(p.skills or {}) for p in profiles)


webchat.staffed_by(_anyone_to_chat)


async def logged_out(session: AsyncSession, user_ids: Iterable[int]) -> frozenset[int]:
    """Of these users, those who logged in as agents and whose last state is logged out (staff who
    never log in as agents are not among them). In the caller's own transaction."""
    ids = set(user_ids)
    if not ids:
        return frozenset()
    away = await session.scalars(
        select(ContactEvent.agent_id).where(
            ContactEvent.id.in_(_last_states(ids)), ContactEvent.state == AgentState.LOGGED_OUT.value
        )
    )
    return frozenset(a for a in away.all() if a is not None)


async def restore_presence(ctx: Context, runner: QueueRunner, *, clear_calls: bool = True) -> None:
    """Each agent's last state from the event log; then clear calls that did not survive
    (`clear_calls=False`: a cluster's new router, whose voice nodes hand over the calls that did —
    the reconciler clears the rest once they had the time to)."""
    async with ctx.read() as session:
        rows = (await session.scalars(select(ContactEvent).where(ContactEvent.id.in_(_last_states())))).all()
    now = asyncio.get_running_loop().time()
    for row in rows:
        if row.agent_id is None or row.agent_id not in runner.seats:
            continue
        state = AgentState(row.state)
        if state is AgentState.LOGGED_OUT:
            continue
        since = now - max(0.0, (utcnow() - row.at).total_seconds())
        queues = frozenset(q for q in row.queue.split(",") if q)
        runner.restore(Presence(row.agent_id, state, row.detail, row.call_id, since, None, queues))
    wrapping = {
        r.agent_id: r.call_id
        for r in rows
        if r.state == AgentState.WRAP_UP.value and r.agent_id and r.call_id
    }
    runner.wrap_pending.update(
        await desk.wrap_ups_owed(ctx, wrapping)
    )  # a required wrap-up outlives a restart
    if clear_calls:
        runner.reconcile(live_calls=set())


async def list_agents(ctx: Context, node: LocalNode | None) -> list[AgentOut]:
    ctx.require(Permission.AGENTS_READ)
    return await agents(ctx, node)


async def my_state(ctx: Context, node: LocalNode | None) -> AgentOut:
    ctx.require(Permission.CALLS_HANDLE)
    return await _agent(ctx, node, ctx.actor.user_id or 0)


async def _agent(ctx: Context, node: LocalNode | None, user_id: int) -> AgentOut:
    found = await agents(ctx, node, user_id)
    if not found:
        raise NotFound(
            "This user has no extension to take calls on",
            field="user_id",
            reason="user-no-extension-take-calls",
        )
    return found[0]


async def agents(ctx: Context, node: LocalNode | None, user_id: int | None = None) -> list[AgentOut]:
    """Active users with an extension or an agent profile, by work number: their phone, skills,
    and (on a voice node) their state and time in it. For services that checked permissions."""
    async with ctx.read() as session:
        query = select(AgentProfile)
        if user_id is not None:
            query = query.where(AgentProfile.user_id == user_id)
        profiles = {p.user_id: p for p in (await session.scalars(query)).all()}
    lines = {e.user_id: e.number for e in await telephony.user_extensions(ctx)}
    ids = (set(lines) | set(profiles)) if user_id is None else {user_id} & (set(lines) | set(profiles))
    people = sorted(
        (await directory.staff(ctx, ids, active=True)).values(), key=lambda p: (p.work_number, p.username)
    )
    runner = node.runner if node is not None else None
    voice = node.voice if node is not None else None
    now = asyncio.get_running_loop().time()
    out = []
    for person in people:
        number, profile = lines.get(person.id), profiles.get(person.id)
        state = runner.presence.agent(person.id) if runner is not None else Presence(person.id)
        out.append(
            AgentOut(
                user_id=person.id,
                username=person.username,
                display_name=person.name,
                work_number=person.work_number,
                extension=number,
                phone_registered=bool(number and voice is not None and voice.reachable(number)),
                skills=dict(profile.skills) if profile else {},
                wrap_seconds=profile.wrap_seconds if profile else None,
                chat_capacity=profile.chat_capacity if profile else 3,
                calls_while_chatting=profile.calls_while_chatting if profile else True,
                chats=node.chats.held(person.id) if node is not None and node.chats is not None else 0,
                phone="browser" if profile is not None and profile.phone == "browser" else "desk",
                state=state.state.value,
                reason=state.reason,
                seconds_in_state=round(now - state.since, 1) if state.since else 0.0,
                call_id=state.call_id,
                queues=sorted(state.queues),
            )
        )
    return out


async def set_agent_state(
    ctx: Context, node: LocalNode | None, agent_id: int, data: AgentStateIn
) -> AgentOut:
    """An agent changes their own state (calls.handle), or a supervisor changes an agent's
    (agents.write, with a reason, audited). The state machine refuses what the state does not
    allow (409, nothing changes)."""
    own = ctx.actor.user_id == agent_id
    ctx.require(Permission.CALLS_HANDLE if own else Permission.AGENTS_WRITE)
    if not own and not data.reason.strip():
        raise InvalidInput(
            "Say why you change another agent's state",
            field="body.reason",
            reason="say-why-you-change-another",
        )
    _, runner, _ = running(node)
    if agent_id not in runner.seats:
        raise NotFound(
            "This user has no extension to take calls on",
            field="user_id",
            reason="user-no-extension-take-calls",
        )
    unknown = [q for q in data.queues or () if q not in runner.queues]
    if unknown:
        raise InvalidInput(
            f"No queue {unknown[0]!r}",
            field="body.queues",
            reason="no-queue",
            params={"v0": repr(unknown[0])},
        )
    current = runner.presence.agent(agent_id)
    reason = data.reason.strip()
    if not own:
        reason = f"{reason} (by {ctx.actor.username})"
    if data.state == "logged_out":
        runner.agent(agent_id, "logout")
    else:
        if current.state is AgentState.LOGGED_OUT:
            runner.agent(agent_id, "login", queues=frozenset(data.queues or ()))
        elif data.queues is not None and frozenset(data.queues) != current.queues:
            raise InvalidTransition(
                "Log out first to change the queues you take calls from", reason="log-out-first-change-queues"
            )
        if data.state == "ready":
            if own and agent_id in runner.wrap_pending:
                raise WrapUpRequired(
                    "Write the wrap-up of your last call first: its queue requires one",
                    reason="write-wrap-up-your-last",
                )
            runner.wrap_pending.pop(agent_id, None)  # a supervisor may let the agent go on
            runner.agent(agent_id, "ready")
        else:
            runner.agent(agent_id, "not_ready", reason=reason or "not ready")
    if not own:
        async with ctx.write() as tx:
            tx.audit(
                "agent.state_changed",
                "user",
                agent_id,
                before={"state": current.state.value},
                after={"state": data.state, "reason": reason},
            )
    return await _agent(ctx, node, agent_id)


async def save_profile(ctx: Context, user_id: int, data: AgentProfileIn) -> None:
    ctx.require(Permission.ROUTING_WRITE)
    if not await directory.staff(ctx, [user_id]):
        raise NotFound(f"No user {user_id}", field="user_id", reason="no-user", params={"user_id": user_id})
    async with ctx.write() as tx:
        row = await tx.session.scalar(select(AgentProfile).where(AgentProfile.user_id == user_id))
        if row is None:
            row = AgentProfile(user_id=user_id)
            tx.session.add(row)
        row.skills, row.wrap_seconds = dict(data.skills), data.wrap_seconds
        row.chat_capacity, row.calls_while_chatting = data.chat_capacity, data.calls_while_chatting
        tx.publish(QueuesChanged(queue=""))


async def choose_phone(ctx: Context, node: LocalNode | None, user_id: int, data: AgentPhoneIn) -> AgentOut:
    """Where an agent answers: their desk phone, or the browser (the desktop registers their
    extension over WebSocket). The agent chooses their own (calls.handle), a supervisor anyone's
    (agents.write); the row change is audited, and the agent's open desktops follow at once."""
    own = ctx.actor.user_id == user_id
    ctx.require(Permission.CALLS_HANDLE if own else Permission.AGENTS_WRITE)
    if not await directory.staff(ctx, [user_id]):
        raise NotFound(f"No user {user_id}", field="user_id", reason="no-user", params={"user_id": user_id})
    if not any(e.user_id == user_id for e in await telephony.user_extensions(ctx)):
        raise NotFound(
            "This user has no extension to take calls on",
            field="user_id",
            reason="user-no-extension-take-calls",
        )
    async with ctx.write() as tx:
        row = await tx.session.scalar(select(AgentProfile).where(AgentProfile.user_id == user_id))
        if row is None:
            tx.session.add(AgentProfile(user_id=user_id, skills={}, phone=data.phone))
        elif row.phone != data.phone:
            row.phone = data.phone
        tx.publish(PhoneChosen(audience=[user_id], phone=data.phone))
    return await _agent(ctx, node, user_id)


async def skills_of(session: AsyncSession, user_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """Each agent's skills with their levels ({} for an agent without a profile)."""
    wanted = set(user_ids)
    rows = (
        await session.execute(
            select(AgentProfile.user_id, AgentProfile.skills).where(AgentProfile.user_id.in_(wanted))
        )
    ).all()
    found = {user_id: dict(skills or {}) for user_id, skills in rows}
    return {user_id: found.get(user_id, {}) for user_id in wanted}
