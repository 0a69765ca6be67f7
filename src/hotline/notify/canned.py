"""Canned phrases (常用语 / 快捷回复, issue 24): the one store of the phrases staff insert with one
click — into a conversation's reply (the agent's thread, the desktop's chats) and into a ticket's
result or rejection note (tickets' move dialog) — by category (问候, 预订, 旅游, 投诉, 结束语, 其他)
and in the editor's order. Each phrase says where it is offered (`used_in`: conversations,
tickets or both) and, on tickets, for which type (`ticket_type`, empty: every type).

Who keeps them follows where they are offered: conversations' phrases whoever edits the message
templates (templates.write: supervisors, admins), tickets' whoever dispatches tickets
(tickets.dispatch: team leads too), a phrase for both needs both. Readers get the active ones of
their place: conversations for those who answer them (messages.send), tickets for those who read
tickets (tickets.read, department staff too). Each write is audited as a row change
(`CannedPhrase` is Audited). The text stays as written; `{客户称呼}` and `{number}` are filled
where it is inserted."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.context import Context
from hotline.core.permissions import Permission
from hotline.core.rows import apply_partial, get_or_404
from hotline.notify.canned_schemas import CannedPhraseIn, CannedPhraseOut, CannedPlace
from hotline.notify.models import CannedPhrase

CATEGORY_ORDER = ("greeting", "booking", "travel", "complaint", "closing", "other")
EDITORS = {
    "conversations": (Permission.TEMPLATES_WRITE,),
    "tickets": (Permission.TICKETS_DISPATCH,),
    "both": (Permission.TEMPLATES_WRITE, Permission.TICKETS_DISPATCH),
}
"""Who may write a phrase, by where it is offered."""
READERS = {"conversations": Permission.MESSAGES_SEND, "tickets": Permission.TICKETS_READ}


def _order(row: CannedPhrase) -> tuple[int, int, int]:
    return CATEGORY_ORDER.index(row.category), row.sort_order, row.id


def _may_edit(ctx: Context, used_in: str) -> bool:
    return all(ctx.actor.can(p) for p in EDITORS[used_in])


def _editor(ctx: Context) -> None:
    """Refuses whoever may edit no phrase at all (before a phrase is looked for)."""
    if not any(_may_edit(ctx, use) for use in ("conversations", "tickets")):
        ctx.require(Permission.TEMPLATES_WRITE)


def _check_edit(ctx: Context, *used_in: str) -> None:
    for use in used_in:
        for permission in EDITORS[use]:
            ctx.require(permission)


def _out(ctx: Context, row: CannedPhrase) -> CannedPhraseOut:
    return CannedPhraseOut.model_validate(row).model_copy(update={"editable": _may_edit(ctx, row.used_in)})


async def listing(
    ctx: Context, place: CannedPlace | None = None, ticket_type: str = ""
) -> list[CannedPhraseOut]:
    """The active phrases offered in `place` (on a ticket of `ticket_type`: those for every type and
    for it), by category and order; without `place`, every phrase, for the editors' screen."""
    if place is None:
        _editor(ctx)
        query = select(CannedPhrase)
    else:
        ctx.require(READERS[place])
        query = select(CannedPhrase).where(
            CannedPhrase.active.is_(True), CannedPhrase.used_in.in_((place, "both"))
        )
        if place == "tickets":
            query = query.where(CannedPhrase.ticket_type.in_(("", ticket_type)))
    async with ctx.read() as session:
        rows = sorted((await session.scalars(query)).all(), key=_order)
        return [_out(ctx, r) for r in rows]


async def create(ctx: Context, data: CannedPhraseIn) -> CannedPhraseOut:
    _check_edit(ctx, data.used_in)
    async with ctx.write() as tx:
        row = CannedPhrase(**data.model_dump())
        tx.session.add(row)
        await tx.session.flush()
        return _out(ctx, row)


async def update(ctx: Context, canned_id: int, data: CannedPhraseIn) -> CannedPhraseOut:
    _editor(ctx)
    async with ctx.write() as tx:
        row = await _load(tx.session, canned_id)
        _check_edit(ctx, row.used_in, data.used_in)
        apply_partial(row, data, only_set=False)
        await tx.session.flush()
        return _out(ctx, row)


async def delete(ctx: Context, canned_id: int) -> None:
    _editor(ctx)
    async with ctx.write() as tx:
        row = await _load(tx.session, canned_id)
        _check_edit(ctx, row.used_in)
        await tx.session.delete(row)


async def _load(session: AsyncSession, canned_id: int) -> CannedPhrase:
    return await get_or_404(
        session, CannedPhrase, canned_id, "canned response", field="canned_id", for_update=True
    )


@dataclass(frozen=True)
class Starting:
    """A phrase a domain or the demo starts with."""

    category: str
    title: str
    text: str
    used_in: str
    ticket_type: str = ""


async def add_defaults(session: AsyncSession, place: CannedPlace, phrases: Iterable[Starting]) -> int:
    """Starting phrases, in the caller's transaction, once: none is added while any phrase is
    offered in `place` (an editor's changes stay)."""
    offered = await session.scalar(
        select(CannedPhrase.id).where(CannedPhrase.used_in.in_((place, "both"))).limit(1)
    )
    if offered is not None:
        return 0
    rows = [
        CannedPhrase(category=p.category, title=p.title, text=p.text, used_in=p.used_in,
                     ticket_type=p.ticket_type, sort_order=n * 10)
        for n, p in enumerate(phrases)
    ]  # fmt: skip
    session.add_all(rows)
    await session.flush()
    return len(rows)
