"""Tickets, complaints and work orders (S1–S5): creating them from a call, voicemail, e-mail,
walk-in or web form; dispatching to departments and work areas (round-robin over the staff who
are present, or by hand); processing, rejecting back (反单), re-dispatching (重复派单),
completing, auditing (审核) and closing; complaints' investigation, escalation and the result
told to the customer; emergencies first; SLA clocks; what the customer is told of where their
request stands.

Check then do: every service checks permissions and input first, then changes data in one
transaction through the state machine (`state.apply`), recording the step; notices and events
go out after commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.admin.models import User
from hotline.contact import callbacks
from hotline.contact.agents import service as contact_agents
from hotline.contact.calls import records as call_records
from hotline.core import privacy
from hotline.core.clock import utcnow
from hotline.core.context import Actor, Context, Tx
from hotline.core.db import next_number
from hotline.core.errors import InvalidInput, NotFound
from hotline.core.permissions import Permission
from hotline.crm import timeline
from hotline.crm.models import Customer, CustomerPhone
from hotline.notify import inbox
from hotline.tickets import fields as custom_fields
from hotline.tickets import sla, state
from hotline.tickets.errors import (
    NotAComplaint,
    NotAMember,
    TicketNotFound,
    TicketTransitionRefused,
)
from hotline.tickets.events import TicketChanged, TicketNotice
from hotline.tickets.models import (
    CalendarDay,
    SlaPolicy,
    Ticket,
    TicketLink,
    TicketStep,
    TicketType,
    Unit,
    UnitMember,
)
from hotline.tickets.schemas import (
    ComplaintIn,
    Counts,
    LinkOut,
    SlaOut,
    StatusQuery,
    StepOut,
    TicketDetail,
    TicketIn,
    TicketMoveIn,
    TicketOut,
    TicketPage,
)

FIRST_NUMBER = 70_000_001
P = Permission
ACTION_PERMISSION = {
    "dispatch": P.TICKETS_DISPATCH, "redispatch": P.TICKETS_DISPATCH, "process": P.TICKETS_PROCESS,
    "reject": P.TICKETS_PROCESS, "pend": P.TICKETS_PROCESS, "resume": P.TICKETS_PROCESS,
    "complete": P.TICKETS_PROCESS, "audit": P.TICKETS_AUDIT, "send_back": P.TICKETS_AUDIT,
    "close": P.TICKETS_WRITE, "reopen": P.TICKETS_WRITE, "merge": P.TICKETS_DISPATCH,
}  # fmt: skip
UNIT_WORK = frozenset({"process", "reject", "pend", "resume", "complete"})
REVEALABLE = privacy.revealable("ticket", Ticket, P.TICKETS_READ)
"""A ticket's contact phone and e-mail may be revealed (core/privacy.py)."""
"""Done by the staff of the ticket's unit (or a dispatcher standing in for them)."""
PRIORITY = {"critical": 1, "high": 2, "normal": 3, "low": 4}
DEFAULT_TARGETS = sla.Targets(timedelta(hours=4), timedelta(hours=27))
"""When no policy matches: 4 working hours to respond, three working days to resolve."""


# ---------------------------------------------------------------- lookups


async def calendar(session: AsyncSession, *, around_the_clock: bool = False) -> sla.Calendar:
    rows = await session.execute(select(CalendarDay.day, CalendarDay.kind))
    return sla.Calendar.of(((day, kind) for day, kind in rows), around_the_clock=around_the_clock)


async def policy_for(session: AsyncSession, type_id: int, severity: str) -> tuple[sla.Targets, bool]:
    """The targets of the most specific policy (the type's, else every type's) and whether they
    count in business hours."""
    rows = (await session.scalars(
        select(SlaPolicy).where(SlaPolicy.severity == severity,
                                or_(SlaPolicy.type_id == type_id, SlaPolicy.type_id.is_(None)))
    )).all()  # fmt: skip
    best = sorted(rows, key=lambda p: p.type_id is None)
    if not best:
        return DEFAULT_TARGETS, True
    chosen = best[0]
    targets = sla.Targets(timedelta(minutes=chosen.response_minutes), timedelta(minutes=chosen.resolve_minutes),  # noqa: E501
                          chosen.warn_percent)  # fmt: skip
    return targets, chosen.business_hours


async def _steps(session: AsyncSession, ticket_id: int) -> list[TicketStep]:
    return list((await session.scalars(
        select(TicketStep).where(TicketStep.ticket_id == ticket_id).order_by(TicketStep.id)
    )).all())  # fmt: skip


def _moves(steps: Sequence[TicketStep]) -> list[tuple[datetime, str]]:
    """The states a ticket entered, in order (steps that change nothing are left out)."""
    moves: list[tuple[datetime, str]] = []
    for step in steps:
        if not moves or step.after != moves[-1][1]:
            moves.append((step.at, step.after))
    return moves


async def sla_clock(
    session: AsyncSession, ticket: Ticket, now: datetime, steps: Sequence[TicketStep] | None = None
) -> tuple[sla.Clock, bool]:
    targets, business = await policy_for(session, ticket.type_id, ticket.severity)
    cal = await calendar(session, around_the_clock=not business)
    moves = _moves(steps if steps is not None else await _steps(session, ticket.id))
    if not moves:
        moves = [(ticket.created_at, ticket.status)]
    return sla.clock(cal, targets, moves, now, ticket.first_response_at), business


def _sla_out(clock: sla.Clock, business: bool) -> SlaOut:
    def minutes(value: timedelta) -> int:
        return int(value.total_seconds() // 60)

    return SlaOut(
        state=clock.state, response_target_minutes=minutes(clock.response_target),
        response_used_minutes=minutes(clock.response_used), response_met=clock.response_met,
        response_breached=clock.response_breached, resolve_target_minutes=minutes(clock.resolve_target),
        resolve_used_minutes=minutes(clock.resolve_used), paused=clock.paused, due_at=clock.due_at,
        business_hours=business,
    )  # fmt: skip


async def present(session: AsyncSession, user_ids: Iterable[int]) -> set[int]:
    """Who of `user_ids` is at work: an active user whose last agent state (in the contact event
    log) is not logged out. Staff who never log in as agents count as present while active."""
    ids = sorted(set(user_ids))
    if not ids:
        return set()
    active = set(
        (await session.scalars(select(User.id).where(User.id.in_(ids), User.is_active.is_(True)))).all()
    )
    away = await contact_agents.logged_out(session, ids)
    return active - away


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


async def _ticket(session: AsyncSession, ticket_id: int, *, lock: bool = False) -> Ticket:
    ticket = await session.get(Ticket, ticket_id, with_for_update=lock)
    if ticket is None:
        raise TicketNotFound(f"No ticket {ticket_id}", field="ticket_id")
    return ticket


async def _type(session: AsyncSession, type_id: int) -> TicketType:
    found = await session.get(TicketType, type_id)
    if found is None:
        raise NotFound(f"No ticket type {type_id}", field="type_id")
    return found


async def _unit(session: AsyncSession, unit_id: int, field: str = "body.unit_id") -> Unit:
    unit = await session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(f"No department or work area {unit_id}", field=field)
    return unit


@dataclass
class _Names:
    types: dict[int, TicketType]
    units: dict[int, str]
    users: dict[int, str]
    customers: dict[int, tuple[str, str]]


async def _names(
    session: AsyncSession, tickets: Sequence[Ticket], steps: Sequence[TicketStep] = ()
) -> _Names:
    types = {t.id: t for t in (await session.scalars(select(TicketType))).all()}
    units = {u.id: u.name for u in (await session.scalars(select(Unit))).all()}
    user_ids = {i for t in tickets for i in (t.assignee_id, t.processor_id, t.auditor_id) if i is not None}
    user_ids |= {i for s in steps for i in (s.by, s.assignee_id) if i is not None}
    users = {
        uid: name for uid, name in await session.execute(select(User.id, User.display_name).where(User.id.in_(user_ids)))  # noqa: E501
    } if user_ids else {}  # fmt: skip
    customer_ids = {t.customer_id for t in tickets if t.customer_id is not None}
    customers = {
        cid: (name, number) for cid, name, number in await session.execute(
            select(Customer.id, Customer.name, Customer.member_number).where(Customer.id.in_(customer_ids)))
    } if customer_ids else {}  # fmt: skip
    return _Names(types, units, users, customers)


def _out(ctx: Context, ticket: Ticket, names: _Names) -> TicketOut:
    out = TicketOut.model_validate(ticket)
    kind = names.types.get(ticket.type_id)
    unit_name = names.units.get(ticket.unit_id, "") if ticket.unit_id else ""
    customer = names.customers.get(ticket.customer_id) if ticket.customer_id else None
    merged = None
    if ticket.status == "merged" and ticket.merged_into_id:
        merged = f"#{ticket.merged_into_id}"
    out = out.model_copy(update={
        "type_code": kind.code if kind else "", "type_name": kind.name if kind else "",
        "kind": kind.kind if kind else "general", "unit_name": unit_name,
        "assignee_name": names.users.get(ticket.assignee_id, "") if ticket.assignee_id else "",
        "customer_name": customer[0] if customer else "", "member_number": customer[1] if customer else "",
        "status_name": state.STATUS_NAMES.get(ticket.status, ticket.status),
        "customer_status": state.customer_status(ticket.status, unit_name, merged),
    })  # fmt: skip
    out._phone_fields = {f["key"] for f in (kind.fields if kind else []) if f.get("type") == "phone"}
    return out


def _step_out(step: TicketStep, names: _Names) -> StepOut:
    out = StepOut.model_validate(step)
    return out.model_copy(update={
        "by_name": names.users.get(step.by, "") if step.by else "系统",
        "unit_name": names.units.get(step.unit_id, "") if step.unit_id else "",
        "assignee_name": names.users.get(step.assignee_id, "") if step.assignee_id else "",
    })  # fmt: skip


def _snapshot(ticket: Ticket, kind: TicketType) -> state.Snapshot:
    return state.Snapshot(
        status=ticket.status, unit_id=ticket.unit_id, assignee_id=ticket.assignee_id,
        processor_id=ticket.processor_id, auditor_id=ticket.auditor_id, result=ticket.result,
        told=ticket.told_at is not None, must_tell=kind.kind == "complaint",
    )  # fmt: skip


def _record(tx: Tx, ticket: Ticket, step: state.Step, at: datetime) -> TicketStep:
    row = TicketStep(ticket_id=ticket.id, at=at, by=step.by, action=step.action, before=step.before,
                     after=step.after, unit_id=step.unit_id, assignee_id=step.assignee_id,
                     note=step.note[:2000])  # fmt: skip
    tx.session.add(row)
    return row


def _remark(tx: Tx, ticket: Ticket, action: str, by: int | None, note: str, at: datetime) -> None:
    """A step that does not move the ticket (a note, an assignment, an escalation)."""
    tx.session.add(TicketStep(ticket_id=ticket.id, at=at, by=by, action=action, before=ticket.status,
                              after=ticket.status, unit_id=ticket.unit_id, assignee_id=ticket.assignee_id,
                              note=note[:2000]))  # fmt: skip


async def _notice(
    session: AsyncSession, ticket: Ticket, kind: TicketType, occasion: str, unit_name: str
) -> TicketNotice:
    customer = await session.get(Customer, ticket.customer_id) if ticket.customer_id else None
    return TicketNotice(
        occasion=occasion, ref=f"ticket:{ticket.number}", customer_id=ticket.customer_id, phone=ticket.phone,
        email=ticket.email or (customer.email or "" if customer else ""), number=ticket.number,
        type_name=kind.name, title=ticket.title, customer_name=customer.name if customer else ticket.contact_name,  # noqa: E501
        title_of_address=customer.title if customer else "",
        status=state.customer_status(ticket.status, unit_name), unit=unit_name, result=ticket.result,
        severity=ticket.severity,
    )  # fmt: skip


async def _refresh_due(session: AsyncSession, ticket: Ticket, now: datetime) -> None:
    await session.flush()
    clock, _ = await sla_clock(session, ticket, now)
    ticket.due_at = clock.due_at if clock.running else None


# ---------------------------------------------------------------- creating


async def _customer(session: AsyncSession, data: TicketIn) -> Customer | None:
    if data.customer_id is not None:
        customer = await session.get(Customer, data.customer_id)
        if customer is None or customer.anonymised:
            raise NotFound(f"No customer {data.customer_id}", field="body.customer_id")
        return customer
    if data.member_number:
        customer = await session.scalar(select(Customer).where(Customer.member_number == data.member_number))
        if customer is None or customer.anonymised:
            raise NotFound(f"No customer with member number {data.member_number}", field="body.member_number")
        return customer
    return None


async def create(ctx: Context, data: TicketIn, *, now: datetime | None = None, source_ref: str | None = None,
                 attachment: str = "", partial: bool = False) -> TicketOut:  # fmt: skip
    """Open a ticket; `partial` (intake) lets required form fields wait for staff."""
    ctx.require(P.TICKETS_WRITE)
    if data.unit_id is not None:
        ctx.require(P.TICKETS_DISPATCH)
    now = now or utcnow()
    async with ctx.write() as tx:
        kind = await tx.session.scalar(select(TicketType).where(TicketType.code == data.type_code))
        if kind is None or not kind.active:
            raise InvalidInput(f"No ticket type {data.type_code}", field="body.type_code")
        values = custom_fields.check_values(kind.fields, data.fields, partial=partial)
        customer = await _customer(tx.session, data)
        phone = data.phone.strip()
        if not phone and customer is not None:
            phone = await tx.session.scalar(
                select(CustomerPhone.number).where(CustomerPhone.customer_id == customer.id)
                .order_by(CustomerPhone.preferred.desc(), CustomerPhone.id).limit(1)
            ) or ""  # fmt: skip
        severity = data.severity or kind.default_severity
        if kind.kind == "emergency":
            severity = "critical"
        ticket = Ticket(
            number=str(await next_number(tx.session, Ticket.number, FIRST_NUMBER)), type_id=kind.id,
            title=data.title, content=data.content, fields=values,
            customer_id=customer.id if customer else None,
            contact_name=data.contact_name or (customer.name if customer else ""), phone=phone,
            email=data.email or (customer.email or "" if customer else ""), call_id=data.call_id,
            source=data.source, source_ref=source_ref, attachment=attachment[:300], severity=severity,
            priority=1 if kind.kind == "emergency" else PRIORITY[severity], status="new",
            external_ref=data.external_ref, authority=data.authority, created_at=now, updated_at=now,
            created_by=ctx.actor.user_id,
        )  # fmt: skip
        tx.session.add(ticket)
        await tx.session.flush()
        origin = {"call": "来电", "voicemail": "语音留言", "email": "邮件", "walk_in": "上门", "web": "网页表单",  # noqa: E501
                  "authority": f"上级部门下转 {data.authority} {data.external_ref}".strip()}[data.source]  # fmt: skip  # noqa: E501
        _record(tx, ticket, state.Step("create", "", "new", ctx.actor.user_id, None, None,
                                       f"{origin}：{data.content}"[:2000]), now)  # fmt: skip
        unit: Unit | None = None
        if data.unit_id is not None:
            unit = await _unit(tx.session, data.unit_id)
        elif kind.kind == "emergency":
            unit = await tx.session.scalar(
                select(Unit).where(Unit.on_duty.is_(True), Unit.active.is_(True)).order_by(Unit.id).limit(1)
            )
        if unit is not None:
            await _dispatch(tx, ticket, kind, unit, None, "dispatch", "紧急救援：立即派单" if kind.kind == "emergency"  # noqa: E501
                            else "受理时派单", ctx.actor.user_id, now)  # fmt: skip
        if kind.kind == "emergency":
            await _alert_on_duty(tx, ticket, kind)
        await _refresh_due(tx.session, ticket, now)
        tx.publish(await _notice(tx.session, ticket, kind, "created", unit.name if unit else ""))
        tx.publish(TicketChanged(ticket_id=ticket.id, number=ticket.number, status=ticket.status, action="create",  # noqa: E501
                                 unit_id=ticket.unit_id, assignee_id=ticket.assignee_id))  # fmt: skip
        names = await _names(tx.session, [ticket])
        created = _out(ctx, ticket, names)
    await _after(ctx, created, "受理")
    if data.call_id:
        await call_records.note_on_call(
            ctx, data.call_id, "ticket", f"工单 {created.number} {created.type_name}"
        )
    return created


async def _alert_on_duty(tx: Tx, ticket: Ticket, kind: TicketType) -> None:
    """紧急救援: every member of the on-duty teams and the supervisors hear of it at once."""
    on_duty = (
        await tx.session.scalars(select(Unit.id).where(Unit.on_duty.is_(True), Unit.active.is_(True)))
    ).all()
    people: set[int] = set()
    for unit_id in on_duty:
        people |= set(await members(tx.session, unit_id))
    people |= set(await inbox.holders_of(tx.session, P.TICKETS_AUDIT))
    await inbox.tell(tx, people, "emergency", f"【紧急救援】{ticket.title}",
                     body=f"工单{ticket.number} {ticket.contact_name} {ticket.phone} {ticket.content}"[:1000],
                     link=f"/tickets/{ticket.id}")  # fmt: skip


async def _after(ctx: Context, ticket: TicketOut, what: str) -> None:
    """The ticket's step on the customer's timeline (C3), once per step."""
    if ticket.customer_id is None:
        return
    await timeline.add(
        ctx.as_actor(Actor.system("tickets")), ticket.customer_id, "ticket",
        f"{ticket.type_name} {ticket.number} {what}：{ticket.title}",
        ref=f"ticket:{ticket.number}:{what}:{ticket.reopened}:{ticket.misdispatches}",
        detail=ticket.customer_status + (f" · {ticket.result}" if what in ("完成", "办结") and ticket.result else ""),  # noqa: E501
    )  # fmt: skip


# ---------------------------------------------------------------- the lifecycle


async def _dispatch(
    tx: Tx, ticket: Ticket, kind: TicketType, unit: Unit, assignee_id: int | None, action: str, note: str,
    by: int | None, now: datetime,
) -> None:  # fmt: skip
    if assignee_id is not None and assignee_id not in await members(tx.session, unit.id):
        raise NotAMember(f"That person is not on the staff of {unit.name}", field="body.assignee_id")
    if assignee_id is None and unit.active and unit.auto_assign:
        assignee_id = await next_in_turn(tx.session, unit)
    move = state.Move(
        action, by, note=note, unit_id=unit.id, unit_active=unit.active, assignee_id=assignee_id
    )
    _apply(tx, ticket, kind, move, now)
    if ticket.assignee_id is not None:
        await inbox.tell(tx, [ticket.assignee_id], "ticket", f"新派单：{kind.name} {ticket.number} {ticket.title}",  # noqa: E501
                         body=note, link=f"/tickets/{ticket.id}")  # fmt: skip


def _apply(tx: Tx, ticket: Ticket, kind: TicketType, move: state.Move, now: datetime) -> state.Step:
    snapshot, step = state.apply(_snapshot(ticket, kind), move)
    ticket.status, ticket.unit_id, ticket.assignee_id = (
        snapshot.status,
        snapshot.unit_id,
        snapshot.assignee_id,
    )
    ticket.processor_id, ticket.auditor_id, ticket.result = (
        snapshot.processor_id,
        snapshot.auditor_id,
        snapshot.result,
    )
    ticket.updated_at = now
    if move.action == "process" and ticket.first_response_at is None:
        ticket.first_response_at = now
    if move.action == "reject":
        ticket.misdispatches += 1
    if move.action == "complete":
        ticket.completed_at = now
    if move.action == "close":
        ticket.closed_at = now
    if move.action in ("reopen", "send_back"):
        ticket.completed_at = None
    if move.action == "reopen":
        ticket.reopened += 1
        ticket.closed_at, ticket.told_at, ticket.told_by = None, None, ""
    _record(tx, ticket, step, now)
    return step


async def _may_work(session: AsyncSession, ctx: Context, ticket: Ticket) -> None:
    """Unit work is done by the unit's staff; dispatchers and the system may stand in."""
    if ctx.actor.user_id is None or ctx.actor.can(P.TICKETS_DISPATCH) or ticket.unit_id is None:
        return
    if ctx.actor.user_id not in await members(session, ticket.unit_id):
        unit = await session.get(Unit, ticket.unit_id)
        raise NotAMember(f"Only the staff of {unit.name if unit else 'its unit'} work on this ticket")


OCCASIONS = {"dispatch": "dispatched", "redispatch": "dispatched", "reject": "rejected", "complete": "completed",  # noqa: E501
             "close": "closed", "reopen": "reopened"}  # fmt: skip
TIMELINE = {
    "dispatch": "派单",
    "redispatch": "重复派单",
    "complete": "完成",
    "close": "办结",
    "reopen": "重新打开",
}


async def transition(
    ctx: Context, ticket_id: int, data: TicketMoveIn, *, now: datetime | None = None
) -> TicketOut:
    ctx.require(ACTION_PERMISSION[data.action])
    now = now or utcnow()
    async with ctx.write() as tx:
        ticket = await _ticket(tx.session, ticket_id, lock=True)
        kind = await _type(tx.session, ticket.type_id)
        if data.action in UNIT_WORK:
            await _may_work(tx.session, ctx, ticket)
        if data.action in ("dispatch", "redispatch", "reopen"):
            unit_id = data.unit_id or (ticket.unit_id if data.action == "reopen" else None)
            assignee = data.assignee_id
            if data.action == "reopen" and data.unit_id is None:
                assignee = assignee or ticket.assignee_id
            if unit_id is None:  # says which rule: the state, or the missing unit
                state.apply(
                    _snapshot(ticket, kind), state.Move(data.action, ctx.actor.user_id, note=data.note)
                )
                raise TicketTransitionRefused("Choose the department or work area", field="body.unit_id")
            state.apply(
                _snapshot(ticket, kind),
                state.Move(data.action, ctx.actor.user_id, note=data.note, unit_id=unit_id),
            )  # the state's rules first
            unit = await _unit(tx.session, unit_id)
            await _dispatch(tx, ticket, kind, unit, assignee, data.action, data.note, ctx.actor.user_id, now)
        else:
            _apply(tx, ticket, kind, state.Move(data.action, ctx.actor.user_id, note=data.note, result=data.result,  # noqa: E501
                                                unit_id=None), now)  # fmt: skip
            if data.action == "reject":
                dispatchers = await inbox.holders_of(tx.session, P.TICKETS_DISPATCH)
                await inbox.tell(tx, [d for d in dispatchers if d != ctx.actor.user_id], "ticket",
                                 f"反单待重复派单：{ticket.number} {ticket.title}", body=data.note,
                                 link=f"/tickets/{ticket.id}")  # fmt: skip
            if data.action == "complete":
                auditors = await inbox.holders_of(tx.session, P.TICKETS_AUDIT)
                await inbox.tell(tx, [a for a in auditors if a != ctx.actor.user_id], "ticket",
                                 f"待审核：{ticket.number} {ticket.title}", body=ticket.result,
                                 link=f"/tickets/{ticket.id}")  # fmt: skip
        await _refresh_due(tx.session, ticket, now)
        unit_name = (await _unit(tx.session, ticket.unit_id)).name if ticket.unit_id else ""
        if data.action in OCCASIONS:
            tx.publish(await _notice(tx.session, ticket, kind, OCCASIONS[data.action], unit_name))
        tx.publish(TicketChanged(ticket_id=ticket.id, number=ticket.number, status=ticket.status,
                                 action=data.action, unit_id=ticket.unit_id, assignee_id=ticket.assignee_id))  # fmt: skip  # noqa: E501
        moved = _out(ctx, ticket, await _names(tx.session, [ticket]))
    if data.action in TIMELINE:
        await _after(ctx, moved, TIMELINE[data.action])
    system = ctx.as_actor(Actor.system("tickets"))
    if data.action == "close" and kind.kind == "emergency" and moved.phone:
        # after-care (S5): someone calls the rescued customer back
        await callbacks.open_call_task(
            system, ticket.phone, f"ticket:{moved.number}", "aftercare", queue="emergency"
        )
    if data.action == "audit" and kind.kind == "complaint" and moved.phone and ticket.told_at is None:
        # the audited result is the customer's to hear (S3): a call for an agent, unless told by SMS first
        await callbacks.open_call_task(system, ticket.phone, _result_call(moved.number), "tell_result")
    return moved


def _result_call(number: str) -> str:
    return f"ticket:{number}:result"


async def assign(ctx: Context, ticket_id: int, assignee_id: int | None, note: str = "",
                 *, now: datetime | None = None) -> TicketOut:  # fmt: skip
    """Manual assignment within the ticket's unit; with no assignee, take it yourself."""
    ctx.require(P.TICKETS_READ)
    target = assignee_id if assignee_id is not None else ctx.actor.user_id
    if target != ctx.actor.user_id or target is None:
        ctx.require(P.TICKETS_DISPATCH)
    elif not ctx.actor.can(P.TICKETS_DISPATCH):
        ctx.require(P.TICKETS_PROCESS)
    now = now or utcnow()
    async with ctx.write() as tx:
        ticket = await _ticket(tx.session, ticket_id, lock=True)
        if ticket.status not in ("dispatched", "in_process", "pending") or ticket.unit_id is None:
            raise TicketTransitionRefused("Only a dispatched ticket is assigned to staff", field="ticket_id")
        unit = await _unit(tx.session, ticket.unit_id)
        if target not in await members(tx.session, unit.id):
            raise NotAMember(f"That person is not on the staff of {unit.name}", field="body.assignee_id")
        ticket.assignee_id, ticket.updated_at = target, now
        names = await _names(tx.session, [ticket])
        _remark(
            tx,
            ticket,
            "assign",
            ctx.actor.user_id,
            f"指派给 {names.users.get(target or 0, '')} {note}".strip(),
            now,
        )
        if target != ctx.actor.user_id and target is not None:
            await inbox.tell(tx, [target], "ticket", f"指派给您：{ticket.number} {ticket.title}", body=note,
                             link=f"/tickets/{ticket.id}")  # fmt: skip
        return _out(ctx, ticket, names)


async def add_note(ctx: Context, ticket_id: int, note: str, *, now: datetime | None = None) -> TicketOut:
    if not (ctx.actor.can(P.TICKETS_WRITE) or ctx.actor.can(P.TICKETS_PROCESS)):
        ctx.require(P.TICKETS_WRITE)
    now = now or utcnow()
    async with ctx.write() as tx:
        ticket = await _ticket(tx.session, ticket_id, lock=True)
        _remark(tx, ticket, "note", ctx.actor.user_id, note, now)
        ticket.updated_at = now
        said = f"{ctx.actor.display_name} 在工单 {ticket.number} 中提到您"
        await inbox.mention(tx, note, author=ctx.actor.user_id, title=said, link=f"/tickets/{ticket.id}",
                            readers=P.TICKETS_READ)  # fmt: skip
        return _out(ctx, ticket, await _names(tx.session, [ticket]))


async def update_fields(ctx: Context, ticket_id: int, values: dict[str, Any]) -> TicketOut:
    ctx.require(P.TICKETS_WRITE)
    async with ctx.write() as tx:
        ticket = await _ticket(tx.session, ticket_id, lock=True)
        if ticket.status in ("closed", "merged"):
            raise TicketTransitionRefused("A closed ticket's form is not changed", field="ticket_id")
        kind = await _type(tx.session, ticket.type_id)
        defined = {d["key"] for d in kind.fields}
        # values of fields the type no longer has stay as they were recorded; only the form's
        # current fields are checked (and what the caller sends must be one of them)
        former = {k: v for k, v in ticket.fields.items() if k not in defined}
        current = {k: v for k, v in ticket.fields.items() if k in defined}
        ticket.fields = former | custom_fields.check_values(kind.fields, current | values)
        _remark(tx, ticket, "fields", ctx.actor.user_id, "修改表单："
                + "，".join(f"{k}={v}" for k, v in values.items()), utcnow())  # fmt: skip
        return _out(ctx, ticket, await _names(tx.session, [ticket]))


# ---------------------------------------------------------------- complaints


async def investigate(ctx: Context, ticket_id: int, data: ComplaintIn) -> TicketOut:
    """A complaint's severity, the responsible department/person found in the investigation, the
    authority's reference for a complaint passed down."""
    if not any(ctx.actor.can(p) for p in (P.TICKETS_PROCESS, P.TICKETS_DISPATCH, P.TICKETS_AUDIT)):
        ctx.require(P.TICKETS_PROCESS)
    async with ctx.write() as tx:
        ticket = await _ticket(tx.session, ticket_id, lock=True)
        kind = await _type(tx.session, ticket.type_id)
        if kind.kind != "complaint":
            raise NotAComplaint("Only a complaint names a responsible department", field="ticket_id")
        said = []
        if data.responsible_unit_id is not None:
            unit = await _unit(tx.session, data.responsible_unit_id, "body.responsible_unit_id")
            ticket.responsible_unit_id = unit.id
            said.append(f"责任部门：{unit.name}")
        if data.responsible_user_id is not None:
            person = await tx.session.get(User, data.responsible_user_id)
            if person is None:
                raise NotFound(f"No user {data.responsible_user_id}", field="body.responsible_user_id")
            ticket.responsible_user_id = person.id
            said.append(f"责任人：{person.display_name}")
        if data.severity is not None and data.severity != ticket.severity:
            said.append(f"严重程度：{ticket.severity} → {data.severity}")
            ticket.severity, ticket.priority = data.severity, min(ticket.priority, PRIORITY[data.severity])
        if data.external_ref is not None:
            ticket.external_ref = data.external_ref
        if data.authority is not None:
            ticket.authority = data.authority
        _remark(
            tx, ticket, "investigate", ctx.actor.user_id, "；".join([*said, data.note]).strip("；"), utcnow()
        )
        await _refresh_due(tx.session, ticket, utcnow())
        return _out(ctx, ticket, await _names(tx.session, [ticket]))


async def _escalation_targets(session: AsyncSession, ticket: Ticket, level: int) -> list[int]:
    """Level 1: the lead of the ticket's (or the responsible) unit; level 2: the lead of the unit
    above; beyond, or when a level has no lead: the supervisors (who audit)."""
    unit_id = ticket.responsible_unit_id or ticket.unit_id
    unit = await session.get(Unit, unit_id) if unit_id else None
    for _ in range(level - 1):
        unit = await session.get(Unit, unit.parent_id) if unit is not None and unit.parent_id else None
    if unit is not None and unit.lead_id is not None:
        return [unit.lead_id]
    return await inbox.holders_of(session, P.TICKETS_AUDIT)


async def escalate(ctx: Context, ticket_id: int, note: str, *, now: datetime | None = None) -> TicketOut:
    """To the next level (in-app): the ticket's escalation level goes up by one."""
    ctx.require(P.TICKETS_WRITE)
    now = now or utcnow()
    async with ctx.write() as tx:
        ticket = await _ticket(tx.session, ticket_id, lock=True)
        if ticket.status not in state.OPEN and ticket.status != "completed":
            raise TicketTransitionRefused("Only an open ticket is escalated", field="ticket_id")
        await _escalate(tx, ticket, note, ctx.actor.user_id, now)
        return _out(ctx, ticket, await _names(tx.session, [ticket]))


async def _escalate(tx: Tx, ticket: Ticket, note: str, by: int | None, now: datetime) -> None:
    ticket.escalation += 1
    ticket.priority = max(1, ticket.priority - 1)
    targets = await _escalation_targets(tx.session, ticket, ticket.escalation)
    names = (await tx.session.scalars(select(User.display_name).where(User.id.in_(targets)))).all()
    _remark(tx, ticket, "escalate", by, f"升级至第{ticket.escalation}级（{'、'.join(names)}）：{note}", now)
    await inbox.tell(tx, targets, "escalation", f"工单升级（第{ticket.escalation}级）：{ticket.number} {ticket.title}",  # noqa: E501
                     body=note, link=f"/tickets/{ticket.id}")  # fmt: skip


async def tell_result(ctx: Context, ticket_id: int, channel: str, note: str = "",
                      *, now: datetime | None = None) -> TicketOut:  # fmt: skip
    """The customer is told the result: by SMS (the shipped rule sends the result template) or by
    phone (the agent notes what was said). A complaint is closed only after this."""
    ctx.require(P.TICKETS_WRITE)
    if channel == "phone" and not note.strip():
        raise InvalidInput("Say what the customer was told on the phone", field="body.note")
    now = now or utcnow()
    async with ctx.write() as tx:
        ticket = await _ticket(tx.session, ticket_id, lock=True)
        kind = await _type(tx.session, ticket.type_id)
        if ticket.status not in ("completed", "audited") or not ticket.result:
            raise TicketTransitionRefused("The result is told once the work is completed", field="ticket_id")
        if channel == "sms" and not ticket.phone:
            raise InvalidInput("The ticket has no phone number to send the SMS to", field="body.channel")
        ticket.told_at, ticket.told_by = now, channel
        said = "短信告知处理结果" if channel == "sms" else f"电话告知处理结果：{note}"
        _remark(tx, ticket, "tell", ctx.actor.user_id, said, now)
        unit_name = (await _unit(tx.session, ticket.unit_id)).name if ticket.unit_id else ""
        if channel == "sms":
            tx.publish(await _notice(tx.session, ticket, kind, "result", unit_name))
        told = _out(ctx, ticket, await _names(tx.session, [ticket]))
    await callbacks.close_call_task(ctx, _result_call(told.number), said)  # the agents' call is done
    return told


async def rate(ctx: Context, ticket_id: int, score: int, note: str = "") -> TicketOut:
    """Follow-up satisfaction (回访) after the ticket is closed."""
    ctx.require(P.TICKETS_WRITE)
    async with ctx.write() as tx:
        ticket = await _ticket(tx.session, ticket_id, lock=True)
        if ticket.status != "closed":
            raise TicketTransitionRefused(
                "Satisfaction is asked once the ticket is closed", field="ticket_id"
            )
        ticket.satisfaction, ticket.satisfaction_note = score, note
        _remark(
            tx, ticket, "satisfaction", ctx.actor.user_id, f"回访满意度 {score}/5 {note}".strip(), utcnow()
        )
        return _out(ctx, ticket, await _names(tx.session, [ticket]))


# ---------------------------------------------------------------- duplicates and links


async def merge(ctx: Context, ticket_id: int, into_id: int, note: str = "") -> TicketOut:
    """A duplicate is merged into the ticket that carries on: it stops (merged), both are linked."""
    ctx.require(P.TICKETS_DISPATCH)
    if into_id == ticket_id:
        raise InvalidInput("A ticket is not merged into itself", field="body.into_id")
    now = utcnow()
    async with ctx.write() as tx:
        ticket = await _ticket(tx.session, ticket_id, lock=True)
        into = await tx.session.get(Ticket, into_id)
        if into is None:
            raise TicketNotFound(f"No ticket {into_id}", field="body.into_id")
        if into.status == "merged":
            raise TicketTransitionRefused("That ticket was itself merged: merge into the one it went to",
                                          field="body.into_id")  # fmt: skip
        kind = await _type(tx.session, ticket.type_id)
        _apply(tx, ticket, kind, state.Move("merge", ctx.actor.user_id, note=f"合并至 {into.number} {note}".strip()),  # noqa: E501
               now)  # fmt: skip
        ticket.merged_into_id, ticket.due_at = into.id, None
        _remark(tx, into, "merge", ctx.actor.user_id, f"合并了重复工单 {ticket.number} {note}".strip(), now)
        await _link(tx.session, ticket.id, into.id, "duplicate", ctx.actor.user_id)
        tx.publish(
            TicketChanged(ticket_id=ticket.id, number=ticket.number, status=ticket.status, action="merge")
        )
        return _out(ctx, ticket, await _names(tx.session, [ticket]))


async def _link(session: AsyncSession, a: int, b: int, kind: str, by: int | None) -> None:
    for one, other in ((a, b), (b, a)):
        have = await session.scalar(
            select(TicketLink).where(TicketLink.ticket_id == one, TicketLink.other_id == other)
        )
        if have is None:
            session.add(TicketLink(ticket_id=one, other_id=other, kind=kind, by=by))


async def link(ctx: Context, ticket_id: int, other_id: int, kind: str) -> list[LinkOut]:
    ctx.require(P.TICKETS_WRITE)
    if other_id == ticket_id:
        raise InvalidInput("A ticket is not linked to itself", field="body.other_id")
    async with ctx.write() as tx:
        ticket = await _ticket(tx.session, ticket_id)
        other = await tx.session.get(Ticket, other_id)
        if other is None:
            raise TicketNotFound(f"No ticket {other_id}", field="body.other_id")
        await _link(tx.session, ticket.id, other.id, kind, ctx.actor.user_id)
        _remark(tx, ticket, "link", ctx.actor.user_id, f"关联工单 {other.number}", utcnow())
        await tx.session.flush()
        return await _links(tx.session, ticket.id)


async def _links(session: AsyncSession, ticket_id: int) -> list[LinkOut]:
    rows = await session.execute(
        select(TicketLink.kind, Ticket).join(Ticket, Ticket.id == TicketLink.other_id)
        .where(TicketLink.ticket_id == ticket_id).order_by(TicketLink.id)
    )  # fmt: skip
    return [LinkOut(other_id=t.id, number=t.number, title=t.title, status=t.status, kind=k) for k, t in rows]


# ---------------------------------------------------------------- reading


def actions_for(actor: Actor, status: str, kind: str, told: bool) -> list[str]:
    """What the actor may do to a ticket in `status` (the ticket page's buttons)."""
    found = [a for a in state.allowed(status) if a != "merge" and actor.can(ACTION_PERMISSION[a])]
    if kind == "complaint" and status == "audited" and not told:
        found = [a for a in found if a != "close"]
    return found


async def get(ctx: Context, ticket_id: int, *, now: datetime | None = None) -> TicketDetail:
    ctx.require(P.TICKETS_READ)
    now = now or utcnow()
    async with ctx.read() as session:
        ticket = await _ticket(session, ticket_id)
        steps = await _steps(session, ticket.id)
        names = await _names(session, [ticket], steps)
        clock, business = await sla_clock(session, ticket, now, steps)
        links = await _links(session, ticket.id)
    out = _out(ctx, ticket, names)
    if ticket.merged_into_id:
        merged_into = next((link.number for link in links if link.other_id == ticket.merged_into_id), None)
        out = out.model_copy(
            update={"customer_status": state.customer_status(ticket.status, None, merged_into)}
        )
    return TicketDetail(
        ticket=out, steps=[_step_out(s, names) for s in steps], links=links,
        sla=_sla_out(clock, business) if ticket.status != "merged" else None,
        actions=actions_for(ctx.actor, ticket.status, out.kind, ticket.told_at is not None),
    )  # fmt: skip


@dataclass
class Filter:
    scope: str = "all"
    status: str | None = None
    """One status or several, comma-separated."""
    type_code: str | None = None
    kind: str | None = None
    unit_id: int | None = None
    severity: str | None = None
    customer_id: int | None = None
    member_number: str | None = None
    source: str | None = None
    sla: str | None = None
    """breached | warning"""
    q: str | None = None
    limit: int = 50
    offset: int = 0


async def _team_units(session: AsyncSession, user_id: int | None) -> list[int]:
    if user_id is None:
        return []
    mine = set((await session.scalars(select(UnitMember.unit_id).where(UnitMember.user_id == user_id))).all())
    mine |= set((await session.scalars(select(Unit.id).where(Unit.lead_id == user_id))).all())
    return sorted(mine)


async def _query(session: AsyncSession, ctx: Context, f: Filter) -> Select[Ticket]:
    query = select(Ticket)
    me = ctx.actor.user_id
    if f.scope == "mine":
        query = query.where(Ticket.assignee_id == me)
    elif f.scope == "team":
        query = query.where(Ticket.unit_id.in_(await _team_units(session, me)))
    elif f.scope == "unassigned":
        query = query.where(Ticket.assignee_id.is_(None), Ticket.status.in_(state.OPEN))
    if f.status:
        query = query.where(Ticket.status.in_([s for s in f.status.split(",") if s]))
    if f.type_code:
        query = query.where(Ticket.type_id.in_(select(TicketType.id).where(TicketType.code == f.type_code)))
    if f.kind:
        query = query.where(Ticket.type_id.in_(select(TicketType.id).where(TicketType.kind == f.kind)))
    if f.unit_id:
        query = query.where(Ticket.unit_id == f.unit_id)
    if f.severity:
        query = query.where(Ticket.severity == f.severity)
    if f.customer_id:
        query = query.where(Ticket.customer_id == f.customer_id)
    if f.member_number:
        query = query.where(Ticket.customer_id.in_(
            select(Customer.id).where(Customer.member_number == f.member_number)))  # fmt: skip
    if f.source:
        query = query.where(Ticket.source == f.source)
    if f.sla == "breached":
        query = query.where(Ticket.sla_breached_at.is_not(None), Ticket.status.in_(state.OPEN))
    elif f.sla == "warning":
        query = query.where(Ticket.sla_warned_at.is_not(None), Ticket.sla_breached_at.is_(None),
                            Ticket.status.in_(state.OPEN))  # fmt: skip
    if f.q:
        like = f"%{f.q.strip()}%"
        query = query.where(
            or_(Ticket.number.like(like), Ticket.title.like(like), Ticket.contact_name.like(like))
        )
    return query


async def find(ctx: Context, f: Filter) -> TicketPage:
    ctx.require(P.TICKETS_READ)
    async with ctx.read() as session:
        query = await _query(session, ctx, f)
        total = int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)
        rows = list((await session.scalars(
            query.order_by(Ticket.priority, Ticket.id.desc()).limit(f.limit).offset(f.offset)
        )).all())  # fmt: skip
        names = await _names(session, rows)
    return TicketPage(items=[_out(ctx, t, names) for t in rows], total=total)


async def counts(ctx: Context) -> Counts:
    ctx.require(P.TICKETS_READ)
    async with ctx.read() as session:

        async def n(f: Filter) -> int:
            query = await _query(session, ctx, f)
            return int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)

        todo = "dispatched,in_process,pending"
        return Counts(
            dispatch=await n(Filter(status="new")), redispatch=await n(Filter(status="rejected")),
            todo=await n(Filter(scope="team", status=todo)), audit=await n(Filter(status="completed")),
            mine=await n(Filter(scope="mine", status=todo)), team=await n(Filter(scope="team", status=todo)),
            unassigned=await n(Filter(scope="unassigned")), breached=await n(Filter(sla="breached")),
        )  # fmt: skip


async def status_query(
    ctx: Context, *, member_number: str | None = None, phone: str | None = None, number: str | None = None
) -> list[StatusQuery]:
    """业务查询: a customer's tickets by member number (用户证号), phone or ticket number, each with
    where it stands and the steps it went through (D5)."""
    ctx.require(P.TICKETS_READ)
    if not (member_number or phone or number):
        raise InvalidInput("Give a member number, a phone or a ticket number", field="member_number")
    async with ctx.read() as session:
        query = select(Ticket)
        if number:
            query = query.where(Ticket.number == number)
        if member_number:
            query = query.where(Ticket.customer_id.in_(
                select(Customer.id).where(Customer.member_number == member_number)))  # fmt: skip
        if phone:
            digits = "".join(ch for ch in phone if ch.isdigit())[-11:]
            query = query.where(Ticket.phone.like(f"%{digits}"))
        tickets = list((await session.scalars(query.order_by(Ticket.id.desc()).limit(50))).all())
        steps = list((await session.scalars(
            select(TicketStep).where(TicketStep.ticket_id.in_([t.id for t in tickets])).order_by(TicketStep.id)  # noqa: E501
        )).all())  # fmt: skip
        names = await _names(session, tickets, steps)
    found = []
    for ticket in tickets:
        out = _out(ctx, ticket, names)
        found.append(StatusQuery(
            number=ticket.number, type_name=out.type_name, title=ticket.title, status=ticket.status,
            customer_status=out.customer_status, created_at=ticket.created_at,
            steps=[_step_out(s, names) for s in steps if s.ticket_id == ticket.id],
        ))  # fmt: skip
    return found


# ---------------------------------------------------------------- the SLA sweep


async def sla_sweep(ctx: Context, *, now: datetime | None = None) -> dict[str, int]:
    """Warn before a breach (the assignee, else the unit's staff) and escalate on a breach, each
    once per ticket; response breaches tell the unit's lead. Keeps `due_at` current."""
    now = now or utcnow()
    done = {"warned": 0, "breached": 0, "response": 0}
    async with ctx.read() as session:
        ids = list((await session.scalars(
            select(Ticket.id).where(Ticket.status.in_(state.OPEN)).order_by(Ticket.id)
        )).all())  # fmt: skip
    for ticket_id in ids:
        async with ctx.write() as tx:
            ticket = await _ticket(tx.session, ticket_id, lock=True)
            if ticket.status not in state.OPEN:
                continue
            clock, _ = await sla_clock(tx.session, ticket, now)
            ticket.due_at = clock.due_at if clock.running else None
            link = f"/tickets/{ticket.id}"
            if clock.state == "breached" and ticket.sla_breached_at is None:
                ticket.sla_breached_at = now
                if ticket.sla_warned_at is None:
                    ticket.sla_warned_at = now
                await _escalate(tx, ticket, "超过处理时限（SLA）自动升级", None, now)
                done["breached"] += 1
            elif clock.state in ("warning", "breached") and ticket.sla_warned_at is None:
                ticket.sla_warned_at = now
                people = [ticket.assignee_id] if ticket.assignee_id else (
                    await members(tx.session, ticket.unit_id) if ticket.unit_id else
                    await inbox.holders_of(tx.session, P.TICKETS_DISPATCH))  # fmt: skip
                await inbox.tell(tx, people, "sla", f"即将超时：{ticket.number} {ticket.title}",
                                 body=f"剩余 {int(clock.resolve_left.total_seconds() // 60)} 分钟（工作时间）",  # noqa: E501
                                 link=link)  # fmt: skip
                _remark(tx, ticket, "sla_warning", None, "即将超过处理时限，已提醒", now)
                done["warned"] += 1
            if clock.response_breached and not clock.response_met and ticket.response_breached_at is None:
                ticket.response_breached_at = now
                leads = await _escalation_targets(tx.session, ticket, 1)
                await inbox.tell(tx, leads, "sla", f"响应超时：{ticket.number} {ticket.title}", link=link)
                done["response"] += 1
    return done


# ---------------------------------------------------------------- boards and the SLA report


async def unit_board(ctx: Context, unit_id: int) -> tuple[list[tuple[str, list[TicketOut]]], int]:
    """A department's or work area's tickets by state (the work-area view)."""
    ctx.require(P.TICKETS_READ)
    columns = ("dispatched", "in_process", "pending", "completed")
    async with ctx.read() as session:
        await _unit(session, unit_id, "unit_id")
        rows = list((await session.scalars(
            select(Ticket).where(Ticket.unit_id == unit_id, Ticket.status.in_(columns))
            .order_by(Ticket.priority, Ticket.id).limit(400)
        )).all())  # fmt: skip
        names = await _names(session, rows)
    return [(c, [_out(ctx, t, names) for t in rows if t.status == c]) for c in columns], unit_id


@dataclass
class _Tally:
    label: str
    total: int = 0
    open: int = 0
    breached: int = 0
    response_breached: int = 0
    warning: int = 0
    met: int = 0
    resolve_minutes: float = 0.0
    resolved: int = 0


async def sla_report(ctx: Context, *, days: int = 30, now: datetime | None = None) -> dict[str, Any]:
    """Per type, unit and severity: tickets, open, breached (resolution and first response), at
    warning, met, the share met and the mean working minutes to resolve; and the open tickets most
    at risk."""
    ctx.require(P.TICKETS_READ)
    now = now or utcnow()
    since = now - timedelta(days=days)
    async with ctx.read() as session:
        tickets = list((await session.scalars(
            select(Ticket).where(Ticket.created_at >= since, Ticket.status != "merged")
        )).all())  # fmt: skip
        steps = list((await session.scalars(
            select(TicketStep).where(TicketStep.ticket_id.in_(select(Ticket.id).where(Ticket.created_at >= since)))  # noqa: E501
            .order_by(TicketStep.id)
        )).all())  # fmt: skip
        days_rows = [(d, k) for d, k in await session.execute(select(CalendarDay.day, CalendarDay.kind))]
        policy_rows = list((await session.scalars(select(SlaPolicy))).all())
        names = await _names(session, tickets)
    calendars = {b: sla.Calendar.of(days_rows, around_the_clock=not b) for b in (True, False)}
    by_ticket: dict[int, list[TicketStep]] = {}
    for step in steps:
        by_ticket.setdefault(step.ticket_id, []).append(step)
    tallies: dict[str, dict[str, _Tally]] = {"type": {}, "unit": {}, "severity": {}}
    risky: list[tuple[timedelta, Ticket]] = []
    for ticket in tickets:
        chosen = sorted((p for p in policy_rows if p.severity == ticket.severity
                         and p.type_id in (ticket.type_id, None)), key=lambda p: p.type_id is None)  # fmt: skip  # noqa: E501
        targets, business = DEFAULT_TARGETS, True
        if chosen:
            p = chosen[0]
            targets = sla.Targets(timedelta(minutes=p.response_minutes), timedelta(minutes=p.resolve_minutes),
                                  p.warn_percent)  # fmt: skip
            business = p.business_hours
        moves = _moves(by_ticket.get(ticket.id, [])) or [(ticket.created_at, ticket.status)]
        clock = sla.clock(calendars[business], targets, moves, now, ticket.first_response_at)
        kind = names.types.get(ticket.type_id)
        keys = {
            "type": (kind.code if kind else "?", kind.name if kind else "?"),
            "unit": (str(ticket.unit_id or 0), names.units.get(ticket.unit_id or 0, "未派单")),
            "severity": (ticket.severity, ticket.severity),
        }
        for dimension, (key, label) in keys.items():
            tally = tallies[dimension].setdefault(key, _Tally(label))
            tally.total += 1
            tally.open += ticket.status in state.OPEN
            tally.breached += clock.state == "breached" or (
                clock.stopped and clock.resolve_used >= targets.resolve
            )
            tally.response_breached += clock.response_breached
            tally.warning += clock.state == "warning"
            tally.met += clock.state == "met"
            if clock.stopped:
                tally.resolved += 1
                tally.resolve_minutes += clock.resolve_used.total_seconds() / 60
        if ticket.status in state.OPEN and clock.state in ("warning", "breached"):
            risky.append((clock.resolve_left, ticket))
    risky.sort(key=lambda pair: pair[0])

    def rows(dimension: str) -> list[dict[str, Any]]:
        return [
            {"key": key, "label": t.label, "total": t.total, "open": t.open, "breached": t.breached,
             "response_breached": t.response_breached, "warning": t.warning, "met": t.met,
             "met_rate": round(t.met / t.resolved, 3) if t.resolved else None,
             "avg_resolve_minutes": round(t.resolve_minutes / t.resolved, 1) if t.resolved else None}
            for key, t in sorted(tallies[dimension].items(), key=lambda kv: -kv[1].total)
        ]  # fmt: skip

    return {"days": days, "by_type": rows("type"), "by_unit": rows("unit"), "by_severity": rows("severity"),
            "at_risk": [_out(ctx, t, names) for _, t in risky[:20]]}  # fmt: skip
