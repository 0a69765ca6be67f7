"""The automatic checks of every recorded call (issue 20 item 2), run right after indexing.

Each indexed two-channel recording on this node without checks is analysed in a worker
(`quality.analysis.analyse_files`: talk per side, silences, overtalk, monologues), with the hold
time the call's log gave at indexing, and the figures stored on the recording. A voice node runs
this a second after a call's recording is logged (the indexer's `Watcher`), so a call is checked
well within a minute of hang-up; the minute's job catches up whatever a busy node left.

A recording the analysis refuses (a file that is missing, not 8 kHz or over four hours) is marked
checked with the reason, so it is not tried again every minute; a busy worker pool leaves it for
the next run.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import structlog
from sqlalchemy import select

from hotline.core.clock import utcnow
from hotline.core.compute import ComputeBusy
from hotline.core.context import Context
from hotline.core.errors import HotlineError
from hotline.quality.analysis import analyse_files
from hotline.quality.recordings import media
from hotline.quality.recordings.models import Recording

log = structlog.get_logger(__name__)
SILENCE_SECONDS = 5.0
"""Both sides quiet this long is a silence worth a look (a lost caller, an agent searching)."""
OVERTALK_SECONDS = 2.0
"""Both sides talking this long is overtalk (more than a 嗯 over the other's words)."""
LIMIT_SECONDS = 60.0
"""A worker's time for one call: a 4-hour call takes about 10 s on one core."""


async def check_new(ctx: Context, *, batch: int = 20) -> int:
    """Analyse this node's indexed call recordings that have no checks yet, oldest first; how many
    were checked. Without a compute pool (a CLI loading demo data) none: the server's job will."""
    if ctx.pool is None:
        return 0
    node = media.settings().node[:120]
    async with ctx.read() as session:
        rows = list(
            (
                await session.scalars(
                    select(Recording)
                    .where(
                        Recording.checked_at.is_(None),
                        Recording.deleted_at.is_(None),
                        Recording.channels == 2,
                        Recording.node == node,
                    )
                    .order_by(Recording.id)
                    .limit(batch)
                )
            ).all()
        )
    done = 0
    for row in rows:
        caller = media.file_of(ctx.settings.recordings_dir, row.path, "caller")
        agent = media.file_of(ctx.settings.recordings_dir, row.path, "agent")
        analyse = partial(
            analyse_files,
            silence_seconds=SILENCE_SECONDS,
            overtalk_seconds=OVERTALK_SECONDS,
            hold_seconds=row.hold_seconds,
        )
        checks: dict[str, Any]
        try:
            checks = await ctx.compute(analyse, str(caller), str(agent), limit=LIMIT_SECONDS)
        except ComputeBusy:
            break  # the pool is busy with other work: the next run goes on from here
        except HotlineError as refused:
            log.warning("recording not analysed", recording=row.id, reason=refused.reason or refused.code)
            checks = {"refused": refused.reason or refused.code}
        async with ctx.write() as tx:
            stored = await tx.session.get(Recording, row.id)
            if stored is not None and stored.checked_at is None:
                stored.note_checks(checks, utcnow())
                done += 1
    return done
