"""Call records, read from the one event log: a call's story line by line, the latest calls summed
up, the caller of a call offered to an agent, the voicemail left; and the lines other domains add
to a call (a booking made on it)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.admin import directory
from hotline.contact import callbacks
from hotline.contact.calls.words import line_words
from hotline.contact.ivr.flow import Flow
from hotline.contact.ivr.versions import live_flows
from hotline.contact.local import LocalNode
from hotline.contact.models import ContactEvent
from hotline.contact.schemas import (
    CallSummary,
    ContactEventOut,
    IvrStep,
    LineWordsOut,
    NodeKind,
    RoutingReasonOut,
)
from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.core.errors import NotFound
from hotline.core.permissions import Permission

ENDS = ("finished", "abandoned", "timed_out", "refused", "callback")


async def call_events(ctx: Context, node: LocalNode | None, call_id: str) -> list[ContactEventOut]:
    """Everything the log holds of one call: arrival, IVR nodes, queue, each routing decision with
    its reason, answer, end."""
    ctx.require(Permission.CALLS_READ)
    if node is not None:
        await node.flush()
    async with ctx.read() as session:
        rows = (
            await session.scalars(
                select(ContactEvent).where(ContactEvent.call_id == call_id).order_by(ContactEvent.id)
            )
        ).all()
    if not rows:
        raise NotFound(
            f"No call {call_id!r} in the log",
            field="call_id",
            reason="no-call-log",
            params={"call_id": repr(call_id)},
        )
    people = await directory.staff(ctx, {row.agent_id for row in rows if row.agent_id is not None})
    flows = await live_flows(ctx)
    async with ctx.read() as session:
        titles = await callbacks.queue_titles(session)
    out = [ContactEventOut.model_validate(row) for row in rows]
    for event, row in zip(out, rows, strict=True):
        found = people.get(event.agent_id) if event.agent_id is not None else None
        event.agent = found.label if found is not None else ""
        event.queue_title = titles.get(event.queue, "")
        if row.kind == "offered":
            event.reason, event.detail = RoutingReasonOut.of(row.detail), ""
        elif row.kind == "ivr":
            event.step, event.detail, event.state = ivr_step(row, flows), "", ""
        elif (words := line_words(row.kind, row.detail)) is not None:
            event.words, event.detail = LineWordsOut(code=words[0], params=words[1]), ""
    return out


def ivr_step(line: ContactEvent, flows: dict[str, Flow]) -> IvrStep:
    """An IVR line as a node with its kind and label: the kind logged with it (lines from before
    kinds were logged: the flow's), the label from the flow that runs now."""
    flow = flows.get(line.queue)
    found = flow.nodes.get(line.detail) if flow is not None else None
    kind = line.state or (found.type if found is not None else None)
    return IvrStep(node=line.detail, kind=cast(NodeKind | None, kind), label=found.label if found else "")


def ivr_path(lines: list[ContactEvent], flows: dict[str, Flow]) -> list[IvrStep]:
    return [ivr_step(line, flows) for line in lines if line.kind == "ivr"]


async def recent_calls(ctx: Context, node: LocalNode | None, *, limit: int = 50) -> list[CallSummary]:
    """The latest calls, newest first, each summed up from its events."""
    ctx.require(Permission.CALLS_READ)
    if node is not None:
        await node.flush()
    async with ctx.read() as session:
        arrived = (
            await session.scalars(
                select(ContactEvent)
                .where(ContactEvent.kind == "arrived")
                .order_by(ContactEvent.id.desc())
                .limit(limit)
            )
        ).all()
        ids = [row.call_id for row in arrived]
        events = (
            await session.scalars(
                select(ContactEvent).where(ContactEvent.call_id.in_(ids)).order_by(ContactEvent.id)
            )
        ).all()
        titles = await callbacks.queue_titles(session)
    flows = await live_flows(ctx)
    by_call: dict[str, list[ContactEvent]] = defaultdict(list)
    for event in events:
        by_call[event.call_id or ""].append(event)
    out = []
    for first in arrived:
        call = by_call[first.call_id or ""]
        caller, _, number = first.detail.partition(" → ")
        queued = next((e for e in call if e.kind == "queued"), None)
        answered = next((e for e in call if e.kind == "answered"), None)
        offered = [e for e in call if e.kind == "offered" and answered and e.agent_id == answered.agent_id]
        ends = [e for e in call if e.kind in ENDS]
        ended = next((e for e in call if e.kind == "ended"), None)
        survey = next((e for e in call if e.kind == "survey"), None)
        out.append(
            CallSummary(
                call_id=first.call_id or "",
                arrived_at=first.at,
                caller=caller,
                number=number,
                flow=first.queue,
                path=ivr_path(call, flows),
                queue=(queued.queue if queued else ""),
                queue_title=titles.get(queued.queue, queued.queue) if queued else "",
                agent_id=answered.agent_id if answered else None,
                waited=round((answered.at - queued.at).total_seconds(), 1) if answered and queued else None,
                outcome=_outcome(call, ends),
                reason=RoutingReasonOut.of(offered[-1].detail) if offered else None,
                talk=round((ended.at - answered.at).total_seconds(), 1) if answered and ended else None,
                recorded=any(e.kind == "recorded" for e in call),
                survey=int(survey.detail) if survey is not None and survey.detail.isdigit() else None,
            )
        )
    return out


def _outcome(call: list[ContactEvent], ends: list[ContactEvent]) -> str:
    kinds = [e.kind for e in call]
    if "answered" in kinds:
        return "answered"
    for kind in ("voicemail", "callback", "abandoned", "timed_out", "refused"):
        if kind in kinds:
            return kind
    if "finished" in kinds:
        return next(e.detail for e in ends if e.kind == "finished") or "finished"
    return "in-progress"


async def caller_of(ctx: Context, node: LocalNode | None, call_id: str) -> str:
    """The number of a call this agent was offered: from the call in progress, else from the event
    log (which is written a moment later); 404 otherwise."""
    me = ctx.actor.user_id
    if node is not None and me is not None and (live := node.caller_offered_to(call_id, me)):
        return live
    async with ctx.read() as session:
        offered = await session.scalar(
            select(ContactEvent.id).where(
                ContactEvent.call_id == call_id, ContactEvent.kind == "offered", ContactEvent.agent_id == me
            )
        )
        arrived = await session.scalar(
            select(ContactEvent.detail).where(ContactEvent.call_id == call_id, ContactEvent.kind == "arrived")
        )
    if offered is None or not arrived:
        raise NotFound("This call was not offered to you", field="call_id", reason="call-was-not-offered-you")
    return arrived.split(" → ", 1)[0]


async def note_on_call(ctx: Context, call_id: str, kind: str, detail: str) -> None:
    """Another domain's line in a call's log: what came of the call (a booking made on it)."""
    async with ctx.write() as tx:
        tx.session.add(
            ContactEvent(
                at=utcnow(), kind=kind, call_id=call_id, agent_id=ctx.actor.user_id, detail=detail[:400]
            )
        )


@dataclass(frozen=True)
class Voicemail:
    """A message a caller left, with what the log says of the call it was left on."""

    id: int
    """The log line's id: increasing, a reader's cursor."""
    call_id: str | None
    at: datetime
    caller: str
    """The calling number ("" when the log does not say)."""
    dialled: str
    path: list[str]
    """The IVR nodes the caller went through before leaving it."""
    detail: str
    """"<seconds> s: <recording path>", as logged."""


async def voicemails(ctx: Context, *, after: int = 0, limit: int = 200) -> list[Voicemail]:
    """Voicemail left since the log line `after`, oldest first (voicemail → ticket reads these)."""
    async with ctx.read() as session:
        rows = list(
            (
                await session.scalars(
                    select(ContactEvent)
                    .where(ContactEvent.kind == "voicemail", ContactEvent.id > after)
                    .order_by(ContactEvent.id)
                    .limit(limit)
                )
            ).all()
        )
        calls = {row.call_id for row in rows if row.call_id}
        lines = (
            list(
                (
                    await session.scalars(
                        select(ContactEvent)
                        .where(ContactEvent.call_id.in_(calls), ContactEvent.kind.in_(("arrived", "ivr")))
                        .order_by(ContactEvent.id)
                    )
                ).all()
            )
            if calls
            else []
        )
    out = []
    for row in rows:
        call = [line for line in lines if line.call_id == row.call_id]
        arrived = next((line for line in call if line.kind == "arrived"), None)
        caller, _, dialled = (arrived.detail if arrived else "").partition("→")
        path = [line.detail for line in call if line.kind == "ivr"]
        out.append(
            Voicemail(row.id, row.call_id, row.at, caller.strip()[:32], dialled.strip(), path, row.detail)
        )
    return out


@dataclass(frozen=True)
class CallLine:
    """One line of a call's log, as another domain may read it."""

    id: int
    call_id: str
    at: datetime
    kind: str
    agent_id: int | None
    queue: str
    detail: str


@dataclass(frozen=True)
class RecordedPart:
    """A recording the log names — a bridged part of a call ("recorded", the mix's path) or a
    voicemail ("<seconds> s: <path>") — with every line of its call (the recordings library reads
    these; the line's id is its cursor)."""

    line: CallLine
    call_id: str
    lines: list[CallLine]


async def recorded_parts(ctx: Context, *, after: int = 0, limit: int = 200) -> list[RecordedPart]:
    """Recordings logged since the line `after`, oldest first, each with its call's whole log."""
    async with ctx.read() as session:
        rows = list(
            (
                await session.scalars(
                    select(ContactEvent)
                    .where(ContactEvent.kind.in_(("recorded", "voicemail")), ContactEvent.id > after)
                    .order_by(ContactEvent.id)
                    .limit(limit)
                )
            ).all()
        )
        lines = await _lines_of(session, {row.call_id for row in rows if row.call_id})
    by_call = {call_id: [_line(x) for x in call] for call_id, call in lines.items()}
    return [RecordedPart(_line(row), row.call_id or "", by_call.get(row.call_id or "", [])) for row in rows]


async def _lines_of(
    session: AsyncSession, calls: Iterable[str], kinds: tuple[str, ...] | None = None
) -> dict[str, list[ContactEvent]]:
    """The log lines of these calls (of these kinds only, if given), per call in their order; read
    500 calls at a time (databases cap the parameters of one statement)."""
    wanted = sorted(calls)
    found: dict[str, list[ContactEvent]] = defaultdict(list)
    for at in range(0, len(wanted), 500):
        query = select(ContactEvent).where(ContactEvent.call_id.in_(wanted[at : at + 500]))
        if kinds is not None:
            query = query.where(ContactEvent.kind.in_(kinds))
        for line in await session.scalars(query.order_by(ContactEvent.id)):
            found[line.call_id or ""].append(line)
    return found


async def call_facts(ctx: Context, *, after: int = 0, limit: int = 1000) -> list[CallLine]:
    """Wrap-ups and survey scores logged since the line `after`, oldest first."""
    async with ctx.read() as session:
        rows = (
            await session.scalars(
                select(ContactEvent)
                .where(ContactEvent.kind.in_(("wrapped", "survey")), ContactEvent.id > after)
                .order_by(ContactEvent.id)
                .limit(limit)
            )
        ).all()
    return [_line(row) for row in rows]


def _line(row: ContactEvent) -> CallLine:
    return CallLine(row.id, row.call_id or "", row.at, row.kind, row.agent_id, row.queue, row.detail)


@dataclass(frozen=True)
class SurveyKey:
    """A key pressed in the IVR's post-call survey (1–5), with what its call says: the agent who
    served it, their queue, the caller's number and the subjects asked about in the IVR."""

    line_id: int
    call_id: str
    at: datetime
    score: int
    agent_id: int | None
    queue: str
    caller: str
    asked: tuple[str, ...]
    """`hotel:<code>` / `route:<code>`, in the order asked."""


async def survey_keys(ctx: Context, *, since: datetime) -> list[SurveyKey]:
    """The post-call survey keys logged since `since` (lines without a valid key left out)."""
    async with ctx.read() as session:
        rows = (
            await session.scalars(
                select(ContactEvent)
                .where(ContactEvent.kind == "survey", ContactEvent.at >= since)
                .order_by(ContactEvent.id)
            )
        ).all()
        scored = [r for r in rows if r.detail.isdigit() and 1 <= int(r.detail) <= 5]
        lines = await _lines_of(
            session, {r.call_id for r in scored if r.call_id}, ("arrived", "answered", "enquiry")
        )
    out = []
    for row in scored:
        call = lines.get(row.call_id or "", [])
        arrived = next((x for x in call if x.kind == "arrived"), None)
        answered = next((x for x in call if x.kind == "answered"), None)
        out.append(
            SurveyKey(
                line_id=row.id, call_id=row.call_id or "", at=row.at, score=int(row.detail),
                agent_id=row.agent_id or (answered.agent_id if answered else None),
                queue=(answered.queue if answered else "") or "",
                caller=arrived.detail.partition("→")[0].strip() if arrived else "",
                asked=tuple(x.detail for x in call if x.kind == "enquiry"),
            )
        )  # fmt: skip
    return out
