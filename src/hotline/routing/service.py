"""IVR flow versions: save a draft (checked node by node), publish it, roll back to an older one.

Publishing never edits a version: the live one becomes `retired` and the chosen one `published`,
so what a caller heard on any day can be read back. Voice nodes load the published versions and
reload on `FlowPublished`; flows nobody has published yet run as shipped.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.core.errors import InvalidInput, NotFound
from hotline.core.permissions import Permission
from hotline.routing import erlang, errors
from hotline.routing.events import FlowPublished
from hotline.routing.flow import SHIPPED_NAMES, Flow, load_shipped, parse, to_data
from hotline.routing.models import ContactEvent, FlowVersion
from hotline.routing.schemas import DraftIn, FlowSummary, StaffingIn, StaffingOut, StaffingRow, VisitCount

if TYPE_CHECKING:
    from hotline.routing.app import CallRouter


def lookup_names() -> frozenset[str]:
    """The IVR lookups flows may name: what the domains offer (domains.py)."""
    from hotline import domains

    return frozenset(name for domain in domains.DOMAINS for name, _ in domain.lookups)


async def audit_flow_event(
    ctx: Context, call_id: str, event: str, *, flow: str, caller: str, number: str, detail: str
) -> None:
    """A flow's `log` node with `audit`: an entry in the audit trail (three wrong member numbers
    in one call, a wrong second factor …), with the calling number, for whoever reviews misuse."""
    async with ctx.write() as tx:
        tx.audit(
            f"ivr.{event}", "call", call_id,
            after={"flow": flow, "caller": caller, "number": number, "detail": detail},
        )  # fmt: skip


async def _versions(session: AsyncSession, name: str) -> list[FlowVersion]:
    rows = await session.scalars(
        select(FlowVersion).where(FlowVersion.name == name).order_by(FlowVersion.version)
    )
    return list(rows.all())


async def list_flows(ctx: Context) -> list[FlowSummary]:
    ctx.require(Permission.ROUTING_READ)
    async with ctx.read() as session:
        rows = (
            await session.scalars(select(FlowVersion).order_by(FlowVersion.name, FlowVersion.version))
        ).all()
    by_name: dict[str, list[FlowVersion]] = {}
    for row in rows:
        by_name.setdefault(row.name, []).append(row)
    summaries = []
    for name in sorted(set(by_name) | set(SHIPPED_NAMES)):
        versions = by_name.get(name, [])
        live = next((v for v in versions if v.status == "published"), None)
        draft = next((v for v in versions if v.status == "draft"), None)
        shown = live or draft
        current: dict[str, Any] = shown.definition if shown is not None else to_data(load_shipped(name))
        nodes = current.get("nodes")
        summaries.append(
            FlowSummary(
                name=name,
                title=str(current.get("title", "")),
                published_version=live.version if live else None,
                draft_version=draft.version if draft else None,
                versions=len(versions),
                nodes=len(nodes) if isinstance(nodes, dict) else 0,
            )
        )
    return summaries


async def flow_versions(ctx: Context, name: str) -> list[FlowVersion]:
    ctx.require(Permission.ROUTING_READ)
    async with ctx.read() as session:
        versions = await _versions(session, name)
    if not versions and name not in SHIPPED_NAMES:
        raise NotFound(f"No flow named {name!r}")
    return versions


def _checked(name: str, definition: dict[str, object]) -> Flow:
    if definition.get("name") != name:
        raise errors.FlowNameMismatch(field="body.definition.name")
    flow, problems = parse(definition, functions=lookup_names())
    if flow is None or problems:
        found = [
            {
                "field": ".".join(
                    [
                        "body",
                        "definition",
                        *(["nodes", p.node] if p.node else []),
                        *([p.field] if p.field else []),
                    ]
                ),
                "message": p.message,
                "type": "flow",
            }
            for p in problems
        ]
        raise errors.FlowInvalid(f"{len(found)} problem(s) in flow {name}", errors=found)
    return flow


async def save_draft(ctx: Context, name: str, data: DraftIn) -> FlowVersion:
    """Store the flow as this flow's draft (replacing an earlier draft), if it has no problems."""
    ctx.require(Permission.ROUTING_WRITE)
    flow = _checked(name, data.definition)
    async with ctx.write() as tx:
        versions = await _versions(tx.session, name)
        draft = next((v for v in versions if v.status == "draft"), None)
        if draft is None:
            number = (max((v.version for v in versions), default=0)) + 1
            draft = FlowVersion(name=name, version=number, status="draft", created_by=ctx.actor.user_id)
            tx.session.add(draft)
        draft.definition, draft.note = to_data(flow), data.note
        await tx.session.flush()
    return draft


async def publish(ctx: Context, name: str) -> FlowVersion:
    ctx.require(Permission.ROUTING_WRITE)
    async with ctx.write() as tx:
        versions = await _versions(tx.session, name)
        draft = next((v for v in versions if v.status == "draft"), None)
        if draft is None:
            raise errors.NothingToPublish()
        _make_live(versions, draft)
        tx.publish(FlowPublished(flow=name, version=draft.version))
    return draft


async def rollback(ctx: Context, name: str, version: int) -> FlowVersion:
    """Make an older version live again (the current one is retired, nothing is deleted)."""
    ctx.require(Permission.ROUTING_WRITE)
    async with ctx.write() as tx:
        versions = await _versions(tx.session, name)
        chosen = next((v for v in versions if v.version == version and v.status != "draft"), None)
        if chosen is None:
            raise NotFound(f"Flow {name} has no published or retired version {version}", field="body.version")
        _make_live(versions, chosen)
        tx.publish(FlowPublished(flow=name, version=version))
    return chosen


def _make_live(versions: list[FlowVersion], chosen: FlowVersion) -> None:
    for version in versions:
        if version.status == "published":
            version.status = "retired"
    chosen.status, chosen.published_at = "published", utcnow()


async def live_flows(ctx: Context) -> dict[str, Flow]:
    """What voice nodes run: the published version of each flow, the shipped one where none is."""
    flows = {name: load_shipped(name) for name in SHIPPED_NAMES}
    async with ctx.read() as session:
        rows = (await session.scalars(select(FlowVersion).where(FlowVersion.status == "published"))).all()
    for row in rows:
        flow, problems = parse(row.definition)
        if flow is not None and not problems:
            flows[row.name] = flow
    return flows


async def count_versions(ctx: Context) -> int:
    async with ctx.read() as session:
        return int(await session.scalar(select(func.count(FlowVersion.id))) or 0)


def shipped_definition(ctx: Context, name: str) -> dict[str, object]:
    ctx.require(Permission.ROUTING_READ)
    if name not in SHIPPED_NAMES:
        raise NotFound(f"Hotline ships no flow named {name!r}")
    return to_data(load_shipped(name))


async def visit_counts(ctx: Context, router: CallRouter | None, name: str) -> list[VisitCount]:
    """How often each node of the flow was visited, from the event log (every node, every call)."""
    ctx.require(Permission.ROUTING_READ)
    if router is not None:
        await router.journal.flush()
    async with ctx.read() as session:
        rows = await session.execute(
            select(ContactEvent.detail, func.count(ContactEvent.id))
            .where(ContactEvent.kind == "ivr", ContactEvent.queue == name)
            .group_by(ContactEvent.detail)
        )
        counts = [VisitCount(node=node, visits=n) for node, n in rows]
    return sorted(counts, key=lambda count: (-count.visits, count.node))


async def staffing(ctx: Context, data: StaffingIn) -> StaffingOut:
    """How many agents a queue needs for a service level (R6), with the figures around it."""
    ctx.require(Permission.ROUTING_READ)
    return await ctx.compute(staffing_table, data)


def staffing_table(data: StaffingIn) -> StaffingOut:
    """The answer and a few staffing levels around it (runs in the compute pool)."""
    try:
        needed = erlang.agents_needed(
            data.calls_per_hour, data.handle_seconds, service_level=data.service_level,
            target_seconds=data.target_seconds, patience_seconds=data.patience_seconds,
        )  # fmt: skip
    except erlang.OutOfRange as exc:
        raise InvalidInput(str(exc), field=f"body.{exc.argument}") from exc
    rows = []
    for agents in range(max(1, needed.agents - 2), needed.agents + 4):
        figures = (
            erlang.erlang_c_staffing(agents, data.calls_per_hour, data.handle_seconds, data.target_seconds)
            if data.patience_seconds is None
            else erlang.erlang_a_staffing(
                agents, data.calls_per_hour, data.handle_seconds, data.patience_seconds, data.target_seconds
            )
        )
        speed = figures.average_speed_of_answer
        rows.append(
            StaffingRow(
                agents=agents,
                service_level=round(figures.service_level or 0.0, 4),
                wait_probability=round(figures.wait_probability, 4),
                average_speed_of_answer=round(speed, 1) if math.isfinite(speed) else -1.0,
                occupancy=round(figures.occupancy, 4),
                abandon_rate=round(figures.abandon_rate, 4),
            )
        )
    return StaffingOut(
        model="erlang-c" if data.patience_seconds is None else "erlang-a",
        traffic=round(needed.traffic, 3),
        agents_needed=needed.agents,
        agents_scheduled=math.ceil(needed.agents / (1 - data.shrinkage)),
        rows=rows,
    )
