"""Custom reports (SPEC A3): the catalogue as a person may use it, saved reports (their own and
those shared with their roles), and a run: the definition checked (definition.py), one grouped
query of the catalogue's expressions (query.py) under a statement timeout, the keys worded.
Saving, sharing and deleting are audited (the table is `Audited`)."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.admin import directory
from hotline.core.clock import utcnow
from hotline.core.compute import ComputeTooLong
from hotline.core.context import Context
from hotline.core.errors import InvalidInput, PermissionDenied
from hotline.core.permissions import Permission
from hotline.core.privacy import mask_email
from hotline.core.report_catalogue import TIME_DIMENSIONS, TIME_LABELS, Dimension, Label, Subject, subjects
from hotline.core.rows import get_or_404
from hotline.reports.custom import query, schedule
from hotline.reports.custom.definition import Definition, check, days_of, today_in
from hotline.reports.custom.models import CustomReport
from hotline.reports.custom.schemas import (
    ChoiceOut,
    ColumnOut,
    CustomReportIn,
    CustomReportOut,
    DimensionOut,
    MeasureOut,
    ReportSubjectOut,
    ResultOut,
)

P = Permission
SECONDS = 30.0
"""A report's query is stopped after this long (PostgreSQL's statement_timeout, and the wait)."""
NONE_WORD: Label = ("（空）", "(none)")


def _say(ctx: Context, label: Label) -> str:
    return label[0] if ctx.locale.startswith("zh") else label[1]


async def _choices(ctx: Context, session: AsyncSession, d: Dimension) -> list[ChoiceOut]:
    """What a filter on the dimension offers: its worded codes, or every key its owner names
    (agents, queues, hotels, templates …; at most CHOICES)."""
    if d.words:
        return [ChoiceOut(value=v, label=_say(ctx, w)) for v, w in d.words.items() if v]
    if d.lookup is None or not d.filterable:
        return []
    named = await d.lookup(session, None)
    return [ChoiceOut(value=str(k), label=name) for k, name in sorted(named.items(), key=lambda kv: kv[1])]


async def catalogue(ctx: Context) -> list[ReportSubjectOut]:
    """The subjects the person may report on, in their language, with each filter's choices."""
    ctx.require(P.REPORTS_READ)
    found = []
    for s in subjects():
        if not ctx.actor.can(s.permission):
            continue
        times = [
            DimensionOut(key=k, label=_say(ctx, TIME_LABELS[k]), time=True, filterable=False, choices=[])
            for k in TIME_DIMENSIONS
        ]
        async with ctx.read() as session:
            others = [
                DimensionOut(
                    key=d.key,
                    label=_say(ctx, d.label),
                    time=False,
                    filterable=d.filterable,
                    choices=await _choices(ctx, session, d),
                )
                for d in s.dimensions
            ]
        measures = [MeasureOut(key=m.key, label=_say(ctx, m.label), kind=m.kind) for m in s.measures]
        found.append(
            ReportSubjectOut(
                key=s.key, label=_say(ctx, s.label), dimensions=times + others, measures=measures
            )
        )
    return found


def _allowed(ctx: Context, definition: Definition, field: str) -> Subject:
    ctx.require(P.REPORTS_READ)
    chosen = check(definition, field)
    ctx.require(chosen.permission)
    return chosen


async def run(
    ctx: Context, definition: Definition, *, today: date | None = None, title: str = "", field: str = "body"
) -> ResultOut:
    """The report's figures now (or as of `today`, the site's day); errors name `field`'s parts."""
    chosen = _allowed(ctx, definition, field)
    zone = ctx.settings.default_timezone
    first, last = days_of(definition.period, today or today_in(zone, utcnow()), field=f"{field}.period")
    span = query.Span(first, last, zone)
    try:
        async with asyncio.timeout(SECONDS), ctx.read(transaction=True) as session:  # SET LOCAL
            dialect = session.get_bind().dialect.name
            if dialect == "postgresql":
                await session.execute(text(f"SET LOCAL statement_timeout = {int(SECONDS * 1000)}"))
            rows = (await session.execute(query.statement(chosen, definition, span, dialect, field))).all()
            if len(rows) > query.MAX_ROWS:
                raise InvalidInput(
                    f"More than {query.MAX_ROWS} rows: choose a coarser cut or fewer days",
                    field=f"{field}.dimensions",
                    reason="custom-report-too-many-rows",
                    params={"most": query.MAX_ROWS},
                )
            words = await _words(ctx, session, chosen, definition, rows)
    except TimeoutError as e:
        raise _too_long() from e
    except Exception as e:
        if "statement timeout" in str(e) or "canceling statement" in str(e):
            raise _too_long() from e
        raise
    return _result(ctx, chosen, definition, span, rows, words, title)


def _too_long() -> ComputeTooLong:
    return ComputeTooLong(
        f"The report took more than {SECONDS:.0f} s and was stopped: choose fewer days or a coarser cut",
        reason="custom-report-too-long",
        params={"seconds": int(SECONDS)},
    )


async def _words(
    ctx: Context, session: Any, chosen: Subject, definition: Definition, rows: list[Any]
) -> list[dict[Any, str]]:
    found: list[dict[Any, str]] = []
    for n, name in enumerate(definition.dimensions):
        keys = {row[n] for row in rows}
        if name in TIME_DIMENSIONS:
            found.append({k: _time_word(ctx, name, k) for k in keys})
            continue
        dimension = chosen.by_key[name]
        names: dict[Any, str] = {}
        if dimension.lookup is not None:
            names = await dimension.lookup(session, {k for k in keys if k is not None and k != ""})
        elif dimension.words is not None:
            names = {k: _say(ctx, dimension.words[k]) for k in keys if k in dimension.words}
        found.append({k: names.get(k, _say(ctx, NONE_WORD) if k in (None, "") else str(k)) for k in keys})
    return found


def _time_word(ctx: Context, unit: str, value: Any) -> str:
    day = query.time_key(value)
    if unit == "month":
        return day[:7]
    if unit == "week":
        return f"{day} 起" if ctx.locale.startswith("zh") else f"week of {day}"
    return day


def _result(
    ctx: Context,
    chosen: Subject,
    definition: Definition,
    span: query.Span,
    rows: list[Any],
    words: list[dict[Any, str]],
    title: str,
) -> ResultOut:
    dims = len(definition.dimensions)
    measures = [chosen.measure_by_key[k] for k in definition.measures]
    columns = [
        ColumnOut(
            key=name,
            kind="dimension",
            label=_say(ctx, TIME_LABELS[name] if name in TIME_DIMENSIONS else chosen.by_key[name].label),
        )
        for name in definition.dimensions
    ] + [ColumnOut(key=m.key, label=_say(ctx, m.label), kind=m.kind) for m in measures]
    out_rows: list[list[Any]] = []
    sums = [[0, 0] for _ in measures]
    for row in rows:
        values: list[Any] = [words[n][row[n]] for n in range(dims)]
        for i, m in enumerate(measures):
            top, bottom = row[dims + 2 * i], row[dims + 2 * i + 1]
            sums[i][0] += top or 0
            sums[i][1] += bottom or 0
            values.append(query.ratio(m, top, bottom))
        out_rows.append(values)
    totals = [None] * dims + [query.ratio(m, s[0], s[1]) for m, s in zip(measures, sums, strict=True)]
    return ResultOut(
        subject=chosen.key,
        title=title or _say(ctx, chosen.label),
        start=span.first,
        end=span.last,
        timezone=span.zone,
        chart=definition.chart,
        columns=columns,
        rows=out_rows,
        totals=totals,
    )


# ---------------------------------------------------------------- saved reports


def _visible_to(ctx: Context, report: CustomReport) -> bool:
    if report.owner_id == ctx.actor.user_id or "admin" in ctx.actor.roles:
        return True
    return bool(set(report.shared_roles) & set(ctx.actor.roles))


def _may_edit(ctx: Context, report: CustomReport) -> bool:
    return ctx.actor.can(P.REPORTS_WRITE) and (
        report.owner_id == ctx.actor.user_id or "admin" in ctx.actor.roles
    )


def _out(ctx: Context, report: CustomReport, owners: dict[int, str]) -> CustomReportOut:
    edit = _may_edit(ctx, report)
    return CustomReportOut(
        id=report.id,
        name=report.name,
        owner_id=report.owner_id,
        owner_name=owners.get(report.owner_id or 0, ""),
        mine=report.owner_id == ctx.actor.user_id,
        may_edit=edit,
        definition=report.definition,
        shared_roles=list(report.shared_roles),
        schedule=report.schedule,
        hour=report.hour,
        weekday=report.weekday,
        monthday=report.monthday,
        recipients=[r if edit else mask_email(r) for r in report.recipients],
        next_send_at=report.next_send_at,
        last_sent_at=report.last_sent_at,
        last_error=report.last_error,
    )


async def saved(ctx: Context) -> list[CustomReportOut]:
    """The person's own reports and those shared with one of their roles, whose subject they may see."""
    ctx.require(P.REPORTS_READ)
    async with ctx.read() as session:
        reports = list(
            await session.scalars(select(CustomReport).order_by(CustomReport.name, CustomReport.id))
        )
        mine = [r for r in reports if _visible_to(ctx, r) and _subject_allowed(ctx, r.definition)]
        owners = await directory.names(session, {r.owner_id for r in mine})
    return [_out(ctx, r, owners) for r in mine]


def _subject_allowed(ctx: Context, definition: dict[str, Any]) -> bool:
    found = next((s for s in subjects() if s.key == definition.get("subject")), None)
    return found is not None and ctx.actor.can(found.permission)


async def _get(ctx: Context, session: Any, report_id: int) -> CustomReport:
    report = await get_or_404(session, CustomReport, report_id, "custom report", field="path.report_id")
    if not _visible_to(ctx, report) or not _subject_allowed(ctx, report.definition):
        raise PermissionDenied("not shared with you", reason="custom-report-not-shared", params={})
    return report


async def run_saved(ctx: Context, report_id: int) -> ResultOut:
    async with ctx.read() as session:
        report = await _get(ctx, session, report_id)
    return await run(ctx, Definition.model_validate(report.definition), title=report.name)


def _apply(ctx: Context, report: CustomReport, data: CustomReportIn) -> None:
    _allowed(ctx, data.definition, "body.definition")
    schedule.check(data)
    report.name = data.name.strip()
    report.definition = data.definition.model_dump(mode="json")
    report.shared_roles = sorted({r.value for r in data.shared_roles})
    report.schedule = data.schedule
    report.hour = data.hour
    report.weekday = data.weekday if data.schedule == "weekly" else None
    report.monthday = data.monthday if data.schedule == "monthly" else None
    report.recipients = [r.strip() for r in data.recipients]
    report.next_send_at = schedule.next_send(report, utcnow(), ctx.settings.default_timezone)


async def create(ctx: Context, data: CustomReportIn) -> CustomReportOut:
    ctx.require(P.REPORTS_WRITE)
    report = CustomReport(owner_id=ctx.actor.user_id, last_error="")
    _apply(ctx, report, data)
    async with ctx.write() as tx:
        tx.session.add(report)
        await tx.session.flush()
        owners = await directory.names(tx.session, {report.owner_id})
    return _out(ctx, report, owners)


async def update(ctx: Context, report_id: int, data: CustomReportIn) -> CustomReportOut:
    ctx.require(P.REPORTS_WRITE)
    async with ctx.write() as tx:
        report = await _get(ctx, tx.session, report_id)
        _require_edit(ctx, report)
        _apply(ctx, report, data)
        await tx.session.flush()
        owners = await directory.names(tx.session, {report.owner_id})
    return _out(ctx, report, owners)


async def delete(ctx: Context, report_id: int) -> None:
    ctx.require(P.REPORTS_WRITE)
    async with ctx.write() as tx:
        report = await _get(ctx, tx.session, report_id)
        _require_edit(ctx, report)
        await tx.session.delete(report)


def _require_edit(ctx: Context, report: CustomReport) -> None:
    if not _may_edit(ctx, report):
        raise PermissionDenied(
            "only the report's owner changes it", reason="custom-report-not-owner", params={}
        )
