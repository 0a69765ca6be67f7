"""Scheduled reports mailed as XLSX with the chart (the `reports.custom_due` job, every 5 minutes):
each due report is run as its owner (with the owner's permissions now: an owner who lost the
subject's permission sends nothing), written to a workbook in the compute pool, and mailed
through the e-mail gateway (notify/mail.py). A failure is kept in `last_error` and tried again
at the next round; a success moves `next_send_at` on."""

from __future__ import annotations

from datetime import datetime

import structlog
from sqlalchemy import select

from hotline.admin.auth import actor_by_id
from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.core.errors import HotlineError
from hotline.notify.mail import Attachment, MailNotSent, send_mail
from hotline.reports.custom import schedule, service
from hotline.reports.custom.definition import Definition
from hotline.reports.custom.models import CustomReport
from hotline.reports.custom.schemas import ResultOut
from hotline.reports.custom.workbook import workbook

log = structlog.get_logger(__name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
WORKBOOK_SECONDS = 60


async def as_workbook(ctx: Context, result: ResultOut) -> bytes:
    """The result as an XLSX with its chart, written off the event loop."""
    zh = ctx.locale.startswith("zh")
    subtitle = f"{result.start} – {result.end} ({result.timezone})"
    columns = [c.model_dump() for c in result.columns]
    rows = [list(r) for r in result.rows]
    return await ctx.compute(
        workbook,
        result.title,
        subtitle,
        columns,
        rows,
        list(result.totals),
        result.chart,
        "合计" if zh else "Total",
        limit=WORKBOOK_SECONDS,
    )


async def send_due(ctx: Context, now: datetime | None = None) -> int:
    """Mails every report due by `now`; returns how many went out."""
    now = now or utcnow()
    async with ctx.read() as session:
        due = list(
            await session.scalars(
                select(CustomReport.id).where(
                    CustomReport.next_send_at.is_not(None), CustomReport.next_send_at <= now
                )
            )
        )
    sent = 0
    for report_id in due:
        sent += await _send_one(ctx, report_id, now)
    return sent


async def _send_one(ctx: Context, report_id: int, now: datetime) -> int:
    async with ctx.read() as session:
        report = await session.get(CustomReport, report_id)
        if report is None or report.owner_id is None:
            return 0
        owner = await actor_by_id(session, report.owner_id)
    error = ""
    if owner is None:
        error = "the owner is no longer active"
    else:
        mine = ctx.as_actor(owner)
        try:
            result = await service.run(mine, Definition.model_validate(report.definition), title=report.name)
            data = await as_workbook(mine, result)
            zh = owner.locale.startswith("zh")
            body = (
                f"附件是报表「{report.name}」（{result.start} 至 {result.end}）。\n"
                if zh
                else f'Attached: the report "{report.name}" ({result.start} to {result.end}).\n'
            )
            await send_mail(
                ctx,
                list(report.recipients),
                f"[Hotline] {report.name} {result.start}–{result.end}",
                body,
                (Attachment(f"report-{report.id}-{result.end}.xlsx", data, XLSX),),
                key=f"custom-report-{report.id}-{int(now.timestamp())}",
            )
        except (HotlineError, MailNotSent) as e:
            error = str(e)[:300]
    async with ctx.write() as tx:
        fresh = await tx.session.get(CustomReport, report_id)
        if fresh is None:
            return 0
        fresh.last_error = error
        if not error:
            fresh.last_sent_at = now
            fresh.next_send_at = schedule.next_send(fresh, now, ctx.settings.default_timezone)
        tx.audit(
            "reports.custom_mailed" if not error else "reports.custom_mail_failed",
            "custom_reports",
            report_id,
            after={"recipients": len(report.recipients), "error": error},
        )
    if error:
        log.warning("custom_report.not_sent", report=report_id, error=error)
    return int(not error)
