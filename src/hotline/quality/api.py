"""Routes of quality (under /api/quality): the recordings library, the reviews, transcripts and
phrase rules."""

from __future__ import annotations

from fastapi import APIRouter

from hotline.quality.recordings.api import router as recordings
from hotline.quality.reviews.api import router as reviews
from hotline.quality.speech.api import router as speech

router = APIRouter()
router.include_router(recordings)
router.include_router(reviews)
router.include_router(speech)
