"""Establishing who is on the phone before the IVR reads anything back (seed 004: "establish the
identity of the customer" first).

Member numbers are handed out in order (88000001, 88000002 …), so knowing one proves nothing. A
caller is verified for a member when
- the calling number is one of the member's numbers that the member agreed to be recognised by
  (`CustomerPhone.recognise`), or
- the caller keys a second factor: the last four digits of the phone on the booking that would be
  read out (hotels and travel pass it in), or of the member's ID number (an X keyed as *).

The order lookups of hotels and travel check this themselves, whatever a flow does, so no flow
can read a booking to an unverified caller. Caller IDs are what the carrier delivers: a trunk
that lets callers set their own number makes the first rule as weak as that trunk.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import select

from hotline.core.context import Context
from hotline.core.permissions import Permission
from hotline.crm import identity
from hotline.crm.models import Customer, CustomerPhone

SECOND_FACTOR_DIGITS = 4


class VerifiedBy(StrEnum):
    NUMBER = "number"
    """The call comes from one of the member's recognised numbers."""
    SECOND_FACTOR = "second-factor"
    """The caller keyed the last four digits of the booking phone or the ID number."""


@dataclass(frozen=True)
class MemberCheck:
    customer_id: int | None
    """None: no member has this number."""
    verified_by: VerifiedBy | None = None

    @property
    def verified(self) -> bool:
        return self.verified_by is not None


def _last_four(value: str | None) -> str:
    """The last four characters a caller can key for a phone or an ID number (X keyed as *)."""
    keyable = "".join(c for c in (value or "").upper() if c.isascii() and (c.isdigit() or c == "X"))
    return keyable[-SECOND_FACTOR_DIGITS:].replace("X", "*") if len(keyable) >= SECOND_FACTOR_DIGITS else ""


async def check_member(
    ctx: Context, member_number: str, *, caller_id: str, keyed: str = "", booking_phones: Iterable[str] = ()
) -> MemberCheck:
    """Whether the caller is verified for the member with `member_number` (see the module)."""
    ctx.require(Permission.CUSTOMERS_READ)
    member = member_number.strip()
    if not (member.isascii() and member.isdigit()) or len(member) > 16:
        return MemberCheck(None)
    async with ctx.read() as session:
        customer = await session.scalar(
            select(Customer).where(
                Customer.member_number == member,
                Customer.anonymised.is_(False),
                Customer.merged_into_id.is_(None),
            )
        )
        if customer is None:
            return MemberCheck(None)
        number = identity.caller_phone(caller_id)
        if number is not None:
            recognised = await session.scalar(
                select(CustomerPhone.id).where(
                    CustomerPhone.customer_id == customer.id,
                    CustomerPhone.number == number,
                    CustomerPhone.recognise.is_(True),
                )
            )
            if recognised is not None:
                return MemberCheck(customer.id, VerifiedBy.NUMBER)
        id_number = customer.id_number
    if len(keyed) == SECOND_FACTOR_DIGITS:
        # every candidate is compared, in constant time, so the timing tells nothing
        candidates = [_last_four(phone) for phone in booking_phones] + [_last_four(id_number)]
        matched = [hmac.compare_digest(keyed.encode(), c.encode()) for c in candidates if c]
        if any(matched):
            return MemberCheck(customer.id, VerifiedBy.SECOND_FACTOR)
    return MemberCheck(customer.id)


def caller_of(variables: Mapping[str, Any]) -> tuple[str, str, str]:
    """The IVR's member number, the calling number and the keyed second factor, from a flow's
    variables (`member_number`, `caller`, `verify_digits`)."""
    return (
        str(variables.get("member_number") or ""),
        str(variables.get("caller") or ""),
        str(variables.get("verify_digits") or ""),
    )


async def member_for_ivr(ctx: Context, variables: dict[str, Any]) -> dict[str, str] | None:
    """The lookup `crm.member`: whether the keyed member number belongs to a member (nothing
    about them: a caller is not verified yet). None when it does not."""
    member, caller, _ = caller_of(variables)
    found = await check_member(ctx, member, caller_id=caller)
    return {"member_number": member.strip()} if found.customer_id is not None else None
