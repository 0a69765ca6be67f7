"""What the hotels domain tells the rest: a reservation's notices (confirmed, modified,
cancelled, unreachable late guest, the reminder before arrival). The fields are the variables a
message template may use; the examples are the preview's sample."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from hotline.core.events import Event
from hotline.core.topics import register_topic


@register_topic
class ReservationNotice(Event):
    name = "hotels.reservation"
    durable = True

    occasion: Literal["confirmed", "modified", "cancelled", "unreachable", "reminder", "departed"]
    ref: str = Field(description="reservation:<number>", examples=["reservation:60000001"])
    customer_id: int | None = Field(default=None, description="The booker", examples=[1])
    phone: str = Field(description="The guest's phone (SMS goes to the guest)", examples=["13800138000"])
    email: str = Field(default="", description="The booker's e-mail", examples=["zhangwei@example.com"])
    number: str = Field(description="预订号", examples=["60000001"])
    guest_name: str = Field(description="入住人", examples=["张伟"])
    title: str = Field(default="", description="称呼（先生/女士）", examples=["先生"])
    tier: str = Field(default="", description="订房人会员等级", examples=["gold"])
    hotel: str = Field(description="酒店名称", examples=["英冠酒店杭州西湖店"])
    hotel_code: str = Field(description="酒店代码", examples=["HZ-XH"])
    hotel_address: str = Field(description="酒店地址", examples=["杭州市上城区湖滨路 28 号"])
    hotel_phone: str = Field(description="酒店电话", examples=["0571-87080000"])
    room_type: str = Field(description="房型", examples=["高级大床房"])
    rooms: int = Field(description="间数", examples=[1])
    arrival: str = Field(description="入住日期", examples=["2026年12月03日"])
    departure: str = Field(description="离店日期", examples=["2026年12月05日"])
    nights: int = Field(description="晚数", examples=[2])
    total: str = Field(description="房费合计（元）", examples=["1656.00"])
    hold: str = Field(description="房间保留说明", examples=["房间保留至12月03日 21:00"])
    policy: str = Field(description="取消政策", examples=["入住前24小时以上取消退还100%；此后取消退还0%"])
    cancel_fee: str = Field(default="0.00", description="取消费（元）", examples=["0.00"])
    refund: str = Field(default="0.00", description="退款（元）", examples=["0.00"])


class ReservationChanged(Event):
    """A step of a reservation's lifecycle committed (hotels/state.py): booked, confirmed,
    modified, cancelled, checked in or out, marked late… Its reactions (hotels/reactions.py) put
    it on the customer's timeline, earn the stay's points and open or close the call tasks."""

    name = "hotels.reservation_changed"

    reservation_id: int
    number: str
    action: str
    before: str
    after: str
    by: int | None = None
    note: str = ""
