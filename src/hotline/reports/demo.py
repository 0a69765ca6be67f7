"""Demo data of the reports: the site's assessment scheme (量 30 / 时长 15 / 质量 25 / 满意度 20 /
出勤 10), so 月度考核 opens on weights a supervisor can change."""

from __future__ import annotations

from sqlalchemy import select

from hotline.core.context import Context
from hotline.reports import assessment
from hotline.reports.models import AssessmentScheme
from hotline.reports.schemas import AssessmentSchemeIn


async def load(ctx: Context) -> None:
    async with ctx.read() as session:
        if await session.scalar(select(AssessmentScheme.id).where(AssessmentScheme.team_id.is_(None))):
            return
    await assessment.set_scheme(
        ctx,
        AssessmentSchemeIn(weights=assessment.DEFAULT_WEIGHTS, targets=assessment.DEFAULT_TARGETS),
    )
