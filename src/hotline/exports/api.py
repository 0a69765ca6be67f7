"""Routes for exports: ask for one, follow it in 我的导出, download its file, cancel it.

Any signed-in person may call them; what they may export is the subject's own permission
(tickets.read for tickets, customers.export for customers), checked by the service.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse

from hotline.core.context import Context
from hotline.core.web import IdPath, signed_in
from hotline.exports import service
from hotline.exports.schemas import ExportIn, ExportOut, SubjectOut
from hotline.exports.service import Runner

router = APIRouter(prefix="/api/exports", tags=["exports"])
ME = Annotated[Context, Depends(signed_in)]


def runner(request: Request) -> Runner:
    """The node's export runner (started with the app: api/app.py)."""
    found: Any = request.app.state.hotline.exports
    return found  # type: ignore[no-any-return]


RUNNER = Annotated[Runner, Depends(runner)]


@router.get("/subjects")
async def subjects(ctx: ME) -> list[SubjectOut]:
    """What I may export."""
    return service.list_subjects(ctx)


@router.post("", status_code=202)
async def start(body: ExportIn, ctx: ME, jobs: RUNNER) -> ExportOut:
    """Ask for an export: it is written in the background; follow it with GET /api/exports/{id}."""
    return await service.start_export(ctx, body, jobs)


@router.get("")
async def mine(ctx: ME) -> list[ExportOut]:
    """My latest exports (我的导出)."""
    return await service.my_exports(ctx)


@router.get("/{export_id}")
async def one(export_id: IdPath, ctx: ME) -> ExportOut:
    return await service.get_export(ctx, export_id)


@router.get(
    "/{export_id}/file",
    response_class=FileResponse,
    responses={200: {"content": {m.split(";")[0]: {} for m in service.MEDIA_TYPES.values()}}},
)
async def file(export_id: IdPath, ctx: ME) -> FileResponse:
    """The export's file, while it is kept; audited."""
    path, name, media_type = await service.export_file(ctx, export_id)
    return FileResponse(path, media_type=media_type, filename=name)


@router.post("/{export_id}/cancel")
async def cancel(export_id: IdPath, ctx: ME, jobs: RUNNER) -> ExportOut:
    return await service.cancel_export(ctx, export_id, jobs)
