"""Housekeeping jobs of the accounts domain."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import delete, or_

from hotline.admin import audit
from hotline.admin.models import LoginThrottle, UserSession
from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.core.jobs import job_handler

PURGE_SESSIONS = "admin.purge_sessions"


@job_handler(PURGE_SESSIONS)
async def purge_sessions(ctx: Context, payload: dict[str, Any]) -> None:
    """Forget sessions that ended more than a day ago, and throttles that ran out."""
    cutoff = utcnow() - timedelta(days=1)
    async with ctx.db.write() as session:
        await session.execute(
            delete(UserSession).where(or_(UserSession.expires_at < cutoff, UserSession.revoked_at < cutoff))
        )
        await session.execute(
            delete(LoginThrottle).where(
                LoginThrottle.window_started_at < cutoff,
                or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until < utcnow()),
            )
        )


@job_handler(audit.CHECKPOINT_JOB)
async def audit_checkpoint(ctx: Context, payload: dict[str, Any]) -> None:
    """Sign the audit chain's head and write it outside the database (every few minutes)."""
    await audit.take_checkpoint(ctx, "interval")


@job_handler(audit.VERIFY_JOB)
async def audit_verify(ctx: Context, payload: dict[str, Any]) -> None:
    """Read the whole audit log against the checkpoints (nightly); a failure is told."""
    await audit.verify(ctx, "job")
