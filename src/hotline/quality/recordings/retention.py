"""How long recordings are kept (C6): a rule per queue (days, never below 30 — outbound calls
included, which have the rule of queue ""), 180 days by default; a daily job deletes what is past
its time and not on legal hold: the files, and the row marked deleted, with an audit line each."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import structlog
from sqlalchemy import select

from hotline.contact import callbacks
from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.core.errors import InvalidInput
from hotline.core.permissions import Permission
from hotline.quality.recordings import media
from hotline.quality.recordings.models import Recording, RetentionRule
from hotline.quality.recordings.schemas import RetentionIn, RetentionOut, RetentionRuleOut

log = structlog.get_logger(__name__)


def default_days(ctx: Context) -> int:
    """The setting HOTLINE_RECORDINGS_DEFAULT_DAYS, never below the minimum."""
    return max(media.MINIMUM_DAYS, ctx.settings.recordings_default_days)


async def days_by_queue(ctx: Context) -> dict[str, int]:
    async with ctx.read() as session:
        return {
            queue: days
            for queue, days in await session.execute(select(RetentionRule.queue, RetentionRule.days))
        }


async def rules(ctx: Context) -> RetentionOut:
    ctx.require(Permission.RECORDINGS_LISTEN)
    async with ctx.read() as session:
        titles = await callbacks.queue_titles(session)
    days = await days_by_queue(ctx)
    return RetentionOut(
        default_days=default_days(ctx),
        minimum_days=media.MINIMUM_DAYS,
        rules=[
            RetentionRuleOut(queue=q, queue_title=titles.get(q, ""), days=d) for q, d in sorted(days.items())
        ],
    )


async def set_rules(ctx: Context, data: RetentionIn) -> RetentionOut:
    """Replace the rules (a queue left out keeps the default again); audited row by row."""
    ctx.require(Permission.RECORDINGS_DOWNLOAD)
    async with ctx.read() as session:
        titles = await callbacks.queue_titles(session)
    seen: set[str] = set()
    for n, rule in enumerate(data.rules):
        if rule.queue and rule.queue not in titles:
            raise InvalidInput(
                f"No queue {rule.queue!r}",
                field=f"body.rules.{n}.queue",
                reason="retention-no-queue",
                params={"queue": rule.queue},
            )
        if rule.queue in seen:
            raise InvalidInput(
                f"Queue {rule.queue!r} has two rules",
                field=f"body.rules.{n}.queue",
                reason="retention-queue-twice",
                params={"queue": rule.queue},
            )
        seen.add(rule.queue)
    async with ctx.write() as tx:
        existing = {r.queue: r for r in (await tx.session.scalars(select(RetentionRule))).all()}
        for rule in data.rules:
            if rule.queue in existing:
                existing[rule.queue].days = rule.days
            else:
                tx.session.add(RetentionRule(queue=rule.queue, days=rule.days))
        for queue, row in existing.items():
            if queue not in seen:
                await tx.session.delete(row)
    return await rules(ctx)


def remove_files(recordings_dir: Path, path: str, kind: str) -> bool:
    """Delete a recording's files; False when they are not reachable from here."""
    audio = recordings_dir / path
    if not audio.is_file():
        return False
    names = [audio, media.peaks_file(audio)]
    if kind == "call":
        names += [audio.with_name("a.wav"), audio.with_name("b.wav")]
    for name in names:
        name.unlink(missing_ok=True)
    return True


async def sweep(ctx: Context, *, batch: int = 500) -> int:
    """Delete recordings past their retention and not held; how many."""
    days = await days_by_queue(ctx)
    now = utcnow()
    deleted = 0
    cutoffs = [(Recording.queue == queue, now - timedelta(days=d)) for queue, d in days.items()]
    cutoffs.append((Recording.queue.not_in(list(days)), now - timedelta(days=default_days(ctx))))
    node = ctx.settings.recordings_node
    for which, cutoff in cutoffs:
        async with ctx.read() as session:
            rows = list(
                (
                    await session.scalars(
                        select(Recording)
                        .where(
                            which,
                            Recording.started_at < cutoff,
                            Recording.deleted_at.is_(None),
                            Recording.legal_hold.is_(False),
                        )
                        .limit(batch)
                    )
                ).all()
            )
        for row in rows:
            removed = await asyncio.to_thread(remove_files, ctx.settings.recordings_dir, row.path, row.kind)
            if not removed and row.node != node:
                continue  # its node's own sweep (or shared storage) deletes it
            async with ctx.write() as tx:
                fresh = await tx.session.get(Recording, row.id)
                if fresh is None or fresh.legal_hold or fresh.deleted_at is not None:
                    continue
                fresh.deleted_at = utcnow()
                what = {"call_id": row.call_id, "queue": row.queue, "started_at": row.started_at.isoformat()}
                tx.audit("recording.deleted", "recording", row.id, after=what)
            deleted += 1
    return deleted
