"""Scheduled work of the customers domain, and its date sources for notification rules (birthdays,
festivals)."""

from __future__ import annotations

import calendar
from datetime import date
from typing import Any

import structlog
from sqlalchemy import extract, select

from hotline.core.context import Context
from hotline.core.events import Event
from hotline.core.jobs import job_handler
from hotline.core.topics import register_source
from hotline.crm import loyalty
from hotline.crm.events import CustomerNotice
from hotline.crm.festivals import Festival, festivals_on
from hotline.crm.models import Customer

log = structlog.get_logger(__name__)
EXPIRE_POINTS = "crm.expire_points"


@job_handler(EXPIRE_POINTS)
async def expire_points(ctx: Context, payload: dict[str, Any]) -> None:
    """Points earned more than two years ago and not redeemed expire (one ledger line each)."""
    members = await loyalty.expire(ctx)
    log.info("points expired", members=members)


TIER_NAMES = {"standard": "普通会员", "silver": "银卡", "gold": "金卡", "platinum": "白金卡"}


def customer_notice(customer: Customer, occasion: str, festival: Festival | None = None) -> CustomerNotice:
    phone = customer.phones[0].number if customer.phones else ""
    return CustomerNotice(
        occasion=occasion, ref=f"customer:{customer.member_number}", customer_id=customer.id,
        phone=phone, email=customer.email or "", customer_name=customer.name, title=customer.title,
        member_number=customer.member_number, tier=customer.tier, tier_name=TIER_NAMES.get(customer.tier, ""),
        points=customer.points, festival=festival or "",
    )  # fmt: skip


async def birthdays(ctx: Context, day: date) -> list[Event]:
    """Customers whose birthday is `day` (those born on 29 February on the 28th in other years)."""
    days = [day.day]
    if (day.month, day.day) == (2, 28) and not calendar.isleap(day.year):
        days.append(29)
    async with ctx.read() as session:
        rows = (await session.scalars(
            select(Customer).where(
                Customer.anonymised.is_(False), extract("month", Customer.birthday) == day.month,
                extract("day", Customer.birthday).in_(days),
            ).order_by(Customer.id)
        )).all()  # fmt: skip
        return [customer_notice(c, "birthday") for c in rows]


async def festivals(ctx: Context, day: date) -> list[Event]:
    """Every customer on a festival's day (春节, 中秋节 …), once per festival of the day; none on
    other days. A rule names the festivals it greets on (`festival=春节,中秋节`) and the tiers."""
    names = festivals_on(day)
    if not names:
        return []
    async with ctx.read() as session:
        rows = (await session.scalars(
            select(Customer).where(Customer.anonymised.is_(False)).order_by(Customer.id)
        )).all()  # fmt: skip
        return [customer_notice(c, "festival", name) for name in names for c in rows]


register_source("crm.birthday", CustomerNotice, "客户生日", birthdays)
register_source("crm.festival", CustomerNotice, "节日（春节、中秋节…）", festivals)
