"""Housekeeping jobs of the accounts domain."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import delete, or_

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
