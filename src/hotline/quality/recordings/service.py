"""The recordings library's rules: search (newest first, keyset pages, numbers masked as the role
sees them), one recording, play and download links (audited), legal hold.

Who may hear a recording (`may_hear`): a role with `recordings.listen` any; anyone else only
- the parts they took of a call they were evaluated on, once the evaluation is scored (an agent
  acknowledges or appeals a score having heard what was judged: 我的质检), and
- the voicemail of a ticket they may read (the voicemail ticket's player).
Not a blanket permission: each play checks the recording against the reader, and is audited as
any listen."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Select, func, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.contact import callbacks
from hotline.core import grants, privacy
from hotline.core.clock import as_utc
from hotline.core.context import Context
from hotline.core.errors import InvalidInput
from hotline.core.permissions import Permission
from hotline.crm import directory as customers
from hotline.quality.recordings import media, retention
from hotline.quality.recordings.errors import RecordingFileMissing, RecordingNotFound, RecordingNotYours
from hotline.quality.recordings.models import Recording
from hotline.quality.recordings.schemas import (
    Channel,
    Checks,
    Direction,
    DownloadOut,
    PlayOut,
    RecordingHoldIn,
    RecordingKind,
    RecordingPage,
    RecordingRow,
)
from hotline.quality.reviews import access as evaluations
from hotline.quality.speech import search as transcripts

REVEALABLE = privacy.revealable("recording", Recording, Permission.RECORDINGS_LISTEN)
"""A recording's number may be revealed (core/privacy.py)."""


@dataclass(frozen=True)
class Search:
    """The filters of `GET /recordings` (each optional; all given must match)."""

    since: datetime | None = None
    until: datetime | None = None
    agent_id: int | None = None
    queue: str | None = None
    customer_id: int | None = None
    number: str | None = None
    direction: Direction | None = None
    kind: RecordingKind | None = None
    disposition: str | None = None
    min_seconds: float | None = None
    max_seconds: float | None = None
    call_id: str | None = None
    legal_hold: bool | None = None
    cursor: str | None = None
    limit: int = 50
    text: str | None = None
    """Words the transcript says (quality.speech)."""
    forbidden: bool | None = None
    """With (or without) a forbidden-phrase hit; only transcribed recordings either way."""
    missing_required: str | None = None
    """Missing this required phrase (a rule's key) or "any" of them."""
    silence_at_least: float | None = None
    """The longest silence at least this many seconds (auto-checked calls only)."""
    overtalk_at_least: float | None = None
    """Both sides speaking at once for at least this many seconds in all."""
    agent_share_min: int | None = None
    """The agent's share of the talk, in percent, at least…"""
    agent_share_max: int | None = None
    """…and at most."""


def encode_cursor(started_at: datetime, recording_id: int) -> str:
    raw = f"{as_utc(started_at).isoformat()}|{recording_id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, _, recording_id = raw.partition("|")
        return as_utc(datetime.fromisoformat(at)), int(recording_id)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidInput(
            "The cursor is not one this search gave", field="cursor", reason="recording-cursor-invalid"
        ) from exc


def _filtered(query: Select[Recording], search: Search) -> Select[Recording]:
    if search.since is not None and search.until is not None and search.since > search.until:
        raise InvalidInput("`from` is after `to`", field="from", reason="recording-range-reversed")
    if (
        search.min_seconds is not None
        and search.max_seconds is not None
        and search.min_seconds > search.max_seconds
    ):
        raise InvalidInput(
            "min_seconds is above max_seconds", field="min_seconds", reason="recording-seconds-reversed"
        )
    equal: dict[str, Any] = {
        "agent_id": search.agent_id, "queue": search.queue, "customer_id": search.customer_id,
        "direction": search.direction, "kind": search.kind, "disposition": search.disposition,
        "call_id": search.call_id, "legal_hold": search.legal_hold,
    }  # fmt: skip
    for column, value in equal.items():
        if value is not None:
            query = query.where(getattr(Recording, column) == value)
    if search.since is not None:
        query = query.where(Recording.started_at >= search.since)
    if search.until is not None:
        query = query.where(Recording.started_at < search.until)
    if search.min_seconds is not None:
        query = query.where(Recording.seconds >= search.min_seconds)
    if search.max_seconds is not None:
        query = query.where(Recording.seconds <= search.max_seconds)
    if (
        search.agent_share_min is not None
        and search.agent_share_max is not None
        and search.agent_share_min > search.agent_share_max
    ):
        raise InvalidInput(
            "agent_share_min is above agent_share_max",
            field="agent_share_min",
            reason="recording-share-reversed",
        )
    if search.silence_at_least is not None:
        query = query.where(Recording.longest_silence >= search.silence_at_least)
    if search.overtalk_at_least is not None:
        query = query.where(Recording.overtalk_seconds >= search.overtalk_at_least)
    if search.agent_share_min is not None:
        query = query.where(Recording.talk_ratio >= search.agent_share_min / 100)
    if search.agent_share_max is not None:
        query = query.where(Recording.talk_ratio <= search.agent_share_max / 100)
    if search.number is not None and not search.number.isdigit():
        raise InvalidInput(
            "A number to search by is digits only", field="number", reason="recording-number-digits"
        )
    if search.number:
        tail = search.number[::-1] + "%"  # the last digits, as an index prefix of the reversed number
        query = query.where(or_(Recording.number_rev.like(tail), Recording.dialled_rev.like(tail)))
    if search.text is not None:
        query = query.where(Recording.id.in_(transcripts.saying(search.text)))
    if search.forbidden is not None:
        query = query.where(Recording.id.in_(transcripts.with_forbidden(search.forbidden)))
    if search.missing_required is not None:
        query = query.where(Recording.id.in_(transcripts.missing(search.missing_required)))
    if search.cursor:
        at, recording_id = decode_cursor(search.cursor)
        query = query.where(tuple_(Recording.started_at, Recording.id) < tuple_(at, recording_id))
    return query


async def search(ctx: Context, search: Search) -> RecordingPage:
    """Recordings matching every filter given, newest first, `limit` at a time; `next_cursor`
    continues after the last (None: that was all)."""
    ctx.require(Permission.RECORDINGS_LISTEN)
    query = _filtered(select(Recording).where(Recording.deleted_at.is_(None)), search)
    query = query.order_by(Recording.started_at.desc(), Recording.id.desc()).limit(search.limit + 1)
    async with ctx.read() as session:
        rows = list((await session.scalars(query)).all())
    more = len(rows) > search.limit
    rows = rows[: search.limit]
    items = await rows_out(ctx, rows)
    last = rows[-1] if more else None
    return RecordingPage(items=items, next_cursor=encode_cursor(last.started_at, last.id) if last else None)


async def rows_out(ctx: Context, rows: list[Recording]) -> list[RecordingRow]:
    """Rows as readers see them: the number masked (a role that may see it reveals it one at a time,
    audited: POST /api/privacy/reveal, entity "recording", field "number"); the queue's and the
    customer's names as they are now."""
    async with ctx.read() as session:
        titles = await callbacks.queue_titles(session)
        cards = await customers.cards(session, {r.customer_id for r in rows if r.customer_id is not None})
        phrases = await transcripts.summaries(session, [r.id for r in rows])
    days = await retention.days_by_queue(ctx)
    default = retention.default_days(ctx)
    out = []
    for row in rows:
        card = cards.get(row.customer_id) if row.customer_id is not None else None
        out.append(
            RecordingRow(
                id=row.id,
                call_id=row.call_id,
                part=row.part,
                kind=row.kind,
                started_at=row.started_at,
                seconds=row.seconds,
                direction=row.direction,
                queue=row.queue,
                queue_title=titles.get(row.queue, ""),
                agent_id=row.agent_id,
                agent_name=row.agent_name,
                agent_number=row.agent_number,
                customer_id=row.customer_id,
                customer_name=card.name if card is not None else "",
                number=privacy.mask_phone(row.number),
                dialled=row.dialled,
                disposition=row.disposition,
                survey_score=row.survey_score,
                qa_score=row.qa_score,
                checks=Checks.model_validate(row.checks) if row.checks else None,
                legal_hold=row.legal_hold,
                delete_after=None if row.legal_hold else delete_after(row, days, default),
                channels=row.channels,
                phrases=phrases.get(row.id),
            )
        )
    return out


def delete_after(row: Recording, days: dict[str, int], default: int) -> date:
    keep = days.get(row.queue, default)
    return (as_utc(row.started_at) + timedelta(days=keep)).date()


async def _row(ctx: Context, recording_id: int) -> Recording:
    async with ctx.read() as session:
        row = await session.get(Recording, recording_id)
    if row is None or row.deleted_at is not None:
        raise RecordingNotFound(
            f"No recording {recording_id}",
            field="recording_id",
            reason="no-recording",
            params={"recording_id": recording_id},
        )
    return row


async def get(ctx: Context, recording_id: int) -> RecordingRow:
    ctx.require(Permission.RECORDINGS_LISTEN)
    return (await rows_out(ctx, [await _row(ctx, recording_id)]))[0]


async def may_hear(ctx: Context, row: Recording) -> bool:
    """Whether the reader may hear this recording (the module docstring says who may)."""
    if ctx.actor.can(Permission.RECORDINGS_LISTEN):
        return True
    me = ctx.actor.user_id
    if me is None:
        return False
    if row.kind == "voicemail":
        return await grants.may_read_call(ctx, row.call_id)  # the ticket opened on it (tickets)
    async with ctx.read() as session:
        named = await evaluations.evaluated_recordings(session, me, row.call_id)
    return named is not None and (row.id in named or row.agent_id == me)


def _not_yours(recording_id: int) -> RecordingNotYours:
    return RecordingNotYours(
        f"Recording {recording_id} is neither of a call you were evaluated on nor the voicemail of a "
        "ticket you may read",
        field="recording_id",
        reason="recording-not-yours",
        params={"recording_id": recording_id},
    )


async def of_call(ctx: Context, call_id: str) -> list[RecordingRow]:
    """The recordings of one call the reader may hear, part by part. A call whose recordings the
    reader may not hear is refused (403) rather than shown as having none."""
    async with ctx.read() as session:
        rows = list(
            (
                await session.scalars(
                    select(Recording)
                    .where(Recording.call_id == call_id, Recording.deleted_at.is_(None))
                    .order_by(Recording.part, Recording.id)
                    .limit(50)
                )
            ).all()
        )
    heard = [row for row in rows if await may_hear(ctx, row)]
    if rows and not heard:
        raise _not_yours(rows[0].id)
    return await rows_out(ctx, heard)


async def play(ctx: Context, recording_id: int) -> PlayOut:
    """Signed links to hear a recording (both channels, each alone) and see its waveform, valid
    ten minutes; the listen is audited. The peaks are computed once, in a worker."""
    row = await _row(ctx, recording_id)
    if not await may_hear(ctx, row):
        raise _not_yours(recording_id)
    audio = ctx.settings.recordings_dir / row.path
    peaks = media.peaks_file(audio)
    if audio.is_file() and not peaks.is_file():
        await ctx.compute(media.compute_peaks, str(audio), limit=120)  # a 4-hour call takes seconds
    async with ctx.write() as tx:
        tx.audit("recording.listened", "recording", row.id, after={"call_id": row.call_id, "part": row.part})
    key, until = await media.media_key(ctx), media.expiry()
    split = row.channels == 2
    return PlayOut(
        audio=media.link(key, row.id, "mix", "play", until),
        caller=media.link(key, row.id, "caller", "play", until) if split else None,
        agent=media.link(key, row.id, "agent", "play", until) if split else None,
        peaks=media.link(key, row.id, "peaks", "play", until),
        expires_at=until,
    )


async def download(ctx: Context, recording_id: int) -> DownloadOut:
    ctx.require(Permission.RECORDINGS_DOWNLOAD)
    row = await _row(ctx, recording_id)
    async with ctx.write() as tx:
        tx.audit(
            "recording.downloaded", "recording", row.id, after={"call_id": row.call_id, "part": row.part}
        )
    key, until = await media.media_key(ctx), media.expiry()
    return DownloadOut(url=media.link(key, row.id, "mix", "download", until), expires_at=until)


@dataclass(frozen=True)
class MediaFile:
    path: Path
    media_type: str
    filename: str
    attachment: bool


async def open_media(ctx: Context, token: str) -> MediaFile:
    """The file a signed link grants (no session: the link is the permission)."""
    grant = media.verify(await media.media_key(ctx), token)
    row = await _row(ctx, grant.recording_id)
    channel: Channel = grant.channel
    path = media.file_of(ctx.settings.recordings_dir, row.path, channel)
    if not path.is_file():
        raise RecordingFileMissing(
            f"The file of recording {row.id} is not on this node (it is kept on {row.node})",
            field="token",
            reason="recording-file-not-here",
            params={"recording_id": row.id, "node": row.node},
        )
    if channel == "peaks":
        return MediaFile(path, "application/json", f"recording-{row.id}-peaks.json", False)
    name = f"recording-{row.id}" + ("" if channel == "mix" else f"-{channel}") + ".wav"
    return MediaFile(path, "audio/wav", name, grant.purpose == "download")


async def hold(ctx: Context, recording_id: int, data: RecordingHoldIn) -> RecordingRow:
    """Put a recording on legal hold (kept past its retention until released) or release it."""
    ctx.require(Permission.RECORDINGS_DOWNLOAD)
    async with ctx.write() as tx:
        row = await tx.session.get(Recording, recording_id)
        if row is None or row.deleted_at is not None:
            raise RecordingNotFound(
                f"No recording {recording_id}",
                field="recording_id",
                reason="no-recording",
                params={"recording_id": recording_id},
            )
        before = {"legal_hold": row.legal_hold, "reason": row.hold_reason}
        row.legal_hold, row.hold_reason = data.legal_hold, data.reason
        tx.audit("recording.hold", "recording", row.id, before=before, after=data.model_dump())
    return await get(ctx, recording_id)


async def note_qa_score(session: AsyncSession, call_id: str, agent_id: int, score: float | None) -> None:
    """An evaluation's score on the recordings of the call it judged (the agent's parts): the
    library shows and sorts by it. Written in the evaluation's transaction."""
    await session.execute(
        update(Recording)
        .where(Recording.call_id == call_id, Recording.agent_id == agent_id, Recording.kind == "call")
        .values(qa_score=score)
    )


@dataclass(frozen=True)
class AgentChecks:
    """What the automatic checks found on an agent's recorded calls (the figures for the reports)."""

    checked: int = 0
    silences: int = 0
    overtalks: int = 0


async def checks_by_agent(
    session: AsyncSession, since: datetime, until: datetime, agent_id: int | None = None
) -> dict[int, AgentChecks]:
    """Per agent, the checked call recordings that started in [since, until), with their silences
    and overtalk summed in the database (a row's `checks` JSON also holds its segments: never loaded)."""
    checks = Recording.checks
    query = (
        select(
            Recording.agent_id,
            func.count(),
            func.coalesce(func.sum(checks["silence_count"].as_integer()), 0),
            func.coalesce(func.sum(checks["overtalk_count"].as_integer()), 0),
        )
        .where(
            Recording.kind == "call",
            Recording.started_at >= since,
            Recording.started_at < until,
            Recording.checked_at.is_not(None),
            Recording.agent_id.is_not(None),
            Recording.deleted_at.is_(None),
        )
        .group_by(Recording.agent_id)
    )
    if agent_id is not None:
        query = query.where(Recording.agent_id == agent_id)
    return {
        int(agent): AgentChecks(int(n), int(silences), int(overtalks))
        for agent, n, silences, overtalks in (await session.execute(query)).all()
    }


async def call_figures(
    session: AsyncSession, start: datetime, end: datetime
) -> dict[str, tuple[float, float]]:
    """The calls of [start, end) the automatic checks ran on: each call's longest silence and its
    overtalk in all, over its recorded parts (sampling's always-rules). A part starts after its
    call, up to a day after for a long one."""
    rows = await session.execute(
        select(Recording.call_id, func.max(Recording.longest_silence), func.sum(Recording.overtalk_seconds))
        .where(
            Recording.started_at >= start,
            Recording.started_at < end + timedelta(days=1),
            Recording.kind == "call",
            Recording.longest_silence.is_not(None),
            Recording.deleted_at.is_(None),
        )
        .group_by(Recording.call_id)
    )
    return {call_id: (float(silence or 0), float(overtalk or 0)) for call_id, silence, overtalk in rows}
