"""Routes of the domain reports: `GET /api/reports/<subject>` with the period query (docs/reports.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from hotline.core.context import Context
from hotline.core.periods import PeriodQuery
from hotline.core.permissions import Permission
from hotline.core.web import requires
from hotline.reports import assessment, service
from hotline.reports.custom.api import router as custom_router
from hotline.reports.schemas import (
    AgentsQuery,
    AssessmentOut,
    AssessmentSchemeIn,
    AssessmentSchemeOut,
    ChatsQuery,
    QueuesQuery,
    ReportOut,
)

router = APIRouter(prefix="/api/reports", tags=["reports"])
Reader = Annotated[Context, Depends(requires(Permission.REPORTS_READ))]
Period = Annotated[PeriodQuery, Query()]


@router.get("/tickets")
async def tickets_report(query: Period, ctx: Reader) -> ReportOut:
    """Opened, resolved, within SLA, closed, reopened; rows per ticket type."""
    return await service.report(ctx, "tickets", query)


@router.get("/bookings")
async def bookings_report(query: Period, ctx: Reader) -> ReportOut:
    """Bookings, cancellations, revenue, calls → bookings; rows per source."""
    return await service.report(ctx, "bookings", query)


@router.get("/orders")
async def orders_report(query: Period, ctx: Reader) -> ReportOut:
    """Travel orders, voids, signed and revenue (as the money report), calls → orders; rows per source."""
    return await service.report(ctx, "orders", query)


@router.get("/messages")
async def messages_report(query: Period, ctx: Reader) -> ReportOut:
    """Queued, sent, delivered, failed, held by opt-out; rows per template."""
    return await service.report(ctx, "messages", query)


@router.get("/surveys")
async def surveys_report(query: Period, ctx: Reader) -> ReportOut:
    """Survey count and average score; rows per agent, queue and product."""
    return await service.report(ctx, "surveys", query)


@router.get("/queues")
async def queues_report(query: Annotated[QueuesQuery, Query()], ctx: Reader) -> ReportOut:
    """Offered, answered, abandoned, short abandons, callbacks, service level, ASA, AHT and the
    longest wait (docs/metrics.md); rows per queue. The team filter does not apply."""
    return await service.report(ctx, "queues", query, queues=set(query.queue) if query.queue else None)


@router.get("/agents")
async def agents_report(query: Annotated[AgentsQuery, Query()], ctx: Reader) -> ReportOut:
    """Signed-in, ready and not-ready time by reason, calls in and out, AHT, hold, wrap-up,
    occupancy, transfers, survey score and QA score; rows per agent (a team's: its current members)."""
    return await service.report(ctx, "agents", query, agent_id=query.agent_id)


@router.get("/ivr")
async def ivr_report(query: Period, ctx: Reader) -> ReportOut:
    """Calls and visits per IVR node, the calls served by the IVR alone; rows per node."""
    return await service.report(ctx, "ivr", query)


@router.get("/chats")
async def chats_report(query: Annotated[ChatsQuery, Query()], ctx: Reader) -> ReportOut:
    """Conversations (web chat, SMS, WeChat) offered, assigned, answered, closed and abandoned,
    messages left that became tickets, the wait (median, p90), first response and handle time,
    messages in and out, ratings and CSAT (docs/reports.md); rows per queue, channel and agent."""
    return await service.report(
        ctx, "chats", query, agent_id=query.agent_id, queues=set(query.queue) or None,
        channels=set(query.channel) or None,
    )  # fmt: skip


@router.get("/assessment")
async def assessment_sheet(
    ctx: Reader,
    month: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM, in the site's time zone")],
    team_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
) -> AssessmentOut:
    """The monthly assessment (月度考核): per agent, calls handled, AHT, QA score, survey score and
    signed-in hours, each scored against the scheme's target, the weighted total and the rank."""
    return await assessment.sheet(ctx, month, team_id)


@router.get("/assessment/scheme")
async def assessment_scheme(
    ctx: Reader, team_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None
) -> AssessmentSchemeOut:
    """The weights and targets a sheet uses: the team's own scheme, else the site's."""
    return await assessment.scheme_for(ctx, team_id)


@router.put("/assessment/scheme")
async def put_assessment_scheme(
    body: AssessmentSchemeIn, ctx: Annotated[Context, Depends(requires(Permission.TEAMS_WRITE))]
) -> AssessmentSchemeOut:
    """Set the site's (or a team's) weights, summing to 100, and targets."""
    return await assessment.set_scheme(ctx, body)


@router.delete("/assessment/scheme")
async def delete_assessment_scheme(
    ctx: Annotated[Context, Depends(requires(Permission.TEAMS_WRITE))],
    team_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
) -> AssessmentSchemeOut:
    """Drop a team's own scheme (it uses the site's again) or, without a team, the site's (back to
    the built-in one); answers the scheme now in effect."""
    return await assessment.reset_scheme(ctx, team_id)


routers = [router, custom_router]
