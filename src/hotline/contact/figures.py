"""Call figures other domains' reports need, read from the one event log (contact_events):

- `answered_figures`: calls answered by an agent per bucket (the denominator of calls → bookings);
  a call answered twice (a transfer) counts once, for the first agent;
Post-call survey scores are survey responses (outbound/surveys.py), with the return visits' and
the SMS links' answers.
The interval rollups and the queue, agent and IVR reports are contact/stats (docs/metrics.md).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, select

from hotline.contact import callbacks
from hotline.contact.models import ContactEvent
from hotline.core.clock import as_utc
from hotline.core.context import Context
from hotline.core.periods import Figures, Period, Series
from hotline.core.permissions import Permission


async def answered_figures(ctx: Context, period: Period, *, agent_ids: set[int] | None = None) -> Figures:
    ctx.require(Permission.REPORTS_READ)
    mine: list[ColumnElement[bool]] = [] if agent_ids is None else [ContactEvent.agent_id.in_(agent_ids)]
    async with ctx.read() as session:
        rows = (
            await session.execute(
                select(ContactEvent.at, ContactEvent.call_id)
                .where(
                    ContactEvent.kind == "answered",
                    ContactEvent.agent_id.is_not(None),
                    ContactEvent.at >= period.since,
                    ContactEvent.at < period.until,
                    *mine,
                )
                .order_by(ContactEvent.at, ContactEvent.id)
            )
        ).all()
    series = Series(period, ("calls_answered",))
    seen: set[str] = set()
    for at, call_id in rows:
        if call_id and call_id not in seen:
            seen.add(call_id)
            series.add(as_utc(at), "calls_answered")
    return Figures(series)


async def queue_titles(ctx: Context) -> dict[str, str]:
    """Each queue's name for people (酒店预订) by its name (hotel): how a report names its rows."""
    async with ctx.read() as session:
        return await callbacks.queue_titles(session)
