"""The do-not-call list: opt-outs, refusals on a call (out for the campaign's refusal months),
imported entries and staff's. `rules.decide` reads it before every dial; here it is kept."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.core.errors import InvalidInput, NotFound
from hotline.core.permissions import Permission
from hotline.outbound.models import DoNotCall
from hotline.outbound.rules import CampaignKind, DncEntry, DncSource, normalise
from hotline.outbound.schemas import DncIn, DncOut, DncPage

_BATCH = 500


def _entry(row: DoNotCall) -> DncEntry:
    return DncEntry(row.phone, DncSource(row.source), row.at, row.until, all_calls=row.all_calls)


async def entries_for(session: AsyncSession, numbers: Iterable[str]) -> list[DncEntry]:
    """The list's entries for these numbers (E.164), expired ones included: `decide` judges them."""
    wanted = list(dict.fromkeys(numbers))
    found: list[DncEntry] = []
    for at in range(0, len(wanted), _BATCH):
        rows = await session.scalars(select(DoNotCall).where(DoNotCall.phone.in_(wanted[at : at + _BATCH])))
        found += [_entry(row) for row in rows]
    return found


async def heeded_numbers(session: AsyncSession, numbers: Iterable[str], kind: CampaignKind) -> set[str]:
    """The numbers a campaign of this kind may not call now because of the list (marketing heeds
    every current entry; service calls only an opt-out of all calls)."""
    now = utcnow()
    return {
        entry.number
        for entry in await entries_for(session, numbers)
        if (entry.until is None or entry.until > now)
        and (kind is CampaignKind.MARKETING or (entry.source is DncSource.OPT_OUT and entry.all_calls))
    }


async def add(ctx: Context, data: DncIn, *, campaign_id: int | None = None) -> DncOut:
    ctx.require(Permission.CAMPAIGNS_WRITE)
    number = normalise(data.number)
    if number.e164 is None:
        raise InvalidInput("Not a valid phone number", field="body.number", reason=number.problem)
    if data.until is not None and data.until <= utcnow():
        raise InvalidInput("The entry would end in the past", field="body.until", reason="dnc-until-past")
    async with ctx.write() as tx:
        row = DoNotCall(
            phone=number.e164,
            source=data.source,
            all_calls=data.all_calls,
            until=data.until,
            note=data.note,
            campaign_id=campaign_id,
            created_by=ctx.actor.user_id,
        )
        tx.session.add(row)
        await tx.session.flush()
        return DncOut.model_validate(row)


def refusal(phone: str, at: datetime, until: datetime, campaign_id: int, user_id: int | None) -> DoNotCall:
    """The entry a refusal on a call leaves (written by the attempt that heard it)."""
    return DoNotCall(
        phone=phone,
        source=DncSource.REFUSAL,
        at=at,
        until=until,
        campaign_id=campaign_id,
        created_by=user_id,
        note="通话中拒绝",
    )


async def remove(ctx: Context, entry_id: int) -> None:
    ctx.require(Permission.CAMPAIGNS_WRITE)
    async with ctx.write() as tx:
        row = await tx.session.get(DoNotCall, entry_id)
        if row is None:
            raise NotFound(
                f"No entry {entry_id}", field="entry_id", reason="no-dnc-entry", params={"entry_id": entry_id}
            )
        await tx.session.delete(row)


async def list_entries(
    ctx: Context, *, number: str = "", current: bool = True, limit: int = 50, offset: int = 0
) -> DncPage:
    """The list, newest first; `number` finds one number's entries (any way it is written)."""
    ctx.require(Permission.CAMPAIGNS_READ)
    query = select(DoNotCall)
    if number:
        found = normalise(number)
        if found.e164 is None:
            raise InvalidInput("Not a valid phone number", field="number", reason=found.problem)
        query = query.where(DoNotCall.phone == found.e164)
    if current:
        query = query.where(or_(DoNotCall.until.is_(None), DoNotCall.until > utcnow()))
    async with ctx.read() as session:
        total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = await session.scalars(query.order_by(DoNotCall.id.desc()).limit(limit).offset(offset))
        return DncPage(items=[DncOut.model_validate(r) for r in rows], total=total)
