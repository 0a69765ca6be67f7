"""Customers in and out as CSV or XLSX (issue 5, item 7).

Import checks every row with the same rules as the forms (ID numbers, phones, e-mail, tier…) and
reports each problem as (row, field, message). A file with any problem writes nothing — also when
it was not a dry run — and a good file is written in one transaction: all rows or none.
Export needs `customers.export` and is audited; personal data is masked unless the exporter also
holds `customers.read_pii` and asks for it.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from pydantic import ValidationError
from sqlalchemy import func, select

from hotline.core import privacy
from hotline.core.context import Context
from hotline.core.db import next_number
from hotline.core.errors import HotlineError, InvalidInput
from hotline.core.permissions import Permission
from hotline.core.privacy import Kind
from hotline.core.tables import read_table
from hotline.crm import identity
from hotline.crm.models import Customer, CustomerPhone
from hotline.crm.schemas import CustomerIn, ImportProblem, ImportReport, PhoneIn
from hotline.crm.service import _checked_id, _phones

COLUMNS = (
    "member_number", "name", "title", "gender", "id_type", "id_number", "birthday", "phones", "email",
    "city", "address", "tier", "points", "tags", "source", "notes",
)  # fmt: skip
ALIASES = {
    "会员号": "member_number", "姓名": "name", "称呼": "title", "性别": "gender", "证件类型": "id_type",
    "证件号码": "id_number", "生日": "birthday", "电话": "phones", "手机": "phones", "邮箱": "email",
    "城市": "city", "地址": "address", "等级": "tier", "积分": "points", "标签": "tags", "来源": "source",
    "备注": "notes",
}  # fmt: skip
GENDERS = {"男": "M", "女": "F", "m": "M", "f": "F", "M": "M", "F": "F"}
ID_TYPES = {"身份证": "resident", "护照": "passport", "其他": "other", "": "none"}
MAX_ROWS = 50_000
MAX_EXPORT = 200_000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_BATCH = 500
_EXPORT_BATCH = _WRITE_BATCH = 100
"""Customers read per query when exporting: loading 100 with their phones takes the loop ~3 ms."""
_XLSX_SECONDS = 300.0
"""A workbook of 200,000 customers takes openpyxl a minute or two; it runs in the pool, so it
may take longer than the pool's usual limit without holding anything else up."""


def _rows(data: bytes, filename: str) -> list[dict[str, str]]:
    """The file's rows as {column: text}; the header may use English or Chinese column names."""
    return read_table(
        data, filename, columns=COLUMNS, aliases=ALIASES, required=("name", "姓名"), max_rows=MAX_ROWS
    )


def _customer(row: dict[str, str]) -> CustomerIn:
    id_type = ID_TYPES.get(row.get("id_type", ""), row.get("id_type", ""))
    if id_type == "none" and row.get("id_number"):
        id_type = "resident"
    tags = [t.strip() for t in row.get("tags", "").replace("，", ",").split(",") if t.strip()]
    phones = [p.strip() for p in row.get("phones", "").replace("；", ";").split(";") if p.strip()]
    return CustomerIn.model_validate(
        {
            "name": row.get("name", ""), "title": row.get("title", ""),
            "gender": GENDERS.get(row.get("gender", "")) if row.get("gender") else None,
            "id_type": id_type, "id_number": row.get("id_number") or None,
            "birthday": row.get("birthday") or None, "email": row.get("email") or None,
            "city": row.get("city", ""), "address": row.get("address", ""),
            "tier": row.get("tier") or "standard", "tags": tags, "source": row.get("source") or "import",
            "notes": row.get("notes", ""), "phones": [PhoneIn(number=p) for p in phones],
        }
    )  # fmt: skip


@dataclass(frozen=True)
class _Ready:
    """A row that passed every check, as the columns of its customer and its phones: plain values,
    cheap to send back from the worker."""

    columns: dict[str, Any]
    phones: tuple[tuple[str, str, bool, bool], ...]  # number, label, preferred, recognise


@dataclass(frozen=True)
class _Checked:
    rows: int
    problems: list[ImportProblem]
    ready: list[_Ready]  # empty unless asked for
    id_rows: dict[str, int]  # each ID number in the file → its row


def check_file(data: bytes, filename: str, keep_rows: bool) -> _Checked:
    """Parse the file and check every row (in the compute pool: up to 50,000 rows of validation
    and pinyin take seconds of CPU); with `keep_rows`, also what writing them needs."""
    rows = _rows(data, filename)
    problems: list[ImportProblem] = []
    ready: list[_Ready] = []
    seen_ids: dict[str, int] = {}
    for number, row in enumerate(rows, start=2):  # row 1 is the header
        try:
            customer = _customer(row)
            if customer.birthday is not None and not (date(1900, 1, 1) <= customer.birthday <= date.today()):  # noqa: DTZ011
                raise InvalidInput(
                    "The birthday cannot be in the future or before 1900",
                    field="body.birthday",
                    reason="birthday-cannot-future-before-1900",
                )
            id_number = _checked_id(customer.id_type, customer.id_number, customer.birthday, customer.gender)
            phones = _phones(customer.phones)
        except ValidationError as exc:
            for error in exc.errors():
                where = ".".join(str(part) for part in error["loc"])
                problems.append(ImportProblem(row=number, field=where.split(".")[0], message=error["msg"]))
            for raw in row.get("phones", "").replace("；", ";").split(";"):  # every problem of the row
                try:
                    if raw.strip():
                        identity.normalise_phone(raw)
                except InvalidInput as bad:
                    problems.append(ImportProblem(row=number, field="phones", message=str(bad.detail)))
                    break
            continue
        except HotlineError as exc:
            field = (exc.field or "").removeprefix("body.").split(".")[0]
            problems.append(ImportProblem(row=number, field=field, message=str(exc.detail)))
            continue
        if id_number is not None:
            if id_number in seen_ids:
                twice = f"The same ID number as row {seen_ids[id_number]}"
                problems.append(ImportProblem(row=number, field="id_number", message=twice))
                continue
            seen_ids[id_number] = number
        if keep_rows:
            numbers = tuple((p.number, p.label, p.preferred, p.recognise) for p in phones)
            ready.append(_Ready(_columns(customer, id_number), numbers))
    return _Checked(len(rows), problems, ready, seen_ids)


def _columns(customer: CustomerIn, id_number: str | None) -> dict[str, Any]:
    birthday = customer.birthday
    if id_number and customer.id_type == "resident" and birthday is None:
        birthday = identity.resident_id_birthday(id_number)
    joined, initials = identity.pinyin(customer.name)
    return {
        "name": customer.name, "name_pinyin": joined, "name_initials": initials, "title": customer.title,
        "gender": customer.gender, "id_type": customer.id_type if id_number else "none",
        "id_number": id_number, "birthday": birthday, "email": customer.email, "address": customer.address,
        "city": customer.city, "tier": customer.tier, "tags": list(customer.tags), "source": customer.source,
        "notes": customer.notes,
    }  # fmt: skip


async def import_customers(ctx: Context, data: bytes, filename: str, *, dry_run: bool) -> ImportReport:
    ctx.require(Permission.CUSTOMERS_WRITE)
    checked = await ctx.compute(check_file, data, filename, not dry_run)
    problems, seen_ids = list(checked.problems), checked.id_rows
    taken: set[str | None] = set()
    async with ctx.read() as session:
        numbers = list(seen_ids)
        for at in range(0, len(numbers), _BATCH):  # databases cap the parameters of one statement
            batch = numbers[at : at + _BATCH]
            taken |= set(
                (await session.scalars(select(Customer.id_number).where(Customer.id_number.in_(batch)))).all()
            )
    problems += [
        ImportProblem(row=seen_ids[n], field="id_number", message="Another customer has this ID number")
        for n in taken
        if n is not None
    ]
    problems.sort(key=lambda p: (p.row, p.field))
    report = ImportReport(
        rows=checked.rows, valid=checked.rows - len({p.row for p in problems}), problems=problems[:500]
    )
    if problems or dry_run:
        return report
    ready = checked.ready
    async with ctx.write() as tx:
        first = await next_number(tx.session, Customer.member_number, identity.FIRST_MEMBER_NUMBER)
        for n, row in enumerate(ready):
            phones = [CustomerPhone(number=number, label=label, preferred=preferred, recognise=recognise)
                      for number, label, preferred, recognise in row.phones]  # fmt: skip
            tx.session.add(
                Customer(**row.columns, member_number=str(first + n), phones=phones,
                         created_by=ctx.actor.user_id, updated_by=ctx.actor.user_id)
            )  # fmt: skip
            if n % _WRITE_BATCH == _WRITE_BATCH - 1:
                await tx.session.flush()  # 100 at a time (~10 ms of the loop), not 50,000 in one go
        tx.audit("customers.imported", "customer", None, after={"file": filename, "rows": len(ready)})
    return report.model_copy(update={"created": len(ready)})


async def export_customers(
    ctx: Context, fmt: str, *, include_pii: bool = False, tier: str | None = None, city: str | None = None
) -> tuple[bytes, str]:
    """The customers (optionally of one tier or city) as CSV (UTF-8 with BOM, for Excel) or XLSX.

    Rows are read and written as CSV a batch at a time, so the loop is never held for long (nor
    are 200,000 customers kept in memory at once); an XLSX is then made from that CSV in the
    compute pool."""
    ctx.require(Permission.CUSTOMERS_EXPORT)
    if include_pii:
        ctx.require(Permission.CUSTOMERS_READ_PII)
    query = select(Customer).where(Customer.anonymised.is_(False)).order_by(Customer.member_number)
    if tier:
        query = query.where(Customer.tier == tier)
    if city:
        query = query.where(Customer.city == city)
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(COLUMNS)
    rows = 0
    async with ctx.read() as session:
        total = int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    if total > MAX_EXPORT:
        raise InvalidInput(
            f"{total:,} customers: narrow the export to at most {MAX_EXPORT:,}",
            field="tier",
            reason="customers-narrow-export-most",
            params={"total": format(total, ","), "max_export": format(MAX_EXPORT, ",")},
        )
    after = ""
    while True:  # a batch at a time, each in its own short session (member numbers are unique)
        async with ctx.read() as session:
            page = query.where(Customer.member_number > after).limit(_EXPORT_BATCH)
            batch = (await session.scalars(page)).all()
            writer.writerows(_export_row(c, include_pii) for c in batch)
        rows += len(batch)
        if len(batch) < _EXPORT_BATCH:
            break
        after = batch[-1].member_number
    async with ctx.write() as tx:
        what = {"rows": rows, "format": fmt, "pii": include_pii, "tier": tier, "city": city}
        tx.audit("customers.exported", "customer", None, after=what)
    if fmt == "xlsx":
        return await ctx.compute(csv_to_xlsx, text.getvalue(), limit=_XLSX_SECONDS), XLSX
    return ("\ufeff" + text.getvalue()).encode("utf-8"), "text/csv; charset=utf-8"


def csv_to_xlsx(text: str) -> bytes:
    """The export's CSV as a workbook (in the compute pool); points are numbers again."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("customers")
    points = COLUMNS.index("points")
    for n, row in enumerate(csv.reader(io.StringIO(text))):
        if n and row[points].isdigit():
            row[points] = int(row[points])  # type: ignore[call-overload]
        # XLSX cannot hold control characters; a name typed or imported with one must not make
        # the whole export fail.
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cell(value: Any) -> Any:
    """No cell may start a spreadsheet formula (CSV injection): such text gets a leading '."""
    return "'" + value if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _export_row(c: Customer, pii: bool) -> list[Any]:
    """A row of the export: personal data masked as in every view, unless the export was asked
    for with it (customers.read_pii, audited)."""

    def shown(kind: Kind, value: Any) -> Any:
        return value if pii else privacy.masked(kind, value)

    phones = [p.number.removeprefix("+86") if p.number.startswith("+86") else p.number for p in c.phones]
    return [_cell(v) for v in [
        c.member_number, c.name, c.title, c.gender or "", c.id_type,
        shown(Kind.ID_NUMBER, c.id_number) or "",
        shown(Kind.BIRTHDAY, c.birthday.isoformat() if c.birthday else ""),
        ";".join(shown(Kind.PHONE, phones)), shown(Kind.EMAIL, c.email) or "", c.city,
        shown(Kind.ADDRESS, c.address), c.tier, c.points, ",".join(str(t) for t in c.tags), c.source, c.notes,
    ]]  # fmt: skip
