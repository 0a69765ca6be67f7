"""Routes for IVR flows: list, versions, save a draft, publish, roll back, node visit counts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request

from hotline.api.deps import requires
from hotline.core.context import Context
from hotline.core.permissions import Permission
from hotline.routing import service
from hotline.routing.schemas import (
    DraftIn,
    FlowName,
    FlowSummary,
    FlowVersionOut,
    RollbackIn,
    StaffingIn,
    StaffingOut,
    VisitCount,
)

router = APIRouter(prefix="/api/routing", tags=["routing"])
READ = Annotated[Context, Depends(requires(Permission.ROUTING_READ))]
WRITE = Annotated[Context, Depends(requires(Permission.ROUTING_WRITE))]
NamePath = Annotated[FlowName, Path()]


@router.get("/flows")
async def list_flows(ctx: READ) -> list[FlowSummary]:
    return await service.list_flows(ctx)


@router.get("/flows/{name}/versions")
async def flow_versions(name: NamePath, ctx: READ) -> list[FlowVersionOut]:
    """Every stored version, oldest first; a shipped flow nobody edited has none (it runs as shipped)."""
    return [FlowVersionOut.model_validate(v) for v in await service.flow_versions(ctx, name)]


@router.get("/flows/{name}/shipped")
async def shipped_flow(name: NamePath, ctx: READ) -> dict[str, object]:
    """The flow as Hotline ships it (the starting point of a first draft)."""
    return service.shipped_definition(ctx, name)


@router.put("/flows/{name}/draft")
async def save_draft(name: NamePath, body: DraftIn, ctx: WRITE) -> FlowVersionOut:
    """Check the flow and keep it as the draft; problems come back at their nodes (422)."""
    return FlowVersionOut.model_validate(await service.save_draft(ctx, name, body))


@router.post("/flows/{name}/publish")
async def publish(name: NamePath, ctx: WRITE) -> FlowVersionOut:
    return FlowVersionOut.model_validate(await service.publish(ctx, name))


@router.post("/flows/{name}/rollback")
async def rollback(name: NamePath, body: RollbackIn, ctx: WRITE) -> FlowVersionOut:
    return FlowVersionOut.model_validate(await service.rollback(ctx, name, body.version))


@router.get("/flows/{name}/visits")
async def visits(name: NamePath, request: Request, ctx: READ) -> list[VisitCount]:
    """How often each node was visited on this node since it started (reports keep the totals)."""
    return service.visit_counts(ctx, request.app.state.hotline.router, name)


@router.post("/staffing")
async def staffing(body: StaffingIn, ctx: READ) -> StaffingOut:
    """Agents needed for a service level: Erlang C, or Erlang A when callers' patience is given."""
    return service.staffing(ctx, body)
