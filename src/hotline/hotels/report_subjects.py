"""Custom reports' subject owned by hotels (core/report_catalogue.py): reservations by when they
were made, as the bookings report counts them (docs/reports.md)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.admin import directory
from hotline.core.permissions import Permission
from hotline.core.report_catalogue import CHOICES, Dimension, Measure, Subject, register
from hotline.hotels.models import Hotel, Reservation

R = Reservation
STATUSES = {
    "tentative": ("暂定", "Tentative"),
    "confirmed": ("已确认", "Confirmed"),
    "checked_in": ("已入住", "Checked in"),
    "checked_out": ("已离店", "Checked out"),
    "cancelled": ("已取消", "Cancelled"),
    "no_show": ("未到店", "No-show"),
    "conflict": ("纸质冲突", "Paper conflict"),
}
SOURCES = {
    "phone": ("电话", "Phone"),
    "web": ("网站", "Web"),
    "walk-in": ("到店", "Walk-in"),
    "pms": ("PMS", "PMS"),
    "paper": ("纸质", "Paper"),
}


async def hotel_names(session: AsyncSession, keys: set[Any] | None) -> dict[Any, str]:
    query = select(Hotel.id, Hotel.name).order_by(Hotel.code).limit(CHOICES)
    if keys is not None:
        query = query.where(Hotel.id.in_({int(k) for k in keys}))
    return {int(i): str(n) for i, n in (await session.execute(query)).all()}


KEPT = case((R.status != "cancelled", 1), else_=0)

BOOKINGS = register(
    Subject(
        key="bookings",
        label=("预订", "Bookings"),
        permission=Permission.BOOKINGS_READ,
        source=R.__table__,
        time=R.created_at,
        time_kind="instant",
        order=3,
        dimensions=(
            Dimension("hotel", ("酒店", "Hotel"), R.hotel_id, lookup=hotel_names),
            Dimension("source", ("来源", "Source"), R.source, words=SOURCES),
            Dimension("status", ("状态", "Status"), R.status, words=STATUSES),
            Dimension("agent", ("创建人", "Created by"), R.created_by, lookup=directory.people_words),
        ),
        measures=(
            Measure("bookings", ("预订数", "Bookings"), "count", None),
            Measure(
                "cancelled", ("取消数", "Cancelled"), "count", case((R.status == "cancelled", 1), else_=0)
            ),
            Measure(
                "cancellation_rate",
                ("取消率", "Cancellation rate"),
                "rate",
                case((R.status == "cancelled", 1), else_=0),
                case((R.id.is_not(None), 1), else_=0),
            ),
            Measure(
                "revenue", ("营收", "Revenue"), "money", case((R.status != "cancelled", R.total), else_=0)
            ),
            Measure(
                "average_revenue",
                ("平均订单金额", "Average booking"),
                "money",
                case((R.status != "cancelled", R.total), else_=0),
                KEPT,
            ),
            Measure("room_count", ("间数", "Rooms"), "number", R.rooms),
            Measure(
                "from_calls",
                ("来电预订数", "Booked on a call"),
                "count",
                case((R.call_id.is_not(None), 1), else_=0),
            ),
        ),
    )
)
