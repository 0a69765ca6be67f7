"""Health, readiness, metrics and the jobs overview."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from hotline import __version__
from hotline.core import jobs
from hotline.core.context import Context
from hotline.core.permissions import Permission
from hotline.core.ratelimit import RouteKind
from hotline.core.schemas import Output
from hotline.core.web import public_as, requires

router = APIRouter()
OPEN = public_as(RouteKind.OPEN)
"""Health probes and metrics: public and not rate-limited, so no probe is ever refused."""


class Health(Output):
    status: str
    version: str


class JobOut(Output):
    id: int
    key: str
    handler: str
    cron: str | None
    timezone: str
    days: str
    enabled: bool
    next_run_at: datetime | None
    last_status: str | None
    last_error: str | None
    last_finished_at: datetime | None


@router.get("/healthz", tags=["system"])
async def healthz(ctx: Annotated[Context, Depends(OPEN)]) -> Health:
    """The process is up."""
    return Health(status="ok", version=__version__)


@router.get("/readyz", tags=["system"], responses={503: {"description": "Database unreachable"}})
async def readyz(ctx: Annotated[Context, Depends(OPEN)], response: Response) -> Health:
    """The process can serve: its database answers."""
    try:
        async with ctx.read() as session:
            await session.execute(text("SELECT 1"))
    except Exception:
        response.status_code = 503
        return Health(status="database unavailable", version=__version__)
    return Health(status="ready", version=__version__)


@router.get("/metrics", tags=["system"], response_class=Response)
async def metrics(ctx: Annotated[Context, Depends(OPEN)]) -> Response:
    """Prometheus metrics (bind the port to a private network in production). Rendered in a thread:
    with a series per route, method and status the text takes tens of milliseconds to write, which
    the event loop (pacing live calls' audio) must not spend."""
    return Response(await asyncio.to_thread(generate_latest), media_type=CONTENT_TYPE_LATEST)


@router.get("/api/jobs", tags=["system"])
async def list_jobs(
    ctx: Annotated[Context, Depends(requires(Permission.JOBS_READ))],
) -> list[JobOut]:
    ctx.require(Permission.JOBS_READ)
    return [JobOut.model_validate(job) for job in await jobs.list_jobs(ctx)]
