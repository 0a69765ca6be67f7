"""Tickets, complaints and work orders (S1–S5): opening them from a call, voicemail, e-mail,
walk-in or web form; dispatching to departments and work areas (round-robin over the staff who
are present, or by hand); processing, rejecting back (反单), re-dispatching (重复派单),
completing, auditing (审核) and closing; emergencies first.

Check then do: every command checks permissions and input first, then changes data in one
transaction through the lifecycle (`state.apply`), recording the step; notices and events go
out after commit, and the customer's timeline and call tasks follow (tickets/reactions.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.admin import directory
from hotline.core.clock import utcnow
from hotline.core.context import Context, Tx
from hotline.core.db import next_number
from hotline.core.errors import InvalidInput, NotFound
from hotline.core.permissions import Permission
from hotline.core.rows import get_or_404
from hotline.crm import directory as customers
from hotline.notify import conversations, inbox
from hotline.tickets import fields as custom_fields
from hotline.tickets import state
from hotline.tickets.deadlines import refresh_due
from hotline.tickets.errors import NotAMember, TicketTransitionRefused
from hotline.tickets.events import TicketChanged
from hotline.tickets.models import Ticket, TicketType, Unit
from hotline.tickets.queries import names_of, out, shown
from hotline.tickets.records import load, notice, record, remark, snapshot
from hotline.tickets.schemas import TicketIn, TicketMoveIn, TicketOut
from hotline.tickets.staff import members, next_in_turn

P = Permission
FIRST_NUMBER = 70_000_001
PRIORITY = {"critical": 1, "high": 2, "normal": 3, "low": 4}
OCCASIONS = {
    "dispatch": "dispatched", "redispatch": "dispatched", "reject": "rejected", "complete": "completed",
    "close": "closed", "reopen": "reopened",
}  # fmt: skip
"""The steps the customer is sent a message on (by the notification rules)."""
ORIGIN = {
    "call": "来电",
    "voicemail": "语音留言",
    "email": "邮件",
    "walk_in": "上门",
    "web": "网页表单",
    "chat": "在线会话",
}


async def type_of(session: AsyncSession, type_id: int) -> TicketType:
    return await get_or_404(session, TicketType, type_id, "ticket type", field="type_id")


async def unit_of(session: AsyncSession, unit_id: int, field: str = "body.unit_id") -> Unit:
    unit = await session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(
            f"No department or work area {unit_id}",
            field=field,
            reason="no-department-work-area",
            params={"unit_id": unit_id},
        )
    return unit


async def _customer(session: AsyncSession, data: TicketIn) -> customers.Card | None:
    if data.customer_id is not None:
        customer = await customers.card(session, data.customer_id)
        if customer is None or customer.anonymised:
            raise NotFound(
                f"No customer {data.customer_id}",
                field="body.customer_id",
                reason="no-customer",
                params={"customer_id": data.customer_id},
            )
        return customer
    if data.member_number:
        customer = await customers.by_member_number(session, data.member_number)
        if customer is None or customer.anonymised:
            raise NotFound(
                f"No customer with member number {data.member_number}",
                field="body.member_number",
                reason="no-customer-member-number",
                params={"member_number": data.member_number},
            )
        return customer
    return None


async def create(
    ctx: Context,
    data: TicketIn,
    *,
    now: datetime | None = None,
    source_ref: str | None = None,
    attachment: str = "",
    partial: bool = False,
) -> TicketOut:
    """Open a ticket; `partial` (intake) lets required form fields wait for staff."""
    ctx.require(P.TICKETS_WRITE)
    if data.unit_id is not None:
        ctx.require(P.TICKETS_DISPATCH)
    now = now or utcnow()
    async with ctx.write() as tx:
        kind = await tx.session.scalar(select(TicketType).where(TicketType.code == data.type_code))
        if kind is None or not kind.active:
            raise InvalidInput(
                f"No ticket type {data.type_code}",
                field="body.type_code",
                reason="no-ticket-type-code",
                params={"type_code": data.type_code},
            )
        values = custom_fields.check_values(kind.fields, data.fields, partial=partial)
        customer = await _customer(tx.session, data)
        chat = data.conversation_id
        if chat is not None and not await conversations.exists(tx.session, chat):
            raise NotFound(
                f"No conversation {data.conversation_id}", field="body.conversation_id",
                reason="no-conversation", params={"conversation_id": data.conversation_id},
            )  # fmt: skip
        phone = data.phone.strip()
        if not phone and customer is not None:
            phone = await customers.preferred_phone(tx.session, customer.id) or ""
        severity = data.severity or kind.default_severity
        if kind.kind == "emergency":
            severity = "critical"
        ticket = Ticket(
            number=str(await next_number(tx.session, Ticket.number, FIRST_NUMBER)),
            type_id=kind.id,
            title=data.title,
            content=data.content,
            fields=values,
            customer_id=customer.id if customer else None,
            contact_name=data.contact_name or (customer.name if customer else ""),
            phone=phone,
            email=data.email or (customer.email if customer else ""),
            call_id=data.call_id,
            conversation_id=data.conversation_id,
            source=data.source,
            source_ref=source_ref,
            attachment=attachment[:300],
            severity=severity,
            priority=1 if kind.kind == "emergency" else PRIORITY[severity],
            status="new",
            external_ref=data.external_ref,
            authority=data.authority,
            created_at=now,
            updated_at=now,
            created_by=ctx.actor.user_id,
        )
        tx.session.add(ticket)
        await tx.session.flush()
        origin = ORIGIN.get(data.source) or f"上级部门下转 {data.authority} {data.external_ref}".strip()
        opened = state.Step("create", "", "new", ctx.actor.user_id, None, None, f"{origin}：{data.content}")
        record(tx, ticket, opened, now)
        unit: Unit | None = None
        if data.unit_id is not None:
            unit = await unit_of(tx.session, data.unit_id)
        elif kind.kind == "emergency":
            on_duty = select(Unit).where(Unit.on_duty.is_(True), Unit.active.is_(True)).order_by(Unit.id)
            unit = await tx.session.scalar(on_duty.limit(1))
        if unit is not None:
            note = "紧急救援：立即派单" if kind.kind == "emergency" else "受理时派单"
            await _dispatch(tx, ticket, kind, unit, None, "dispatch", note, ctx.actor.user_id, now)
        if kind.kind == "emergency":
            await _alert_on_duty(tx, ticket)
        await refresh_due(tx.session, ticket, now)
        tx.publish(await notice(tx.session, ticket, kind, "created", unit.name if unit else ""))
        tx.publish(
            TicketChanged(
                ticket_id=ticket.id,
                number=ticket.number,
                status=ticket.status,
                action="create",
                unit_id=ticket.unit_id,
                assignee_id=ticket.assignee_id,
            )
        )
        return await shown(tx.session, ticket)


async def _alert_on_duty(tx: Tx, ticket: Ticket) -> None:
    """紧急救援: every member of the on-duty teams and the supervisors hear of it at once."""
    on_duty = select(Unit.id).where(Unit.on_duty.is_(True), Unit.active.is_(True))
    people: set[int] = set()
    for unit_id in (await tx.session.scalars(on_duty)).all():
        people |= set(await members(tx.session, unit_id))
    people |= set(await directory.holders_of(tx.session, P.TICKETS_AUDIT))
    await inbox.tell(
        tx,
        people,
        "emergency",
        f"【紧急救援】{ticket.title}",
        body=f"工单{ticket.number} {ticket.contact_name} {ticket.phone} {ticket.content}"[:1000],
        link=f"/tickets/{ticket.id}",
    )


async def _dispatch(
    tx: Tx,
    ticket: Ticket,
    kind: TicketType,
    unit: Unit,
    assignee_id: int | None,
    action: str,
    note: str,
    by: int | None,
    now: datetime,
) -> None:
    if assignee_id is not None and assignee_id not in await members(tx.session, unit.id):
        raise NotAMember(
            f"That person is not on the staff of {unit.name}",
            field="body.assignee_id",
            reason="person-not-staff",
            params={"name": unit.name},
        )
    if assignee_id is None and unit.active and unit.auto_assign:
        assignee_id = await next_in_turn(tx.session, unit)
    move = state.Move(
        action, by, note=note, unit_id=unit.id, unit_active=unit.active, assignee_id=assignee_id
    )
    apply(tx, ticket, kind, move, now)
    if ticket.assignee_id is not None:
        await inbox.tell(
            tx,
            [ticket.assignee_id],
            "ticket",
            f"新派单：{kind.name} {ticket.number} {ticket.title}",
            body=note,
            link=f"/tickets/{ticket.id}",
        )


def apply(tx: Tx, ticket: Ticket, kind: TicketType, move: state.Move, now: datetime) -> state.Step:
    """The move through the lifecycle, written to the ticket and its history."""
    after, step = state.apply(snapshot(ticket, kind), move)
    ticket.status, ticket.unit_id, ticket.assignee_id = after.status, after.unit_id, after.assignee_id
    ticket.processor_id, ticket.auditor_id, ticket.result = after.processor_id, after.auditor_id, after.result
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
    record(tx, ticket, step, now)
    return step


async def _may_work(session: AsyncSession, ctx: Context, ticket: Ticket) -> None:
    """Unit work is done by the unit's staff; dispatchers and the system may stand in."""
    if ctx.actor.user_id is None or ctx.actor.can(P.TICKETS_DISPATCH) or ticket.unit_id is None:
        return
    if ctx.actor.user_id not in await members(session, ticket.unit_id):
        unit = await session.get(Unit, ticket.unit_id)
        raise NotAMember(
            f"Only the staff of {unit.name if unit else 'its unit'} work on this ticket",
            reason="staff-work-ticket",
            params={"value": unit.name if unit else "its unit"},
        )


async def transition(
    ctx: Context, ticket_id: int, data: TicketMoveIn, *, now: datetime | None = None
) -> TicketOut:
    ctx.require(state.WHO_MAY[data.action])
    now = now or utcnow()
    async with ctx.write() as tx:
        ticket = await load(tx.session, ticket_id, lock=True)
        kind = await type_of(tx.session, ticket.type_id)
        if data.action in state.UNIT_WORK:
            await _may_work(tx.session, ctx, ticket)
        if data.action in ("dispatch", "redispatch", "reopen"):
            unit_id = data.unit_id or (ticket.unit_id if data.action == "reopen" else None)
            assignee = data.assignee_id
            if data.action == "reopen" and data.unit_id is None:
                assignee = assignee or ticket.assignee_id
            asked = state.Move(data.action, ctx.actor.user_id, note=data.note, unit_id=unit_id)
            if unit_id is None:  # says which rule: the state, or the missing unit
                state.apply(snapshot(ticket, kind), asked)
                raise TicketTransitionRefused(
                    "Choose the department or work area",
                    field="body.unit_id",
                    reason="choose-department-work-area",
                )
            state.apply(snapshot(ticket, kind), asked)  # the state's rules first
            unit = await unit_of(tx.session, unit_id)
            await _dispatch(tx, ticket, kind, unit, assignee, data.action, data.note, ctx.actor.user_id, now)
        else:
            move = state.Move(
                data.action, ctx.actor.user_id, note=data.note, result=data.result, unit_id=None
            )
            apply(tx, ticket, kind, move, now)
            link = f"/tickets/{ticket.id}"
            if data.action == "reject":
                dispatchers = await directory.holders_of(tx.session, P.TICKETS_DISPATCH)
                await inbox.tell(
                    tx,
                    [d for d in dispatchers if d != ctx.actor.user_id],
                    "ticket",
                    f"反单待重复派单：{ticket.number} {ticket.title}",
                    body=data.note,
                    link=link,
                )
            if data.action == "complete":
                auditors = await directory.holders_of(tx.session, P.TICKETS_AUDIT)
                await inbox.tell(
                    tx,
                    [a for a in auditors if a != ctx.actor.user_id],
                    "ticket",
                    f"待审核：{ticket.number} {ticket.title}",
                    body=ticket.result,
                    link=link,
                )
        await refresh_due(tx.session, ticket, now)
        unit_name = (await unit_of(tx.session, ticket.unit_id)).name if ticket.unit_id else ""
        if data.action in OCCASIONS:
            tx.publish(await notice(tx.session, ticket, kind, OCCASIONS[data.action], unit_name))
        tx.publish(
            TicketChanged(
                ticket_id=ticket.id,
                number=ticket.number,
                status=ticket.status,
                action=data.action,
                unit_id=ticket.unit_id,
                assignee_id=ticket.assignee_id,
            )
        )
        return await shown(tx.session, ticket)


async def assign(
    ctx: Context, ticket_id: int, assignee_id: int | None, note: str = "", *, now: datetime | None = None
) -> TicketOut:
    """Manual assignment within the ticket's unit; with no assignee, take it yourself."""
    ctx.require(P.TICKETS_READ)
    target = assignee_id if assignee_id is not None else ctx.actor.user_id
    if target != ctx.actor.user_id or target is None:
        ctx.require(P.TICKETS_DISPATCH)
    elif not ctx.actor.can(P.TICKETS_DISPATCH):
        ctx.require(P.TICKETS_PROCESS)
    now = now or utcnow()
    async with ctx.write() as tx:
        ticket = await load(tx.session, ticket_id, lock=True)
        if ticket.status not in state.ASSIGNABLE or ticket.unit_id is None:
            raise TicketTransitionRefused(
                "Only a dispatched ticket is assigned to staff",
                field="ticket_id",
                reason="dispatched-ticket-assigned-staff",
            )
        unit = await unit_of(tx.session, ticket.unit_id)
        if target not in await members(tx.session, unit.id):
            raise NotAMember(
                f"That person is not on the staff of {unit.name}",
                field="body.assignee_id",
                reason="person-not-staff",
                params={"name": unit.name},
            )
        ticket.assignee_id, ticket.updated_at = target, now
        names = await names_of(tx.session, [ticket])
        said = f"指派给 {names.users.get(target or 0, '')} {note}".strip()
        remark(tx, ticket, "assign", ctx.actor.user_id, said, now)
        if target != ctx.actor.user_id and target is not None:
            await inbox.tell(
                tx,
                [target],
                "ticket",
                f"指派给您：{ticket.number} {ticket.title}",
                body=note,
                link=f"/tickets/{ticket.id}",
            )
        return out(ticket, names)


async def add_note(ctx: Context, ticket_id: int, note: str, *, now: datetime | None = None) -> TicketOut:
    if not (ctx.actor.can(P.TICKETS_WRITE) or ctx.actor.can(P.TICKETS_PROCESS)):
        ctx.require(P.TICKETS_WRITE)
    now = now or utcnow()
    async with ctx.write() as tx:
        ticket = await load(tx.session, ticket_id, lock=True)
        remark(tx, ticket, "note", ctx.actor.user_id, note, now)
        ticket.updated_at = now
        said = f"{ctx.actor.display_name} 在工单 {ticket.number} 中提到您"
        await inbox.mention(
            tx,
            note,
            author=ctx.actor.user_id,
            title=said,
            link=f"/tickets/{ticket.id}",
            readers=P.TICKETS_READ,
        )
        return await shown(tx.session, ticket)


async def update_fields(ctx: Context, ticket_id: int, values: dict[str, Any]) -> TicketOut:
    ctx.require(P.TICKETS_WRITE)
    async with ctx.write() as tx:
        ticket = await load(tx.session, ticket_id, lock=True)
        if ticket.status in ("closed", "merged"):
            raise TicketTransitionRefused(
                "A closed ticket's form is not changed",
                field="ticket_id",
                reason="closed-ticket-form-not-changed",
            )
        kind = await type_of(tx.session, ticket.type_id)
        defined = {d["key"] for d in kind.fields}
        # values of fields the type no longer has stay as they were recorded; only the form's
        # current fields are checked (and what the caller sends must be one of them)
        former = {k: v for k, v in ticket.fields.items() if k not in defined}
        current = {k: v for k, v in ticket.fields.items() if k in defined}
        ticket.fields = former | custom_fields.check_values(kind.fields, current | values)
        said = "修改表单：" + "，".join(f"{k}={v}" for k, v in values.items())
        remark(tx, ticket, "fields", ctx.actor.user_id, said, utcnow())
        return await shown(tx.session, ticket)
