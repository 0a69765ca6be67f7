"""The monthly assessment sheet as an export (exports/subjects.py): the rows GET
/api/reports/assessment answers, one line per agent, in rank order."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from hotline.core.context import Context
from hotline.core.permissions import Permission
from hotline.exports.subjects import Column, Row, Source, subject
from hotline.reports import assessment


class AssessmentFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    month: Annotated[str, Field(pattern=r"^\d{4}-\d{2}$")]
    team_id: Annotated[int | None, Field(ge=1, le=2_147_483_647)] = None


COLUMNS = (
    Column("rank", "排名", "Rank", "int", width=6),
    Column("name", "坐席", "Agent", width=14),
    Column("team", "班组", "Team", width=12),
    Column("calls", "处理量", "Calls handled", "int", width=10),
    Column("volume_score", "量得分", "Volume score", "number", width=10),
    Column("aht", "平均处理时长(秒)", "AHT (s)", "number", width=12),
    Column("handle_time_score", "时长得分", "Handle time score", "number", width=10),
    Column("quality", "质检均分", "QA score", "number", width=10),
    Column("quality_score", "质量得分", "Quality score", "number", width=10),
    Column("satisfaction", "满意度均分", "Survey score", "number", width=10),
    Column("satisfaction_score", "满意度得分", "Satisfaction score", "number", width=10),
    Column("hours", "签入小时", "Signed-in hours", "number", width=10),
    Column("attendance_score", "出勤得分", "Attendance score", "number", width=10),
    Column("total", "总分", "Total", "number", width=8),
    Column("rescaled", "权重已重算", "Weights rescaled", "bool", width=10),
)


@dataclass
class Rows:
    """Rows computed whole (a month's sheet is one line per agent): one page."""

    rows: list[Row]

    async def count(self, ctx: Context) -> int:
        return len(self.rows)

    async def pages(self, ctx: Context, size: int) -> AsyncIterator[list[Row]]:
        for start in range(0, len(self.rows), size):
            yield self.rows[start : start + size]


@subject(
    "assessment", Permission.REPORTS_READ, AssessmentFilters, ("月度考核", "Monthly assessment"), COLUMNS
)
async def assessment_sheet(ctx: Context, filters: AssessmentFilters) -> Source:
    sheet = await assessment.sheet(ctx, filters.month, filters.team_id)
    return Rows(
        [
            (
                r.rank,
                r.name,
                r.team,
                r.volume.raw,
                r.volume.score,
                r.handle_time.raw,
                r.handle_time.score,
                r.quality.raw,
                r.quality.score,
                r.satisfaction.raw,
                r.satisfaction.score,
                r.attendance.raw,
                r.attendance.score,
                r.total,
                r.rescaled,
            )
            for r in sheet.rows
        ]
    )
