"""What other domains may know of a customer: crm's read functions (its models stay inside crm).

Each function reads in the caller's session, so a booking or a ticket sees the customer as its own
transaction does. A `Card` is the booker's name, title, tier and e-mail as a notice or a price
needs them; personal data beyond that stays behind crm's own routes, masked unless revealed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import extract, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.crm import identity
from hotline.crm.events import CustomerNotice
from hotline.crm.jobs import customer_notice
from hotline.crm.models import Customer, CustomerPhone


@dataclass(frozen=True)
class Card:
    id: int
    member_number: str
    name: str
    title: str
    tier: str
    email: str
    city: str
    birthday: date | None
    anonymised: bool


def _card(customer: Customer) -> Card:
    return Card(
        customer.id,
        customer.member_number,
        customer.name,
        customer.title,
        customer.tier,
        customer.email or "",
        customer.city,
        customer.birthday,
        customer.anonymised,
    )


async def card(session: AsyncSession, customer_id: int | None) -> Card | None:
    """The customer's card, or None (no id, or no such customer; anonymised ones say so)."""
    if customer_id is None:
        return None
    customer = await session.get(Customer, customer_id)
    return None if customer is None else _card(customer)


async def cards(session: AsyncSession, customer_ids: Iterable[int]) -> dict[int, Card]:
    ids = set(customer_ids)
    if not ids:
        return {}
    rows = await session.scalars(select(Customer).where(Customer.id.in_(ids)))
    return {c.id: _card(c) for c in rows}


async def by_member_number(session: AsyncSession, member_number: str) -> Card | None:
    customer = await session.scalar(select(Customer).where(Customer.member_number == member_number))
    return None if customer is None else _card(customer)


async def id_by_email(session: AsyncSession, email: str) -> int | None:
    """The customer (not anonymised) whose e-mail this is: the first, if several."""
    return await session.scalar(
        select(Customer.id).where(Customer.email == email, Customer.anonymised.is_(False)).limit(1)
    )


async def preferred_phone(session: AsyncSession, customer_id: int) -> str | None:
    """The number to call or text the customer on: the preferred one, else the first."""
    return await session.scalar(
        select(CustomerPhone.number)
        .where(CustomerPhone.customer_id == customer_id)
        .order_by(CustomerPhone.preferred.desc(), CustomerPhone.id)
        .limit(1)
    )


async def notice(session: AsyncSession, customer_id: int, occasion: str) -> CustomerNotice | None:
    """What a message to the customer may say of them (the `crm.customer` topic); None for no such
    customer or an anonymised one."""
    customer = await session.get(Customer, customer_id)
    return None if customer is None or customer.anonymised else customer_notice(customer, occasion)


async def segment_notices(
    session: AsyncSession, *, tiers: Sequence[str] = (), cities: Sequence[str] = (),
    birthday_month: int | None = None, tags: Sequence[str] = (),
) -> list[CustomerNotice]:  # fmt: skip
    """The customers (not anonymised) of a marketing segment, in file order, as their notices."""
    query = select(Customer).where(Customer.anonymised.is_(False)).order_by(Customer.id)
    if tiers:
        query = query.where(Customer.tier.in_(tiers))
    if cities:
        query = query.where(Customer.city.in_(cities))
    if birthday_month:
        query = query.where(extract("month", Customer.birthday) == birthday_month)
    found = (await session.scalars(query)).all()
    return [customer_notice(c, "manual") for c in found if not tags or set(tags) & {str(t) for t in c.tags}]


async def cards_by_phone(session: AsyncSession, numbers: Iterable[str]) -> dict[str, Card]:
    """The customer each number opens the file of (a registered phone, R4), by the number as given;
    a number several customers share, or none, is left out (whom to greet is not known)."""
    stored = {raw: identity.caller_phone(raw) for raw in set(numbers)}
    wanted = {n for n in stored.values() if n}
    if not wanted:
        return {}
    rows = (
        await session.execute(
            select(CustomerPhone.number, Customer)
            .join(Customer, Customer.id == CustomerPhone.customer_id)
            .where(
                CustomerPhone.number.in_(wanted),
                CustomerPhone.recognise.is_(True),
                Customer.anonymised.is_(False),
            )
        )
    ).all()
    owners: dict[str, list[Customer]] = {}
    for number, customer in rows:
        owners.setdefault(number, []).append(customer)
    return {
        raw: _card(owners[number][0])
        for raw, number in stored.items()
        if number and len(owners.get(number, ())) == 1
    }
