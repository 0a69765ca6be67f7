"""Any report as an export (exports/subjects.py): what the report page shows — the totals, the
comparison's totals, the rows and the series — one figure a line (part, row, figure, value), so
every report, whatever its figures, exports through the one subject `report`. The filters are the
report's subject and its query (docs/reports.md); the report's own permissions are checked when
the figures are computed (reports.read and the subject's)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field

from hotline.core.context import Context
from hotline.core.periods import PeriodQuery
from hotline.core.permissions import Permission
from hotline.core.schemas import DbId
from hotline.exports.subjects import Column, Row, Source, subject
from hotline.reports import service
from hotline.reports.schemas import ReportOut

Subject = Literal["tickets", "bookings", "orders", "messages", "surveys", "queues", "agents", "ivr"]


class ReportFilters(PeriodQuery):
    model_config = ConfigDict(extra="forbid")

    subject: Subject
    agent_id: DbId | None = None
    queue: list[Annotated[str, Field(max_length=64)]] = Field(default_factory=list, max_length=50)


COLUMNS = (
    Column("part", "部分", "Part", width=10),
    Column("key", "编号", "Key", width=14),
    Column("label", "名称", "Name", width=24),
    Column("figure", "指标", "Figure", width=22),
    Column("value", "数值", "Value", "number", width=14),
)
PARTS = {"totals": "合计", "compare": "对比", "rows": "明细", "series": "时段"}


def _number(value: Any) -> float | int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return value
    try:
        return float(Decimal(str(value)))
    except ArithmeticError:
        return None


def _figures(part: str, key: str, label: str, figures: dict[str, Any]) -> Iterator[Row]:
    for name, value in figures.items():
        if name in ("key", "label", "start", "dimension", "kind"):
            continue
        if isinstance(value, dict):  # not-ready time by reason
            for reason, amount in value.items():
                yield (PARTS[part], key, label, f"{name}.{reason}", _number(amount))
        else:
            yield (PARTS[part], key, label, name, _number(value))


def lines(report: ReportOut) -> list[Row]:
    """The report, one figure a line: totals, the comparison's, every row, every bucket."""
    out = list(_figures("totals", "", "", report.totals))
    if report.compare is not None:
        out += _figures("compare", f"{report.compare.start}~{report.compare.end}", "", report.compare.totals)
    for row in report.rows:
        key = str(row.get("key", ""))
        label = str(row.get("label", key))
        if row.get("dimension"):
            key = f"{row['dimension']}:{key}"
        out += _figures("rows", key, label, row)
    for point in report.series:
        out += _figures("series", str(point["start"]), "", point)
    return out


class ReportLines:
    """The report computed once for the requester, then written a page at a time."""

    def __init__(self, filters: ReportFilters) -> None:
        self.filters = filters
        self._lines: list[Row] | None = None

    async def _computed(self, ctx: Context) -> list[Row]:
        if self._lines is None:
            f = self.filters
            query = PeriodQuery(
                start=f.start, end=f.end, granularity=f.granularity, compare=f.compare, team_id=f.team_id
            )
            report = await service.report(
                ctx, f.subject, query, agent_id=f.agent_id, queues=set(f.queue) or None
            )
            self._lines = lines(report)
        return self._lines

    async def count(self, ctx: Context) -> int:
        return len(await self._computed(ctx))

    async def pages(self, ctx: Context, size: int) -> AsyncIterator[list[Row]]:
        found = await self._computed(ctx)
        for i in range(0, len(found), size):
            yield found[i : i + size]


@subject("report", Permission.REPORTS_READ, ReportFilters, ("报表", "Report"), COLUMNS)
async def report(ctx: Context, filters: ReportFilters) -> Source:
    return ReportLines(filters)
