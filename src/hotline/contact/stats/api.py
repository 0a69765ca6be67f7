"""Routes of the call records: the search (`/api/calls/records`). The queue, agent and IVR reports
are hotline.reports' (`/api/reports/queues|agents|ivr`, the report shape of docs/reports.md)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from hotline.contact.stats import search, service
from hotline.contact.stats.schemas import CallRecordPage, Outcome
from hotline.core.context import Context
from hotline.core.permissions import Permission
from hotline.core.web import requires

router = APIRouter(tags=["reports"])

CALLS = Annotated[Context, Depends(requires(Permission.CALLS_READ))]
Id = Annotated[int | None, Query(ge=1, le=2**31 - 1)]


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
