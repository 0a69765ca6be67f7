"""Customers: create and edit files, find them from one search box, identify callers (R4), and
keep personal data masked unless revealed (audited).

Everyone who may read customers sees ID numbers, phones, e-mail, birthday and address masked;
`customers.read_pii` allows revealing one field of one customer at a time, and every reveal is
written to the audit log with who and why. There is no route that returns them unmasked in a
list.
"""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from hotline.core import privacy
from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.core.db import next_number
from hotline.core.errors import InvalidInput, NotFound
from hotline.core.permissions import Permission
from hotline.core.privacy import Kind
from hotline.crm import errors, identity
from hotline.crm.models import Customer, CustomerPhone
from hotline.crm.schemas import (
    CallerIdentity,
    CustomerHit,
    CustomerIn,
    CustomerOut,
    CustomerUpdate,
    MemberCard,
    PhoneIn,
    PhoneOut,
    Revealed,
)

PRIORITY = {"standard": 0, "silver": 1, "gold": 2, "platinum": 3}
"""Queue priority by tier: VIP tiers are answered first (routing's `priority` variable)."""

# ---------------------------------------------------------------- the file as staff see it


def _out(customer: Customer) -> CustomerOut:
    """The file; its schema masks the personal data (core/privacy.py)."""
    return CustomerOut(
        id=customer.id, member_number=customer.member_number, name=customer.name, title=customer.title,
        gender=customer.gender, id_type=customer.id_type, id_number=customer.id_number,
        birthday=customer.birthday, email=customer.email, address=customer.address, city=customer.city,
        tier=customer.tier, points=customer.points, tags=list(customer.tags),
        preferences=dict(customer.preferences), source=customer.source, notes=customer.notes,
        phones=[_phone_out(p) for p in customer.phones],
        last_agent_id=customer.last_agent_id, last_contact_at=customer.last_contact_at,
        created_at=customer.created_at, updated_at=customer.updated_at,
    )  # fmt: skip


def _phone_out(phone: CustomerPhone) -> PhoneOut:
    return PhoneOut(
        id=phone.id, number=phone.number, label=phone.label,
        preferred=phone.preferred, recognise=phone.recognise,
    )  # fmt: skip


def _hint(customer: Customer) -> str:
    """What tells two customers of the same name apart without giving their data away."""
    parts = []
    if customer.birthday:
        parts.append(f"{customer.birthday.year}年生")
    if customer.city:
        parts.append(customer.city)
    if customer.phones:
        parts.append(f"尾号{customer.phones[0].number[-4:]}")
    return " · ".join(parts)


def _hit(customer: Customer, matched_by: str) -> CustomerHit:
    return CustomerHit(
        id=customer.id, member_number=customer.member_number, name=customer.name, title=customer.title,
        tier=customer.tier, hint=_hint(customer), matched_by=matched_by,
    )  # fmt: skip


# ---------------------------------------------------------------- checks


def _checked_id(id_type: str, number: str | None, birthday: date | None, gender: str | None) -> str | None:
    if not number:
        if id_type not in ("none", "other"):
            raise InvalidInput(
                "Give the ID number for this ID type", field="body.id_number", reason="give-id-number-id-type"
            )
        return None
    if id_type == "resident":
        return identity.check_resident_id(number, birthday=birthday, gender=gender)
    if id_type == "passport":
        return identity.check_passport(number)
    if id_type == "none":
        raise InvalidInput(
            "Choose the ID type of this number", field="body.id_type", reason="choose-id-type-number"
        )
    value = number.strip().upper()
    if not re.fullmatch(r"[A-Z0-9-]{4,32}", value):
        raise InvalidInput(
            "An ID number has 4 to 32 letters, digits and dashes",
            field="body.id_number",
            reason="id-number-4-32-letters",
        )
    return value


def _check_birthday(birthday: date | None) -> None:
    if birthday is not None and (birthday > utcnow().date() or birthday.year < 1900):
        raise InvalidInput(
            "The birthday cannot be in the future or before 1900",
            field="body.birthday",
            reason="birthday-cannot-future-before-1900",
        )


async def _id_free(session: AsyncSession, number: str | None, customer_id: int | None = None) -> None:
    if number is None:
        return
    query = select(Customer.id).where(Customer.id_number == number)
    if customer_id is not None:
        query = query.where(Customer.id != customer_id)
    if await session.scalar(query) is not None:
        raise errors.IdNumberTaken(
            "Another customer has this ID number", field="body.id_number", reason="another-customer-id-number"
        )


async def _next_member_number(session: AsyncSession) -> str:
    return str(await next_number(session, Customer.member_number, identity.FIRST_MEMBER_NUMBER))


def _phones(phones: list[PhoneIn], field: str = "body.phones") -> list[CustomerPhone]:
    out: list[CustomerPhone] = []
    seen: set[str] = set()
    for n, phone in enumerate(phones):
        number = identity.normalise_phone(phone.number, field=f"{field}.{n}.number")
        if number in seen:
            raise InvalidInput(
                "The same number is listed twice",
                field=f"{field}.{n}.number",
                reason="same-number-listed-twice",
            )
        seen.add(number)
        out.append(
            CustomerPhone(
                number=number, label=phone.label, preferred=phone.preferred, recognise=phone.recognise
            )
        )
    if out and not any(p.preferred for p in out):
        out[0].preferred = True
    return out


# ---------------------------------------------------------------- files


async def create(ctx: Context, data: CustomerIn) -> CustomerOut:
    ctx.require(Permission.CUSTOMERS_WRITE)
    _check_birthday(data.birthday)
    id_number = _checked_id(data.id_type, data.id_number, data.birthday, data.gender)
    birthday = data.birthday
    if id_number and data.id_type == "resident" and birthday is None:
        birthday = identity.resident_id_birthday(id_number)
    phones = _phones(data.phones)
    joined, initials = identity.pinyin(data.name)
    for attempt in range(5):  # two agents creating files at once may draw the same member number
        try:
            return await _insert(ctx, data, id_number, birthday, phones, joined, initials)
        except IntegrityError as exc:
            if "member_number" not in str(exc) or attempt == 4:
                raise
            phones = _phones(data.phones)
    raise AssertionError("unreachable")


async def _insert(
    ctx: Context, data: CustomerIn, id_number: str | None, birthday: date | None,
    phones: list[CustomerPhone], joined: str, initials: str,
) -> CustomerOut:  # fmt: skip
    async with ctx.write() as tx:
        await _id_free(tx.session, id_number)
        customer = Customer(
            member_number=await _next_member_number(tx.session), name=data.name, name_pinyin=joined,
            name_initials=initials, title=data.title, gender=data.gender,
            id_type=data.id_type if id_number else "none", id_number=id_number, birthday=birthday,
            email=data.email, address=data.address, city=data.city,
            tier=data.tier, tags=list(data.tags), preferences=dict(data.preferences), source=data.source,
            notes=data.notes, phones=phones, created_by=ctx.actor.user_id, updated_by=ctx.actor.user_id,
        )  # fmt: skip
        tx.session.add(customer)
        await tx.session.flush()
        return _out(customer)


async def _get(session: AsyncSession, customer_id: int) -> Customer:
    customer = await session.get(Customer, customer_id)
    if customer is None or customer.anonymised:
        raise NotFound(
            f"No customer {customer_id}",
            field="customer_id",
            reason="no-customer",
            params={"customer_id": customer_id},
        )
    return customer


async def get(ctx: Context, customer_id: int) -> CustomerOut:
    ctx.require(Permission.CUSTOMERS_READ)
    async with ctx.read() as session:
        return _out(await _get(session, customer_id))


async def member(ctx: Context, member_number: str) -> MemberCard:
    """The member a typed member number belongs to, with their preferred phone (masked on the way out)."""
    ctx.require(Permission.CUSTOMERS_READ)
    async with ctx.read() as session:
        customer = await session.scalar(select(Customer).where(Customer.member_number == member_number))
        if customer is None or customer.anonymised:
            raise NotFound(
                f"No member {member_number}",
                field="member_number",
                reason="no-member",
                params={"member_number": member_number},
            )
        phones = sorted(customer.phones, key=lambda p: (not p.preferred, p.id))
        return MemberCard(
            id=customer.id, member_number=customer.member_number, name=customer.name, title=customer.title,
            tier=customer.tier, phone=phones[0].number if phones else None,
        )  # fmt: skip


_CLEARABLE = frozenset({"gender", "id_number", "birthday", "email"})


async def update(ctx: Context, customer_id: int, data: CustomerUpdate) -> CustomerOut:
    ctx.require(Permission.CUSTOMERS_WRITE)
    # null clears what a customer may lack (gender, ID number, birthday, e-mail) and, as in the
    # other PATCH routes, leaves the rest unchanged: a customer always has a name, a tier, tags…
    changes = {
        key: value
        for key, value in data.model_dump(exclude_unset=True).items()
        if value is not None or key in _CLEARABLE
    }
    async with ctx.write() as tx:
        customer = await _get(tx.session, customer_id)
        birthday = changes.get("birthday", customer.birthday)
        gender = changes.get("gender", customer.gender)
        _check_birthday(birthday)
        if {"id_type", "id_number", "birthday", "gender"} & changes.keys():
            id_type = changes.get("id_type", customer.id_type)
            number = changes.get("id_number", customer.id_number)
            changes["id_number"] = _checked_id(id_type, number, birthday, gender)
            await _id_free(tx.session, changes["id_number"], customer.id)
        if "name" in changes:
            customer.name_pinyin, customer.name_initials = identity.pinyin(changes["name"])
        for key, value in changes.items():
            setattr(customer, key, value)
        customer.updated_by = ctx.actor.user_id
        await tx.session.flush()
        return _out(customer)


async def add_phone(ctx: Context, customer_id: int, data: PhoneIn) -> CustomerOut:
    """Also the "register this new number" action for a known customer calling from a new phone."""
    ctx.require(Permission.CUSTOMERS_WRITE)
    (phone,) = _phones([data], field="body")
    async with ctx.write() as tx:
        customer = await _get(tx.session, customer_id)
        if any(p.number == phone.number for p in customer.phones):
            raise errors.PhoneTaken(
                "The customer has this number already", field="body.number", reason="customer-number-already"
            )
        if phone.preferred or not customer.phones:
            phone.preferred = True
            for other in customer.phones:
                other.preferred = False
        customer.phones.append(phone)
        customer.updated_by = ctx.actor.user_id
        await tx.session.flush()
        await tx.session.refresh(customer, ["phones"])
        return _out(customer)


async def remove_phone(ctx: Context, customer_id: int, phone_id: int) -> CustomerOut:
    ctx.require(Permission.CUSTOMERS_WRITE)
    async with ctx.write() as tx:
        customer = await _get(tx.session, customer_id)
        phone = next((p for p in customer.phones if p.id == phone_id), None)
        if phone is None:
            raise NotFound(
                f"The customer has no phone {phone_id}",
                field="phone_id",
                reason="customer-no-phone",
                params={"phone_id": phone_id},
            )
        customer.phones.remove(phone)
        if phone.preferred and customer.phones:
            customer.phones[0].preferred = True
        await tx.session.flush()
        return _out(customer)


async def phone_to_dial(ctx: Context, customer_id: int, phone_id: int | None = None) -> str:
    """A customer's number for the phone system to dial (click-to-dial): the one asked for, else
    the preferred, else the first. The agent never sees it; the dial itself is audited."""
    ctx.require(Permission.CUSTOMERS_READ)
    async with ctx.read() as session:
        customer = await _get(session, customer_id)
        phones = list(
            await session.scalars(
                select(CustomerPhone)
                .where(CustomerPhone.customer_id == customer.id)
                .order_by(CustomerPhone.id)
            )
        )
    if phone_id is not None:
        chosen = next((p for p in phones if p.id == phone_id), None)
        if chosen is None:
            raise NotFound(
                f"Customer {customer_id} has no phone {phone_id}",
                field="body.phone_id",
                reason="customer-lacks-phone",
                params={"customer_id": customer_id, "phone_id": phone_id},
            )
        return chosen.number
    if not phones:
        raise InvalidInput(
            "This customer has no phone number", field="body.customer_id", reason="customer-no-phone-number"
        )
    return next((p for p in phones if p.preferred), phones[0]).number


async def _personal(session: AsyncSession, customer_id: int) -> dict[str, object] | None:
    customer = await session.get(Customer, customer_id)
    if customer is None or customer.anonymised:
        return None
    return {"id_number": customer.id_number, "phones": [p.number for p in customer.phones],
            "birthday": customer.birthday, "email": customer.email, "address": customer.address}  # fmt: skip


REVEALABLE = privacy.Revealable(
    "customer", Permission.CUSTOMERS_READ,
    {"id_number": Kind.ID_NUMBER, "phones": Kind.PHONE, "birthday": Kind.BIRTHDAY, "email": Kind.EMAIL,
     "address": Kind.ADDRESS},
    _personal,
)  # fmt: skip
"""What of a customer's file may be revealed (core/privacy.py)."""
PHONE_REVEALABLE = privacy.revealable("customer_phone", CustomerPhone, Permission.CUSTOMERS_READ)
"""One of a customer's numbers, revealed on its own."""


async def reveal(ctx: Context, customer_id: int, field: str, *, why: str = "") -> Revealed:
    """One field of one customer, unmasked; audited as `customer.revealed`."""
    value = await privacy.reveal(ctx, REVEALABLE, customer_id, field, why=why, id_field="customer_id")
    return Revealed(field=field, value=value)


# ---------------------------------------------------------------- finding


def _prefix(column: InstrumentedAttribute[str], text: str) -> ColumnElement[bool]:
    """`column LIKE 'text%'` as a range, so the B-tree index serves it on SQLite and PostgreSQL."""
    return and_(column >= text, column < text + "\uffff")


async def search(ctx: Context, q: str, *, limit: int = 20) -> list[CustomerHit]:
    """One box: member number, phone, ID number, e-mail, name (full or its start) or pinyin
    (full, start or initials)."""
    ctx.require(Permission.CUSTOMERS_READ)
    text = q.strip()
    if not text:
        raise InvalidInput(
            "Type a phone, name, member number or ID number",
            field="q",
            reason="type-phone-name-member-number",
        )
    compact = re.sub(r"[\s-]", "", text)
    async with ctx.read() as session:
        base = select(Customer).where(Customer.anonymised.is_(False))
        if identity.is_member_number(compact):
            found = (await session.scalars(base.where(Customer.member_number == compact))).all()
            if found:
                return [_hit(c, "member_number") for c in found]
        if re.fullmatch(r"[0-9]{17}[0-9Xx]", compact):
            found = (await session.scalars(base.where(Customer.id_number == compact.upper()))).all()
            return [_hit(c, "id_number") for c in found]
        if re.fullmatch(r"\+?[0-9()]{7,20}", compact):
            number = identity.caller_phone(compact)
            if number is None:
                return []
            ids = select(CustomerPhone.customer_id).where(CustomerPhone.number == number)
            found = (await session.scalars(base.where(Customer.id.in_(ids)).limit(limit))).all()
            return [_hit(c, "phone") for c in found]
        if "@" in text:
            found = (await session.scalars(base.where(Customer.email == text.lower()).limit(limit))).all()
            return [_hit(c, "email") for c in found]
        if re.search(r"[\u4e00-\u9fff]", text):
            query = base.where(_prefix(Customer.name, text)).order_by(Customer.name, Customer.id).limit(limit)
            return [_hit(c, "name") for c in (await session.scalars(query)).all()]
        letters = re.sub(r"[^a-z]", "", text.lower())
        if not letters:
            return []
        # two index lookups, not one OR (which PostgreSQL answers by walking the whole index)
        spelled = base.where(_prefix(Customer.name_pinyin, letters)).order_by(
            Customer.name_pinyin, Customer.id
        )
        found = list((await session.scalars(spelled.limit(limit))).all())
        if len(found) < limit:
            seen = {c.id for c in found}
            initials = base.where(Customer.name_initials == letters).order_by(Customer.id).limit(limit)
            found += [c for c in (await session.scalars(initials)).all() if c.id not in seen][
                : limit - len(found)
            ]
        return [_hit(c, "pinyin") for c in found]


async def identify_caller(ctx: Context, caller_id: str) -> CallerIdentity:
    """R4 from the caller ID: unknown, one known customer, or a number several customers share;
    with the customer's last agent (sticky routing) and queue priority (tier)."""
    ctx.require(Permission.CUSTOMERS_READ)
    number = identity.caller_phone(caller_id)
    if number is None:
        return CallerIdentity(caller_class="unknown", phone=None, customers=[])
    async with ctx.read() as session:
        ids = select(CustomerPhone.customer_id).where(
            CustomerPhone.number == number, CustomerPhone.recognise.is_(True)
        )
        found = (
            await session.scalars(
                select(Customer).where(Customer.id.in_(ids), Customer.anonymised.is_(False)).limit(10)
            )
        ).all()
    if not found:
        return CallerIdentity(caller_class="unknown", phone=number, customers=[])
    hits = [_hit(c, "phone") for c in found]
    if len(found) > 1:
        return CallerIdentity(caller_class="shared", phone=number, customers=hits)
    customer = found[0]
    return CallerIdentity(
        caller_class="known", phone=number, customers=hits,
        last_agent_id=customer.last_agent_id, priority=PRIORITY.get(customer.tier, 0),
    )  # fmt: skip


async def routing_of(ctx: Context, customer_id: int) -> tuple[int, int | None]:
    """What routing needs of a known customer writing in (a conversation, issue 24): their tier's
    queue priority and their last agent (sticky routing), as for a call."""
    async with ctx.read() as session:
        customer = await session.get(Customer, customer_id)
    if customer is None or customer.anonymised:
        return 0, None
    return PRIORITY.get(customer.tier, 0), customer.last_agent_id


async def served_by(ctx: Context, customer_id: int, agent_id: int) -> None:
    """An agent answered the customer's call: the next call prefers them (R3)."""
    async with ctx.write() as tx:
        customer = await tx.session.get(Customer, customer_id)
        if customer is not None:
            customer.last_agent_id, customer.last_contact_at = agent_id, utcnow()


async def count(ctx: Context) -> int:
    async with ctx.read() as session:
        return int(await session.scalar(select(func.count(Customer.id))) or 0)
