"""Canned responses (常用语, issue 24): site-wide phrases an agent inserts into a chat reply with
one click, by category (问候, 预订, 旅游, 投诉, 结束语) and in the editor's order. Kept by whoever
edits the message templates (templates.write); every agent who answers conversations reads the
active ones. The reply box fills `{客户称呼}` from the conversation's customer or visitor; the
text here stays as written. Each write is audited as a row change (`CannedPhrase` is Audited)."""

from __future__ import annotations

from sqlalchemy import select

from hotline.core.context import Context
from hotline.core.permissions import Permission
from hotline.core.rows import apply_partial, get_or_404
from hotline.notify.models import CannedPhrase
from hotline.notify.schemas import CannedPhraseIn, CannedPhraseOut

CATEGORY_ORDER = ("greeting", "booking", "travel", "complaint", "closing", "other")


def _order(row: CannedPhrase) -> tuple[int, int, int]:
    return CATEGORY_ORDER.index(row.category), row.sort_order, row.id


async def listing(ctx: Context) -> list[CannedPhraseOut]:
    """The active phrases by category and order; their editors also see the inactive ones."""
    ctx.require(Permission.MESSAGES_SEND)
    query = select(CannedPhrase)
    if not ctx.actor.can(Permission.TEMPLATES_WRITE):
        query = query.where(CannedPhrase.active.is_(True))
    async with ctx.read() as session:
        rows = sorted((await session.scalars(query)).all(), key=_order)
        return [CannedPhraseOut.model_validate(r) for r in rows]


async def create(ctx: Context, data: CannedPhraseIn) -> CannedPhraseOut:
    ctx.require(Permission.TEMPLATES_WRITE)
    async with ctx.write() as tx:
        row = CannedPhrase(**data.model_dump())
        tx.session.add(row)
        await tx.session.flush()
        return CannedPhraseOut.model_validate(row)


async def update(ctx: Context, canned_id: int, data: CannedPhraseIn) -> CannedPhraseOut:
    ctx.require(Permission.TEMPLATES_WRITE)
    async with ctx.write() as tx:
        row = await get_or_404(
            tx.session, CannedPhrase, canned_id, "canned response", field="canned_id", for_update=True
        )
        apply_partial(row, data, only_set=False)
        await tx.session.flush()
        return CannedPhraseOut.model_validate(row)


async def delete(ctx: Context, canned_id: int) -> None:
    ctx.require(Permission.TEMPLATES_WRITE)
    async with ctx.write() as tx:
        row = await get_or_404(
            tx.session, CannedPhrase, canned_id, "canned response", field="canned_id", for_update=True
        )
        await tx.session.delete(row)
