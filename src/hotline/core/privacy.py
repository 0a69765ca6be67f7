"""Personal data as staff see it (SPEC C6, X6): one masking rule per kind, one type per kind for
the schemas, one audited way to reveal.

The policy (docs/security.md has it as a table with the reasons, role by role):
- In every view — lists, details, desktop pops, call logs, exports without personal data — every
  role sees phones, ID numbers, e-mail, addresses and birthdays masked. The masking is done when a
  schema is serialized: a field typed `Phone`, `IdNumber`, `Email`, `Address`, `Birthday` or
  `Contact` holds the real value for the services and can only leave the process masked.
- Roles with `customers.read_pii` reveal one field of one record at a time (`reveal`); each reveal
  is in the audit log. Nothing else returns a full value to a member of staff, so the serializers
  need not know who reads: a view cannot leak by being rendered where no request is known
  (a WebSocket push, an event, a job).
- Documents made for the customer (the contract they sign, the SMS and e-mail sent to them) carry
  the real data; a document printed by a role that may not reveal is a copy with it masked
  (`for_document`).

Free text that names a number (a timeline entry, an audit note) is written with `mask_phone` by
the code that composes it, since no serializer can find a number inside prose.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from types import MappingProxyType
from typing import Annotated, Any

from pydantic import PlainSerializer
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.context import Actor, Context
from hotline.core.db import Base
from hotline.core.errors import InvalidInput, NotFound
from hotline.core.permissions import Permission

REVEAL = Permission.CUSTOMERS_READ_PII
"""The permission that lets a role reveal personal data, one audited field at a time."""


class Kind(StrEnum):
    PHONE = "phone"
    ID_NUMBER = "id_number"
    EMAIL = "email"
    ADDRESS = "address"
    BIRTHDAY = "birthday"


# ---------------------------------------------------------------- the masks (idempotent)


def mask_phone(number: str) -> str:
    """138****8000: the operator prefix and the last four digits, which callers quote themselves."""
    if not number:
        return ""
    digits = number.removeprefix("+86")
    return digits[:3] + "****" + digits[-4:] if len(digits) >= 8 else "****"


def mask_id_number(number: str) -> str:
    """Only the last four characters (what a caller is asked to confirm)."""
    return "*" * (len(number) - 4) + number[-4:] if number else ""


def mask_email(email: str) -> str:
    """z***@example.cn: enough to say "your QQ mail?" without reading it out."""
    if not email:
        return ""
    user, _, domain = email.partition("@")
    return f"{user[:1]}***@{domain}"


def mask_address(address: str) -> str:
    """The city (上海市徐汇区… → 上海 ****), which the file shows anyway."""
    if not address:
        return ""
    city, found, _ = address.partition("市")
    return f"{city} ****" if found and 0 < len(city) <= 8 else "****"


def mask_birthday(birthday: date | str) -> str:
    """The year (1985-**-**): enough to tell two people of the same name apart."""
    if isinstance(birthday, date):
        return f"{birthday.year}-**-**"
    return f"{birthday[:4]}-**-**" if birthday else ""


def mask_contact(value: str) -> str:
    """A phone or an e-mail address, whichever it is (a message's recipient)."""
    return mask_email(value) if "@" in value else mask_phone(value)


MASKS: dict[Kind, Callable[[Any], str]] = {
    Kind.PHONE: mask_phone,
    Kind.ID_NUMBER: mask_id_number,
    Kind.EMAIL: mask_email,
    Kind.ADDRESS: mask_address,
    Kind.BIRTHDAY: mask_birthday,
}


def masked(kind: Kind, value: Any) -> Any:
    """The value as staff see it in a view; None and empty values stay as they are."""
    if value is None or value == "":
        return value
    if isinstance(value, list):
        return [MASKS[kind](v) for v in value]
    return MASKS[kind](value)


# ---------------------------------------------------------------- the schema types


def _serializer(mask: Callable[[Any], str]) -> PlainSerializer:
    return PlainSerializer(lambda value: mask(value) if value else value, return_type=str)


Phone = Annotated[str, _serializer(mask_phone)]
"""A person's phone: shown 138****8000 in every response."""
IdNumber = Annotated[str, _serializer(mask_id_number)]
Email = Annotated[str, _serializer(mask_email)]
Address = Annotated[str, _serializer(mask_address)]
Birthday = Annotated[date, _serializer(mask_birthday)]
Contact = Annotated[str, _serializer(mask_contact)]
"""Where a message went: a phone or an e-mail address."""


# ---------------------------------------------------------------- personal columns of the models


def personal(**columns: Kind) -> Mapping[str, Kind]:
    """A model's personal columns, declared on it: `__personal__ = personal(guest_phone=Kind.PHONE)`."""
    return MappingProxyType(columns)


def personal_columns(table: str) -> Mapping[str, Kind]:
    """The personal columns a model declares (`__personal__ = {"guest_phone": Kind.PHONE}`), by
    its table's name: what the audit log shows masked in its before/after snapshots."""
    return _personal_by_table().get(table, {})


def _personal_by_table() -> dict[str, Mapping[str, Kind]]:
    return {
        mapper.class_.__tablename__: mapper.class_.__personal__
        for mapper in Base.registry.mappers
        if getattr(mapper.class_, "__personal__", None)
    }


def masked_columns(table: str, values: dict[str, Any] | None) -> dict[str, Any] | None:
    """A row's snapshot with its personal columns masked."""
    columns = personal_columns(table)
    if not values or not columns:
        return values
    return {key: masked(columns[key], value) if key in columns else value for key, value in values.items()}


# ---------------------------------------------------------------- who may reveal


def may_reveal(actor: Actor) -> bool:
    return actor.can(REVEAL)


def for_document(actor: Actor, kind: Kind, value: str | None) -> str:
    """A value on a document printed for the customer: real for a role that may reveal (the print
    is audited by its service), masked on a copy printed by anyone else."""
    if not value:
        return ""
    return value if may_reveal(actor) else str(masked(kind, value))


@dataclass(frozen=True)
class Revealable:
    """A record with personal data that may be revealed field by field: `load` returns its
    personal fields' real values, or None when there is no such record."""

    entity: str
    permission: Permission
    """What it takes to read the record at all (besides `customers.read_pii`)."""
    fields: Mapping[str, Kind]
    load: Callable[[AsyncSession, int], Awaitable[Mapping[str, Any] | None]]


RevealedValue = str | list[str] | None


def revealable(entity: str, model: Any, permission: Permission) -> Revealable:
    """A record whose personal fields are the columns its model declares in `__personal__`."""
    fields: Mapping[str, Kind] = model.__personal__

    async def load(session: AsyncSession, entity_id: int) -> Mapping[str, Any] | None:
        row = await session.get(model, entity_id)
        return None if row is None else {column: getattr(row, column) for column in fields}

    return Revealable(entity, permission, fields, load)


async def reveal(
    ctx: Context, spec: Revealable, entity_id: int, field: str, *, why: str = "", id_field: str = "body.id"
) -> RevealedValue:
    """One field of one record, unmasked, for a role that may; audited as `<entity>.revealed`
    with who, which field and why, in the same transaction that reads it."""
    ctx.require(REVEAL)
    ctx.require(spec.permission)
    if field not in spec.fields:
        raise InvalidInput(
            f"A {spec.entity} has no personal field {field!r}",
            field="body.field",
            reason="no-personal-field",
            params={"entity": spec.entity, "field": repr(field)},
        )
    async with ctx.write() as tx:
        values = await spec.load(tx.session, entity_id)
        if values is None:
            raise NotFound(
                f"No {spec.entity} {entity_id}",
                field=id_field,
                reason="no-such-record",
                params={"entity": spec.entity, "entity_id": entity_id},
            )
        value = values.get(field)
        tx.audit(f"{spec.entity}.revealed", spec.entity, entity_id,
                 after={"field": field, "kind": spec.fields[field].value, "why": why})  # fmt: skip
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return [str(v) for v in value]
    return None if value is None else str(value)
