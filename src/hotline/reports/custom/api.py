"""Routes of custom reports under /api/reports/custom (docs/reports.md "Custom reports")."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Response

from hotline.core.context import Context
from hotline.core.permissions import Permission
from hotline.core.web import COMPUTED, IdPath, requires
from hotline.reports.custom import mailing, service
from hotline.reports.custom.definition import Definition
from hotline.reports.custom.schemas import CustomReportIn, CustomReportOut, ReportSubjectOut, ResultOut

router = APIRouter(prefix="/api/reports/custom", tags=["reports"])
Reader = Annotated[Context, Depends(requires(Permission.REPORTS_READ))]
Writer = Annotated[Context, Depends(requires(Permission.REPORTS_WRITE))]


@router.get("/subjects")
async def subjects(ctx: Reader) -> list[ReportSubjectOut]:
    """What a report may be built of: the subjects the person may see, their dimensions and measures."""
    return await service.catalogue(ctx)


@router.get("")
async def saved(ctx: Reader) -> list[CustomReportOut]:
    """The person's reports and those shared with one of their roles."""
    return await service.saved(ctx)


@router.post("/preview", responses=COMPUTED)
async def preview(definition: Definition, ctx: Reader) -> ResultOut:
    """Runs a definition without saving it."""
    return await service.run(ctx, definition)


@router.post("", status_code=201)
async def create(data: CustomReportIn, ctx: Writer) -> CustomReportOut:
    return await service.create(ctx, data)


@router.put("/{report_id}")
async def update(report_id: IdPath, data: CustomReportIn, ctx: Writer) -> CustomReportOut:
    return await service.update(ctx, report_id, data)


@router.delete("/{report_id}", status_code=204)
async def delete(report_id: IdPath, ctx: Writer) -> None:
    await service.delete(ctx, report_id)


@router.get("/{report_id}/run", responses=COMPUTED)
async def run(report_id: IdPath, ctx: Reader) -> ResultOut:
    return await service.run_saved(ctx, report_id)


XLSX_DOC = {200: {"content": {mailing.XLSX: {}}}, **COMPUTED}


@router.get("/{report_id}/xlsx", response_class=Response, responses=XLSX_DOC)
async def xlsx(report_id: IdPath, ctx: Reader) -> Response:
    """The report now as an XLSX workbook with its chart (what the schedule mails)."""
    result = await service.run_saved(ctx, report_id)
    data = await mailing.as_workbook(ctx, result)
    name = quote(f"{result.title}.xlsx")
    return Response(
        data, media_type=mailing.XLSX, headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"}
    )
