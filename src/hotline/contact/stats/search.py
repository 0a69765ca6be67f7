"""Call-record search (docs/reports.md "Call records"): every filter optional, newest first, a page
at a time by keyset (arrived_at, id) so page 10,000 costs what page 1 does; the total is exact up
to COUNT_LIMIT and "more than" beyond it (counting millions to show a number nobody reads is the
slowest part of a search)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeVarTuple
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, func, or_, select

from hotline.admin import directory
from hotline.contact import callbacks
from hotline.contact.stats.models import CallRecord
from hotline.contact.stats.schemas import CallRecordOut, CallRecordPage
from hotline.core.clock import as_utc, utcnow
from hotline.core.context import Context
from hotline.core.errors import InvalidInput
from hotline.core.periods import local_midnight
from hotline.core.permissions import Permission
from hotline.telephony import service as telephony

COUNT_LIMIT = 10_000
Ts = TypeVarTuple("Ts")


@dataclass(frozen=True)
class CallSearch:
    start: date | None = None
    end: date | None = None
    agent_ids: set[int] | None = None
    queue: str | None = None
    number: str | None = None
    direction: str | None = None
    outcome: str | None = None
    min_seconds: int | None = None
    max_seconds: int | None = None
    disposition: str | None = None
    has_recording: bool | None = None
    survey_min: int | None = None
    survey_max: int | None = None
    cursor: str | None = None
    limit: int = 50


def encode_cursor(arrived_at: datetime, row_id: int) -> str:
    raw = f"{as_utc(arrived_at).isoformat()}|{row_id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, _, row_id = raw.partition("|")
        return as_utc(datetime.fromisoformat(at)), int(row_id)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidInput(
            "The cursor is not one this search gave", field="cursor", reason="stats-cursor-invalid"
        ) from exc


def matching(ctx: Context, query: Select[*Ts], s: CallSearch) -> Select[*Ts]:
    """`query` narrowed to the call records every filter of `s` asks for (the search's and the
    export's: contact/stats/exports.py)."""
    zone = ZoneInfo(ctx.settings.default_timezone)
    if s.start is not None and s.end is not None and s.end < s.start:
        raise InvalidInput("The end is before the start", field="end", reason="stats-range-reversed")
    if s.min_seconds is not None and s.max_seconds is not None and s.min_seconds > s.max_seconds:
        raise InvalidInput(
            "The shortest is longer than the longest", field="min_seconds", reason="stats-seconds-reversed"
        )
    if s.number is not None and (not s.number.isdigit() or len(s.number) < 4):
        raise InvalidInput(
            "A number to search by is digits only: the whole number or its last 4 or more",
            field="number",
            reason="stats-number-digits",
        )
    if s.start is not None:
        query = query.where(CallRecord.arrived_at >= local_midnight(s.start, zone))
    if s.end is not None:
        query = query.where(
            CallRecord.arrived_at < local_midnight(date.fromordinal(s.end.toordinal() + 1), zone)
        )
    if s.agent_ids is not None:
        query = query.where(CallRecord.agent_id.in_(s.agent_ids))
    if s.queue:
        query = query.where(or_(CallRecord.first_queue == s.queue, CallRecord.last_queue == s.queue))
    if s.number:
        query = query.where(CallRecord.caller_rev.like(s.number[::-1] + "%"))
    if s.direction:
        query = query.where(CallRecord.direction == s.direction)
    if s.outcome:
        query = query.where(CallRecord.outcome == s.outcome)
    if s.min_seconds is not None:
        query = query.where(CallRecord.duration_ms >= s.min_seconds * 1000)
    if s.max_seconds is not None:
        query = query.where(CallRecord.duration_ms <= s.max_seconds * 1000)
    if s.disposition:
        query = query.where(CallRecord.disposition == s.disposition)
    if s.has_recording is not None:
        query = query.where(CallRecord.has_recording.is_(s.has_recording))
    if s.survey_min is not None:
        query = query.where(CallRecord.survey_score >= s.survey_min)
    if s.survey_max is not None:
        query = query.where(CallRecord.survey_score <= s.survey_max)
    return query


async def search_calls(ctx: Context, s: CallSearch) -> CallRecordPage:
    """Call records matching every filter given, newest first; `next_cursor` goes on after the
    last (None: that was all)."""
    ctx.require(Permission.CALLS_READ)
    base = matching(ctx, select(CallRecord), s)
    query = base
    if s.cursor:
        at, row_id = decode_cursor(s.cursor)
        query = query.where(
            or_(CallRecord.arrived_at < at, and_(CallRecord.arrived_at == at, CallRecord.id < row_id))
        )
    query = query.order_by(CallRecord.arrived_at.desc(), CallRecord.id.desc()).limit(s.limit + 1)
    counted = select(func.count()).select_from(
        base.with_only_columns(CallRecord.id).limit(COUNT_LIMIT + 1).subquery()
    )
    async with ctx.read() as session:
        rows = list((await session.scalars(query)).all())
        total = int(await session.scalar(counted) or 0)
        titles = await callbacks.queue_titles(session)
    more = len(rows) > s.limit
    rows = rows[: s.limit]
    people = await directory.staff(ctx, {r.agent_id for r in rows if r.agent_id is not None})
    lines = {e.user_id: e.number for e in await telephony.user_extensions(ctx)} if rows else {}
    items = []
    for row in rows:
        person = people.get(row.agent_id) if row.agent_id is not None else None
        items.append(
            CallRecordOut(
                call_id=row.call_id,
                arrived_at=as_utc(row.arrived_at),
                ended_at=as_utc(row.ended_at) if row.ended_at else None,
                direction=row.direction,
                channel=row.channel,
                campaign=row.campaign,
                dnis=row.dnis,
                caller=row.caller,
                queue=row.first_queue,
                queue_title=titles.get(row.first_queue, ""),
                agent_id=row.agent_id,
                agent=person.label if person else "",
                agent_extension=lines.get(row.agent_id, "") if row.agent_id is not None else "",
                outcome=row.outcome,
                wait=_s(row.wait_ms),
                ring=_s(row.ring_ms),
                talk=_s(row.talk_ms),
                hold=_s(row.hold_ms) or 0.0,
                wrap_up=_s(row.wrap_ms) or 0.0,
                duration=_s(row.duration_ms),
                transfers=row.transfers,
                disposition=row.disposition,
                has_recording=row.has_recording,
                survey_score=row.survey_score,
            )
        )
    last = rows[-1] if more else None
    return CallRecordPage(
        items=items,
        total=min(total, COUNT_LIMIT),
        total_exact=total <= COUNT_LIMIT,
        next_cursor=encode_cursor(last.arrived_at, last.id) if last else None,
        today=utcnow().astimezone(ZoneInfo(ctx.settings.default_timezone)).date(),
    )


def _s(ms: int | None) -> float | None:
    return None if ms is None else round(ms / 1000, 1)
