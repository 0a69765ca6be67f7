"""Lists from rules (SPEC B2): the people a date source names for a day — guests who checked out,
travellers back from a trip, customers with a birthday — added to a campaign's list by hand for a
day, or every morning by the campaign's feed (`outbound.feeds`: e.g. the day after a stay).

The sources are the same the message rules use (`core.topics.SOURCES`, registered by each domain),
so a new source serves both. Their rows go through the same checks as a file's."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import select

from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.core.errors import InvalidInput
from hotline.core.events import Event
from hotline.core.i18n import has_chinese
from hotline.core.jobs import job_handler
from hotline.core.permissions import Permission
from hotline.core.topics import SOURCES, Source
from hotline.outbound import lists
from hotline.outbound.models import Campaign
from hotline.outbound.schemas import FromSourceIn, ListImportReport, ListSourceOut

log = structlog.get_logger(__name__)
NAMES = ("guest_name", "contact_name", "name")
LEFT_OUT = frozenset({
    "phone", "email", "ref", "customer_id", "occasion", "title", "tier", "hotel_code", "hotel_address",
    "hotel_phone", "policy", "hold", "agency_phone", "planner_phone", "receivable", "received", "outstanding",
    "amount", "contract_no", "total",
})  # fmt: skip
"""What a notice carries that an agent calling back has no use for (or is money, or personal)."""


def sources() -> list[ListSourceOut]:
    return [ListSourceOut(name=s.name, label=s.label) for s in sorted(SOURCES.values(), key=lambda s: s.name)]


def source_named(name: str, field: str = "body.source") -> Source:
    found = SOURCES.get(name)
    if found is None:
        raise InvalidInput(
            f"No source {name!r}; the sources are {', '.join(sorted(SOURCES))}",
            field=field,
            reason="no-list-source",
            params={"name": name},
        )
    return found


def cells_of(event: Event) -> dict[str, str]:
    """A notice as a list's row: the phone, the person's name, and its fields an agent uses
    (named by their Chinese descriptions: 酒店名称, 离店日期, 线路名称 …)."""
    data = event.model_dump()
    cells = {
        "phone": str(data.get("phone") or ""),
        "name": next((str(data[k]) for k in NAMES if data.get(k)), ""),
    }
    for key, info in type(event).model_fields.items():
        label, value = (info.description or "").split("（")[0], data.get(key)
        if key in LEFT_OUT or key in NAMES or not has_chinese(label) or value in ("", None):
            continue
        if len(cells) < 2 + lists.EXTRA_COLUMNS:
            cells[label] = str(value)[:200]
    return cells


async def add_from_source(ctx: Context, campaign_id: int, data: FromSourceIn) -> ListImportReport:
    """The source's people of `data.day` checked against the campaign (dry run) or added."""
    ctx.require(Permission.CAMPAIGNS_WRITE)
    source = source_named(data.source)
    kind = await lists.open_campaign(ctx, campaign_id)
    table = [cells_of(event) for event in await source.fetch(ctx, data.day)]
    checked = lists.check_rows(table, kind, utcnow())
    return await lists.add_rows(
        ctx, campaign_id, kind, checked, f"{source.label} {data.day}", dry_run=data.dry_run
    )


def today() -> date:
    return utcnow().astimezone(ZoneInfo("Asia/Shanghai")).date()


@job_handler("outbound.feeds")
async def feeds(ctx: Context, payload: dict[str, Any]) -> None:
    """Every running campaign with a feed takes its source's people of `feed_days_after` days ago."""
    async with ctx.read() as session:
        fed = (
            await session.execute(
                select(Campaign.id, Campaign.feed_source, Campaign.feed_days_after).where(
                    Campaign.status == "running", Campaign.feed_source != ""
                )
            )
        ).all()
    for campaign_id, source, days_after in fed:
        day = today() - timedelta(days=days_after)
        added = await add_from_source(ctx, campaign_id, FromSourceIn(source=source, day=day, dry_run=False))
        log.info("outbound feed", campaign_id=campaign_id, source=source, day=str(day), added=added.added)
