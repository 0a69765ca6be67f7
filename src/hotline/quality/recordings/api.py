"""Routes of quality's recordings."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/quality", tags=["quality"])
