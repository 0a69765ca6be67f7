"""Routes of transcripts and phrase rules (under /api/quality; docs/qa.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from hotline.core.context import Context
from hotline.core.permissions import Permission
from hotline.core.web import IdPath, requires
from hotline.quality.speech import service
from hotline.quality.speech.schemas import PhraseRulesIn, PhraseRulesOut, TranscriptOut

router = APIRouter(prefix="/api/quality", tags=["quality"])
LISTEN = Annotated[Context, Depends(requires(Permission.RECORDINGS_LISTEN))]
READ = Annotated[Context, Depends(requires(Permission.QA_READ))]
MANAGE = Annotated[Context, Depends(requires(Permission.QA_MANAGE))]


@router.get("/recordings/{recording_id}/transcript")
async def transcript(recording_id: IdPath, ctx: LISTEN) -> TranscriptOut:
    """What each side said, when, and the phrase rules' findings; audited like a listen."""
    return await service.transcript(ctx, recording_id)


@router.get("/phrase-rules")
async def rule_sets(ctx: READ) -> list[PhraseRulesOut]:
    """Every queue's required and forbidden phrases."""
    return await service.rule_sets(ctx)


@router.put("/phrase-rules/{queue}")
async def set_rules(
    queue: Annotated[str, Path(min_length=1, max_length=64)], body: PhraseRulesIn, ctx: MANAGE
) -> PhraseRulesOut:
    """Replace a queue's phrase rules; its transcripts are matched again within a minute."""
    return await service.set_rules(ctx, queue, body)
