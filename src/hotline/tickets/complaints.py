"""Complaints (S3): the investigation (severity, the responsible department and person, the
authority's reference), escalation by hand, the result told to the customer — a complaint is
closed only after that — and the satisfaction asked once it is closed."""

from __future__ import annotations

from datetime import datetime

from hotline.admin import directory
from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.core.errors import InvalidInput, NotFound
from hotline.core.permissions import Permission
from hotline.tickets import escalation, state
from hotline.tickets.commands import PRIORITY, type_of, unit_of
from hotline.tickets.deadlines import refresh_due
from hotline.tickets.errors import NotAComplaint, TicketTransitionRefused
from hotline.tickets.queries import shown
from hotline.tickets.records import load, notice, remark
from hotline.tickets.schemas import ComplaintIn, TicketOut

P = Permission


async def investigate(ctx: Context, ticket_id: int, data: ComplaintIn) -> TicketOut:
    """A complaint's severity, the responsible department/person found in the investigation, the
    authority's reference for a complaint passed down."""
    if not any(ctx.actor.can(p) for p in state.INVESTIGATORS):
        ctx.require(P.TICKETS_PROCESS)
    async with ctx.write() as tx:
        ticket = await load(tx.session, ticket_id, lock=True)
        kind = await type_of(tx.session, ticket.type_id)
        if kind.kind != "complaint":
            raise NotAComplaint(
                "Only a complaint names a responsible department",
                field="ticket_id",
                reason="complaint-names-responsible-department",
            )
        said = []
        if data.responsible_unit_id is not None:
            unit = await unit_of(tx.session, data.responsible_unit_id, "body.responsible_unit_id")
            ticket.responsible_unit_id = unit.id
            said.append(f"责任部门：{unit.name}")
        if data.responsible_user_id is not None:
            person = await directory.person(tx.session, data.responsible_user_id)
            if person is None:
                raise NotFound(
                    f"No user {data.responsible_user_id}",
                    field="body.responsible_user_id",
                    reason="no-responsible-user",
                    params={"responsible_user_id": data.responsible_user_id},
                )
            ticket.responsible_user_id = person.id
            said.append(f"责任人：{person.name}")
        if data.severity is not None and data.severity != ticket.severity:
            said.append(f"严重程度：{ticket.severity} → {data.severity}")
            ticket.severity, ticket.priority = data.severity, min(ticket.priority, PRIORITY[data.severity])
        if data.external_ref is not None:
            ticket.external_ref = data.external_ref
        if data.authority is not None:
            ticket.authority = data.authority
        remark(
            tx, ticket, "investigate", ctx.actor.user_id, "；".join([*said, data.note]).strip("；"), utcnow()
        )
        await refresh_due(tx.session, ticket, utcnow())
        return await shown(tx.session, ticket)


async def escalate(ctx: Context, ticket_id: int, note: str, *, now: datetime | None = None) -> TicketOut:
    """To the next level (in-app): the ticket's escalation level goes up by one."""
    ctx.require(P.TICKETS_WRITE)
    now = now or utcnow()
    async with ctx.write() as tx:
        ticket = await load(tx.session, ticket_id, lock=True)
        if ticket.status not in state.ESCALATABLE:
            raise TicketTransitionRefused(
                "Only an open ticket is escalated", field="ticket_id", reason="open-ticket-escalated"
            )
        await escalation.escalate(tx, ticket, note, ctx.actor.user_id, now)
        return await shown(tx.session, ticket)


async def tell_result(
    ctx: Context, ticket_id: int, channel: str, note: str = "", *, now: datetime | None = None
) -> TicketOut:
    """The customer is told the result: by SMS (the shipped rule sends the result template) or by
    phone (the agent notes what was said). A complaint is closed only after this; the agents'
    call to tell it, if one was waiting, is done (tickets/reactions.py)."""
    ctx.require(P.TICKETS_WRITE)
    if channel == "phone" and not note.strip():
        raise InvalidInput(
            "Say what the customer was told on the phone",
            field="body.note",
            reason="say-what-customer-was-told",
        )
    now = now or utcnow()
    async with ctx.write() as tx:
        ticket = await load(tx.session, ticket_id, lock=True)
        kind = await type_of(tx.session, ticket.type_id)
        if ticket.status not in state.TELLABLE or not ticket.result:
            raise TicketTransitionRefused(
                "The result is told once the work is completed",
                field="ticket_id",
                reason="result-told-once-work-completed",
            )
        if channel == "sms" and not ticket.phone:
            raise InvalidInput(
                "The ticket has no phone number to send the SMS to",
                field="body.channel",
                reason="ticket-no-phone-number-send",
            )
        ticket.told_at, ticket.told_by = now, channel
        said = "短信告知处理结果" if channel == "sms" else f"电话告知处理结果：{note}"
        remark(tx, ticket, "tell", ctx.actor.user_id, said, now)
        unit_name = (await unit_of(tx.session, ticket.unit_id)).name if ticket.unit_id else ""
        if channel == "sms":
            tx.publish(await notice(tx.session, ticket, kind, "result", unit_name))
        return await shown(tx.session, ticket)


async def rate(ctx: Context, ticket_id: int, score: int, note: str = "") -> TicketOut:
    """Follow-up satisfaction (回访) after the ticket is closed."""
    ctx.require(P.TICKETS_WRITE)
    async with ctx.write() as tx:
        ticket = await load(tx.session, ticket_id, lock=True)
        if ticket.status != "closed":
            raise TicketTransitionRefused(
                "Satisfaction is asked once the ticket is closed",
                field="ticket_id",
                reason="satisfaction-asked-once-ticket-closed",
            )
        ticket.satisfaction, ticket.satisfaction_note = score, note
        said = f"回访满意度 {score}/5 {note}".strip()
        remark(tx, ticket, "satisfaction", ctx.actor.user_id, said, utcnow())
        return await shown(tx.session, ticket)
