"""Escalation (S3, S4): a ticket goes up a level — the lead of its unit, then of the unit above,
then the supervisors — by hand or when its SLA is breached."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.admin import directory
from hotline.core.context import Tx
from hotline.core.permissions import Permission
from hotline.notify import inbox
from hotline.tickets.models import Ticket, Unit
from hotline.tickets.records import remark


async def targets(session: AsyncSession, ticket: Ticket, level: int) -> list[int]:
    """Level 1: the lead of the ticket's (or the responsible) unit; level 2: the lead of the unit
    above; beyond, or when a level has no lead: the supervisors (who audit)."""
    unit_id = ticket.responsible_unit_id or ticket.unit_id
    unit = await session.get(Unit, unit_id) if unit_id else None
    for _ in range(level - 1):
        unit = await session.get(Unit, unit.parent_id) if unit is not None and unit.parent_id else None
    if unit is not None and unit.lead_id is not None:
        return [unit.lead_id]
    return await directory.holders_of(session, Permission.TICKETS_AUDIT)


async def escalate(tx: Tx, ticket: Ticket, note: str, by: int | None, now: datetime) -> None:
    ticket.escalation += 1
    ticket.priority = max(1, ticket.priority - 1)
    told = await targets(tx.session, ticket, ticket.escalation)
    names = await directory.names(tx.session, told)
    said = "、".join(names[u] for u in told if u in names)
    remark(tx, ticket, "escalate", by, f"升级至第{ticket.escalation}级（{said}）：{note}", now)
    await inbox.tell(
        tx,
        told,
        "escalation",
        f"工单升级（第{ticket.escalation}级）：{ticket.number} {ticket.title}",
        body=note,
        link=f"/tickets/{ticket.id}",
    )
