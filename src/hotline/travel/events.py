"""What the travel domain tells the rest: an order's notices for the customer (received,
planner assigned, contract signed, payment received, the departure reminder, the return
follow-up) — the fields are the variables a message template may use — and the order's steps
for live views."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from hotline.core.events import Event
from hotline.core.topics import register_topic

Occasion = Literal["received", "assigned", "signed", "paid", "departure", "return", "closed", "void"]


@register_topic
class OrderNotice(Event):
    name = "travel.order"
    durable = True

    occasion: Occasion
    ref: str = Field(description="order:<number>", examples=["order:80000001"])
    customer_id: int | None = Field(default=None, description="The customer", examples=[1])
    phone: str = Field(description="The contact's phone (SMS goes there)", examples=["13800138000"])
    email: str = Field(default="", description="The customer's e-mail", examples=["zhangwei@example.com"])
    number: str = Field(description="订单号", examples=["80000001"])
    contact_name: str = Field(description="联系人", examples=["张伟"])
    title: str = Field(default="", description="称呼（先生/女士）", examples=["先生"])
    kind: str = Field(description="国内游/出境游", examples=["国内游"])
    route: str = Field(default="", description="线路名称", examples=["三亚双飞五日游"])
    departs_on: str = Field(default="", description="出发日期", examples=["2026年12月18日"])
    returns_on: str = Field(default="", description="返回日期", examples=["2026年12月22日"])
    travellers: str = Field(default="", description="出行人数", examples=["2成人1儿童"])
    planner: str = Field(default="", description="计调姓名", examples=["孙计调"])
    planner_phone: str = Field(default="", description="计调电话", examples=["021-63218800"])
    receivable: str = Field(default="0.00", description="应收（元）", examples=["12800.00"])
    received: str = Field(default="0.00", description="已收（元）", examples=["5000.00"])
    outstanding: str = Field(default="0.00", description="未收（元）", examples=["7800.00"])
    amount: str = Field(default="0.00", description="本次收款（元）", examples=["5000.00"])
    contract_no: str = Field(default="", description="合同号", examples=["HT80000001"])
    agency_phone: str = Field(default="4008002000", description="旅行社服务电话", examples=["4008002000"])


class OrderStepped(Event):
    """An order took a step or had work done on it (travel/state.py), committed: for live views and
    the desktop, and for its reactions (travel/reactions.py: the customer's timeline, the return
    visit's call task). `owner_id` is who acts next."""

    name: ClassVar[str] = "travel.order_stepped"
    order_id: int
    number: str
    action: str
    state: str
    owner_id: int | None = None
    before: str = ""
    note: str = ""
    call_id: str | None = None
