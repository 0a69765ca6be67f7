"""Custom reports' subject owned by tickets (core/report_catalogue.py): tickets by when they were
created (merged ones aside, as the tickets report counts them)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.admin import directory
from hotline.core.permissions import Permission
from hotline.core.report_catalogue import CHOICES, Dimension, Measure, Subject, register
from hotline.tickets.models import Ticket, TicketType

T = Ticket
STATUSES = {
    "new": ("待调度", "To dispatch"),
    "dispatched": ("已派单", "Dispatched"),
    "in_process": ("处理中", "In process"),
    "pending": ("挂起", "Pending"),
    "rejected": ("反单", "Rejected"),
    "completed": ("已完成", "Completed"),
    "audited": ("已审核", "Audited"),
    "closed": ("已关闭", "Closed"),
    "merged": ("已合并", "Merged"),
}
SOURCES = {
    "call": ("来电", "Call"),
    "voicemail": ("语音留言", "Voicemail"),
    "email": ("邮件", "E-mail"),
    "walk_in": ("上门", "Walk-in"),
    "web": ("网页", "Web form"),
    "chat": ("在线会话", "Chat"),
    "authority": ("上级下转", "From an authority"),
}
SEVERITIES = {
    "low": ("低", "Low"),
    "normal": ("一般", "Normal"),
    "high": ("高", "High"),
    "critical": ("紧急", "Critical"),
}


async def type_names(session: AsyncSession, keys: set[Any] | None) -> dict[Any, str]:
    query = select(TicketType.id, TicketType.name).order_by(TicketType.id).limit(CHOICES)
    if keys is not None:
        query = query.where(TicketType.id.in_({int(k) for k in keys}))
    return {int(i): str(n) for i, n in (await session.execute(query)).all()}


DONE = case((T.completed_at.is_not(None), 1), else_=0)
LATE = case((T.completed_at.is_not(None) & T.due_at.is_not(None) & (T.completed_at > T.due_at), 1), else_=0)

TICKETS = register(
    Subject(
        key="tickets",
        label=("工单", "Tickets"),
        permission=Permission.TICKETS_READ,
        source=T.__table__,
        time=T.created_at,
        time_kind="instant",
        where=(T.status != "merged",),
        order=5,
        dimensions=(
            Dimension("type", ("工单类型", "Ticket type"), T.type_id, lookup=type_names),
            Dimension("status", ("状态", "Status"), T.status, words=STATUSES),
            Dimension("source", ("来源", "Source"), T.source, words=SOURCES),
            Dimension("severity", ("严重程度", "Severity"), T.severity, words=SEVERITIES),
            Dimension("assignee", ("处理人", "Assignee"), T.assignee_id, lookup=directory.people_words),
        ),
        measures=(
            Measure("tickets", ("工单数", "Tickets"), "count", None),
            Measure("completed", ("已完成数", "Completed"), "count", DONE),
            Measure("late", ("超时完成数", "Completed late"), "count", LATE),
            Measure("reopened", ("重开次数", "Reopened"), "count", T.reopened),
            Measure(
                "satisfaction",
                ("平均满意度", "Average satisfaction"),
                "score",
                T.satisfaction,
                case((T.satisfaction.is_not(None), 1), else_=0),
            ),
        ),
    )
)
