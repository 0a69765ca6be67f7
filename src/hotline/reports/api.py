"""Routes of the domain reports: `GET /api/reports/<subject>` with the period query (docs/reports.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from hotline.core.context import Context
from hotline.core.periods import PeriodQuery
from hotline.core.permissions import Permission
from hotline.core.web import requires
from hotline.reports import service
from hotline.reports.custom.api import router as custom_router
from hotline.reports.schemas import ReportOut

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


router.include_router(custom_router)
