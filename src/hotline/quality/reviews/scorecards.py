"""Scorecards (SPEC Q2): forms of sections and weighted items, kept by QA leads, versioned.

A draft is edited in place. Editing a published version makes the family's next version, a draft,
while the published one stays in use; publishing the draft retires the version before it.
Evaluations keep the version they were scored on, so a score never moves under an edit.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.core.permissions import Permission
from hotline.quality.reviews.errors import ReviewNotFound, ScorecardFrozen, ScorecardInvalid
from hotline.quality.reviews.models import Evaluation, Scorecard
from hotline.quality.reviews.schemas import ScorecardIn, ScorecardOut
from hotline.quality.reviews.scoring import Item


def items_of(card: Scorecard) -> list[Item]:
    return [
        Item(
            i["key"],
            i["kind"],
            i["weight"],
            i.get("max", 1),
            i.get("auto_fail", False),
            i.get("allow_na", False),
        )
        for section in card.sections
        for i in section["items"]
    ]


def item_texts(card: Scorecard) -> dict[str, str]:
    return {i["key"]: i["text"] for section in card.sections for i in section["items"]}


def _sections(data: ScorecardIn) -> list[dict[str, Any]]:
    keys: set[str] = set()
    for s, section in enumerate(data.sections):
        for n, item in enumerate(section.items):
            if item.key in keys:
                raise ScorecardInvalid(
                    f"The item key {item.key!r} is used twice",
                    field=f"body.sections.{s}.items.{n}.key",
                    reason="item-key-twice",
                    params={"key": item.key},
                )
            keys.add(item.key)
    return [section.model_dump(mode="json") for section in data.sections]


async def get_row(session: AsyncSession, scorecard_id: int) -> Scorecard:
    card = await session.get(Scorecard, scorecard_id)
    if card is None:
        raise ReviewNotFound(
            f"No scorecard {scorecard_id}",
            field="scorecard_id",
            reason="no-scorecard",
            params={"scorecard_id": scorecard_id},
        )
    return card


async def _out(session: AsyncSession, card: Scorecard) -> ScorecardOut:
    out = ScorecardOut.model_validate(card)
    out.in_use = int(
        await session.scalar(select(func.count(Evaluation.id)).where(Evaluation.scorecard_id == card.id)) or 0
    )
    return out


async def create(ctx: Context, data: ScorecardIn) -> ScorecardOut:
    ctx.require(Permission.QA_MANAGE)
    sections = _sections(data)
    async with ctx.write() as tx:
        card = Scorecard(
            family=0, version=1, name=data.name, description=data.description, sections=sections,
            created_by=ctx.actor.user_id,
        )  # fmt: skip
        tx.session.add(card)
        await tx.session.flush()
        card.family = card.id
        await tx.session.flush()
        return await _out(tx.session, card)


async def edit(ctx: Context, scorecard_id: int, data: ScorecardIn) -> ScorecardOut:
    """Change a draft in place; a published version gets a new draft version (see the module)."""
    ctx.require(Permission.QA_MANAGE)
    sections = _sections(data)
    async with ctx.write() as tx:
        card = await get_row(tx.session, scorecard_id)
        if card.status == "retired":
            raise ScorecardFrozen(
                "A retired scorecard version is not edited: edit the family's latest version",
                reason="retired-scorecard-not-edited",
            )
        if card.status == "published":
            draft = await tx.session.scalar(
                select(Scorecard).where(Scorecard.family == card.family, Scorecard.status == "draft")
            )
            if draft is None:
                latest = await tx.session.scalar(
                    select(func.max(Scorecard.version)).where(Scorecard.family == card.family)
                )
                draft = Scorecard(family=card.family, version=(latest or 0) + 1, created_by=ctx.actor.user_id)
                tx.session.add(draft)
            card = draft
        card.name, card.description, card.sections = data.name, data.description, sections
        await tx.session.flush()
        return await _out(tx.session, card)


async def publish(ctx: Context, scorecard_id: int) -> ScorecardOut:
    ctx.require(Permission.QA_MANAGE)
    async with ctx.write() as tx:
        card = await get_row(tx.session, scorecard_id)
        if card.status != "draft":
            raise ScorecardFrozen(
                "Only a draft is published", field="scorecard_id", reason="only-draft-published"
            )
        for older in await tx.session.scalars(
            select(Scorecard).where(Scorecard.family == card.family, Scorecard.status == "published")
        ):
            older.status = "retired"
        card.status, card.published_at = "published", utcnow()
        await tx.session.flush()
        return await _out(tx.session, card)


async def listing(ctx: Context, *, every_version: bool = False) -> list[ScorecardOut]:
    """The scorecards: each family's published version and its draft (every version on request)."""
    ctx.require(Permission.QA_READ)
    async with ctx.read() as session:
        query = select(Scorecard).order_by(Scorecard.family, Scorecard.version)
        if not every_version:
            query = query.where(Scorecard.status != "retired")
        return [await _out(session, card) for card in await session.scalars(query)]


async def get(ctx: Context, scorecard_id: int) -> ScorecardOut:
    ctx.require(Permission.QA_READ)
    async with ctx.read() as session:
        return await _out(session, await get_row(session, scorecard_id))


async def published_of(session: AsyncSession, family: int) -> Scorecard:
    card = await session.scalar(
        select(Scorecard).where(Scorecard.family == family, Scorecard.status == "published")
    )
    if card is None:
        raise ScorecardInvalid(
            f"Scorecard {family} has no published version",
            field="body.scorecard_family",
            reason="scorecard-not-published",
            params={"family": family},
        )
    return card
