"""What the tickets domain tells the rest: a ticket's notices for messages to the customer (the
fields are the template variables; the examples are the preview's sample), and a live event for
open screens."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from hotline.core.events import Event
from hotline.core.topics import register_topic


@register_topic
class TicketNotice(Event):
    name: ClassVar[str] = "tickets.ticket"
    durable: ClassVar[bool] = True

    occasion: Literal["created", "dispatched", "rejected", "completed", "result", "closed", "reopened"]
    ref: str = Field(description="ticket:<number>", examples=["ticket:70000001"])
    customer_id: int | None = Field(default=None, description="The customer", examples=[1])
    phone: str = Field(default="", description="The customer's phone", examples=["13800138000"])
    email: str = Field(default="", description="The customer's e-mail", examples=["zhangwei@example.com"])
    number: str = Field(description="工单号", examples=["70000001"])
    type_name: str = Field(description="工单类型", examples=["投诉单"])
    title: str = Field(description="标题", examples=["客房空调不制冷"])
    customer_name: str = Field(default="", description="客户姓名", examples=["张伟"])
    title_of_address: str = Field(default="", description="称呼（先生/女士）", examples=["先生"])
    status: str = Field(description="客户可见的进度", examples=["在处理中 — 工区A（客房维修）"])
    unit: str = Field(default="", description="处理部门", examples=["工区A（客房维修）"])
    result: str = Field(default="", description="处理结果", examples=["已更换空调压缩机，房间温度恢复正常"])
    severity: str = Field(default="normal", description="严重程度", examples=["high"])


class TicketChanged(Event):
    """A ticket moved: pushed on the `tickets` feed for open lists and boards to reload (no
    personal data in it); not durable."""

    name: ClassVar[str] = "tickets.changed"
    feed: ClassVar[str] = "tickets"
    ticket_id: int
    number: str
    status: str
    action: str
    unit_id: int | None = None
    assignee_id: int | None = None


class TicketStepped(Event):
    """A step of a ticket committed (one row of its history: a move, a note, an escalation, the
    result told…). Its reactions (tickets/reactions.py) put it on the customer's timeline and
    open or close the call tasks; not on any feed."""

    name: ClassVar[str] = "tickets.stepped"
    ticket_id: int
    number: str
    action: str
    before: str
    after: str
    by: int | None = None
    note: str = ""
