"""Spreadsheets people upload (CSV or XLSX) read as rows of {column: text}: the one reader behind
every import (customers, outbound lists). Runs in the compute pool with the rest of an import's checks."""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Mapping

from openpyxl import load_workbook

from hotline.core.errors import InvalidInput


def read_table(
    data: bytes,
    filename: str,
    *,
    columns: Collection[str],
    aliases: Mapping[str, str],
    required: tuple[str, str],
    max_rows: int,
    extra: int = 0,
) -> list[dict[str, str]]:
    """The file's rows as {column: text}, the header in English or Chinese (`aliases`); blank rows
    are skipped. `required` is (column, its Chinese name). Up to `extra` columns not among `columns`
    are kept under their own header (an outbound list's 线路 or 出行日期); more, or any without
    `extra`, is an error naming the first."""
    table = _cells(data, filename)
    if not table:
        raise InvalidInput("The file is empty", field="file", reason="file-empty")
    header = [aliases.get(name.strip(), name).strip() for name in table[0]]
    known = [name.lower() if name.lower() in columns else name for name in header]
    unknown = [name for name in known if name and name not in columns]
    if len(unknown) > extra:
        raise InvalidInput(
            f"Unknown column {unknown[extra]!r}; the columns are {', '.join(columns)}",
            field="file",
            reason="unknown-column-columns",
            params={"v0": repr(unknown[extra]), "value": ", ".join(columns)},
        )
    column, chinese = required
    if column not in known:
        raise InvalidInput(
            f"The file needs a {column} column ({chinese})",
            field="file",
            reason="file-needs-column",
            params={"column": chinese},
        )
    rows = [dict(zip(known, row, strict=False)) for row in table[1:] if any(row)]
    if len(rows) > max_rows:
        raise InvalidInput(
            f"At most {max_rows:,} rows per file",
            field="file",
            reason="most-rows-per-file",
            params={"max_rows": format(max_rows, ",")},
        )
    return rows


def _cells(data: bytes, filename: str) -> list[list[str]]:
    if filename.lower().endswith(".xlsx"):
        try:
            sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
        except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
            raise InvalidInput(
                f"Not an XLSX workbook: {exc}", field="file", reason="not-xlsx-workbook", params={"exc": exc}
            ) from exc
        return [
            ["" if v is None else str(v).strip() for v in row] for row in sheet.iter_rows(values_only=True)
        ]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")  # what Excel in China saves CSV as
        except UnicodeDecodeError as exc:
            raise InvalidInput(
                "The CSV file is neither UTF-8 nor GB18030 text",
                field="file",
                reason="csv-file-neither-utf-8",
            ) from exc
    try:  # newline="": a lone CR ends a row, as in every spreadsheet, rather than failing
        return [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text, newline=""))]
    except csv.Error as exc:  # a field past the csv module's size limit
        raise InvalidInput(
            f"Not a readable CSV file: {exc}",
            field="file",
            reason="not-readable-csv-file",
            params={"exc": exc},
        ) from exc
