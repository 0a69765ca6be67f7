"""Message figures for the messages report (docs/reports.md), per bucket of a period and per template:

- queued: messages made in the period (`created_at`), whatever became of them;
- sent: of those, the ones handed to a gateway (`sent_at` set);
- delivered: of those, the ones the gateway reported delivered;
- failed: of those, the ones that failed for good;
- opted_out: of those, the ones held back because the customer opted out (status `suppressed`,
  reason `opt-out`: notify/outbox.py).
The totals also carry `new_opt_outs`: customers who opted out in the period (any template).
With `agent_ids`, only messages those users sent by hand (a team's messages).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, func, select

from hotline.core.clock import as_utc
from hotline.core.context import Context
from hotline.core.periods import Figures, Period, Series
from hotline.core.permissions import Permission
from hotline.notify.models import Message, OptOut, Template

NAMES = ("queued", "sent", "delivered", "failed", "opted_out")
RATES = {"delivery_rate": ("delivered", "sent")}


async def message_figures(ctx: Context, period: Period, *, agent_ids: set[int] | None = None) -> Figures:
    ctx.require(Permission.REPORTS_READ)
    mine: list[ColumnElement[bool]] = [] if agent_ids is None else [Message.created_by.in_(agent_ids)]
    async with ctx.read() as session:
        rows = (
            await session.execute(
                select(
                    Message.created_at,
                    Message.template_code,
                    Message.status,
                    Message.reason,
                    Message.sent_at,
                    Message.delivered_at,
                ).where(Message.created_at >= period.since, Message.created_at < period.until, *mine)
            )
        ).all()
        opt_outs = await session.scalar(
            select(func.count(OptOut.id)).where(OptOut.at >= period.since, OptOut.at < period.until)
        )
        titles = {str(c): str(n) for c, n in await session.execute(select(Template.code, Template.name))}
    series = Series(period, NAMES)
    by_template: dict[str, dict[str, int]] = {}
    for created_at, code, status, reason, sent_at, delivered_at in rows:
        row = by_template.setdefault(code, dict.fromkeys(NAMES, 0))
        counts = {
            "queued": 1,
            "sent": int(sent_at is not None),
            "delivered": int(delivered_at is not None or status == "delivered"),
            "failed": int(status == "failed"),
            "opted_out": int(status == "suppressed" and reason == "opt-out"),
        }
        for name, amount in counts.items():
            series.add(as_utc(created_at), name, amount)
            row[name] += amount
    figures = Figures(series, rates=RATES)
    figures.rows = [
        figures.with_rates({"key": code, "label": str(titles.get(code, code)), **row})
        for code, row in sorted(by_template.items(), key=lambda kv: -kv[1]["queued"])
    ]
    figures.extra["new_opt_outs"] = int(opt_outs or 0)
    return figures
