"""Demo data of the reports: the site's assessment scheme (量 30 / 时长 15 / 质量 25 / 满意度 20 /
出勤 10), so 月度考核 opens on weights a supervisor can change; and one saved custom report of the
supervisor's, shared with team leads (近30天各队列接通情况), so 自定义报表 opens on an example."""

from __future__ import annotations

from sqlalchemy import select

from hotline.admin.models import User
from hotline.core.context import Context
from hotline.reports import assessment
from hotline.reports.custom.definition import Definition
from hotline.reports.custom.models import CustomReport
from hotline.reports.models import AssessmentScheme
from hotline.reports.schemas import AssessmentSchemeIn

EXAMPLE = "近30天各队列接通情况"


async def load(ctx: Context) -> None:
    async with ctx.read() as session:
        scheme = await session.scalar(select(AssessmentScheme.id).where(AssessmentScheme.team_id.is_(None)))
        example = await session.scalar(select(CustomReport.id).where(CustomReport.name == EXAMPLE))
    if not scheme:
        await assessment.set_scheme(
            ctx,
            AssessmentSchemeIn(weights=assessment.DEFAULT_WEIGHTS, targets=assessment.DEFAULT_TARGETS),
        )
    if example:
        return
    definition = Definition(
        subject="calls",
        dimensions=["queue"],
        measures=["calls", "answered", "abandoned", "answer_rate"],
        chart="bar",
    )
    async with ctx.write() as tx:
        supervisor = await tx.session.scalar(select(User.id).where(User.username == "supervisor"))
        tx.session.add(
            CustomReport(
                name=EXAMPLE, owner_id=supervisor, definition=definition.model_dump(mode="json"),
                shared_roles=["team_lead"], schedule="none", hour=8, recipients=[], last_error="",
            )
        )  # fmt: skip
