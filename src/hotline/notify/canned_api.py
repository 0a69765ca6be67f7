"""Routes of the canned phrases (常用语 / 快捷回复, notify/canned.py): one list for conversations'
replies and tickets' results. Who may read or write a phrase depends on where it is offered, so
the routes ask for a signed-in user and the service checks the permission of the place."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from hotline.core.context import Context
from hotline.core.web import IdPath, signed_in
from hotline.notify import canned
from hotline.notify.canned_schemas import CannedPhraseIn, CannedPhraseOut, CannedPlace, TicketTypeCode

router = APIRouter(prefix="/api/notify", tags=["notify"])
SIGNED = Annotated[Context, Depends(signed_in)]
PLACE = (
    "conversations (messages.send) or tickets (tickets.read): the active phrases offered there; "
    "left out: every phrase, for its editors"
)


@router.get("/canned")
async def list_canned(
    ctx: SIGNED,
    used_in: Annotated[CannedPlace | None, Query(description=PLACE)] = None,
    ticket_type: Annotated[TicketTypeCode, Query(description="With used_in=tickets: the ticket's type")] = "",
) -> list[CannedPhraseOut]:  # fmt: skip
    """The phrases by category and order."""
    return await canned.listing(ctx, used_in, ticket_type)


@router.post("/canned", status_code=201)
async def create_canned(body: CannedPhraseIn, ctx: SIGNED) -> CannedPhraseOut:
    """Conversations' phrases need templates.write, tickets' tickets.dispatch, both both."""
    return await canned.create(ctx, body)


@router.put("/canned/{canned_id}")
async def update_canned(canned_id: IdPath, body: CannedPhraseIn, ctx: SIGNED) -> CannedPhraseOut:
    return await canned.update(ctx, canned_id, body)


@router.delete("/canned/{canned_id}", status_code=204)
async def delete_canned(canned_id: IdPath, ctx: SIGNED) -> None:
    await canned.delete(ctx, canned_id)
