"""Reading tickets: one with its steps, SLA and links; lists by filter; the counts on the
tickets page; the customer's enquiry of where their request stands (业务查询, D5)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.admin import directory
from hotline.core import grants, privacy
from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.core.errors import InvalidInput
from hotline.core.permissions import Permission
from hotline.crm import directory as customers
from hotline.tickets import state
from hotline.tickets.deadlines import sla_clock, sla_out, steps_of
from hotline.tickets.models import Ticket, TicketLink, TicketStep, TicketType, Unit
from hotline.tickets.records import load
from hotline.tickets.schemas import Counts, LinkOut, StatusQuery, StepOut, TicketDetail, TicketOut, TicketPage
from hotline.tickets.staff import team_units

P = Permission
REVEALABLE = privacy.revealable("ticket", Ticket, P.TICKETS_READ)
"""A ticket's contact phone and e-mail may be revealed (core/privacy.py)."""


@dataclass
class Names:
    types: dict[int, TicketType]
    units: dict[int, str]
    users: dict[int, str]
    customers: dict[int, tuple[str, str]]


async def names_of(
    session: AsyncSession, tickets: Sequence[Ticket], steps: Sequence[TicketStep] = ()
) -> Names:
    types = {t.id: t for t in (await session.scalars(select(TicketType))).all()}
    units = {u.id: u.name for u in (await session.scalars(select(Unit))).all()}
    user_ids = {i for t in tickets for i in (t.assignee_id, t.processor_id, t.auditor_id) if i is not None}
    user_ids |= {i for s in steps for i in (s.by, s.assignee_id) if i is not None}
    cards = await customers.cards(session, {t.customer_id for t in tickets if t.customer_id is not None})
    return Names(
        types,
        units,
        await directory.names(session, user_ids),
        {c.id: (c.name, c.member_number) for c in cards.values()},
    )


def out(ticket: Ticket, names: Names) -> TicketOut:
    kind = names.types.get(ticket.type_id)
    unit_name = names.units.get(ticket.unit_id, "") if ticket.unit_id else ""
    customer = names.customers.get(ticket.customer_id) if ticket.customer_id else None
    merged = f"#{ticket.merged_into_id}" if ticket.status == "merged" and ticket.merged_into_id else None
    shown = TicketOut.model_validate(ticket).model_copy(
        update={
            "type_code": kind.code if kind else "",
            "type_name": kind.name if kind else "",
            "kind": kind.kind if kind else "general",
            "unit_name": unit_name,
            "assignee_name": names.users.get(ticket.assignee_id, "") if ticket.assignee_id else "",
            "customer_name": customer[0] if customer else "",
            "member_number": customer[1] if customer else "",
            "status_name": state.STATUS_NAMES.get(ticket.status, ticket.status),
            "customer_status": state.customer_status(ticket.status, unit_name, merged),
        }
    )
    shown._phone_fields = {f["key"] for f in (kind.fields if kind else []) if f.get("type") == "phone"}
    return shown


def step_out(step: TicketStep, names: Names) -> StepOut:
    return StepOut.model_validate(step).model_copy(
        update={
            "by_name": names.users.get(step.by, "") if step.by else "系统",
            "unit_name": names.units.get(step.unit_id, "") if step.unit_id else "",
            "assignee_name": names.users.get(step.assignee_id, "") if step.assignee_id else "",
        }
    )


async def shown(session: AsyncSession, ticket: Ticket) -> TicketOut:
    return out(ticket, await names_of(session, [ticket]))


async def links_of(session: AsyncSession, ticket_id: int) -> list[LinkOut]:
    rows = await session.execute(
        select(TicketLink.kind, Ticket)
        .join(Ticket, Ticket.id == TicketLink.other_id)
        .where(TicketLink.ticket_id == ticket_id)
        .order_by(TicketLink.id)
    )
    return [LinkOut(other_id=t.id, number=t.number, title=t.title, status=t.status, kind=k) for k, t in rows]


async def get(ctx: Context, ticket_id: int, *, now: datetime | None = None) -> TicketDetail:
    ctx.require(P.TICKETS_READ)
    now = now or utcnow()
    async with ctx.read() as session:
        ticket = await load(session, ticket_id)
        steps = await steps_of(session, ticket.id)
        names = await names_of(session, [ticket], steps)
        clock, business = await sla_clock(session, ticket, now, steps)
        links = await links_of(session, ticket.id)
    found = out(ticket, names)
    if ticket.merged_into_id:
        merged_into = next((link.number for link in links if link.other_id == ticket.merged_into_id), None)
        found = found.model_copy(
            update={"customer_status": state.customer_status(ticket.status, None, merged_into)}
        )
    now_state = state.Snapshot(
        status=ticket.status,
        unit_id=ticket.unit_id,
        assignee_id=ticket.assignee_id,
        result=ticket.result,
        told=ticket.told_at is not None,
        must_tell=found.kind == "complaint",
    )
    return TicketDetail(
        ticket=found,
        steps=[step_out(s, names) for s in steps],
        links=links,
        sla=sla_out(clock, business) if ticket.status != "merged" else None,
        actions=state.actions(now_state, ctx.actor) + state.side_actions(now_state, ctx.actor),
    )


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


async def _query(session: AsyncSession, ctx: Context, f: Filter) -> Select[Ticket]:
    query = select(Ticket)
    me = ctx.actor.user_id
    if f.scope == "mine":
        query = query.where(Ticket.assignee_id == me)
    elif f.scope == "team":
        query = query.where(Ticket.unit_id.in_(await team_units(session, me)))
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
        member = await customers.by_member_number(session, f.member_number)
        query = query.where(Ticket.customer_id == (member.id if member else -1))
    if f.source:
        query = query.where(Ticket.source == f.source)
    if f.sla == "breached":
        query = query.where(Ticket.sla_breached_at.is_not(None), Ticket.status.in_(state.OPEN))
    elif f.sla == "warning":
        query = query.where(
            Ticket.sla_warned_at.is_not(None), Ticket.sla_breached_at.is_(None), Ticket.status.in_(state.OPEN)
        )
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
        page = query.order_by(Ticket.priority, Ticket.id.desc()).limit(f.limit).offset(f.offset)
        rows = list((await session.scalars(page)).all())
        names = await names_of(session, rows)
    return TicketPage(items=[out(t, names) for t in rows], total=total)


@grants.reads_call
async def readable_on_call(ctx: Context, call_id: str) -> bool:
    """Whether the reader may read a ticket opened on this call (a voicemail's ticket: its recording
    plays where the ticket shows, for whoever may read the ticket)."""
    if not call_id or not ctx.actor.can(P.TICKETS_READ):
        return False
    async with ctx.read() as session:
        found = await session.scalar(select(Ticket.id).where(Ticket.call_id == call_id).limit(1))
    return found is not None


async def counts(ctx: Context) -> Counts:
    ctx.require(P.TICKETS_READ)
    async with ctx.read() as session:

        async def n(f: Filter) -> int:
            query = await _query(session, ctx, f)
            return int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)

        todo = "dispatched,in_process,pending"
        return Counts(
            dispatch=await n(Filter(status="new")),
            redispatch=await n(Filter(status="rejected")),
            todo=await n(Filter(scope="team", status=todo)),
            audit=await n(Filter(status="completed")),
            mine=await n(Filter(scope="mine", status=todo)),
            team=await n(Filter(scope="team", status=todo)),
            unassigned=await n(Filter(scope="unassigned")),
            breached=await n(Filter(sla="breached")),
        )


async def status_query(
    ctx: Context, *, member_number: str | None = None, phone: str | None = None, number: str | None = None
) -> list[StatusQuery]:
    """业务查询: a customer's tickets by member number (用户证号), phone or ticket number, each with
    where it stands and the steps it went through (D5)."""
    ctx.require(P.TICKETS_READ)
    if not (member_number or phone or number):
        raise InvalidInput(
            "Give a member number, a phone or a ticket number",
            field="member_number",
            reason="give-member-number-phone-ticket",
        )
    async with ctx.read() as session:
        query = select(Ticket)
        if number:
            query = query.where(Ticket.number == number)
        if member_number:
            member = await customers.by_member_number(session, member_number)
            query = query.where(Ticket.customer_id == (member.id if member else -1))
        if phone:
            digits = "".join(ch for ch in phone if ch.isdigit())[-11:]
            query = query.where(Ticket.phone.like(f"%{digits}"))
        tickets = list((await session.scalars(query.order_by(Ticket.id.desc()).limit(50))).all())
        theirs = (
            select(TicketStep)
            .where(TicketStep.ticket_id.in_([t.id for t in tickets]))
            .order_by(TicketStep.id)
        )
        steps = list((await session.scalars(theirs)).all())
        names = await names_of(session, tickets, steps)
    found = []
    for ticket in tickets:
        shown_ = out(ticket, names)
        found.append(
            StatusQuery(
                number=ticket.number,
                type_name=shown_.type_name,
                title=ticket.title,
                status=ticket.status,
                customer_status=shown_.customer_status,
                created_at=ticket.created_at,
                steps=[step_out(s, names) for s in steps if s.ticket_id == ticket.id],
            )
        )
    return found
