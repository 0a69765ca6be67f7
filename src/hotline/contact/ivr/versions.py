"""IVR flow versions: save a draft (checked node by node), publish it, roll back to an older one.

Publishing never edits a version: the live one becomes `retired` and the chosen one `published`,
so what a caller heard on any day can be read back. Voice nodes load the published versions and
reload on `FlowPublished`; flows nobody has published yet run as shipped.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.contact import errors
from hotline.contact.events import FlowPublished
from hotline.contact.ivr.flow import SHIPPED_NAMES, Flow, load_shipped, parse, to_data
from hotline.contact.ivr.lookups import lookup_names
from hotline.contact.local import LocalNode
from hotline.contact.models import ContactEvent, FlowVersion
from hotline.contact.schemas import DraftIn, FlowSummary, VisitCount
from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.core.errors import NotFound
from hotline.core.permissions import Permission


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
        raise NotFound(f"No flow named {name!r}", reason="no-flow-named", params={"name": repr(name)})
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
        raise errors.FlowInvalid(
            f"{len(found)} problem(s) in flow {name}",
            errors=found,
            reason="problem-flow",
            params={"count": len(found), "name": name},
        )
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
            raise NotFound(
                f"Flow {name} has no published or retired version {version}",
                field="body.version",
                reason="flow-no-published-retired-version",
                params={"name": name, "version": version},
            )
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
        raise NotFound(
            f"Hotline ships no flow named {name!r}",
            reason="hotline-ships-no-flow-named",
            params={"name": repr(name)},
        )
    return to_data(load_shipped(name))


async def visit_counts(ctx: Context, node: LocalNode | None, name: str) -> list[VisitCount]:
    """How often each node of the flow was visited, from the event log (every node, every call)."""
    ctx.require(Permission.ROUTING_READ)
    if node is not None:
        await node.flush()
    async with ctx.read() as session:
        rows = await session.execute(
            select(ContactEvent.detail, func.count(ContactEvent.id))
            .where(ContactEvent.kind == "ivr", ContactEvent.queue == name)
            .group_by(ContactEvent.detail)
        )
        counts = [VisitCount(node=node, visits=n) for node, n in rows]
    return sorted(counts, key=lambda count: (-count.visits, count.node))
