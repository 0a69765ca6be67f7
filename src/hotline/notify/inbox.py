"""In-app messages for staff (N5): a workflow tells the people who must act — a template waiting
for approval, a paper booking in conflict, later an order assigned or a ticket dispatched — and
anyone may be mentioned. Each notice is a row (so nothing is lost while someone is offline) and
a live event to their open browsers (the bell's count goes up at once)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import ClassVar

from pydantic import Field
from sqlalchemy import func, select, update

from hotline.admin import directory
from hotline.core.clock import utcnow
from hotline.core.context import Context, Tx
from hotline.core.errors import NotFound
from hotline.core.events import Event
from hotline.core.permissions import Permission
from hotline.notify.models import StaffNotice
from hotline.notify.schemas import InboxOut, StaffNoticeOut


class StaffNoticed(Event):
    """A new in-app notice; `audience` are the user ids whose browsers are told."""

    name: ClassVar[str] = "notify.staff_notice"
    audience: list[int]
    notice_id: int
    kind: str
    title: str
    link: str = Field(default="")


async def tell(
    tx: Tx, user_ids: Iterable[int], kind: str, title: str, *, body: str = "", link: str = ""
) -> int:
    """Post a notice to each of `user_ids` in the caller's transaction; returns how many."""
    told = 0
    for user_id in sorted(set(user_ids)):
        notice = StaffNotice(user_id=user_id, kind=kind, title=title[:200], body=body[:1000], link=link[:200])
        tx.session.add(notice)
        await tx.session.flush()
        tx.publish(
            StaffNoticed(audience=[user_id], notice_id=notice.id, kind=kind, title=notice.title, link=link)
        )
        told += 1
    return told


MENTION = re.compile(r"@([A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?)")


async def mention(
    tx: Tx, text: str, *, author: int | None, title: str, link: str, readers: Permission
) -> int:
    """The people a note names — `@001` by work number, `@planner` by login — are told once each,
    with the note; not its author, not names that are no one's (left as written), and not people
    who may not read what the note is on (`readers`)."""
    handles = set(MENTION.findall(text))
    if not handles:
        return 0
    named = await directory.by_handle(tx.session, handles)
    allowed = set(await directory.holders_of(tx.session, readers))
    told = [u for u in named if u != author and u in allowed]
    return await tell(tx, told, "mention", title, body=text, link=link)


async def mine(ctx: Context, limit: int = 30) -> InboxOut:
    user_id = _me(ctx)
    async with ctx.read() as session:
        latest = select(StaffNotice).where(StaffNotice.user_id == user_id).order_by(StaffNotice.id.desc())
        rows = (await session.scalars(latest.limit(limit))).all()
        unread = await session.scalar(
            select(func.count(StaffNotice.id)).where(
                StaffNotice.user_id == user_id, StaffNotice.read_at.is_(None)
            )
        )
    return InboxOut(unread=int(unread or 0), items=[StaffNoticeOut.model_validate(r) for r in rows])


async def mark_read(ctx: Context, notice_id: int | None = None) -> InboxOut:
    """One notice read (or all of mine when `notice_id` is None)."""
    user_id = _me(ctx)
    async with ctx.write() as tx:
        query = update(StaffNotice).where(StaffNotice.user_id == user_id, StaffNotice.read_at.is_(None))
        if notice_id is not None:
            found = await tx.session.get(StaffNotice, notice_id)
            if found is None or found.user_id != user_id:
                raise NotFound(
                    f"No notice {notice_id}",
                    field="notice_id",
                    reason="no-notice",
                    params={"notice_id": notice_id},
                )
            query = query.where(StaffNotice.id == notice_id)
        await tx.session.execute(query.values(read_at=utcnow()))
    return await mine(ctx)


def _me(ctx: Context) -> int:
    if ctx.actor.user_id is None:
        raise NotFound("Only people have an inbox", field="user", reason="people-inbox")
    return ctx.actor.user_id
