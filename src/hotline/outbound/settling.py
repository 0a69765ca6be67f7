"""Attempts nobody wrote a result for, settled by the minute job `outbound.settle_attempts`:
a call that did not connect needs no one (busy, no answer: retried as the campaign says); an
answered call whose agent wrote nothing within half an hour after it ended is kept as answered and
the number comes back after the retry minutes (the talk was not closed); a call with no line in
the log ten minutes after it was dialled (its node stopped) counts as failed."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import select

from hotline.contact.calls.facts import CallOutOutcome, call_out_outcomes
from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.core.jobs import job_handler
from hotline.outbound import campaigns
from hotline.outbound.models import Attempt, Target
from hotline.outbound.work import close_unanswered, close_unwritten

log = structlog.get_logger(__name__)
ANSWERED_GRACE = timedelta(minutes=30)
LOST_AFTER = timedelta(minutes=10)
BATCH = 500


@job_handler("outbound.settle_attempts")
async def settle_attempts(ctx: Context, payload: dict[str, Any]) -> None:
    settled = await settle(ctx)
    if settled:
        log.info("outbound attempts settled", attempts=settled)


async def settle(ctx: Context, now: datetime | None = None) -> int:
    """Settle what can be settled without the agent; how many attempts were."""
    now = now or utcnow()
    async with ctx.read() as session:
        pending = (
            await session.execute(
                select(Attempt.id, Attempt.call_id, Attempt.started_at)
                .where(Attempt.outcome == "dialing")
                .order_by(Attempt.id)
                .limit(BATCH)
            )
        ).all()
    if not pending:
        return 0
    outcomes = await call_out_outcomes(ctx, [call_id for _, call_id, _ in pending])
    settled = 0
    async with ctx.write() as tx:
        for attempt_id, call_id, started in pending:
            outcome = outcomes[call_id]
            attempt = await tx.session.get(Attempt, attempt_id)
            target = await tx.session.get(Target, attempt.target_id) if attempt else None
            if attempt is None or target is None or attempt.outcome != "dialing":
                continue  # the agent wrote it meanwhile
            campaign = await campaigns.campaign_for_work(tx.session, attempt.campaign_id)
            if outcome.state == "not_connected":
                close_unanswered(campaign, target, attempt, outcome)
            elif outcome.state == "ringing" and started < now - LOST_AFTER:
                close_unanswered(campaign, target, attempt, CallOutOutcome("not_connected", "lost"))
            elif outcome.state == "answered" and outcome.ended and started < now - ANSWERED_GRACE:
                close_unwritten(campaign, target, attempt, now)
            else:
                continue
            settled += 1
    return settled
