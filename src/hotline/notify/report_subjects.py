"""Custom reports' subject owned by notify (core/report_catalogue.py): messages by when they were
made, as the messages report counts them (docs/reports.md)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.permissions import Permission
from hotline.core.report_catalogue import CHOICES, Dimension, Measure, Subject, register
from hotline.notify.models import Message, Template

M = Message
STATUSES = {
    "queued": ("排队中", "Queued"),
    "sending": ("发送中", "Sending"),
    "sent": ("已发出", "Sent"),
    "delivered": ("已送达", "Delivered"),
    "failed": ("失败", "Failed"),
    "suppressed": ("未发送", "Not sent"),
    "unknown": ("待核实", "To check"),
}
CHANNELS = {"sms": ("短信", "SMS"), "email": ("邮件", "E-mail")}


async def template_names(session: AsyncSession, keys: set[Any] | None) -> dict[Any, str]:
    query = select(Template.code, Template.name).order_by(Template.code).limit(CHOICES)
    if keys is not None:
        query = query.where(Template.code.in_({str(k) for k in keys}))
    return {str(code): str(name) for code, name in (await session.execute(query)).all()}


SENT = case((M.status.in_(("sent", "delivered")), 1), else_=0)
DELIVERED = case((M.status == "delivered", 1), else_=0)

MESSAGES = register(
    Subject(
        key="messages",
        label=("消息", "Messages"),
        permission=Permission.MESSAGES_READ,
        source=M.__table__,
        time=M.created_at,
        time_kind="instant",
        order=6,
        dimensions=(
            Dimension("template", ("模板", "Template"), M.template_code, lookup=template_names),
            Dimension("channel", ("渠道", "Channel"), M.channel, words=CHANNELS),
            Dimension("status", ("状态", "Status"), M.status, words=STATUSES),
        ),
        measures=(
            Measure("messages", ("消息数", "Messages"), "count", None),
            Measure("sent", ("已发出", "Sent"), "count", SENT),
            Measure("delivered", ("已送达", "Delivered"), "count", DELIVERED),
            Measure("delivery_rate", ("送达率", "Delivery rate"), "rate", DELIVERED, SENT),
            Measure("failed", ("失败数", "Failed"), "count", case((M.status == "failed", 1), else_=0)),
        ),
    )
)
