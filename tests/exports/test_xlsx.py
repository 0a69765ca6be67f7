"""The XLSX writer (exports/xlsx.py through writer.write_xlsx) read back as a person's spreadsheet
would: whatever text or number goes in comes out the same, dates as real date cells in the site's
zone, and a workbook past Excel's row limit goes on in a second sheet."""

from __future__ import annotations

import re
import zipfile
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from hotline.exports import xlsx
from hotline.exports.writer import write_xlsx

SHEET = "通话记录"


def export(
    path: Path,
    columns: list[tuple[str, str, str | None, int]],
    rows: list[tuple[Any, ...]],
    zone: str = "Asia/Shanghai",
) -> Path:
    spec = {"path": str(path), "sheet": SHEET, "locale": "zh-CN", "timezone": zone, "pii": False,
            "columns": columns}  # fmt: skip
    write_xlsx(spec, [rows[i : i + 1000] for i in range(0, len(rows), 1000)])
    return path


def shown_by_excel(text: Any) -> Any:
    """What Excel shows for a stored string: `_xHHHH_` is the character HHHH (ECMA-376 ST_Xstring;
    openpyxl leaves these as stored)."""
    if not isinstance(text, str):
        return text
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), text)


def read(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    book = load_workbook(path, read_only=True)
    sheets = {ws.title: [tuple(shown_by_excel(v) for v in r) for r in ws.iter_rows(values_only=True)]
              for ws in book.worksheets}  # fmt: skip
    book.close()
    return sheets


texts = st.text(max_size=60) | st.sampled_from(
    ["=1+1", "_x0041_", "_x005F_x0041_", " 两端空格 ", "a\r\nb", "\n", " "]
)
numbers = st.integers(-(2**53), 2**53) | st.floats(allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(texts, numbers, texts), min_size=1, max_size=20))
@example(rows=[("<b>&amp;</b>", 0, "\x00\x01\x08\x0b\x1f\ufffe\uffff"), ("\ud800 lone", -1.5e-300, "\t\n")])
def test_any_text_or_number_written_is_what_the_sheet_shows(
    tmp_path: Path, rows: list[tuple[Any, ...]]
) -> None:
    columns = [("文本", "text", None, 14), ("数值", "number", None, 10), ("备注", "text", None, 14)]
    sheets = read(export(tmp_path / "any.xlsx", columns, rows))
    assert list(sheets) == [SHEET]
    header, *body = sheets[SHEET]
    assert header == ("文本", "数值", "备注")
    # An empty text is an empty cell.
    assert body == [tuple(None if v == "" else v for v in row) for row in rows]
    for (_, number, _), (_, back, _) in zip(rows, body, strict=True):
        assert type(back) is type(number)  # an int stays an int, a float a float


def test_text_is_never_a_formula_and_overlong_text_is_cut_to_excel_s_limit(tmp_path: Path) -> None:
    rows = [('=HYPERLINK("http://evil")', "x" * 40_000)]
    path = export(tmp_path / "t.xlsx", [("a", "text", None, 14), ("b", "text", None, 14)], rows)
    book = load_workbook(path)
    formula, long = book.active["A2"], book.active["B2"]
    assert formula.data_type == "s" and formula.value == '=HYPERLINK("http://evil")'
    assert long.value == "x" * 32_767


def test_numbers_that_a_cell_cannot_hold_and_text_in_a_number_column_are_shown_as_text(
    tmp_path: Path,
) -> None:
    rows = [(float("nan"),), (float("inf"),), (Decimal("12.50"),), ("n/a",), (True,), (None,)]
    sheets = read(export(tmp_path / "n.xlsx", [("n", "number", None, 10)], rows))
    assert sheets[SHEET][1:] == [("nan",), ("inf",), (12.5,), ("n/a",), (1,), (None,)]


def test_dates_are_date_cells_in_the_site_s_zone_with_a_date_style(tmp_path: Path) -> None:
    rows = [
        (datetime(2026, 3, 1, 16, 37, 5, tzinfo=UTC), date(2026, 3, 1)),
        (datetime(2026, 3, 1, 16, 37, 5), date(1900, 3, 1)),  # naive: UTC, as SQLite returns it
        (datetime(1999, 12, 31, 16, 0, tzinfo=UTC), None),
    ]
    path = export(tmp_path / "d.xlsx", [("时间", "datetime", None, 20), ("日期", "date", None, 12)], rows)
    sheet = load_workbook(path).active
    assert [tuple(c.value for c in r) for r in sheet.iter_rows(min_row=2)] == [
        (datetime(2026, 3, 2, 0, 37, 5), datetime(2026, 3, 1)),
        (datetime(2026, 3, 2, 0, 37, 5), datetime(1900, 3, 1)),
        (datetime(2000, 1, 1, 0, 0), None),
    ]
    assert sheet["A2"].number_format == "yyyy-mm-dd hh:mm:ss" and sheet["B2"].number_format == "yyyy-mm-dd"


def test_a_date_column_shows_a_datetime_as_its_local_date(tmp_path: Path) -> None:
    rows = [(datetime(2026, 3, 1, 16, 37, tzinfo=UTC),)]
    sheet = load_workbook(export(tmp_path / "dd.xlsx", [("日期", "date", None, 12)], rows)).active
    assert sheet["A2"].value == datetime(2026, 3, 2, 0, 37) and sheet["A2"].number_format == "yyyy-mm-dd"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    zone=st.sampled_from(["Europe/Berlin", "America/New_York", "Asia/Shanghai"]),
    moments=st.lists(
        st.datetimes(datetime(1902, 1, 1), datetime(2100, 1, 1), timezones=st.just(UTC)).map(
            lambda d: d.replace(microsecond=0)
        ),
        min_size=1,
        max_size=30,
    ),
)
@example(zone="Europe/Berlin", moments=[datetime(2026, 3, 29, 0, 59, 59, tzinfo=UTC),
                                        datetime(2026, 3, 29, 1, 0, tzinfo=UTC)])  # fmt: skip
def test_any_moment_is_shown_at_the_site_s_wall_clock_time_across_daylight_saving(
    tmp_path: Path, zone: str, moments: list[datetime]
) -> None:
    path = export(tmp_path / "z.xlsx", [("时间", "datetime", None, 20)], [(m,) for m in moments], zone)
    shown = [r[0] for r in read(path)[SHEET][1:]]
    assert shown == [m.astimezone(ZoneInfo(zone)).replace(tzinfo=None) for m in moments]


def test_the_header_is_bold_and_frozen_and_the_columns_have_their_widths(tmp_path: Path) -> None:
    path = export(
        tmp_path / "h.xlsx", [("工单号", "text", None, 18), ("优先级", "int", None, 8)], [("X1", 2)]
    )
    sheet = load_workbook(path).active
    assert sheet.title == SHEET and sheet.freeze_panes == "A2"
    assert sheet["A1"].font.b and not sheet["A2"].font.b
    assert round(sheet.column_dimensions["A"].width) == 19 and round(sheet.column_dimensions["B"].width) == 9


def test_past_1048576_rows_the_export_goes_on_in_a_second_sheet(tmp_path: Path) -> None:
    per_sheet = xlsx.MAX_ROWS - 1  # the header takes a row
    path = export(tmp_path / "big.xlsx", [("n", "int", None, 10)], [(n,) for n in range(per_sheet + 3)])
    book = load_workbook(path, read_only=True)
    assert book.sheetnames == [SHEET, f"{SHEET} (2)"]
    assert list(book.worksheets[1].iter_rows(values_only=True)) == [
        ("n",),
        (per_sheet,),
        (per_sheet + 1,),
        (per_sheet + 2,),
    ]
    book.close()
    with zipfile.ZipFile(path) as archive:
        tail = archive.read("xl/worksheets/sheet1.xml")[-200:].decode()
    assert tail.endswith(f'<row r="{xlsx.MAX_ROWS}"><c r="A{xlsx.MAX_ROWS}"><v>{per_sheet - 1}</v></c></row>'
                         "</sheetData></worksheet>")  # fmt: skip
