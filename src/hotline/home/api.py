"""Routes of the home page (under /api/home): where the user starts, their work, and the agent's
work between calls."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from hotline.contact.api import node_router
from hotline.core.context import Context
from hotline.core.permissions import Permission
from hotline.core.web import requires, signed_in
from hotline.home import service
from hotline.home.schemas import AgentDesk, Home, Landing

router = APIRouter(prefix="/api/home", tags=["home"])
ANYONE = Annotated[Context, Depends(signed_in)]


@router.get("")
async def my_home(request: Request, ctx: ANYONE) -> Home:
    """The signed-in user's work, a section for each kind their permissions give (the others are
    null): an agent's desk, the floor, order steps, today's arrivals, work orders, quality."""
    return await service.home(ctx, node_router(request))


@router.get("/landing")
async def landing(request: Request, ctx: ANYONE) -> Landing:
    """Where the user starts (agents on the desktop) and whether they have an agent's state to show."""
    return await service.landing(ctx, node_router(request))


@router.get("/desk")
async def my_desk(
    request: Request, ctx: Annotated[Context, Depends(requires(Permission.CALLS_HANDLE))]
) -> AgentDesk:
    """The agent's work between calls: today's figures, callbacks due (named, numbers masked),
    return visits, tickets assigned, callers waiting in their queues."""
    return await service.agent_desk(ctx, node_router(request))
