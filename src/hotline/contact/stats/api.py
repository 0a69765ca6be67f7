"""Routes of the call figures: the queue, agent and IVR reports (`/api/reports/…`, the report shape
every report shares: docs/reports.md) and the call-record search (`/api/calls/records`)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query

from hotline.contact.stats import search, service
from hotline.contact.stats.period import Compare, Granularity, Period
from hotline.contact.stats.schemas import AgentReport, CallRecordPage, IvrReport, Outcome, QueueReport
from hotline.core.context import Context
from hotline.core.permissions import Permission
from hotline.core.web import requires

router = APIRouter(tags=["reports"])

REPORTS = Annotated[Context, Depends(requires(Permission.REPORTS_READ))]
CALLS = Annotated[Context, Depends(requires(Permission.CALLS_READ))]
Start = Annotated[date, Query(description="First day, in the site's time zone")]
End = Annotated[date, Query(description="Last day (inclusive)")]
Grain = Annotated[Granularity, Query()]
Against = Annotated[Compare, Query()]
Id = Annotated[int | None, Query(ge=1, le=2**31 - 1)]


def _period(ctx: Context, start: date, end: date, granularity: Granularity) -> Period:
    return Period.checked(start, end, granularity, ZoneInfo(ctx.settings.default_timezone))


@router.get("/api/reports/queues")
async def queue_report(
    ctx: REPORTS,
    start: Start,
    end: End,
    granularity: Grain = Granularity.DAY,
    compare: Against = Compare.NONE,
    queue: Annotated[list[str] | None, Query(max_length=50)] = None,
) -> QueueReport:
    """Offered, answered, abandoned, short abandons, callbacks, service level, ASA, AHT and the
    longest wait per queue (docs/metrics.md)."""
    return await service.queue_report(
        ctx, _period(ctx, start, end, granularity), compare, queues=set(queue) if queue else None
    )


@router.get("/api/reports/agents")
async def agent_report(
    ctx: REPORTS,
    start: Start,
    end: End,
    granularity: Grain = Granularity.DAY,
    compare: Against = Compare.NONE,
    agent_id: Id = None,
    team_id: Id = None,
) -> AgentReport:
    """Signed-in, ready and not-ready time by reason, calls in and out, AHT, hold, wrap-up,
    occupancy, transfers and survey score per agent; a team's figures are its current members'."""
    agents = await service.agents_wanted(ctx, agent_id, team_id)
    return await service.agent_report(ctx, _period(ctx, start, end, granularity), compare, agent_ids=agents)


@router.get("/api/reports/ivr")
async def ivr_report(
    ctx: REPORTS,
    start: Start,
    end: End,
    granularity: Grain = Granularity.DAY,
    compare: Against = Compare.NONE,
) -> IvrReport:
    """Calls and visits per IVR node, and the calls served by the IVR alone."""
    return await service.ivr_report(ctx, _period(ctx, start, end, granularity), compare)


@router.get("/api/calls/records")
async def call_records(
    ctx: CALLS,
    start: Annotated[date | None, Query()] = None,
    end: Annotated[date | None, Query()] = None,
    agent_id: Id = None,
    team_id: Id = None,
    queue: Annotated[str | None, Query(max_length=64)] = None,
    number: Annotated[
        str | None, Query(max_length=20, description="The whole number or its last 4+ digits")
    ] = None,
    direction: Annotated[Literal["in", "out"] | None, Query()] = None,
    outcome: Annotated[Outcome | None, Query()] = None,
    min_seconds: Annotated[int | None, Query(ge=0, le=86_400)] = None,
    max_seconds: Annotated[int | None, Query(ge=0, le=86_400)] = None,
    disposition: Annotated[str | None, Query(max_length=16)] = None,
    has_recording: Annotated[bool | None, Query()] = None,
    survey_min: Annotated[int | None, Query(ge=1, le=5)] = None,
    survey_max: Annotated[int | None, Query(ge=1, le=5)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> CallRecordPage:
    """Call records, newest first, a page at a time (`cursor` from the previous page); the
    number is shown masked. A call's legs: `GET /api/routing/calls/{call_id}/events`."""
    agents = await service.agents_wanted(ctx, agent_id, team_id)
    return await search.search_calls(
        ctx,
        search.CallSearch(
            start=start, end=end, agent_ids=agents, queue=queue, number=number, direction=direction,
            outcome=outcome, min_seconds=min_seconds, max_seconds=max_seconds, disposition=disposition,
            has_recording=has_recording, survey_min=survey_min, survey_max=survey_max, cursor=cursor,
            limit=limit,
        ),
    )  # fmt: skip
