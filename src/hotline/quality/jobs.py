"""Scheduled work of quality: each part registers its handlers on import."""

from __future__ import annotations

from hotline.quality.recordings import jobs as recordings_jobs
from hotline.quality.reviews import jobs as reviews_jobs

__all__ = ["recordings_jobs", "reviews_jobs"]
