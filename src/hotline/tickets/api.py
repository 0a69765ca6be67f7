"""Routes for tickets, complaints and work orders. Static paths come before `/{ticket_id}`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from hotline.core.context import Context
from hotline.core.permissions import Permission
from hotline.core.web import IdPath, requires
from hotline.tickets import admin, commands, complaints, links, queries, reports
from hotline.tickets.chat_api import router as chat_router
from hotline.tickets.schemas import (
    AssignIn,
    BoardColumn,
    CalendarDayIn,
    CalendarDayOut,
    ComplaintIn,
    Counts,
    EscalateIn,
    FieldsIn,
    LinkIn,
    LinkOut,
    NoteIn,
    PolicyIn,
    PolicyOut,
    SatisfactionIn,
    SlaReport,
    StatusQuery,
    TellIn,
    TicketDetail,
    TicketIn,
    TicketMergeIn,
    TicketMoveIn,
    TicketOut,
    TicketPage,
    TypeIn,
    TypeOut,
    UnitBoard,
    UnitIn,
    UnitOut,
    ViewIn,
    ViewOut,
)

router = APIRouter(prefix="/api/tickets", tags=["tickets"])
routers = [router, chat_router]
READ = Annotated[Context, Depends(requires(Permission.TICKETS_READ))]
WRITE = Annotated[Context, Depends(requires(Permission.TICKETS_WRITE))]
DISPATCH = Annotated[Context, Depends(requires(Permission.TICKETS_DISPATCH))]
CONFIGURE = Annotated[Context, Depends(requires(Permission.SETTINGS_WRITE))]
Text = Annotated[str | None, Query(max_length=60)]


@router.get("")
async def find(
    ctx: READ,
    scope: Annotated[str, Query(pattern="^(all|mine|team|unassigned)$")] = "all",
    status: Annotated[str | None, Query(pattern=r"^[a-z_,]{1,120}$")] = None,
    type_code: Text = None,
    kind: Annotated[str | None, Query(pattern="^(general|complaint|emergency)$")] = None,
    unit_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    severity: Annotated[str | None, Query(pattern="^(low|normal|high|critical)$")] = None,
    customer_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    member_number: Annotated[str | None, Query(pattern=r"^[0-9]{1,8}$")] = None,
    source: Text = None,
    sla: Annotated[str | None, Query(pattern="^(breached|warning)$")] = None,
    q: Text = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> TicketPage:
    """The ticket list: my tickets, my team's, unassigned or all, with filters."""
    return await queries.find(ctx, queries.Filter(
        scope=scope, status=status, type_code=type_code, kind=kind, unit_id=unit_id, severity=severity,
        customer_id=customer_id, member_number=member_number, source=source, sla=sla, q=q, limit=limit,
        offset=offset,
    ))  # fmt: skip


@router.post("", status_code=201)
async def create(body: TicketIn, ctx: WRITE) -> TicketOut:
    """Open a ticket (生成表单); `unit_id` dispatches it at once (needs tickets.dispatch)."""
    return await commands.create(ctx, body)


@router.get("/counts")
async def counts(ctx: READ) -> Counts:
    return await queries.counts(ctx)


@router.get("/status")
async def status_query(
    ctx: READ,
    member_number: Annotated[str | None, Query(pattern=r"^[0-9]{1,8}$")] = None,
    phone: Annotated[str | None, Query(pattern=r"^[+0-9 \-]{3,32}$")] = None,
    number: Annotated[str | None, Query(pattern=r"^[0-9]{8}$")] = None,
) -> list[StatusQuery]:
    """业务查询: where a customer's tickets stand, by member number (用户证号), phone or number."""
    return await queries.status_query(ctx, member_number=member_number, phone=phone, number=number)


@router.get("/types")
async def types(ctx: READ, include_inactive: bool = False) -> list[TypeOut]:
    return await admin.types(ctx, include_inactive=include_inactive)


@router.post("/types", status_code=201)
async def create_type(body: TypeIn, ctx: CONFIGURE) -> TypeOut:
    return await admin.save_type(ctx, body)


@router.put("/types/{type_id}")
async def update_type(type_id: IdPath, body: TypeIn, ctx: CONFIGURE) -> TypeOut:
    return await admin.save_type(ctx, body, type_id)


@router.get("/units")
async def units(ctx: READ) -> list[UnitOut]:
    """Departments and work areas with their staff (present or away) and open tickets each."""
    return await admin.units(ctx)


@router.post("/units", status_code=201)
async def create_unit(body: UnitIn, ctx: CONFIGURE) -> UnitOut:
    return await admin.save_unit(ctx, body)


@router.put("/units/{unit_id}")
async def update_unit(unit_id: IdPath, body: UnitIn, ctx: CONFIGURE) -> UnitOut:
    return await admin.save_unit(ctx, body, unit_id)


@router.get("/units/{unit_id}/board")
async def unit_board(unit_id: IdPath, ctx: READ) -> UnitBoard:
    """The work-area view: the unit's tickets by state."""
    columns, _ = await reports.unit_board(ctx, unit_id)
    unit = next(u for u in await admin.units(ctx) if u.id == unit_id)
    return UnitBoard(unit=unit, columns=[BoardColumn(status=s, tickets=t, total=n) for s, t, n in columns])


@router.get("/sla/policies")
async def policies(ctx: READ) -> list[PolicyOut]:
    return await admin.policies(ctx)


@router.put("/sla/policies")
async def save_policy(body: PolicyIn, ctx: CONFIGURE) -> PolicyOut:
    return await admin.save_policy(ctx, body)


@router.get("/sla/calendar")
async def calendar(ctx: READ, year: Annotated[int, Query(ge=2000, le=2100)] = 2026) -> list[CalendarDayOut]:
    """Holidays and make-up workdays of a year (days not listed follow the week)."""
    return await admin.calendar_days(ctx, year)


@router.put("/sla/calendar")
async def save_calendar_day(body: CalendarDayIn, ctx: CONFIGURE) -> CalendarDayOut:
    return await admin.save_calendar_day(ctx, body)


@router.get("/sla/report")
async def sla_report(ctx: READ, days: Annotated[int, Query(ge=1, le=366)] = 30) -> SlaReport:
    return SlaReport.model_validate(await reports.sla_report(ctx, days=days))


@router.get("/views")
async def views(ctx: READ) -> list[ViewOut]:
    """My saved views of the ticket list."""
    return await admin.views(ctx)


@router.post("/views", status_code=201)
async def save_view(body: ViewIn, ctx: READ) -> ViewOut:
    return await admin.save_view(ctx, body)


@router.delete("/views/{view_id}", status_code=204)
async def delete_view(view_id: IdPath, ctx: READ) -> Response:
    await admin.delete_view(ctx, view_id)
    return Response(status_code=204)


@router.get("/{ticket_id}")
async def get(ticket_id: IdPath, ctx: READ) -> TicketDetail:
    """The ticket, its timeline (every step: who, when, note), links, SLA timers, and the actions
    the signed-in user may take now."""
    return await queries.get(ctx, ticket_id)


@router.post("/{ticket_id}/transition")
async def transition(ticket_id: IdPath, body: TicketMoveIn, ctx: READ) -> TicketOut:
    """Move the ticket: dispatch, process, reject (反单, with the misdispatch reason), redispatch
    (重复派单), pend/resume, complete (with the result), audit (审核; not by its processor),
    send_back, close, reopen (with the reason). Each needs its own permission."""
    return await commands.transition(ctx, ticket_id, body)


@router.post("/{ticket_id}/assign")
async def assign(ticket_id: IdPath, body: AssignIn, ctx: READ) -> TicketOut:
    """Assign to staff of the ticket's unit (tickets.dispatch), or take it yourself."""
    return await commands.assign(ctx, ticket_id, body.assignee_id, body.note)


@router.post("/{ticket_id}/notes")
async def add_note(ticket_id: IdPath, body: NoteIn, ctx: READ) -> TicketOut:
    return await commands.add_note(ctx, ticket_id, body.note)


@router.patch("/{ticket_id}/fields")
async def update_fields(ticket_id: IdPath, body: FieldsIn, ctx: WRITE) -> TicketOut:
    return await commands.update_fields(ctx, ticket_id, body.fields)


@router.patch("/{ticket_id}/complaint")
async def investigate(ticket_id: IdPath, body: ComplaintIn, ctx: READ) -> TicketOut:
    """A complaint's severity, responsible department/person, the authority's reference."""
    return await complaints.investigate(ctx, ticket_id, body)


@router.post("/{ticket_id}/escalate")
async def escalate(ticket_id: IdPath, body: EscalateIn, ctx: WRITE) -> TicketOut:
    return await complaints.escalate(ctx, ticket_id, body.note)


@router.post("/{ticket_id}/tell")
async def tell(ticket_id: IdPath, body: TellIn, ctx: WRITE) -> TicketOut:
    """The customer was told the result (phone) or is sent it (SMS through the shipped rule)."""
    return await complaints.tell_result(ctx, ticket_id, body.channel, body.note)


@router.post("/{ticket_id}/satisfaction")
async def satisfaction(ticket_id: IdPath, body: SatisfactionIn, ctx: WRITE) -> TicketOut:
    return await complaints.rate(ctx, ticket_id, body.score, body.note)


@router.post("/{ticket_id}/merge")
async def merge(ticket_id: IdPath, body: TicketMergeIn, ctx: DISPATCH) -> TicketOut:
    """Merge this duplicate into another ticket."""
    return await links.merge(ctx, ticket_id, body.into_id, body.note)


@router.post("/{ticket_id}/links")
async def link(ticket_id: IdPath, body: LinkIn, ctx: WRITE) -> list[LinkOut]:
    return await links.link(ctx, ticket_id, body.other_id, body.kind)
