"""The writing process: one per export, fed pages of raw rows through its stdin, writing the file
in constant memory (`python -m hotline.exports.writer`).

It is a process, not a thread, because the writing is CPU (about 10 s of one core for a million
rows of 11 columns, exports/xlsx.py) and the event loop belongs to live calls; and a process of
its own rather than the compute pool's per page because a workbook being written is state that
must stay in one place from the first row to the last. It imports only what it needs (the zip,
the masks), so it is small, and starts in a fraction of a second.

The protocol: a pickled `spec` dict, then pickled pages (lists of tuples) until None; at the end
one JSON line on stdout, {"rows": n, "max_rss_kib": k}. Any failure is a traceback on stderr and
exit status 1, and the caller removes the partial file. Both ends are Hotline's own: pickle is
safe here (the pipe is not reachable from outside the node).
"""

from __future__ import annotations

import csv
import json
import pickle
import resource
import sys
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import IO, Any
from zoneinfo import ZoneInfo

from hotline.core.clock import as_utc
from hotline.core.privacy import MASKS, Kind
from hotline.exports import xlsx

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
YES_NO = {"zh-CN": ("是", "否"), "en": ("yes", "no")}


def _text(value: Any) -> str:
    if value.__class__ is str:
        return value
    if isinstance(value, (list, tuple)):
        return "; ".join(str(v) for v in value)
    return str(value)


def _masker(kind: str | None, pii: bool) -> Callable[[Any], Any] | None:
    if kind is None or pii:
        return None
    mask = MASKS[Kind(kind)]
    return lambda v: [mask(x) for x in v] if isinstance(v, (list, tuple)) else mask(v)


def _shown(mask: Callable[[Any], Any] | None) -> Callable[[Any], str]:
    """A text column's value as the cell shows it: masked when it must be, lists joined."""
    if mask is None:
        return _text
    return lambda v: _text(mask(v))


def _local(zone: ZoneInfo) -> Callable[[Any], Any]:
    def local(value: Any) -> Any:
        if isinstance(value, datetime):
            return as_utc(value).astimezone(zone).replace(tzinfo=None)
        return value

    return local


def write_xlsx(spec: dict[str, Any], pages: Iterable[list[tuple[Any, ...]]]) -> None:
    """Each column's cell function chosen once; a page becomes one string of rows, one write
    into the zip (exports/xlsx.py says why our own writer and not xlsxwriter)."""
    zone, pii, columns = ZoneInfo(spec["timezone"]), spec["pii"], spec["columns"]
    yes, no = YES_NO.get(spec["locale"], YES_NO["en"])
    cells: list[xlsx.Cell] = []
    for c, (_title, kind, personal, _width) in enumerate(columns):
        mask = _masker(personal, pii)
        if kind in ("int", "number") and mask is None:
            cells.append(xlsx.number_cells(c))
        elif kind in ("datetime", "date") and mask is None:
            cells.append(xlsx.date_cells(c, zone, xlsx.DATETIME if kind == "datetime" else xlsx.DATE))
        elif kind == "bool":
            cells.append(xlsx.text_cells(c, lambda v: yes if v else no))
        else:
            cells.append(xlsx.text_cells(c, _shown(mask)))
    cells[-1] = xlsx.spanning(cells[-1], len(cells) - 1)
    book = xlsx.Workbook(spec["path"])
    headers, widths = [c[0] for c in columns], [c[3] for c in columns]
    sheets, row = 0, xlsx.MAX_ROWS  # the row last written: none yet, a sheet is due
    for page in pages:
        while page:
            if row == xlsx.MAX_ROWS:  # a sheet is full: the rows go on in another
                sheets += 1
                name = spec["sheet"] if sheets == 1 else f"{spec['sheet'][:26]} ({sheets})"
                book.add_sheet(name, headers, widths)
                row = 1
            now, page = page[: xlsx.MAX_ROWS - row], page[xlsx.MAX_ROWS - row :]
            book.write_rows(xlsx.rows_xml(row + 1, cells, now))
            row += len(now)
    if sheets == 0:
        book.add_sheet(spec["sheet"], headers, widths)
    book.close()


def write_csv(spec: dict[str, Any], pages: Iterable[list[tuple[Any, ...]]]) -> None:
    """UTF-8 with a BOM: Excel opens it as UTF-8 (without one, Chinese comes out garbled)."""
    zone, pii, columns = ZoneInfo(spec["timezone"]), spec["pii"], spec["columns"]
    yes, no = YES_NO.get(spec["locale"], YES_NO["en"])
    converters: list[Callable[[Any], Any]] = []
    for _title, kind, personal, _width in columns:
        mask = _masker(personal, pii)
        if kind == "datetime" and mask is None:
            converters.append(lambda v: as_utc(v).astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"))
        elif kind == "date" and mask is None:
            converters.append(lambda v: v.isoformat() if isinstance(v, date) else v)
        elif kind in ("int", "number") and mask is None:
            converters.append(lambda v: v)
        elif kind == "bool":
            converters.append(lambda v: yes if v else no)
        else:
            converters.append(_csv_text(mask))
    with open(spec["path"], "w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow([title for title, *_ in columns])
        for page in pages:
            writer.writerows(
                [None if v is None else convert(v) for convert, v in zip(converters, row, strict=True)]
                for row in page
            )


def _csv_text(mask: Callable[[Any], Any] | None) -> Callable[[Any], str]:
    shown = _shown(mask)
    return lambda v: _safe(shown(v))


def _safe(text: str) -> str:
    """No cell may start a spreadsheet formula (CSV injection): such text gets a leading '."""
    return "'" + text if text[:1] in FORMULA_START else text


def _pages(stream: IO[bytes], counted: list[int]) -> Iterable[list[tuple[Any, ...]]]:
    while True:
        page = pickle.load(stream)  # noqa: S301 - our own node's bytes (see the module docstring)
        if page is None:
            return
        counted[0] += len(page)
        yield page


def _peak_kib() -> int:
    """This process's peak resident memory. Not ru_maxrss: Linux carries that over exec from the
    forking parent, so a writer started by a 200 MB node would report the node's size."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main() -> int:
    stream = sys.stdin.buffer
    spec = pickle.load(stream)  # noqa: S301 - as above
    limit = int(spec.get("memory_mib") or 0) * 1024 * 1024
    if limit:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    counted = [0]
    (write_xlsx if spec["format"] == "xlsx" else write_csv)(spec, _pages(stream, counted))
    rss = _peak_kib()
    sys.stdout.write(json.dumps({"rows": counted[0], "max_rss_kib": rss}) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
