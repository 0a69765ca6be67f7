"""The ticket list as an export (exports/subjects.py): the same filters as GET /api/tickets."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from hotline.admin import directory
from hotline.core.context import Context
from hotline.core.permissions import Permission
from hotline.core.privacy import Kind
from hotline.exports.subjects import Column, Keyset, Row, Source, subject
from hotline.tickets import queries
from hotline.tickets.models import Ticket, TicketType, Unit
from hotline.tickets.state import STATUS_NAMES

Text = Annotated[str | None, Field(min_length=1, max_length=60)]


class TicketFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scope: Annotated[str, Field(pattern="^(all|mine|team|unassigned)$")] = "all"
    status: Annotated[str | None, Field(pattern=r"^[a-z_,]{1,120}$")] = None
    type_code: Text = None
    kind: Annotated[str | None, Field(pattern="^(general|complaint|emergency)$")] = None
    unit_id: Annotated[int | None, Field(ge=1, le=2_147_483_647)] = None
    severity: Annotated[str | None, Field(pattern="^(low|normal|high|critical)$")] = None
    customer_id: Annotated[int | None, Field(ge=1, le=2_147_483_647)] = None
    member_number: Annotated[str | None, Field(pattern=r"^[0-9]{1,8}$")] = None
    source: Text = None
    sla: Annotated[str | None, Field(pattern="^(breached|warning)$")] = None
    q: Text = None


COLUMNS = (
    Column("number", "工单号", "Number", width=12),
    Column("type", "类型", "Type", width=12),
    Column("title", "标题", "Title", width=30),
    Column("status", "状态", "Status", width=10),
    Column("severity", "紧急程度", "Severity", width=10),
    Column("priority", "优先级", "Priority", "int", width=8),
    Column("contact_name", "联系人", "Contact", width=12),
    Column("phone", "联系电话", "Phone", personal=Kind.PHONE, width=16),
    Column("email", "邮箱", "E-mail", personal=Kind.EMAIL, width=22),
    Column("source", "来源", "Source", width=10),
    Column("unit", "处理部门", "Department", width=14),
    Column("assignee", "处理人", "Assignee", width=12),
    Column("created_at", "创建时间", "Created", "datetime", width=20),
    Column("sla_breached_at", "超时时间", "SLA breached", "datetime", width=20),
    Column("reopened", "重开次数", "Reopened", "int", width=8),
    Column("result", "处理结果", "Result", width=40),
)


@subject("tickets", Permission.TICKETS_READ, TicketFilters, ("工单", "Tickets"), COLUMNS)
async def tickets(ctx: Context, filters: TicketFilters) -> Source:
    async with ctx.read() as session:
        chosen = await queries._query(session, ctx, queries.Filter(**filters.model_dump()))
    query = (
        chosen.with_only_columns(
            Ticket.id,
            Ticket.number,
            TicketType.name,
            Ticket.title,
            Ticket.status,
            Ticket.severity,
            Ticket.priority,
            Ticket.contact_name,
            Ticket.phone,
            Ticket.email,
            Ticket.source,
            Unit.name,
            Ticket.assignee_id,
            Ticket.created_at,
            Ticket.sla_breached_at,
            Ticket.reopened,
            Ticket.result,
        )
        .select_from(Ticket)
        .join(TicketType, TicketType.id == Ticket.type_id)
        .outerjoin(Unit, Unit.id == Ticket.unit_id)
    )
    english = ctx.locale.startswith("en")

    async def named(ctx: Context, rows: list[Row]) -> list[Row]:
        async with ctx.read() as session:
            names = await directory.names(session, {r[11] for r in rows})
        return [
            (*r[:3], r[3] if english else STATUS_NAMES.get(r[3], r[3]), *r[4:11],
             names.get(r[11], "") if r[11] else "", *r[12:])
            for r in rows
        ]  # fmt: skip

    return Keyset(query, Ticket.id, named)
