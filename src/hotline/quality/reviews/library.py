"""The call library (SPEC Q3, seed 003's 录音回放 as training material): calls kept as good or bad
examples with tags and a note, playlists of them by topic in a training order, and the monthly
long-call list (超长录音: every call over N minutes in a month)."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.contact.calls.facts import answered_calls
from hotline.core.context import Context
from hotline.core.errors import InvalidInput
from hotline.core.permissions import Permission
from hotline.quality.reviews.errors import ReviewNotFound
from hotline.quality.reviews.evaluations import staff_labels
from hotline.quality.reviews.models import Evaluation, LibraryEntry, Playlist
from hotline.quality.reviews.schemas import LibraryIn, LibraryOut, LongCall, PlaylistIn, PlaylistOut

P = Permission


async def _entries(session: AsyncSession, ids: list[int] | None = None, **where: object) -> list[LibraryOut]:
    query = select(LibraryEntry).order_by(LibraryEntry.id.desc())
    if ids is not None:
        query = query.where(LibraryEntry.id.in_(ids))
    conditions: list[ColumnElement[bool]] = []
    if where.get("kind"):
        conditions.append(LibraryEntry.kind == where["kind"])
    if where.get("agent_id"):
        conditions.append(LibraryEntry.agent_id == where["agent_id"])
    found = list(await session.scalars(query.where(*conditions)))
    tag = where.get("tag")
    if tag:
        found = [e for e in found if tag in e.tags]
    names = await staff_labels(session, {e.agent_id for e in found})
    return [
        LibraryOut.model_validate(e).model_copy(update={"agent_name": names.get(e.agent_id or 0, "")})
        for e in found
    ]


async def _check_agent(session: AsyncSession, agent_id: int | None) -> None:
    if agent_id is not None and not await staff_labels(session, [agent_id]):
        raise ReviewNotFound(
            f"No user {agent_id}", field="body.agent_id", reason="no-user-id", params={"user_id": agent_id}
        )


async def add(ctx: Context, data: LibraryIn) -> LibraryOut:
    ctx.require(P.QA_EVALUATE)
    async with ctx.write() as tx:
        await _check_agent(tx.session, data.agent_id)
        entry = LibraryEntry(**data.model_dump(), created_by=ctx.actor.user_id)
        tx.session.add(entry)
        await tx.session.flush()
        return (await _entries(tx.session, [entry.id]))[0]


async def edit(ctx: Context, entry_id: int, data: LibraryIn) -> LibraryOut:
    ctx.require(P.QA_EVALUATE)
    async with ctx.write() as tx:
        entry = await tx.session.get(LibraryEntry, entry_id)
        if entry is None:
            raise _no_entry(entry_id, "entry_id")
        await _check_agent(tx.session, data.agent_id)
        for key, value in data.model_dump().items():
            setattr(entry, key, value)
        await tx.session.flush()
        return (await _entries(tx.session, [entry.id]))[0]


async def remove(ctx: Context, entry_id: int) -> None:
    """Take an example out of the library (and out of every playlist)."""
    ctx.require(P.QA_EVALUATE)
    async with ctx.write() as tx:
        entry = await tx.session.get(LibraryEntry, entry_id)
        if entry is None:
            raise _no_entry(entry_id, "entry_id")
        for playlist in await tx.session.scalars(select(Playlist)):
            if entry_id in playlist.entries:
                playlist.entries = [e for e in playlist.entries if e != entry_id]
        await tx.session.delete(entry)


def _no_entry(entry_id: int, field: str) -> ReviewNotFound:
    return ReviewNotFound(
        f"No library entry {entry_id}", field=field, reason="no-library-entry", params={"entry_id": entry_id}
    )


async def listing(
    ctx: Context, *, kind: str | None = None, tag: str | None = None, agent_id: int | None = None
) -> list[LibraryOut]:
    """The examples, newest first; agents read them too (training material)."""
    _require_any(ctx)
    async with ctx.read() as session:
        return await _entries(session, kind=kind, tag=tag, agent_id=agent_id)


def _require_any(ctx: Context) -> None:
    if not ctx.actor.can(P.CALLS_HANDLE):
        ctx.require(P.QA_READ)


async def _playlist_out(session: AsyncSession, playlist: Playlist) -> PlaylistOut:
    entries = {e.id: e for e in await _entries(session, list(playlist.entries))}
    return PlaylistOut(
        id=playlist.id, title=playlist.title, topic=playlist.topic, description=playlist.description,
        entries=[entries[i] for i in playlist.entries if i in entries], updated_at=playlist.updated_at,
    )  # fmt: skip


async def save_playlist(ctx: Context, data: PlaylistIn, playlist_id: int | None = None) -> PlaylistOut:
    ctx.require(P.QA_EVALUATE)
    async with ctx.write() as tx:
        if len(set(data.entries)) != len(data.entries):
            raise InvalidInput(
                "Each example is in a playlist once", field="body.entries", reason="playlist-entry-twice"
            )
        known = set(
            await tx.session.scalars(select(LibraryEntry.id).where(LibraryEntry.id.in_(data.entries)))
        )
        for n, entry_id in enumerate(data.entries):
            if entry_id not in known:
                raise _no_entry(entry_id, f"body.entries.{n}")
        if playlist_id is None:
            playlist = Playlist(created_by=ctx.actor.user_id)
            tx.session.add(playlist)
        else:
            found = await tx.session.get(Playlist, playlist_id)
            if found is None:
                raise ReviewNotFound(
                    f"No playlist {playlist_id}", field="playlist_id", reason="no-playlist",
                    params={"playlist_id": playlist_id},
                )  # fmt: skip
            playlist = found
        playlist.title, playlist.topic, playlist.description = data.title, data.topic, data.description
        playlist.entries = list(data.entries)
        await tx.session.flush()
        return await _playlist_out(tx.session, playlist)


async def playlists(ctx: Context, *, topic: str | None = None) -> list[PlaylistOut]:
    _require_any(ctx)
    async with ctx.read() as session:
        query = select(Playlist).order_by(Playlist.topic, Playlist.id)
        if topic:
            query = query.where(Playlist.topic == topic)
        return [await _playlist_out(session, p) for p in await session.scalars(query)]


async def playlist(ctx: Context, playlist_id: int) -> PlaylistOut:
    _require_any(ctx)
    async with ctx.read() as session:
        found = await session.get(Playlist, playlist_id)
        if found is None:
            raise ReviewNotFound(
                f"No playlist {playlist_id}", field="playlist_id", reason="no-playlist",
                params={"playlist_id": playlist_id},
            )  # fmt: skip
        return await _playlist_out(session, found)


def month_bounds(month: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    first = month.replace(day=1)
    after = (
        first.replace(year=first.year + 1, month=1)
        if first.month == 12
        else first.replace(month=first.month + 1)
    )
    return datetime.combine(first, time(0), tzinfo=zone), datetime.combine(after, time(0), tzinfo=zone)


async def long_calls(ctx: Context, month: date, minutes: int = 15) -> list[LongCall]:
    """The month's 超长录音: every answered call longer than `minutes`, longest first, with the
    evaluation it has if any."""
    ctx.require(P.QA_READ)
    start, end = month_bounds(month, ZoneInfo(ctx.settings.default_timezone))
    calls = [c for c in await answered_calls(ctx, start, end) if c.seconds > minutes * 60]
    calls.sort(key=lambda c: (-c.seconds, c.call_id))
    async with ctx.read() as session:
        names = await staff_labels(session, {c.agent_id for c in calls})
        ids = [c.call_id for c in calls]
        rows = await session.execute(
            select(Evaluation.call_id, Evaluation.id).where(Evaluation.call_id.in_(ids))
        )
        evaluated = {call_id: evaluation_id for call_id, evaluation_id in rows}
    return [
        LongCall(
            call_id=c.call_id,
            agent_id=c.agent_id,
            agent_name=names.get(c.agent_id, ""),
            queue=c.queue,
            direction="outbound" if c.direction == "outbound" else "inbound",
            started_at=c.started_at,
            seconds=c.seconds,
            evaluation_id=evaluated.get(c.call_id),
        )
        for c in calls
    ]
