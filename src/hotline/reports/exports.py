"""Any report as an export (exports/subjects.py): what the report page shows — the totals, the
comparison's totals, the rows and the series — one figure a line (part, row, figure, value), so
every report, whatever its figures, exports through the one subject `report`. The filters are the
report's subject and its query (docs/reports.md); the report's own permissions are checked when
the figures are computed (reports.read and the subject's). And the monthly assessment sheet
(subject `assessment`), one line per agent."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hotline.core.context import Context
from hotline.core.periods import PeriodQuery
from hotline.core.permissions import Permission
from hotline.core.schemas import DbId
from hotline.exports.subjects import Column, Computed, Row, Source, subject
from hotline.reports import assessment, service
from hotline.reports.figure_names import NOT_FIGURES, figure_name
from hotline.reports.schemas import ChatChannel, ReportOut

Subject = Literal["tickets", "bookings", "orders", "messages", "surveys", "queues", "agents", "ivr", "chats"]


class ReportFilters(PeriodQuery):
    model_config = ConfigDict(extra="forbid")

    subject: Subject
    agent_id: DbId | None = None
    queue: list[Annotated[str, Field(max_length=64)]] = Field(default_factory=list, max_length=50)
    channel: list[ChatChannel] = Field(default_factory=list, max_length=3)


COLUMNS = (
    Column("part", "部分", "Part", width=10),
    Column("key", "编号", "Key", width=14),
    Column("label", "名称", "Name", width=24),
    Column("figure", "指标", "Figure", width=22),
    Column("value", "数值", "Value", "number", width=14),
)
PARTS = {
    "totals": ("合计", "Totals"),
    "compare": ("对比", "Compared"),
    "rows": ("明细", "Rows"),
    "series": ("时段", "Series"),
}


def _number(value: Any) -> float | int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return value
    try:
        return float(Decimal(str(value)))
    except ArithmeticError:
        return None


def lines(report: ReportOut, locale: str = "zh-CN") -> list[Row]:
    """The report, one figure a line, each figure by its name in the locale: totals, the
    comparison's, every row, every bucket."""
    en = locale.startswith("en")

    def figures(part: str, key: str, label: str, values: dict[str, Any]) -> Iterator[Row]:
        shown = PARTS[part][1 if en else 0]
        for name, value in values.items():
            if name in NOT_FIGURES:
                continue
            if isinstance(value, dict):  # not-ready time by reason
                for reason, amount in value.items():
                    yield (
                        shown,
                        key,
                        label,
                        figure_name(report.subject, f"{name}.{reason}", locale),
                        _number(amount),
                    )
            else:
                yield (shown, key, label, figure_name(report.subject, name, locale), _number(value))

    out = list(figures("totals", "", "", report.totals))
    if report.compare is not None:
        out += figures("compare", f"{report.compare.start}~{report.compare.end}", "", report.compare.totals)
    for row in report.rows:
        key = str(row.get("key", ""))
        label = str(row.get("label", key))
        if row.get("dimension"):
            key = f"{row['dimension']}:{key}"
        out += figures("rows", key, label, row)
    for point in report.series:
        out += figures("series", str(point["start"]), "", point)
    return out


@subject("report", Permission.REPORTS_READ, ReportFilters, ("报表", "Report"), COLUMNS)
async def report(ctx: Context, filters: ReportFilters) -> Source:
    async def computed(ctx: Context) -> list[Row]:
        query = PeriodQuery(
            start=filters.start,
            end=filters.end,
            granularity=filters.granularity,
            compare=filters.compare,
            team_id=filters.team_id,
        )
        found = await service.report(
            ctx, filters.subject, query, agent_id=filters.agent_id, queues=set(filters.queue) or None,
            channels=set(filters.channel) or None,
        )  # fmt: skip
        return lines(found, ctx.locale)

    return Computed(computed)


# ---------------------------------------------------------------- the monthly assessment (月度考核)


class AssessmentFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    month: Annotated[str, Field(pattern=r"^\d{4}-\d{2}$")]
    team_id: Annotated[int | None, Field(ge=1, le=2_147_483_647)] = None


ASSESSMENT_COLUMNS = (
    Column("rank", "排名", "Rank", "int", width=6),
    Column("name", "坐席", "Agent", width=14),
    Column("team", "班组", "Team", width=12),
    Column("volume", "处理量", "Handled", "number", width=10),
    Column("calls", "通话数", "Calls", "int", width=8),
    Column("conversations", "会话数", "Conversations", "int", width=8),
    Column("volume_score", "量得分", "Volume score", "number", width=10),
    Column("aht", "平均处理时长(秒)", "AHT (s)", "number", width=12),
    Column("handle_time_score", "时长得分", "Handle time score", "number", width=10),
    Column("quality", "质检均分", "QA score", "number", width=10),
    Column("quality_score", "质量得分", "Quality score", "number", width=10),
    Column("satisfaction", "满意度均分", "Satisfaction", "number", width=10),
    Column("chat_rating", "会话满意度", "Chat rating", "number", width=10),
    Column("satisfaction_score", "满意度得分", "Satisfaction score", "number", width=10),
    Column("hours", "签入小时", "Signed-in hours", "number", width=10),
    Column("attendance_score", "出勤得分", "Attendance score", "number", width=10),
    Column("total", "总分", "Total", "number", width=8),
    Column("rescaled", "权重已重算", "Weights rescaled", "bool", width=10),
)


@subject(
    "assessment",
    Permission.REPORTS_READ,
    AssessmentFilters,
    ("月度考核", "Monthly assessment"),
    ASSESSMENT_COLUMNS,
)
async def assessment_sheet(ctx: Context, filters: AssessmentFilters) -> Source:
    """The rows GET /api/reports/assessment answers, one line per agent, in rank order."""

    async def computed(ctx: Context) -> list[Row]:
        sheet = await assessment.sheet(ctx, filters.month, filters.team_id)
        return [
            (
                r.rank,
                r.name,
                r.team,
                r.volume.raw,
                r.calls,
                r.conversations,
                r.volume.score,
                r.handle_time.raw,
                r.handle_time.score,
                r.quality.raw,
                r.quality.score,
                r.satisfaction.raw,
                r.chat_rating,
                r.satisfaction.score,
                r.attendance.raw,
                r.attendance.score,
                r.total,
                r.rescaled,
            )
            for r in sheet.rows
        ]

    return Computed(computed)
