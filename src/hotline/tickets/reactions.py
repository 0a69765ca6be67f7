"""What follows a ticket's step in other domains, after its commit (core/reactions.py).

- the customer's timeline (crm): opened, dispatched, re-dispatched, completed, closed, reopened;
  once per step (and per reopening and misdispatch);
- the call it was opened on (contact) notes the ticket;
- call tasks (contact): a closed emergency puts the rescued customer on the call list for
  after-care (S5); an audited complaint whose customer was not told yet puts them on the call list
  to hear the result (S3), and telling them (by phone or SMS) closes that call.

Each is idempotent: one timeline entry per reference, one open task per reference.
"""

from __future__ import annotations

from hotline.contact import callbacks
from hotline.contact.calls import records as call_records
from hotline.core.context import Actor, Context
from hotline.core.reactions import reacts_to
from hotline.crm import timeline
from hotline.tickets.events import TicketStepped
from hotline.tickets.models import Ticket, TicketType
from hotline.tickets.queries import shown

ON_TIMELINE = {
    "create": "受理", "dispatch": "派单", "redispatch": "重复派单", "complete": "完成", "close": "办结",
    "reopen": "重新打开",
}  # fmt: skip


def result_call(number: str) -> str:
    """The call task in which an agent tells a complaint's customer the result."""
    return f"ticket:{number}:result"


async def _load(ctx: Context, ticket_id: int) -> tuple[Ticket, TicketType] | None:
    async with ctx.read() as session:
        ticket = await session.get(Ticket, ticket_id)
        kind = await session.get(TicketType, ticket.type_id) if ticket else None
    return None if ticket is None or kind is None else (ticket, kind)


@reacts_to(TicketStepped)
async def on_the_customers_timeline(ctx: Context, event: TicketStepped) -> None:
    what = ON_TIMELINE.get(event.action)
    if what is None or (event.before == event.after and event.action != "create"):
        return
    async with ctx.read() as session:
        ticket = await session.get(Ticket, event.ticket_id)
        if ticket is None or ticket.customer_id is None:
            return
        out = await shown(session, ticket)
    result = f" · {out.result}" if what in ("完成", "办结") and out.result else ""
    await timeline.add(
        ctx.as_actor(Actor.system("tickets")),
        ticket.customer_id,
        "ticket",
        f"{out.type_name} {out.number} {what}：{out.title}",
        ref=f"ticket:{out.number}:{what}:{out.reopened}:{out.misdispatches}",
        detail=out.customer_status + result,
    )


@reacts_to(TicketStepped)
async def the_call_it_was_opened_on(ctx: Context, event: TicketStepped) -> None:
    if event.action != "create":
        return
    found = await _load(ctx, event.ticket_id)
    if found is not None and found[0].call_id:
        ticket, kind = found
        await call_records.note_on_call(
            ctx, ticket.call_id or "", "ticket", f"工单 {ticket.number} {kind.name}"
        )


@reacts_to(TicketStepped)
async def call_tasks(ctx: Context, event: TicketStepped) -> None:
    if event.action == "tell":  # the agents' call is done
        await callbacks.close_call_task(ctx, result_call(event.number), event.note)
        return
    if event.action not in ("close", "audit") or event.before == event.after:
        return
    found = await _load(ctx, event.ticket_id)
    if found is None or not found[0].phone:
        return
    ticket, kind = found
    system = ctx.as_actor(Actor.system("tickets"))
    if event.action == "close" and kind.kind == "emergency":  # after-care (S5): call the rescued back
        await callbacks.open_call_task(
            system, ticket.phone, f"ticket:{ticket.number}", "aftercare", queue="emergency"
        )
    if event.action == "audit" and kind.kind == "complaint" and ticket.told_at is None:
        # the audited result is the customer's to hear (S3): a call for an agent, unless told by SMS first
        await callbacks.open_call_task(system, ticket.phone, result_call(ticket.number), "tell_result")
