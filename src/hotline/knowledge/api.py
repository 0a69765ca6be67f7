"""Routes for the knowledge base: search, read, and (supervisors) write."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from hotline.core.context import Context
from hotline.core.permissions import Permission
from hotline.core.web import IdPath, requires
from hotline.knowledge import scripts, service
from hotline.knowledge.schemas import ArticleIn, ArticleOut, CallerClass, Category, Hit, ScriptIn, ScriptOut

router = APIRouter(prefix="/api/knowledge", tags=["knowledge"])
READ = Annotated[Context, Depends(requires(Permission.KNOWLEDGE_READ))]
WRITE = Annotated[Context, Depends(requires(Permission.KNOWLEDGE_WRITE))]


@router.get("/articles")
async def find(
    ctx: READ,
    q: Annotated[str, Query(max_length=100)] = "",
    category: Category | None = None,
) -> list[Hit]:
    """Search (Chinese by character pairs, other text by words), best first; without `q`, the
    latest articles."""
    return await service.find(ctx, q, category=category)


@router.get("/categories")
async def categories(ctx: READ) -> dict[str, int]:
    return await service.categories(ctx)


@router.get("/articles/{article_id}")
async def get(article_id: IdPath, ctx: READ) -> ArticleOut:
    return await service.get(ctx, article_id)


@router.post("/articles", status_code=201)
async def create(body: ArticleIn, ctx: WRITE) -> ArticleOut:
    return await service.save(ctx, body)


@router.put("/articles/{article_id}")
async def update(article_id: IdPath, body: ArticleIn, ctx: WRITE) -> ArticleOut:
    return await service.save(ctx, body, article_id)


@router.get("/scripts/{caller_class}")
async def get_script(caller_class: CallerClass, ctx: READ) -> ScriptOut:
    """The call script for a class of caller (seed 000's as shipped until a supervisor edits it)."""
    return await scripts.get(ctx, caller_class)


@router.put("/scripts/{caller_class}")
async def put_script(caller_class: CallerClass, body: ScriptIn, ctx: WRITE) -> ScriptOut:
    return await scripts.save(ctx, caller_class, body)
