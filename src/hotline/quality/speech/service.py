"""Transcripts and phrase rules: transcribing checked recordings in a worker, matching each
queue's phrase rules, the transcript as a listener reads it, the rules as QA keeps them."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import delete, select, update

from hotline.contact import callbacks
from hotline.core import privacy
from hotline.core.clock import utcnow
from hotline.core.compute import ComputeBusy
from hotline.core.context import Context, Tx
from hotline.core.errors import HotlineError, InvalidInput
from hotline.core.permissions import Permission
from hotline.quality.recordings import media
from hotline.quality.recordings.errors import RecordingNotFound
from hotline.quality.recordings.models import Recording
from hotline.quality.speech import engines
from hotline.quality.speech.engines import EngineConfig
from hotline.quality.speech.models import PhraseHit, PhraseRuleSet, Transcript, Utterance
from hotline.quality.speech.normalise import plain
from hotline.quality.speech.rules import Findings, Line, PhraseRule, match
from hotline.quality.speech.schemas import (
    HitOut,
    PhraseRuleIn,
    PhraseRulesIn,
    PhraseRulesOut,
    TranscriptOut,
    TranscriptStatus,
    UtteranceOut,
)

log = structlog.get_logger(__name__)
LONG_NUMBER = re.compile(r"\d{7,}")


def engine_config(ctx: Context) -> EngineConfig:
    s = ctx.settings
    return EngineConfig(s.speech_engine, str(s.speech_model_dir or ""), s.speech_model_kind, s.speech_threads)


# --- transcribing -------------------------------------------------------------------------------


async def transcribe_new(ctx: Context, *, batch: int = 10) -> int:
    """Transcribe this node's checked recordings that have no transcript yet, oldest first, each in a
    worker within the time limit; how many. None without an engine or without a compute pool."""
    config = engine_config(ctx)
    if config.engine == "none" or ctx.pool is None:
        return 0
    node = ctx.settings.recordings_node
    async with ctx.read() as session:
        rows = list(
            (
                await session.scalars(
                    select(Recording)
                    .outerjoin(Transcript, Transcript.recording_id == Recording.id)
                    .where(
                        Transcript.recording_id.is_(None),
                        Recording.checked_at.is_not(None),
                        Recording.deleted_at.is_(None),
                        Recording.node == node,
                    )
                    .order_by(Recording.id)
                    .limit(batch)
                )
            ).all()
        )
    done = 0
    for row in rows:
        folder = ctx.settings.recordings_dir
        if row.channels == 2:
            caller, agent = (
                media.file_of(folder, row.path, "caller"),
                media.file_of(folder, row.path, "agent"),
            )
        else:
            caller, agent = folder / row.path, None
        said: list[dict[str, Any]] = []
        reason = ""
        try:
            said = await ctx.compute(
                engines.transcribe_files,
                config,
                str(caller),
                str(agent) if agent else None,
                limit=ctx.settings.speech_seconds,
            )
        except ComputeBusy:
            break  # the next run goes on from here
        except HotlineError as refused:
            log.warning("recording not transcribed", recording=row.id, reason=refused.reason or refused.code)
            reason = refused.reason or refused.code
        async with ctx.write() as tx:
            if await tx.session.get(Transcript, row.id) is None:
                await _store(tx, row.id, said, engine=config.engine, demo=False, refused=reason)
                done += 1
    await match_pending(ctx)
    return done


async def store_transcript(
    ctx: Context, recording_id: int, said: Sequence[dict[str, Any]], *, engine: str, demo: bool
) -> None:
    """A transcript written as data (the demo's), replacing any; matched by the next `match_pending`."""
    async with ctx.write() as tx:
        await _store(tx, recording_id, said, engine=engine, demo=demo, refused="")


async def _store(
    tx: Tx, recording_id: int, said: Sequence[dict[str, Any]], *, engine: str, demo: bool, refused: str
) -> None:
    for table in (Utterance, PhraseHit, Transcript):
        await tx.session.execute(delete(table).where(table.recording_id == recording_id))
    tx.session.add(
        Transcript(
            recording_id=recording_id, engine=engine[:120], demo=demo,
            status="refused" if refused else "done", reason=refused[:80], transcribed_at=utcnow(),
        )
    )  # fmt: skip
    tx.session.add_all(
        Utterance(
            recording_id=recording_id, seq=n, channel=u["channel"], start_seconds=u["start"],
            end_seconds=u["end"], text=u["text"][:1000], plain=plain(u["text"])[:1000],
        )
        for n, u in enumerate(said)
    )  # fmt: skip


# --- phrase rules --------------------------------------------------------------------------------


def rules_of(stored: Iterable[dict[str, Any]]) -> list[PhraseRule]:
    return [
        PhraseRule(
            key=r["key"], kind=r["kind"], phrases=tuple(r["phrases"]), side=r.get("side", "agent"),
            within=r.get("within"), seconds=r.get("seconds"), pinyin=bool(r.get("pinyin")),
        )
        for r in stored
    ]  # fmt: skip


@dataclass(frozen=True)
class ToMatch:
    recording_id: int
    lines: tuple[Line, ...]
    rules: tuple[PhraseRule, ...]
    duration: float


def match_all(work: list[ToMatch]) -> dict[int, Findings]:
    """Each recording's findings (the compute pool's entry point: pinyin and matching are CPU)."""
    return {w.recording_id: match(w.lines, w.rules, w.duration) for w in work}


async def match_pending(ctx: Context, *, batch: int = 200) -> int:
    """Match the phrase rules of their queue against transcripts not matched since they were made
    or their rules changed; how many. In a worker when there is a pool (the server), in-process
    otherwise (a CLI loading the demo's few transcripts)."""
    async with ctx.read() as session:
        pending = list(
            (
                await session.execute(
                    select(Recording.id, Recording.queue, Recording.seconds)
                    .join(Transcript, Transcript.recording_id == Recording.id)
                    .where(Transcript.matched_at.is_(None), Transcript.status == "done")
                    .order_by(Recording.id)
                    .limit(batch)
                )
            ).all()
        )
        if not pending:
            return 0
        sets = {r.queue: r.rules for r in await session.scalars(select(PhraseRuleSet))}
        said = (
            await session.scalars(
                select(Utterance)
                .where(Utterance.recording_id.in_([p.id for p in pending]))
                .order_by(Utterance.recording_id, Utterance.seq)
            )
        ).all()
    lines: dict[int, list[Line]] = {}
    for u in said:
        lines.setdefault(u.recording_id, []).append(
            Line(u.seq, "agent" if u.channel == "agent" else "caller", u.start_seconds, u.end_seconds, u.text)
        )
    work = [
        ToMatch(p.id, tuple(lines.get(p.id, ())), tuple(rules_of(sets.get(p.queue, []))), p.seconds)
        for p in pending
    ]
    if ctx.pool is not None:
        try:
            found = await ctx.compute(match_all, work, limit=60)
        except ComputeBusy:
            return 0
    else:
        found = match_all(work)
    async with ctx.write() as tx:
        for recording_id, findings in found.items():
            await _record_findings(tx, recording_id, findings)
    return len(found)


async def _record_findings(tx: Tx, recording_id: int, findings: Findings) -> None:
    transcript = await tx.session.get(Transcript, recording_id)
    if transcript is None:
        return
    await tx.session.execute(delete(PhraseHit).where(PhraseHit.recording_id == recording_id))
    tx.session.add_all(
        PhraseHit(recording_id=recording_id, rule=h.rule, kind=h.kind, phrase=h.phrase[:40],
                  channel=h.channel, at=h.at, utterance=h.utterance)
        for h in findings.hits
    )  # fmt: skip
    tx.session.add_all(
        PhraseHit(recording_id=recording_id, rule=key, kind="missing") for key in findings.missing
    )
    transcript.forbidden_count = len(findings.forbidden)
    transcript.missing_count = len(findings.missing)
    transcript.matched_at = utcnow()


async def rule_sets(ctx: Context) -> list[PhraseRulesOut]:
    """Every queue's phrase rules (a queue without any shows an empty list)."""
    ctx.require(Permission.QA_READ)
    async with ctx.read() as session:
        titles = await callbacks.queue_titles(session)
        sets = {r.queue: r for r in await session.scalars(select(PhraseRuleSet))}
    return [
        PhraseRulesOut(
            queue=queue,
            queue_title=title,
            rules=[PhraseRuleIn.model_validate(r) for r in sets[queue].rules] if queue in sets else [],
            updated_at=sets[queue].updated_at if queue in sets else None,
        )
        for queue, title in sorted(titles.items())
    ]


def check_rules(data: PhraseRulesIn) -> None:
    """What the schema cannot say: a window needs its length, a phrase needs a word, keys differ."""
    keys: set[str] = set()
    for n, rule in enumerate(data.rules):
        where = f"body.rules.{n}"
        if (rule.within is None) != (rule.seconds is None):
            raise InvalidInput(
                "`within` (first or last) and `seconds` go together",
                field=f"{where}.seconds",
                reason="phrase-window-half",
            )
        if rule.key in keys:
            raise InvalidInput(
                f"Two rules are named {rule.key!r}",
                field=f"{where}.key",
                reason="phrase-rule-twice",
                params={"key": rule.key},
            )
        keys.add(rule.key)
        for m, phrase in enumerate(rule.phrases):
            if not plain(phrase):
                raise InvalidInput(
                    f"The phrase {phrase!r} has no words (only punctuation or spaces)",
                    field=f"{where}.phrases.{m}",
                    reason="phrase-no-words",
                    params={"phrase": phrase},
                )


async def set_rules(ctx: Context, queue: str, data: PhraseRulesIn) -> PhraseRulesOut:
    """Replace a queue's phrase rules; its transcripts are matched again by the next run."""
    ctx.require(Permission.QA_MANAGE)
    check_rules(data)
    async with ctx.read() as session:
        titles = await callbacks.queue_titles(session)
    if queue not in titles:
        raise RecordingNotFound(
            f"No queue {queue!r}", field="queue", reason="retention-no-queue", params={"queue": queue}
        )
    stored = [r.model_dump() for r in data.rules]
    async with ctx.write() as tx:
        row = await tx.session.get(PhraseRuleSet, queue)
        if row is None:
            tx.session.add(
                PhraseRuleSet(queue=queue, rules=stored, updated_at=utcnow(), updated_by=ctx.actor.user_id)
            )
        else:
            row.rules, row.updated_at, row.updated_by = stored, utcnow(), ctx.actor.user_id
        await tx.session.execute(
            update(Transcript)
            .where(Transcript.recording_id.in_(select(Recording.id).where(Recording.queue == queue)))
            .values(matched_at=None)
        )
    return next(s for s in await rule_sets(ctx) if s.queue == queue)


# --- reading -------------------------------------------------------------------------------------


def masked(text: str) -> str:
    """A transcript's text as it leaves: numbers of 7 digits or more (phones, ID and card numbers)
    masked, whoever reads (a caller says their number; the reveal route is for the record's)."""
    return LONG_NUMBER.sub(lambda m: privacy.mask_phone(m.group()), text)


async def transcript(ctx: Context, recording_id: int) -> TranscriptOut:
    """A recording's transcript and phrase findings; audited like a listen (it is what was said)."""
    ctx.require(Permission.RECORDINGS_LISTEN)
    async with ctx.read() as session:
        row = await session.get(Recording, recording_id)
        if row is None or row.deleted_at is not None:
            raise RecordingNotFound(
                f"No recording {recording_id}",
                field="recording_id",
                reason="no-recording",
                params={"recording_id": recording_id},
            )
        head = await session.get(Transcript, recording_id)
        said = (
            await session.scalars(
                select(Utterance).where(Utterance.recording_id == recording_id).order_by(Utterance.seq)
            )
        ).all()
        hits = (
            await session.scalars(
                select(PhraseHit).where(PhraseHit.recording_id == recording_id).order_by(PhraseHit.id)
            )
        ).all()
        rules = await session.get(PhraseRuleSet, row.queue)
    titles = {r["key"]: r["title"] for r in (rules.rules if rules else [])}
    async with ctx.write() as tx:
        tx.audit("recording.transcript_read", "recording", recording_id, after={"call_id": row.call_id})
    status: TranscriptStatus
    if head is not None:
        status = "refused" if head.status == "refused" else "done"
    else:
        status = "off" if ctx.settings.speech_engine == "none" else "pending"
    return TranscriptOut(
        recording_id=recording_id,
        status=status,
        engine=head.engine if head else ctx.settings.speech_engine,
        demo=bool(head and head.demo),
        reason=head.reason if head else "",
        utterances=[
            UtteranceOut(
                seq=u.seq, channel="agent" if u.channel == "agent" else "caller", start=u.start_seconds,
                end=u.end_seconds, text=masked(u.text),
            )
            for u in said
        ],
        hits=[
            HitOut.model_validate(
                {"rule": h.rule, "title": titles.get(h.rule, h.rule), "kind": h.kind, "phrase": h.phrase,
                 "channel": h.channel or None, "at": h.at, "utterance": h.utterance}
            )
            for h in sorted(hits, key=lambda h: (h.at is None, h.at or 0.0, h.id))
        ],
    )  # fmt: skip


async def purge_deleted(ctx: Context, *, batch: int = 500) -> int:
    """Drop the transcripts of recordings retention deleted: what was said goes with the audio."""
    gone = select(Recording.id).where(Recording.deleted_at.is_not(None))
    async with ctx.read() as session:
        ids = list((await session.scalars(select(Transcript.recording_id).where(
            Transcript.recording_id.in_(gone)).limit(batch))).all())  # fmt: skip
    if ids:
        async with ctx.write() as tx:
            for table in (Utterance, PhraseHit, Transcript):
                await tx.session.execute(delete(table).where(table.recording_id.in_(ids)))
    return len(ids)


ERASED = "customer-erased"
"""The reason on the transcript left in place of an erased one on a recording kept under legal
hold: it says why there is no text, and stops the minute's job transcribing the audio again."""


async def erase(tx: Tx, recording_ids: Sequence[int], *, held: Iterable[int] = ()) -> None:
    """Erase what was said on these recordings (their customer was forgotten): utterances, hits and
    transcripts go, in the caller's transaction. A recording under legal hold keeps its audio, so it
    gets an empty `refused` transcript marked `customer-erased`, never to be transcribed again."""
    for table in (Utterance, PhraseHit, Transcript):
        await tx.session.execute(delete(table).where(table.recording_id.in_(list(recording_ids))))
    await tx.session.flush()
    tx.session.add_all(
        Transcript(recording_id=recording_id, engine="none", status="refused", reason=ERASED,
                   transcribed_at=utcnow())
        for recording_id in held
    )  # fmt: skip
