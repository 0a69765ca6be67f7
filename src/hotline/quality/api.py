"""Routes of quality (under /api/quality): the recordings library and the reviews."""

from __future__ import annotations

from fastapi import APIRouter

from hotline.quality.recordings.api import router as recordings
from hotline.quality.reviews.api import router as reviews

router = APIRouter()
router.include_router(recordings)
router.include_router(reviews)
