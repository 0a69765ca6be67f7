"""The contact center's live side as services: queues, agents (skills, presence) and the event
log of calls and agents.

Agents' states live in the voice node's `QueueRunner` (the state machine decides every change)
and every change is appended to `contact_events`; on start the node restores each agent's last
state from that log and the reconciler clears calls that no longer exist. State changes through
the API reach the runner of this process; a node without the voice role answers 503.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from hotline.admin.models import User
from hotline.core import privacy
from hotline.core.clock import utcnow
from hotline.core.context import Actor, Context
from hotline.core.errors import HotlineError, InvalidInput, InvalidTransition, NotFound
from hotline.core.permissions import Permission
from hotline.crm import service as crm_service
from hotline.crm import timeline
from hotline.crm.models import Customer
from hotline.crm.schemas import CustomerIn, CustomerOut, PhoneIn
from hotline.notify import inbox
from hotline.routing import desk, simulate
from hotline.routing.acd import QueueConfig, Step, Strategy
from hotline.routing.errors import WrapUpRequired
from hotline.routing.events import CallWrapped, QueuesChanged
from hotline.routing.metrics import AgentEvent, CallEvent, compute
from hotline.routing.models import AgentProfile, CallbackTask, ContactEvent, QueueDef
from hotline.routing.presence import Agent as Presence
from hotline.routing.presence import AgentState
from hotline.routing.queue import QueueRules, QueueRunner, Seat
from hotline.routing.schemas import (
    AgentOut,
    AgentProfileIn,
    AgentStateIn,
    CallbackOut,
    CallerFileIn,
    CallSummary,
    ContactEventOut,
    QueueFigures,
    QueueIn,
    QueueLive,
    QueueOut,
    Wallboard,
    WallboardQueue,
    WrapUpIn,
    WrapUpOut,
)
from hotline.routing.simulate import RecordedDay
from hotline.routing.transfer import Agent
from hotline.telephony.models import Extension

if TYPE_CHECKING:
    from hotline.routing.app import CallRouter


class VoiceNodeUnavailable(HotlineError):
    status = 503
    code = "voice-node-unavailable"
    title = "Agent states live on the voice node; this node does not run the voice role"


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
        rows = await session.execute(
            select(User.id, User.work_number, User.display_name, Extension.number, AgentProfile)
            .join(Extension, Extension.user_id == User.id)
            .outerjoin(AgentProfile, AgentProfile.user_id == User.id)
            .where(Extension.enabled.is_(True), User.is_active.is_(True))
            .order_by(Extension.number)
        )
        for user_id, work, name, number, profile in rows:
            label = f"{number} ({work})" if work else number
            skills = dict(profile.skills) if profile is not None else {}
            wrap = profile.wrap_seconds if profile is not None else None
            setup.seats[user_id] = Seat(
                user_id, number, label, skills, wrap, work_number=work or "", name=name
            )
            setup.agents.append(Agent(number, work or "", name))
    return setup


async def restore_presence(ctx: Context, runner: QueueRunner) -> None:
    """Each agent's last state from the event log; then clear calls that did not survive."""
    async with ctx.read() as session:
        last = (
            select(func.max(ContactEvent.id))
            .where(ContactEvent.kind == "agent", ContactEvent.agent_id.is_not(None))
            .group_by(ContactEvent.agent_id)
        )
        rows = (await session.scalars(select(ContactEvent).where(ContactEvent.id.in_(last)))).all()
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
    runner.reconcile(live_calls=set())


# ---------------------------------------------------------------- queues


def _queue_out(row: QueueDef, router: CallRouter | None) -> QueueOut:
    out = QueueOut.model_validate(row)
    runner = router.runner if router is not None else None
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
    return out


async def list_queues(ctx: Context, router: CallRouter | None) -> list[QueueOut]:
    ctx.require(Permission.ROUTING_READ)
    async with ctx.read() as session:
        rows = (await session.scalars(select(QueueDef).order_by(QueueDef.name))).all()
    return [_queue_out(row, router) for row in rows]


async def save_queue(ctx: Context, name: str, data: QueueIn) -> QueueOut:
    """Create the queue, or change it; waiting callers keep their places."""
    ctx.require(Permission.ROUTING_WRITE)
    if data.overflow_to == name:
        raise InvalidInput("A queue cannot overflow to itself", field="body.overflow_to")
    if any(step.until is None for step in data.steps[:-1]):
        raise InvalidInput("Only the last step may last until the end", field="body.steps")
    if data.steps[-1].sticky:
        raise InvalidInput("The last step must let other agents than the last one answer", field="body.steps")
    ends = [step.until for step in data.steps if step.until is not None]
    if ends != sorted(set(ends)):
        raise InvalidInput("Steps must end later and later", field="body.steps")
    async with ctx.write() as tx:
        row = await tx.session.scalar(select(QueueDef).where(QueueDef.name == name))
        if data.overflow_to is not None:
            target = await tx.session.scalar(select(QueueDef.id).where(QueueDef.name == data.overflow_to))
            if target is None:
                raise InvalidInput(f"No queue {data.overflow_to!r} to overflow to", field="body.overflow_to")
        values = data.model_dump()
        values["steps"] = [step.model_dump() for step in data.steps]
        if row is None:
            row = QueueDef(name=name, **values)
            tx.session.add(row)
        else:
            for key, value in values.items():
                setattr(row, key, value)
        await tx.session.flush()
        tx.publish(QueuesChanged(queue=name))
        return QueueOut.model_validate(row)


# ---------------------------------------------------------------- agents


def _runner(router: CallRouter | None) -> QueueRunner:
    if router is None or router.runner is None:
        raise VoiceNodeUnavailable()
    return router.runner


async def list_agents(ctx: Context, router: CallRouter | None) -> list[AgentOut]:
    ctx.require(Permission.AGENTS_READ)
    return await _agents(ctx, router)


async def my_state(ctx: Context, router: CallRouter | None) -> AgentOut:
    ctx.require(Permission.CALLS_HANDLE)
    return await _agent(ctx, router, ctx.actor.user_id or 0)


async def _agent(ctx: Context, router: CallRouter | None, user_id: int) -> AgentOut:
    found = await _agents(ctx, router, user_id)
    if not found:
        raise NotFound("This user has no extension to take calls on", field="user_id")
    return found[0]


async def _agents(ctx: Context, router: CallRouter | None, user_id: int | None = None) -> list[AgentOut]:
    query = (
        select(User, Extension.number, AgentProfile)
        .outerjoin(Extension, Extension.user_id == User.id)
        .outerjoin(AgentProfile, AgentProfile.user_id == User.id)
        .where(User.is_active.is_(True), (Extension.id.is_not(None)) | (AgentProfile.id.is_not(None)))
        .order_by(User.work_number, User.username)
    )
    if user_id is not None:
        query = query.where(User.id == user_id)
    async with ctx.read() as session:
        agents = list(await session.execute(query))
    runner = router.runner if router is not None else None
    control = router.control if router is not None else None
    now = asyncio.get_running_loop().time()
    out = []
    for user, number, profile in agents:
        state = runner.presence.agent(user.id) if runner is not None else Presence(user.id)
        out.append(
            AgentOut(
                user_id=user.id, username=user.username, display_name=user.display_name,
                work_number=user.work_number or "", extension=number,
                phone_registered=bool(number and control is not None and control.reachable(number)),
                skills=dict(profile.skills) if profile else {},
                wrap_seconds=profile.wrap_seconds if profile else None,
                state=state.state.value, reason=state.reason,
                seconds_in_state=round(now - state.since, 1) if state.since else 0.0,
                call_id=state.call_id, queues=sorted(state.queues),
            )
        )  # fmt: skip
    return out


async def set_agent_state(
    ctx: Context, router: CallRouter | None, agent_id: int, data: AgentStateIn
) -> AgentOut:
    """An agent changes their own state (calls.handle), or a supervisor changes an agent's
    (agents.write, with a reason, audited). The state machine refuses what the state does not
    allow (409, nothing changes)."""
    own = ctx.actor.user_id == agent_id
    ctx.require(Permission.CALLS_HANDLE if own else Permission.AGENTS_WRITE)
    if not own and not data.reason.strip():
        raise InvalidInput("Say why you change another agent's state", field="body.reason")
    runner = _runner(router)
    if agent_id not in runner.seats:
        raise NotFound("This user has no extension to take calls on", field="user_id")
    unknown = [q for q in data.queues or () if q not in runner.queues]
    if unknown:
        raise InvalidInput(f"No queue {unknown[0]!r}", field="body.queues")
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
            raise InvalidTransition("Log out first to change the queues you take calls from")
        if data.state == "ready":
            if own and agent_id in runner.wrap_pending:
                raise WrapUpRequired("Write the wrap-up of your last call first: its queue requires one")
            runner.wrap_pending.pop(agent_id, None)  # a supervisor may let the agent go on
            runner.agent(agent_id, "ready")
        else:
            runner.agent(agent_id, "not_ready", reason=reason or "not ready")
    if not own:
        async with ctx.write() as tx:
            tx.audit("agent.state_changed", "user", agent_id, before={"state": current.state.value},
                     after={"state": data.state, "reason": reason})  # fmt: skip
    return await _agent(ctx, router, agent_id)


async def save_profile(ctx: Context, user_id: int, data: AgentProfileIn) -> None:
    ctx.require(Permission.ROUTING_WRITE)
    async with ctx.write() as tx:
        if await tx.session.get(User, user_id) is None:
            raise NotFound(f"No user {user_id}", field="user_id")
        row = await tx.session.scalar(select(AgentProfile).where(AgentProfile.user_id == user_id))
        if row is None:
            tx.session.add(
                AgentProfile(user_id=user_id, skills=dict(data.skills), wrap_seconds=data.wrap_seconds)
            )
        else:
            row.skills, row.wrap_seconds = dict(data.skills), data.wrap_seconds
        tx.publish(QueuesChanged(queue=""))


# ---------------------------------------------------------------- the event log


async def call_events(ctx: Context, router: CallRouter | None, call_id: str) -> list[ContactEventOut]:
    """Everything the log holds of one call: arrival, IVR nodes, queue, each routing decision with
    its reason, answer, end."""
    ctx.require(Permission.CALLS_READ)
    if router is not None:
        await router.journal.flush()
    async with ctx.read() as session:
        rows = (
            await session.scalars(
                select(ContactEvent).where(ContactEvent.call_id == call_id).order_by(ContactEvent.id)
            )
        ).all()
        if not rows:
            raise NotFound(f"No call {call_id!r} in the log", field="call_id")
        ids = {row.agent_id for row in rows if row.agent_id is not None}
        names = {
            user_id: f"{work or ''} {name}".strip()
            for user_id, work, name in await session.execute(
                select(User.id, User.work_number, User.display_name).where(User.id.in_(ids))
            )
        }
    out = [ContactEventOut.model_validate(row) for row in rows]
    for event in out:
        event.agent = names.get(event.agent_id, "") if event.agent_id is not None else ""
    return out


async def recent_calls(ctx: Context, router: CallRouter | None, *, limit: int = 50) -> list[CallSummary]:
    """The latest calls, newest first, each summed up from its events."""
    ctx.require(Permission.CALLS_READ)
    if router is not None:
        await router.journal.flush()
    async with ctx.read() as session:
        arrived = (
            await session.scalars(
                select(ContactEvent)
                .where(ContactEvent.kind == "arrived")
                .order_by(ContactEvent.id.desc())
                .limit(limit)
            )
        ).all()
        ids = [row.call_id for row in arrived]
        events = (
            await session.scalars(
                select(ContactEvent).where(ContactEvent.call_id.in_(ids)).order_by(ContactEvent.id)
            )
        ).all()
    by_call: dict[str, list[ContactEvent]] = defaultdict(list)
    for event in events:
        by_call[event.call_id or ""].append(event)
    out = []
    for first in arrived:
        call = by_call[first.call_id or ""]
        caller, _, number = first.detail.partition(" → ")
        queued = next((e for e in call if e.kind == "queued"), None)
        answered = next((e for e in call if e.kind == "answered"), None)
        offered = [e for e in call if e.kind == "offered" and answered and e.agent_id == answered.agent_id]
        ends = [e for e in call if e.kind in ("finished", "abandoned", "timed_out", "refused", "callback")]
        ended = next((e for e in call if e.kind == "ended"), None)
        survey = next((e for e in call if e.kind == "survey"), None)
        out.append(
            CallSummary(
                call_id=first.call_id or "", arrived_at=first.at,
                caller=caller, number=number, flow=first.queue,
                path=[e.detail for e in call if e.kind == "ivr"],
                queue=(queued.queue if queued else ""),
                agent_id=answered.agent_id if answered else None,
                waited=round((answered.at - queued.at).total_seconds(), 1) if answered and queued else None,
                outcome=_outcome(call, ends),
                reason=offered[-1].detail if offered else "",
                talk=round((ended.at - answered.at).total_seconds(), 1) if answered and ended else None,
                recorded=any(e.kind == "recorded" for e in call),
                survey=int(survey.detail) if survey is not None and survey.detail.isdigit() else None,
            )
        )  # fmt: skip
    return out


def _outcome(call: list[ContactEvent], ends: list[ContactEvent]) -> str:
    kinds = [e.kind for e in call]
    if "answered" in kinds:
        return "answered"
    for kind in ("voicemail", "callback", "abandoned", "timed_out", "refused"):
        if kind in kinds:
            return kind
    if "finished" in kinds:
        return next(e.detail for e in ends if e.kind == "finished") or "finished"
    return "in-progress"


async def queue_figures(ctx: Context, *, hours: float = 24.0) -> list[QueueFigures]:
    """Today's figures per queue from the event log, by the definitions of docs/metrics.md."""
    ctx.require(Permission.AGENTS_READ)
    since = utcnow() - timedelta(hours=hours)
    async with ctx.read() as session:
        rows = (
            await session.execute(
                select(ContactEvent, QueueDef.service_seconds)
                .outerjoin(QueueDef, QueueDef.name == ContactEvent.queue)
                .where(ContactEvent.at >= since, ContactEvent.kind != "agent", ContactEvent.kind != "ivr")
                .order_by(ContactEvent.id)
            )
        ).all()
    by_queue: dict[str, list[CallEvent]] = defaultdict(list)
    threshold: dict[str, int] = {}
    for row, service_seconds in rows:
        if not row.queue or service_seconds is None:
            continue
        threshold[row.queue] = service_seconds
        by_queue[row.queue].append(
            CallEvent(_seconds(row.at), row.call_id or "", row.kind, row.queue, row.agent_id)
        )
    out = []
    for queue, events in sorted(by_queue.items()):
        m = compute(events, service_seconds=threshold[queue])
        out.append(
            QueueFigures(
                queue=queue, offered=m.offered, answered=m.answered, abandoned=m.abandoned,
                short_abandoned=m.short_abandoned, callbacks=m.callbacks, service_level=m.service_level,
                abandon_rate=m.abandon_rate, average_speed_of_answer=m.average_speed_of_answer,
                average_handle_time=m.average_handle_time,
            )
        )  # fmt: skip
    return out


def _seconds(at: datetime) -> float:
    return at.timestamp()


# ---------------------------------------------------------------- callback tasks (R5)

REVEALABLE = privacy.revealable("callback", CallbackTask, Permission.CALLS_READ)
"""A callback task's number may be revealed (core/privacy.py)."""

MISSED = frozenset({"abandoned", "timed_out", "refused", "callback_failed", "voicemail"})


async def missed_call(ctx: Context, event: CallEvent) -> None:
    """A caller left a queue unanswered: open a callback task for the number, or count the miss
    on the open one. (The runner names no caller on abandons shorter than the short-abandon
    threshold: those are misdials, not tasks.)"""
    if event.kind not in MISSED or not event.caller:
        return
    async with ctx.write() as tx:
        task = await tx.session.scalar(
            select(CallbackTask).where(CallbackTask.phone == event.caller, CallbackTask.status == "open")
        )
        if task is None:
            tx.session.add(
                CallbackTask(phone=event.caller, call_id=event.call_id, queue=event.queue, reason=event.kind)
            )
        else:
            task.misses += 1
            task.last_missed_at = utcnow()


async def open_call_task(ctx: Context, phone: str, ref: str, reason: str, *, queue: str = "") -> bool:
    """A call for an agent to make that another domain asks for (a late guest to ring, H9): one
    open task per reference. False if it is open already."""
    async with ctx.write() as tx:
        open_task = select(CallbackTask.id).where(CallbackTask.call_id == ref, CallbackTask.status == "open")
        if await tx.session.scalar(open_task) is not None:
            return False
        tx.session.add(CallbackTask(phone=phone, call_id=ref, queue=queue, reason=reason))
    return True


async def close_call_task(ctx: Context, ref: str, note: str) -> None:
    async with ctx.write() as tx:
        task = await tx.session.scalar(
            select(CallbackTask).where(CallbackTask.call_id == ref, CallbackTask.status == "open")
        )
        if task is not None:
            task.status, task.note, task.done_at, task.done_by = "done", note, utcnow(), ctx.actor.user_id


async def list_callbacks(ctx: Context, *, status: str = "open", limit: int = 100) -> list[CallbackOut]:
    ctx.require(Permission.CALLS_READ)
    async with ctx.read() as session:
        rows = (
            await session.scalars(
                select(CallbackTask)
                .where(CallbackTask.status == status)
                .order_by(CallbackTask.created_at)
                .limit(limit)
            )
        ).all()
    return [CallbackOut.model_validate(row) for row in rows]


async def finish_callback(ctx: Context, task_id: int, note: str) -> CallbackOut:
    ctx.require(Permission.CALLS_HANDLE)
    async with ctx.write() as tx:
        task = await tx.session.get(CallbackTask, task_id)
        if task is None:
            raise NotFound(f"No callback task {task_id}", field="task_id")
        if task.status == "done":
            raise InvalidTransition("This callback is done already")
        task.status, task.note, task.done_at, task.done_by = "done", note, utcnow(), ctx.actor.user_id
        await tx.session.flush()
        return CallbackOut.model_validate(task)


# ---------------------------------------------------------------- the simulator's input


async def recorded_day(ctx: Context, day: date) -> RecordedDay:
    """A day of the event log (in the center's time zone) with today's queues and skills, as
    input for `simulate.replay`."""
    zone = ZoneInfo(ctx.settings.default_timezone)
    start = datetime.combine(day, datetime.min.time(), tzinfo=zone)
    async with ctx.read() as session:
        rows = (
            await session.scalars(
                select(ContactEvent)
                .where(ContactEvent.at >= start, ContactEvent.at < start + timedelta(days=1))
                .order_by(ContactEvent.id)
            )
        ).all()
    setup = await load_setup(ctx)
    calls = [
        CallEvent(row.at.timestamp(), row.call_id or "", row.kind, row.queue, row.agent_id)
        for row in rows
        if row.kind not in ("agent", "ivr")
    ]
    agents = [
        AgentEvent(row.at.timestamp(), row.agent_id, row.state)
        for row in rows
        if row.kind == "agent" and row.agent_id is not None
    ]
    skills = {agent_id: seat.skills for agent_id, seat in setup.seats.items()}
    return simulate.recorded_day(calls, agents, skills, setup.queues, setup.rules)


async def wallboard(ctx: Context, router: CallRouter | None) -> Wallboard:
    """The floor now (A1): per queue who waits and for how long, the agents by state, and today's
    figures since midnight China time; and every agent with their state and time in it."""
    ctx.require(Permission.AGENTS_READ)
    zone = ZoneInfo(ctx.settings.default_timezone)
    midnight = datetime.combine(utcnow().astimezone(zone).date(), time(0), tzinfo=zone)
    hours = max((utcnow() - midnight).total_seconds() / 3600, 0.01)
    figures = {f.queue: f for f in await queue_figures(ctx, hours=hours)}
    agents = await _agents(ctx, router)
    async with ctx.read() as session:
        queues = (
            await session.execute(
                select(QueueDef.name, QueueDef.title, QueueDef.skill).order_by(QueueDef.name)
            )
        ).all()
    runner = router.runner if router is not None else None
    waits = runner.waits() if runner is not None else []
    now = asyncio.get_running_loop().time()
    board = []
    for name, title, skill in queues:
        mine = [w for w in waits if w.queue == name]
        callers = [w for w in mine if not w.callback]
        states: dict[str, int] = defaultdict(int)
        for agent in agents:
            serves = skill in agent.skills if skill else True  # and logged into it, when they chose queues
            if serves and (name in agent.queues or (not agent.queues and agent.state != "logged_out")):
                states[agent.state] += 1
        board.append(WallboardQueue(
            queue=name, title=title, waiting=len(callers),
            longest_wait=round(max((now - w.entered_at for w in callers), default=0.0), 1),
            callbacks_waiting=len(mine) - len(callers), agents=dict(states), today=figures.get(name),
        ))  # fmt: skip
    return Wallboard(queues=board, agents=agents)


DISPOSITIONS = {
    "booked": "预订成功",
    "enquiry": "咨询",
    "complaint": "投诉",
    "callback": "需回电",
    "other": "其他",
}


async def wrap_up(ctx: Context, router: CallRouter | None, call_id: str, data: WrapUpIn) -> WrapUpOut:
    """An agent wraps up a call they answered: the disposition and note go into the call's log
    and onto the customer's timeline, and the agent is ready again if they were wrapping up."""
    ctx.require(Permission.CALLS_HANDLE)
    me = ctx.actor.user_id
    if router is not None:
        await router.journal.flush()  # the answer a moment ago is on the log
    async with ctx.read() as session:
        answered = await session.scalar(
            select(ContactEvent).where(
                ContactEvent.call_id == call_id, ContactEvent.kind == "answered", ContactEvent.agent_id == me
            )
        )
        if answered is None:
            raise NotFound("You did not take this call", field="call_id")
        done = await session.scalar(
            select(ContactEvent.id).where(
                ContactEvent.call_id == call_id, ContactEvent.kind == "wrapped", ContactEvent.agent_id == me
            )
        )
        if done is not None:  # each agent who took the call wraps up their part of it, once
            raise InvalidTransition("This call was wrapped up already")
        if data.customer_id is not None and await session.get(Customer, data.customer_id) is None:
            raise NotFound(f"No customer {data.customer_id}", field="body.customer_id")
    label = DISPOSITIONS[data.disposition]
    await desk.ensure(ctx, call_id, me or 0)
    async with ctx.write() as tx:
        await desk.claim_wrap_up(tx, call_id, me or 0)  # once, even when two tabs send it together
        tx.audit("call.wrapped_up", "call", call_id, after={"disposition": data.disposition})
        tx.publish(CallWrapped(audience=[me] if me else [], call_id=call_id, disposition=data.disposition))
        tx.session.add(ContactEvent(at=utcnow(), kind="wrapped", call_id=call_id, agent_id=me,
                                    queue=answered.queue, detail=f"{label}: {data.note}"[:400]))  # fmt: skip
        where = f"/customers/{data.customer_id}" if data.customer_id is not None else "/calls"
        await inbox.mention(tx, data.note, author=me, link=where, readers=Permission.CUSTOMERS_READ,
                            title=f"{ctx.actor.display_name} 在通话小结（{label}）中提到您")  # fmt: skip
    if data.disposition == "callback":  # the caller is to be rung back: a task with their number
        number = await _caller_of(ctx, router, call_id)
        await open_call_task(ctx, number, f"call:{call_id}", "agent_callback", queue=answered.queue)
    if data.customer_id is not None:
        detail = f"{label} · {data.note}" if data.note else label
        await timeline.add(
            ctx.as_actor(Actor.system("routing")), data.customer_id, "call", f"话后小结：{label}",
            ref=f"call:{call_id}:wrap", detail=detail, by=me,
        )  # fmt: skip
    ready = False
    if router is not None and router.runner is not None and me is not None and me in router.runner.seats:
        ready = router.runner.presence.agent(me).state is AgentState.WRAP_UP
        router.runner.wrapped(me)
    return WrapUpOut(call_id=call_id, disposition=data.disposition, ready=ready)


async def _caller_of(ctx: Context, router: CallRouter | None, call_id: str) -> str:
    """The number of a call this agent was offered: from the call in progress, else from the event
    log (which is written a moment later); 404 otherwise."""
    me = ctx.actor.user_id
    if router is not None and me is not None and (live := router.caller_offered_to(call_id, me)):
        return live
    async with ctx.read() as session:
        offered = await session.scalar(
            select(ContactEvent.id).where(
                ContactEvent.call_id == call_id, ContactEvent.kind == "offered", ContactEvent.agent_id == me
            )
        )
        arrived = await session.scalar(
            select(ContactEvent.detail).where(ContactEvent.call_id == call_id, ContactEvent.kind == "arrived")
        )
    if offered is None or not arrived:
        raise NotFound("This call was not offered to you", field="call_id")
    return arrived.split(" → ", 1)[0]


async def file_from_call(
    ctx: Context, router: CallRouter | None, call_id: str, data: CallerFileIn
) -> CustomerOut:
    """Create the caller's file during the call, with the number they call from (seed 000 (15))."""
    ctx.require(Permission.CALLS_HANDLE)
    number = await _caller_of(ctx, router, call_id)
    made = await crm_service.create(
        ctx,
        CustomerIn(
            name=data.name,
            title=data.title,
            city=data.city,
            source="phone",
            phones=[PhoneIn(number=number, preferred=True)],
        ),
    )
    await desk.caller_filed(ctx, call_id, made.id)  # the pop shows the new file after a reload
    return made


async def register_phone(
    ctx: Context, router: CallRouter | None, call_id: str, customer_id: int
) -> CustomerOut:
    """The caller agreed to register the number they call from (seed 000 (16)): next time it
    opens their file."""
    ctx.require(Permission.CALLS_HANDLE)
    number = await _caller_of(ctx, router, call_id)
    added = await crm_service.add_phone(ctx, customer_id, PhoneIn(number=number, label="来电登记"))
    await desk.number_registered(ctx, call_id, customer_id)
    return added


async def note_on_call(ctx: Context, call_id: str, kind: str, detail: str) -> None:
    """Another domain's line in a call's log: what came of the call (a booking made on it)."""
    async with ctx.write() as tx:
        tx.session.add(ContactEvent(at=utcnow(), kind=kind, call_id=call_id, agent_id=ctx.actor.user_id,
                                    detail=detail[:400]))  # fmt: skip
