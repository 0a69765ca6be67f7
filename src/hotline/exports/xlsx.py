"""A streaming XLSX writer: the few SpreadsheetML parts an export needs, the worksheets streamed
into the zip a page at a time, in constant memory.

Why our own and not xlsxwriter: xlsxwriter's per-cell path (a method call, its own escaping and
number formatting, one `write` to a temporary file per cell) cost ~5 µs a cell here; an export
of 11 columns wants < 1.8 µs a cell all included (issue 21: 50,000 rows/s). Here a cell is one
f-string in a function chosen once per column, a page is made a column at a time, and a page of
rows is one write into the zip (docs/decisions/0006-xlsx-writer.md has the figures).

What Excel asks of the XML, and what this does about it:
- text is an inline string (`t="inlineStr"`), `&<>` escaped, spaces at its ends kept (`xml:space`);
- characters XML 1.0 cannot carry (controls but tab and newline, carriage return — a parser turns
  it into a newline —, lone surrogates, U+FFFE/U+FFFF) are written as Excel writes them,
  `_xHHHH_`, and text that already looks like such an escape gets its `_` escaped (`_x005F_`), so
  Excel shows exactly the text written; more than 32,767 characters are cut (Excel's limit);
- numbers are `<v>` with Python's shortest round-trip form; NaN and infinities, which a cell
  cannot hold, are written as text;
- dates are serial days since 1899-12-30 with a date style (what Excel stores);
- a worksheet holds at most 1,048,576 rows (`MAX_ROWS`): the caller starts another sheet.
"""

from __future__ import annotations

import math
import re
import zipfile
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from typing import IO, Any
from xml.sax.saxutils import escape, quoteattr

MAX_ROWS = 1_048_576
"""Rows in one worksheet, the header's included."""
MAX_TEXT = 32_767
"""Characters in one cell."""
COMPRESSLEVEL = 1
"""Deflate level of the worksheets: 1 deflates 1,000,000 rows' XML (~500 MB) in ~1.5 s of one core
for a file ~25 % larger than level 6, which takes ~3x the time (measured, see the decision)."""
KNOWN = 4096
"""Texts remembered per column (`text_cells`)."""
DAY = 86_400.0
QUARTER = 900
UNIX_EPOCH = 25_569
"""1970-01-01 as Excel's serial day (days since 1899-12-30)."""
EPOCH_ORDINAL = date(1899, 12, 30).toordinal()

HEADER, DATETIME, DATE = 1, 2, 3
"""Cell styles (indexes into styles.xml's cellXfs): the header row, a date and time, a date."""

_NEEDS_CARE = re.compile("[&<>\x00-\x08\x0b-\x1f\ud800-\udfff\ufffe\uffff]|_x[0-9A-Fa-f]{4}_")
_UNWRITABLE = re.compile("[\x00-\x08\x0b-\x1f\ud800-\udfff\ufffe\uffff]|_(?=x[0-9A-Fa-f]{4}_)")


def _escape_one(match: re.Match[str]) -> str:
    return f"_x{ord(match.group()):04X}_"


def text_xml(text: str) -> str:
    """`text` as the content of a `<t>` element that Excel shows as `text`."""
    if len(text) > MAX_TEXT:
        text = text[:MAX_TEXT]
    if _NEEDS_CARE.search(text) is None:
        return text
    return escape(_UNWRITABLE.sub(_escape_one, text))


def inline_xml(text: str) -> str:
    """The `<is>` of an inline string cell; spaces at either end kept (`xml:space`), which a
    reader otherwise may drop."""
    xml = text_xml(text)
    if xml[:1].isspace() or xml[-1:].isspace():
        return f'<is><t xml:space="preserve">{xml}</t></is>'
    return f"<is><t>{xml}</t></is>"


def number_xml(value: int | float | Decimal) -> str | None:
    """The `<v>` of a number cell; None when a cell cannot hold it (NaN, infinity)."""
    if isinstance(value, int):
        return str(int(value))  # bool is an int: True is 1
    if isinstance(value, Decimal):
        return str(value) if value.is_finite() else None
    return repr(float(value)) if math.isfinite(value) else None


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


Cell = Callable[[int, Any], str]
"""(row number, value) -> the cell's XML, "" for an empty value (None or "")."""


def text_cells(column: int, shown: Callable[[Any], str]) -> Cell:
    """A column of text: `shown(value)` is the text (masked, joined: the caller's choice)."""
    letter = column_letter(column)
    known: dict[str, str] = {}
    """Text seen before, as written: a column's values repeat (a queue, an agent, an outcome),
    and a hit skips the mask and the escaping. The first `KNOWN` texts only: memory stays flat."""

    def cell(row: int, value: Any) -> str:
        if value is None or value == "":
            return ""
        if value.__class__ is str:
            text = known.get(value)
            if text is None:
                text = inline_xml(shown(value))
                if len(known) < KNOWN:
                    known[value] = text
        else:
            text = inline_xml(shown(value))
        return f'<c r="{letter}{row}" t="inlineStr">{text}</c>'

    return cell


def number_cells(column: int) -> Cell:
    """A column of numbers; anything else in it (text, NaN) is shown as text."""
    letter = column_letter(column)
    text = text_cells(column, str)

    def cell(row: int, value: Any) -> str:
        if value.__class__ is int:  # the common case first: no checks an int cannot fail
            return f'<c r="{letter}{row}"><v>{value}</v></c>'
        if value is None or value == "":
            return ""
        number = number_xml(value) if isinstance(value, (int, float, Decimal)) else None
        return text(row, value) if number is None else f'<c r="{letter}{row}"><v>{number}</v></c>'

    return cell


def date_cells(column: int, zone: tzinfo, style: int = DATETIME) -> Cell:
    """A column of dates or datetimes in `style` (`DATETIME` or `DATE`), the datetimes shown in
    `zone` (naive ones are UTC: what SQLite gives back)."""
    letter = column_letter(column)
    text = text_cells(column, str)
    offsets: dict[int, float] = {}
    """The zone's offset by quarter of an hour (UTC), where it is the same all through it: finding
    it (`astimezone`) is most of a date cell's cost, and zones change offset on those bounds."""

    def offset(at: float) -> float:
        moment = datetime.fromtimestamp(at, UTC).astimezone(zone).utcoffset()
        return moment.total_seconds() if moment is not None else 0.0

    def cell(row: int, value: Any) -> str:
        if isinstance(value, datetime):
            if value.tzinfo is None:
                value = value.replace(tzinfo=UTC)
            at = value.timestamp()
            quarter = int(at // QUARTER)
            shift = offsets.get(quarter)
            if shift is None:
                shift = offset(at)
                if offset(quarter * QUARTER) == shift == offset(quarter * QUARTER + QUARTER - 1):
                    if len(offsets) >= KNOWN:
                        offsets.clear()
                    offsets[quarter] = shift
            days = (at + shift) / DAY + UNIX_EPOCH
            return f'<c r="{letter}{row}" s="{style}"><v>{days!r}</v></c>'
        if isinstance(value, date):
            return f'<c r="{letter}{row}" s="{style}"><v>{value.toordinal() - EPOCH_ORDINAL}</v></c>'
        if value is None or value == "":
            return ""
        return text(row, value)

    return cell


def spanning(cell: Cell, column: int) -> Cell:
    """The last column's `cell`, writing an empty cell rather than none: the sheet has no
    `<dimension>` (its rows are not known before they are written), so readers that size a row
    by its last cell (openpyxl's read-only mode) would see rows of different lengths."""
    letter = column_letter(column)

    def spanning_cell(row: int, value: Any) -> str:
        return cell(row, value) or f'<c r="{letter}{row}"/>'

    return spanning_cell


def rows_xml(first: int, cells: Sequence[Cell], rows: Sequence[Sequence[Any]]) -> str:
    """The `<row>`s of `rows`, numbered from `first`: each column's cells made in one pass over
    the column (a map, not a Python loop per cell), then put together row by row."""
    numbers = range(first, first + len(rows))
    columns = [
        list(map(cell, numbers, values)) for cell, values in zip(cells, zip(*rows, strict=True), strict=True)
    ]
    return "".join(
        f'<row r="{n}">{"".join(row)}</row>'
        for n, row in zip(numbers, zip(*columns, strict=True), strict=True)
    )


class Workbook:
    """One file: `add_sheet` then `write_rows` (rows' XML, from `<row>` to `</row>`) as many
    times as wanted, then `close`. Only the current sheet is open; nothing grows with the rows."""

    def __init__(self, path: str, compresslevel: int = COMPRESSLEVEL) -> None:
        self._zip = zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel)
        self._sheets: list[str] = []
        self._part: IO[bytes] | None = None

    def add_sheet(self, name: str, headers: Sequence[str], widths: Sequence[float]) -> None:
        """A new worksheet with its header row (bold, frozen) and the columns' widths."""
        self._end_sheet()
        self._sheets.append(name[:31])
        part = f"xl/worksheets/sheet{len(self._sheets)}.xml"
        self._part = self._zip.open(part, "w", force_zip64=True)
        cols = "".join(
            f'<col min="{i + 1}" max="{i + 1}" width="{w + 0.71:.2f}" customWidth="1"/>'
            for i, w in enumerate(widths)
        )
        head = "".join(
            f'<c r="{column_letter(i)}1" s="{HEADER}" t="inlineStr">{inline_xml(h)}</c>'
            for i, h in enumerate(headers)
        )
        self._part.write(
            (
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                f'<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}"><sheetViews><sheetView tabSelected="'
                f'{int(len(self._sheets) == 1)}" workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
                'activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft"/></sheetView>'
                f'</sheetViews><sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols><sheetData>'
                f'<row r="1">{head}</row>'
            ).encode()
        )

    def write_rows(self, xml: str) -> None:
        assert self._part is not None, "add_sheet first"  # noqa: S101 - a programming error
        self._part.write(xml.encode())

    def close(self) -> None:
        self._end_sheet()
        count = len(self._sheets)
        sheets = "".join(
            f'<sheet name={quoteattr(name)} sheetId="{n}" r:id="rId{n}"/>'
            for n, name in enumerate(self._sheets, 1)
        )
        rels = "".join(
            f'<Relationship Id="rId{n}" Type="{_REL}/worksheet" Target="worksheets/sheet{n}.xml"/>'
            for n in range(1, count + 1)
        )
        overrides = "".join(
            f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="{_SHEET_TYPE}"/>'
            for n in range(1, count + 1)
        )
        parts = {
            "[Content_Types].xml": _CONTENT_TYPES.format(overrides=overrides),
            "_rels/.rels": _ROOT_RELS,
            "xl/workbook.xml": _WORKBOOK.format(sheets=sheets),
            "xl/_rels/workbook.xml.rels": _WORKBOOK_RELS.format(rels=rels, styles=count + 1),
            "xl/styles.xml": _STYLES,
        }
        for name, text in parts.items():
            self._zip.writestr(name, _XML_DECLARATION + text)
        self._zip.close()

    def _end_sheet(self) -> None:
        if self._part is not None:
            self._part.write(b"</sheetData></worksheet>")
            self._part.close()
            self._part = None


_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_CONTENT_TYPES = (
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    "{overrides}</Types>"
)
_ROOT_RELS = (
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><bookViews><workbookView/></bookViews>'
    "<sheets>{sheets}</sheets></workbook>"
)
_WORKBOOK_RELS = (
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{rels}'
    f'<Relationship Id="rId{{styles}}" Type="{_REL}/styles" Target="styles.xml"/></Relationships>'
)
_STYLES = (
    f'<styleSheet xmlns="{_MAIN}">'
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm:ss"/>'
    '<numFmt numFmtId="165" formatCode="yyyy-mm-dd"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="3"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill>'
    '<fill><patternFill patternType="solid"><fgColor rgb="FFEEF1F6"/><bgColor indexed="64"/></patternFill>'
    "</fill></fills>"
    '<borders count="2"><border><left/><right/><top/><bottom/><diagonal/></border>'
    '<border><left style="thin"><color auto="1"/></left><right style="thin"><color auto="1"/></right>'
    '<top style="thin"><color auto="1"/></top><bottom style="thin"><color auto="1"/></bottom><diagonal/>'
    "</border></borders>"
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="2" borderId="1" xfId="0" applyFont="1" applyFill="1" '
    'applyBorder="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
