"""Routes of quality's reviews."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/quality", tags=["quality"])
