"""Revealing personal data (SPEC C6): one audited route for every record that carries some."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import StringConstraints

from hotline import domains
from hotline.core import privacy
from hotline.core.context import Context
from hotline.core.errors import InvalidInput
from hotline.core.permissions import Permission
from hotline.core.schemas import DbId, Input, Output
from hotline.core.web import requires

router = APIRouter(prefix="/api", tags=["privacy"])
Name = Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,40}$")]


class RevealFieldIn(Input):
    entity: Name
    """customer, reservation, group, travel_order, ticket, callback"""
    id: DbId
    field: Name
    """The record's personal field, e.g. guest_phone (a reservation), contact_phone (an order)."""


class RevealedOut(Output):
    entity: str
    id: int
    field: str
    value: str | list[str] | None


@router.post("/reveal")
async def reveal(
    body: RevealFieldIn, ctx: Annotated[Context, Depends(requires(Permission.CUSTOMERS_READ_PII))]
) -> RevealedOut:
    """One personal field of one record, unmasked, for the roles that may (docs/security.md);
    every reveal is in the audit log as `<entity>.revealed` with the field."""
    spec = domains.revealables().get(body.entity)
    if spec is None:
        raise InvalidInput(
            f"Nothing called {body.entity!r} has personal data to reveal",
            field="body.entity",
            reason="nothing-called-personal-data-reveal",
            params={"entity": repr(body.entity)},
        )
    value = await privacy.reveal(ctx, spec, body.id, body.field)
    return RevealedOut(entity=body.entity, id=body.id, field=body.field, value=value)
