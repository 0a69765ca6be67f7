"""A custom report as an XLSX workbook with its chart as a native Excel chart (xlsxwriter), so
the figures stay live in Excel. Pure: plain data in, bytes out; run in the compute pool
(`ctx.compute(workbook, …)`), never on the event loop."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import xlsxwriter

FORMATS = {"money": "#,##0.00", "rate": "0.0%", "seconds": "0.00", "hours": "0.00", "score": "0.00"}
CHART_TYPES = {"bar": "column", "line": "line", "pie": "pie"}
MAX_SERIES_POINTS = 1000


def workbook(
    title: str,
    subtitle: str,
    columns: list[dict[str, str]],
    rows: list[list[Any]],
    totals: list[Any],
    chart: str,
    total_label: str,
) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet(title[:31].translate(str.maketrans("[]:*?/\\", "（）：＊？／＼")) or "Report")
    bold = book.add_format({"bold": True})
    head = book.add_format({"bold": True, "bottom": 1, "bg_color": "#EEF3FA"})
    formats = {kind: book.add_format({"num_format": f}) for kind, f in FORMATS.items()}
    bold_formats = {kind: book.add_format({"num_format": f, "bold": True}) for kind, f in FORMATS.items()}
    sheet.write(0, 0, title, book.add_format({"bold": True, "font_size": 14}))
    sheet.write(1, 0, subtitle)
    top = 3
    for c, column in enumerate(columns):
        sheet.write(top, c, column["label"], head)
        sheet.set_column(c, c, max(10, min(40, len(column["label"]) * 2 + 2)))
    for r, row in enumerate(rows, start=top + 1):
        for c, value in enumerate(row):
            _cell(sheet, r, c, value, formats.get(columns[c]["kind"]))
    last = top + len(rows)
    dims = sum(1 for column in columns if column["kind"] == "dimension")
    sheet.write(last + 1, 0, total_label, bold)
    for c, value in enumerate(totals):
        if c >= dims:
            _cell(sheet, last + 1, c, value, bold_formats.get(columns[c]["kind"], bold))
    sheet.freeze_panes(top + 1, 0)
    if chart in CHART_TYPES and rows and dims:
        _chart(book, sheet, chart, columns, rows, top, dims)
    book.close()
    return out.getvalue()


def _cell(sheet: Any, r: int, c: int, value: Any, fmt: Any) -> None:
    if value is None:
        sheet.write_blank(r, c, None)
    elif isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        sheet.write_number(r, c, float(value), fmt)
    else:
        sheet.write_string(r, c, str(value))


def _chart(
    book: Any,
    sheet: Any,
    kind: str,
    columns: list[dict[str, str]],
    rows: list[list[Any]],
    top: int,
    dims: int,
) -> None:
    """The first dimension along the axis, one series per measure (a pie: the first measure).
    With two dimensions the categories are both (Excel's multi-level axis)."""
    chart = book.add_chart({"type": CHART_TYPES[kind]})
    first, last = top + 1, top + min(len(rows), MAX_SERIES_POINTS)
    name = sheet.get_name()
    categories = [name, first, 0, last, dims - 1]
    measures = range(dims, len(columns)) if kind != "pie" else range(dims, dims + 1)
    for c in measures:
        chart.add_series(
            {"name": [name, top, c], "categories": categories, "values": [name, first, c, last, c]}
        )
    chart.set_title({"name": columns[dims]["label"] if kind == "pie" else sheet.get_name()})
    chart.set_size({"width": 760, "height": 380})
    sheet.insert_chart(top, len(columns) + 1, chart)
