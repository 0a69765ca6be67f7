"""What a ticket's change writes besides the ticket: its history row (one per step, the
timeline and the record the SLA clock is derived from), the event that follows the commit, and
the notice the customer's messages are made from."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.context import Tx
from hotline.core.lifecycle import Step as LifecycleStep
from hotline.core.rows import get_or_404
from hotline.crm import directory as customers
from hotline.tickets import state
from hotline.tickets.errors import TicketNotFound
from hotline.tickets.events import TicketNotice, TicketStepped
from hotline.tickets.models import Ticket, TicketStep, TicketType


async def load(session: AsyncSession, ticket_id: int, *, lock: bool = False) -> Ticket:
    return await get_or_404(session, Ticket, ticket_id, "ticket", for_update=lock, error=TicketNotFound)


def snapshot(ticket: Ticket, kind: TicketType) -> state.Snapshot:
    return state.Snapshot(
        status=ticket.status,
        unit_id=ticket.unit_id,
        assignee_id=ticket.assignee_id,
        processor_id=ticket.processor_id,
        auditor_id=ticket.auditor_id,
        result=ticket.result,
        told=ticket.told_at is not None,
        must_tell=kind.kind == "complaint",
    )


def record(tx: Tx, ticket: Ticket, step: state.Step, at: datetime) -> TicketStep:
    """The step as a history row (and its event after commit)."""
    row = TicketStep(ticket_id=ticket.id, at=at, unit_id=step.unit_id, assignee_id=step.assignee_id)
    row.record(
        LifecycleStep(step.action, step.before, step.after, step.by), step.note[: TicketStep.__note_length__]
    )
    tx.session.add(row)
    tx.publish(
        TicketStepped(
            ticket_id=ticket.id,
            number=ticket.number,
            action=step.action,
            before=step.before,
            after=step.after,
            by=step.by,
            note=row.note,
        )
    )
    return row


def remark(tx: Tx, ticket: Ticket, action: str, by: int | None, note: str, at: datetime) -> None:
    """A step that does not move the ticket (a note, an assignment, an escalation)."""
    step = state.Step(action, ticket.status, ticket.status, by, ticket.unit_id, ticket.assignee_id, note)
    record(tx, ticket, step, at)


async def notice(
    session: AsyncSession, ticket: Ticket, kind: TicketType, occasion: str, unit_name: str
) -> TicketNotice:
    customer = await customers.card(session, ticket.customer_id)
    return TicketNotice(
        occasion=occasion,
        ref=f"ticket:{ticket.number}",
        customer_id=ticket.customer_id,
        phone=ticket.phone,
        email=ticket.email or (customer.email if customer else ""),
        number=ticket.number,
        type_name=kind.name,
        title=ticket.title,
        customer_name=customer.name if customer else ticket.contact_name,
        title_of_address=customer.title if customer else "",
        status=state.customer_status(ticket.status, unit_name),
        unit=unit_name,
        result=ticket.result,
        severity=ticket.severity,
    )
