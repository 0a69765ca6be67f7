"""Duplicates and related tickets: a duplicate is merged into the ticket that carries on (it
stops, merged, and both are linked); any two tickets may be linked."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.core.errors import InvalidInput
from hotline.core.permissions import Permission
from hotline.core.rows import get_or_404
from hotline.tickets import state
from hotline.tickets.commands import apply, type_of
from hotline.tickets.errors import TicketNotFound, TicketTransitionRefused
from hotline.tickets.events import TicketChanged
from hotline.tickets.models import Ticket, TicketLink
from hotline.tickets.queries import links_of, shown
from hotline.tickets.records import load, remark
from hotline.tickets.schemas import LinkOut, TicketOut


async def merge(ctx: Context, ticket_id: int, into_id: int, note: str = "") -> TicketOut:
    """A duplicate is merged into the ticket that carries on: it stops (merged), both are linked."""
    ctx.require(Permission.TICKETS_DISPATCH)
    if into_id == ticket_id:
        raise InvalidInput(
            "A ticket is not merged into itself", field="body.into_id", reason="ticket-not-merged-into-itself"
        )
    now = utcnow()
    async with ctx.write() as tx:
        ticket = await load(tx.session, ticket_id, lock=True)
        into = await get_or_404(
            tx.session, Ticket, into_id, "ticket", field="body.into_id", error=TicketNotFound
        )
        if into.status == "merged":
            raise TicketTransitionRefused(
                "That ticket was itself merged: merge into the one it went to",
                field="body.into_id",
                reason="ticket-was-itself-merged-merge",
            )
        kind = await type_of(tx.session, ticket.type_id)
        merged = f"合并至 {into.number} {note}".strip()
        apply(tx, ticket, kind, state.Move("merge", ctx.actor.user_id, note=merged), now)
        ticket.merged_into_id, ticket.due_at = into.id, None
        remark(tx, into, "merge", ctx.actor.user_id, f"合并了重复工单 {ticket.number} {note}".strip(), now)
        await _link(tx.session, ticket.id, into.id, "duplicate", ctx.actor.user_id)
        tx.publish(
            TicketChanged(ticket_id=ticket.id, number=ticket.number, status=ticket.status, action="merge")
        )
        return await shown(tx.session, ticket)


async def _link(session: AsyncSession, a: int, b: int, kind: str, by: int | None) -> None:
    for one, other in ((a, b), (b, a)):
        have = await session.scalar(
            select(TicketLink).where(TicketLink.ticket_id == one, TicketLink.other_id == other)
        )
        if have is None:
            session.add(TicketLink(ticket_id=one, other_id=other, kind=kind, by=by))


async def link(ctx: Context, ticket_id: int, other_id: int, kind: str) -> list[LinkOut]:
    ctx.require(Permission.TICKETS_WRITE)
    if other_id == ticket_id:
        raise InvalidInput(
            "A ticket is not linked to itself", field="body.other_id", reason="ticket-not-linked-itself"
        )
    async with ctx.write() as tx:
        ticket = await load(tx.session, ticket_id)
        other = await get_or_404(
            tx.session, Ticket, other_id, "ticket", field="body.other_id", error=TicketNotFound
        )
        await _link(tx.session, ticket.id, other.id, kind, ctx.actor.user_id)
        remark(tx, ticket, "link", ctx.actor.user_id, f"关联工单 {other.number}", utcnow())
        await tx.session.flush()
        return await links_of(tx.session, ticket.id)
