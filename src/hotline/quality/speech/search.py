"""What the recordings library and sampling ask of transcripts: recordings whose transcript says
a text, has a forbidden-phrase hit or misses a required phrase; each recording's phrase figures.

Text search is `LIKE '%…%'` over the utterances' normalised text (normalise.plain, so width,
punctuation and spaces do not matter) on both databases, without an index: the library's other
filters (time, queue, agent) bound the recordings it scans. PostgreSQL's trigram index would not
help Chinese under the C locale our databases use (pg_trgm only takes alphanumerics of the locale),
and a per-character term table costs more than the search does at the sizes a QA team searches.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.errors import InvalidInput
from hotline.quality.recordings.models import Recording
from hotline.quality.speech.models import PhraseHit, Transcript, Utterance
from hotline.quality.speech.normalise import plain
from hotline.quality.speech.schemas import SpeechSummary

ANY = "any"


def saying(text: str) -> Select[int]:
    """Ids of the recordings whose transcript says `text` (compared as normalised)."""
    wanted = plain(text)
    if not wanted:
        raise InvalidInput(
            "Search for words, not only punctuation", field="text", reason="transcript-text-empty"
        )
    pattern = "%" + wanted.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return select(Utterance.recording_id).where(Utterance.plain.like(pattern, escape="\\"))


def with_forbidden(hit: bool) -> Select[int]:
    """Ids of the transcribed recordings with (or without) a forbidden-phrase hit."""
    count = Transcript.forbidden_count
    return select(Transcript.recording_id).where(
        Transcript.matched_at.is_not(None), count > 0 if hit else count == 0
    )


def missing(rule: str) -> Select[int]:
    """Ids of the recordings missing the required phrase `rule` ("any": missing any)."""
    if rule == ANY:
        return select(Transcript.recording_id).where(Transcript.missing_count > 0)
    return select(PhraseHit.recording_id).where(PhraseHit.kind == "missing", PhraseHit.rule == rule)


async def summaries(session: AsyncSession, ids: Iterable[int]) -> dict[int, SpeechSummary]:
    """The phrase figures of each matched recording among `ids`."""
    wanted = list(ids)
    if not wanted:
        return {}
    heads = (
        await session.scalars(
            select(Transcript).where(Transcript.recording_id.in_(wanted), Transcript.matched_at.is_not(None))
        )
    ).all()
    gaps: dict[int, list[str]] = {}
    for recording_id, rule in await session.execute(
        select(PhraseHit.recording_id, PhraseHit.rule).where(
            PhraseHit.recording_id.in_(wanted), PhraseHit.kind == "missing"
        )
    ):
        gaps.setdefault(recording_id, []).append(rule)
    return {
        h.recording_id: SpeechSummary(
            forbidden_count=h.forbidden_count,
            missing_count=h.missing_count,
            missing=gaps.get(h.recording_id, []),
        )
        for h in heads
    }


async def calls_with_forbidden(session: AsyncSession, start: datetime, end: datetime) -> set[str]:
    """The calls of [start, end) with a recording (any part) that has a forbidden-phrase hit:
    sampling's always-rule. A part starts after its call, up to a day after for a long one."""
    found = await session.scalars(
        select(Recording.call_id)
        .join(Transcript, Transcript.recording_id == Recording.id)
        .where(
            Recording.started_at >= start,
            Recording.started_at < end + timedelta(days=1),
            Transcript.forbidden_count > 0,
            Recording.deleted_at.is_(None),
        )
    )
    return set(found)


async def forbidden_by_agent(
    session: AsyncSession, since: datetime, until: datetime, agent_id: int | None = None
) -> dict[int, int]:
    """Per agent, the recordings started in [since, until) whose transcript has a forbidden-phrase
    hit (the figures for the reports)."""
    query = (
        select(Recording.agent_id, func.count())
        .join(Transcript, Transcript.recording_id == Recording.id)
        .where(
            Recording.started_at >= since,
            Recording.started_at < until,
            Transcript.forbidden_count > 0,
            Recording.agent_id.is_not(None),
            Recording.deleted_at.is_(None),
        )
        .group_by(Recording.agent_id)
    )
    if agent_id is not None:
        query = query.where(Recording.agent_id == agent_id)
    return {int(agent or 0): int(n) for agent, n in (await session.execute(query)).all()}
