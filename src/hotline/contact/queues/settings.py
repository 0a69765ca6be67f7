"""Queue settings as services: the queues and how they route, and the set-up a voice node loads
(queues, agents with an extension and their skills) at start and on every change."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select

from hotline.admin import directory
from hotline.contact.agents.presence import AgentState
from hotline.contact.calls.direct import Agent
from hotline.contact.events import QueuesChanged
from hotline.contact.local import LocalNode
from hotline.contact.models import AgentProfile, QueueDef
from hotline.contact.queues.acd import QueueConfig, Step, Strategy
from hotline.contact.queues.floor import QueueRules, Seat
from hotline.contact.schemas import QueueIn, QueueLive, QueueOut
from hotline.core.context import Context
from hotline.core.errors import InvalidInput
from hotline.core.permissions import Permission
from hotline.core.rows import apply_partial
from hotline.telephony import service as telephony
from hotline.voice.control import PhoneKind


@dataclass(frozen=True)
class HoldSettings:
    prompt: str | None
    announce_seconds: int
    offer_callback: bool


@dataclass
class Setup:
    queues: dict[str, QueueConfig] = field(default_factory=dict)
    rules: dict[str, QueueRules] = field(default_factory=dict)
    hold: dict[str, HoldSettings] = field(default_factory=dict)
    seats: dict[int, Seat] = field(default_factory=dict)
    agents: list[Agent] = field(default_factory=list)
    titles: dict[str, str] = field(default_factory=dict)
    """Each queue's name for people (酒店预订) by its code (hotel)."""
    chat_channels: dict[str, list[str]] = field(default_factory=dict)
    """The queues that take conversations, by channel (web → [hotel, travel]), by queue name."""


def _config(row: QueueDef) -> tuple[QueueConfig, QueueRules, HoldSettings]:
    steps = tuple(
        Step(s.get("until"), bool(s.get("sticky")), int(s.get("min_level") or 1)) for s in row.steps
    )
    return (
        QueueConfig(row.name, row.skill, steps or (Step(None),), Strategy(row.strategy)),
        QueueRules(
            ring_seconds=row.ring_seconds,
            wrap_seconds=row.wrap_seconds,
            max_wait=row.max_wait_seconds,
            overflow_to=row.overflow_to,
            join_when_empty=row.join_when_empty,
            leave_when_empty=row.leave_when_empty,
            wrap_required=row.wrap_required,
        ),
        HoldSettings(row.hold_prompt, row.announce_seconds, row.offer_callback),
    )


async def load_setup(ctx: Context) -> Setup:
    """Queues, and agents with an enabled extension (their skills from their profiles)."""
    setup = Setup()
    async with ctx.read() as session:
        for row in (await session.scalars(select(QueueDef).order_by(QueueDef.name))).all():
            setup.queues[row.name], setup.rules[row.name], setup.hold[row.name] = _config(row)
            setup.titles[row.name] = row.title or row.name
            for channel in row.chat_channels or ():
                setup.chat_channels.setdefault(channel, []).append(row.name)
        profiles = {p.user_id: p for p in (await session.scalars(select(AgentProfile))).all()}
    lines = [e for e in await telephony.user_extensions(ctx) if e.enabled]
    people = await directory.staff(ctx, [e.user_id for e in lines], active=True)
    for line in lines:  # by extension number
        person = people.get(line.user_id)
        if person is None:
            continue
        work, number = person.work_number, line.number
        label = f"{number} ({work})" if work else number
        profile = profiles.get(person.id)
        skills = dict(profile.skills) if profile is not None else {}
        wrap = profile.wrap_seconds if profile is not None else None
        phone: PhoneKind = "browser" if profile is not None and profile.phone == "browser" else "desk"
        setup.seats[person.id] = Seat(
            person.id, number, label, skills, wrap, work_number=work, name=person.name, phone=phone,
            chat_capacity=profile.chat_capacity if profile is not None else 3,
            calls_while_chatting=profile.calls_while_chatting if profile is not None else True,
        )  # fmt: skip
        setup.agents.append(Agent(number, work, person.name))
    return setup


def _queue_out(row: QueueDef, node: LocalNode | None) -> QueueOut:
    out = QueueOut.model_validate(row)
    runner = node.runner if node is not None else None
    if runner is not None and row.name in runner.queues:
        now = asyncio.get_running_loop().time()
        entries = runner.waiting(row.name)
        states: dict[str, int] = defaultdict(int)
        for agent in runner.presence.agents.values():
            seat = runner.seats.get(agent.agent_id)
            if seat is None or row.skill not in seat.skills or agent.state is AgentState.LOGGED_OUT:
                continue
            if not agent.queues or row.name in agent.queues:
                states[agent.state.value] += 1
        out.live = QueueLive(
            waiting=len(entries),
            callbacks=sum(1 for e in entries if runner.is_callback(e.call_id)),
            longest_wait=round(max((now - e.entered_at for e in entries), default=0.0), 1),
            agents=dict(states),
        )
        if node is not None and node.chats is not None:
            out.live.chats = node.chats.load(row.name)
    return out


async def list_queues(ctx: Context, node: LocalNode | None) -> list[QueueOut]:
    ctx.require(Permission.ROUTING_READ)
    async with ctx.read() as session:
        rows = (await session.scalars(select(QueueDef).order_by(QueueDef.name))).all()
    return [_queue_out(row, node) for row in rows]


async def save_queue(ctx: Context, name: str, data: QueueIn) -> QueueOut:
    """Create the queue, or change it; waiting callers keep their places."""
    ctx.require(Permission.ROUTING_WRITE)
    if data.overflow_to == name:
        raise InvalidInput(
            "A queue cannot overflow to itself",
            field="body.overflow_to",
            reason="queue-cannot-overflow-itself",
        )
    if any(step.until is None for step in data.steps[:-1]):
        raise InvalidInput(
            "Only the last step may last until the end", field="body.steps", reason="last-step-may-last-until"
        )
    if data.steps[-1].sticky:
        raise InvalidInput(
            "The last step must let other agents than the last one answer",
            field="body.steps",
            reason="last-step-must-let-other",
        )
    ends = [step.until for step in data.steps if step.until is not None]
    if ends != sorted(set(ends)):
        raise InvalidInput(
            "Steps must end later and later", field="body.steps", reason="steps-must-end-later-later"
        )
    async with ctx.write() as tx:
        row = await tx.session.scalar(select(QueueDef).where(QueueDef.name == name))
        if data.overflow_to is not None:
            target = await tx.session.scalar(select(QueueDef.id).where(QueueDef.name == data.overflow_to))
            if target is None:
                raise InvalidInput(
                    f"No queue {data.overflow_to!r} to overflow to",
                    field="body.overflow_to",
                    reason="no-queue-overflow",
                    params={"overflow_to": repr(data.overflow_to)},
                )
        if row is None:
            values = data.model_dump()
            values["steps"] = [step.model_dump() for step in data.steps]
            values["chat_channels"] = list(data.chat_channels)
            row = QueueDef(name=name, **values)
            tx.session.add(row)
        else:
            apply_partial(row, data, exclude={"steps"}, only_set=False)
            row.steps = [step.model_dump() for step in data.steps]
        await tx.session.flush()
        tx.publish(QueuesChanged(queue=name))
        return QueueOut.model_validate(row)
