"""A campaign's list: numbers imported from CSV or XLSX (checked first, a dry run naming every bad
row), what each number is (a customer in the CRM, on the do-not-call list, already listed), and
the list as supervisors and agents see it.

Unlike a customer import, a list is written without its bad rows: a prospect list always holds some
wrong numbers, and the dry run has shown each of them; the rest are called."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.admin import directory
from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.core.errors import InvalidTransition
from hotline.core.i18n import reason_message
from hotline.core.permissions import Permission
from hotline.core.privacy import revealable
from hotline.core.tables import read_table
from hotline.crm import directory as crm
from hotline.outbound import campaigns, dnc
from hotline.outbound.models import ListImport, Target
from hotline.outbound.rules import CampaignKind, normalise
from hotline.outbound.schemas import ListImportProblem, ListImportReport, TargetOut, TargetPage

REVEALABLE = revealable("outbound_target", Target, Permission.CAMPAIGNS_READ)
COLUMNS = ("phone", "name", "consent_source", "consent_at")
ALIASES = {
    "电话": "phone",
    "手机": "phone",
    "手机号": "phone",
    "号码": "phone",
    "联系电话": "phone",
    "姓名": "name",
    "客户": "name",
    "同意来源": "consent_source",
    "同意时间": "consent_at",
}
MAX_ROWS = 50_000
EXTRA_COLUMNS = 10
"""Columns of the list's own (线路, 出行日期 …) kept and shown to the agent."""
_BATCH = 500
_CHECK_SECONDS = 120.0
_DAY = re.compile(
    r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?$"
)
ENGLISH = {
    "number-empty": "The row has no phone number",
    "number-too-long": "The phone number is too long",
    "number-unparsable": "Not a phone number",
    "number-invalid": "Not a valid phone number (check the digits and the area code)",
    "consent-time-unreadable": "The consent time is not a date (2026-03-01 or 2026-03-01 10:00)",
    "consent-time-future": "The consent time is in the future",
    "consent-missing": "A marketing list needs the consent source and time of each number",
    "cell-too-long": "A cell holds at most 200 characters",
}


@dataclass
class Row:
    line: int
    phone: str
    name: str
    consent_source: str
    consent_at: datetime | None
    fields: dict[str, str]


@dataclass
class Checked:
    rows: list[Row] = field(default_factory=list)
    problems: list[tuple[int, str, str]] = field(default_factory=list)
    """(row, field, reason)"""
    total: int = 0
    repeated: int = 0


def _moment(text: str, now: datetime) -> tuple[datetime | None, str | None]:
    if not text:
        return None, None
    found = _DAY.match(text.strip())
    if found is None:
        return None, "consent-time-unreadable"
    y, m, d, hh, mm, ss = found.groups()
    try:
        at = datetime(
            int(y), int(m), int(d), int(hh or 0), int(mm or 0), int(ss or 0), tzinfo=ZoneInfo("Asia/Shanghai")
        )
    except ValueError:
        return None, "consent-time-unreadable"
    return (None, "consent-time-future") if at > now else (at, None)


def check_file(data: bytes, filename: str, kind: str, now: datetime) -> Checked:
    """Every row read and checked (in the compute pool: 50,000 numbers take seconds of CPU)."""
    table = read_table(
        data,
        filename,
        columns=COLUMNS,
        aliases=ALIASES,
        required=("phone", "电话"),
        max_rows=MAX_ROWS,
        extra=EXTRA_COLUMNS,
    )
    return check_rows(table, kind, now, first_line=2)  # row 1 is the header


def check_rows(table: list[dict[str, str]], kind: str, now: datetime, *, first_line: int = 1) -> Checked:
    """Rows of {phone, name, consent_source, consent_at, own columns…} checked: the number
    normalised, consent for marketing, repeated numbers kept once."""
    checked = Checked(total=len(table))
    seen: set[str] = set()
    for line, cells in enumerate(table, start=first_line):
        problems: list[tuple[int, str, str]] = []
        number = normalise(cells.get("phone", ""))
        if number.problem:
            problems.append((line, "phone", number.problem))
        consent_at, wrong = _moment(cells.get("consent_at", ""), now)
        if wrong:
            problems.append((line, "consent_at", wrong))
        source = cells.get("consent_source", "")
        if kind == CampaignKind.MARKETING and not wrong and not (source and consent_at):
            problems.append((line, "consent_source" if not source else "consent_at", "consent-missing"))
        long = [name for name, text in cells.items() if len(text) > 200]
        problems += [(line, name, "cell-too-long") for name in long]
        if problems or number.e164 is None:
            checked.problems += problems
            continue
        if number.e164 in seen:
            checked.repeated += 1
            continue
        seen.add(number.e164)
        own = {name: text for name, text in cells.items() if name not in COLUMNS and name and text}
        checked.rows.append(Row(line, number.e164, cells.get("name", "")[:60], source, consent_at, own))
    return checked


async def open_campaign(ctx: Context, campaign_id: int) -> str:
    """The kind of a campaign that may take numbers (not closed)."""
    ctx.require(Permission.CAMPAIGNS_WRITE)
    async with ctx.read() as session:
        campaign = await campaigns.campaign_for_work(session, campaign_id)
        kind, status = campaign.kind, campaign.status
    if status == "closed":
        raise InvalidTransition(
            "A closed campaign takes no more numbers", field="campaign_id", reason="campaign-closed"
        )
    return kind


async def import_list(
    ctx: Context, campaign_id: int, data: bytes, filename: str, *, dry_run: bool
) -> ListImportReport:
    """Check a file against the campaign (a dry run writes nothing); without `dry_run`, add its good
    rows: numbers the list has already are left as they are, customers' numbers linked to them."""
    kind = await open_campaign(ctx, campaign_id)
    checked = await ctx.compute(check_file, data, filename, kind, utcnow(), limit=_CHECK_SECONDS)
    return await add_rows(ctx, campaign_id, kind, checked, filename, dry_run=dry_run)


async def add_rows(
    ctx: Context, campaign_id: int, kind: str, checked: Checked, origin: str, *, dry_run: bool
) -> ListImportReport:
    """Checked rows against the campaign and the CRM, and (without `dry_run`) the new ones added
    in one transaction, recorded as an import from `origin` (a file's name, a rule's source)."""
    numbers = [row.phone for row in checked.rows]
    async with ctx.read() as session:
        listed = await _listed(session, campaign_id, numbers)
        owners: dict[str, int] = {}
        for at in range(0, len(numbers), _BATCH):
            cards = await crm.cards_by_phone(session, numbers[at : at + _BATCH])
            owners |= {number: card.id for number, card in cards.items()}
        heeded = await dnc.heeded_numbers(session, numbers, CampaignKind(kind))
    fresh = [row for row in checked.rows if row.phone not in listed]
    locale = ctx.locale
    report = ListImportReport(
        rows=checked.total,
        valid=len(checked.rows) + checked.repeated,
        problems=[
            ListImportProblem(
                row=line,
                field=name,
                reason=reason,
                message=reason_message(reason, locale, {}, english=ENGLISH[reason]) or ENGLISH[reason],
            )
            for line, name, reason in checked.problems[:500]
        ],
        repeated=checked.repeated,
        listed=len(listed),
        customers=sum(1 for row in checked.rows if row.phone in owners),
        do_not_call=sum(1 for row in fresh if row.phone in heeded),
    )
    if dry_run or not fresh:
        return report
    async with ctx.write() as tx:
        record = ListImport(
            campaign_id=campaign_id,
            filename=origin[:120],
            summary=report.model_dump(exclude={"problems"})
            | {"problem_rows": len({p[0] for p in checked.problems})},
            created_by=ctx.actor.user_id,
        )
        tx.session.add(record)
        await tx.session.flush()
        for n, row in enumerate(fresh):
            tx.session.add(
                Target(
                    campaign_id=campaign_id,
                    phone=row.phone,
                    name=row.name,
                    customer_id=owners.get(row.phone),
                    consent_source=row.consent_source,
                    consent_at=row.consent_at,
                    fields=row.fields,
                    import_id=record.id,
                    next_at=None,
                )
            )
            if n % _BATCH == _BATCH - 1:
                await tx.session.flush()
        tx.audit(
            "outbound.list_imported",
            "outbound_campaign",
            campaign_id,
            after={"from": origin[:120], "added": len(fresh), "import_id": record.id},
        )
    return report.model_copy(update={"added": len(fresh), "import_id": record.id})


async def _listed(session: AsyncSession, campaign_id: int, numbers: list[str]) -> set[str]:
    found: set[str] = set()
    for at in range(0, len(numbers), _BATCH):
        batch = numbers[at : at + _BATCH]
        found |= set(
            await session.scalars(
                select(Target.phone).where(Target.campaign_id == campaign_id, Target.phone.in_(batch))
            )
        )
    return found


async def targets(
    ctx: Context,
    campaign_id: int,
    *,
    state: str | None = None,
    assignee_id: int | None = None,
    unassigned: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> TargetPage:
    """The campaign's numbers (masked); an agent sees only those handed to them."""
    ctx.require(Permission.CAMPAIGNS_READ)
    async with ctx.read() as session:
        await campaigns.campaign_for_work(session, campaign_id)
        await campaigns.check_access(ctx, session, campaign_id)
        query: Select[Any] = select(Target).where(Target.campaign_id == campaign_id)
        if not ctx.actor.can(Permission.CAMPAIGNS_WRITE):
            query = query.where(Target.assignee_id == ctx.actor.user_id)
        elif unassigned:
            query = query.where(Target.assignee_id.is_(None))
        elif assignee_id is not None:
            query = query.where(Target.assignee_id == assignee_id)
        if state is not None:
            query = query.where(Target.state == state)
        total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = list(await session.scalars(query.order_by(Target.id).limit(limit).offset(offset)))
    return TargetPage(items=await outs(ctx, rows), total=total)


async def outs(ctx: Context, rows: list[Target]) -> list[TargetOut]:
    people = await directory.staff(ctx, {r.assignee_id for r in rows if r.assignee_id is not None})
    return [
        TargetOut.model_validate(row).model_copy(
            update={"assignee": people[row.assignee_id].label if row.assignee_id in people else ""}
        )
        for row in rows
    ]
