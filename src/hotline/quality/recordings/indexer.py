"""The recordings library fills itself from the contact event log.

Every "recorded" line (a bridged part of a call: its mix's path) and "voicemail" line becomes a
`Recording` with what the call's log says: who called what, the queue, the agent who took that
part, the customer the number belongs to. The wrap-up's disposition and the survey's score come
later than the recording, so a second cursor brings them onto recordings already indexed.

It runs every minute (a built-in job) and, on a voice node, a second after a call's recording is
logged (`Watcher`), so a recording is searchable within seconds of hang-up. Running twice indexes
nothing twice: the source line is unique.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from hotline.admin import directory
from hotline.contact.calls import records
from hotline.contact.calls.records import CallLine, RecordedPart
from hotline.contact.calls.wrapup import DISPOSITIONS
from hotline.contact.events import CallRecorded
from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.core.events import EventBus
from hotline.crm import directory as customers
from hotline.quality.recordings import checking, media
from hotline.quality.recordings.models import Recording, RecordingCursor

log = structlog.get_logger(__name__)
VOICEMAIL = re.compile(r"^\s*(?P<seconds>[0-9]+)\s*s:\s*(?P<path>.+?)\s*$")
DISPOSITION_OF = {label: code for code, label in DISPOSITIONS.items()}
EXTENSION = re.compile(r"^[0-9]{2,6}$")


async def _position(ctx: Context, name: str) -> int:
    async with ctx.read() as session:
        row = await session.get(RecordingCursor, name)
        return row.position if row else 0


async def _advance(ctx: Context, name: str, position: int) -> None:
    async with ctx.write() as tx:
        row = await tx.session.get(RecordingCursor, name)
        if row is None:
            tx.session.add(RecordingCursor(name=name, position=position))
        elif position > row.position:
            row.position = position


def reversed_digits(number: str) -> str:
    return "".join(ch for ch in reversed(number) if ch.isdigit())[:32]


def _direction(call_id: str, caller: str, dialled: str) -> str:
    if call_id.startswith("out-"):
        return "outbound"
    if EXTENSION.match(caller) and EXTENSION.match(dialled):
        return "internal"
    return "inbound"


def _facts(lines: list[CallLine], agent_id: int | None) -> tuple[str, int | None]:
    """The disposition the agent gave the call and the caller's survey score, when logged."""
    disposition = ""
    for line in lines:
        if line.kind == "wrapped" and (agent_id is None or line.agent_id == agent_id):
            disposition = DISPOSITION_OF.get(line.detail.split(":", 1)[0].strip(), "other")
    scores = [line for line in lines if line.kind == "survey" and line.detail.isdigit()]
    mine = [line for line in scores if line.agent_id == agent_id] or scores
    return disposition, int(mine[-1].detail) if mine else None


def _held(lines: list[CallLine], start: datetime, end: datetime) -> float:
    """Seconds on hold between `start` and `end`: each "held" line to the next "resumed" (or the end)."""
    total, since = 0.0, None
    for line in lines:
        if line.kind == "held" and since is None:
            since = max(line.at, start)
        elif line.kind == "resumed" and since is not None:
            total += max(0.0, (min(line.at, end) - since).total_seconds())
            since = None
    if since is not None:
        total += max(0.0, (end - since).total_seconds())
    return round(total, 2)


async def _recording(ctx: Context, item: RecordedPart, cards: dict[str, int]) -> dict[str, Any]:
    line, lines = item.line, item.lines
    arrived = next((x for x in lines if x.kind == "arrived"), None)
    caller, _, dialled = (arrived.detail if arrived else "").partition("→")
    caller, dialled = caller.strip()[:32], dialled.strip()[:32]
    if line.kind == "voicemail":
        match = VOICEMAIL.match(line.detail)
        logged, logged_seconds = (match["path"], float(match["seconds"])) if match else (line.detail, None)
        kind, channels, part = "voicemail", 1, 1
    else:
        logged, logged_seconds, kind, channels = line.detail, None, "call", 2
        part = sum(1 for x in lines if x.kind == "recorded" and x.id <= line.id)
    path = media.stored_path(ctx.settings.recordings_dir, logged)
    seconds = await asyncio.to_thread(media.wav_seconds, ctx.settings.recordings_dir / path)
    if seconds is None:
        answered = next((x for x in lines if x.kind == "answered" and x.id < line.id), None)
        seconds = logged_seconds or ((line.at - answered.at).total_seconds() if answered else 0.0)
    queued = [x for x in lines if x.kind in ("queued", "answered", "offered") and x.queue and x.id < line.id]
    queue = line.queue or (queued[-1].queue if queued else "")
    direction = _direction(item.call_id, caller, dialled)
    number = caller if direction != "outbound" else ""
    disposition, score = _facts(lines, line.agent_id)
    started = line.at - timedelta(seconds=seconds)
    return {
        "source_line": line.id, "call_id": item.call_id[:64], "part": part, "kind": kind,
        "started_at": started, "seconds": round(seconds, 2),
        "direction": direction, "queue": queue, "agent_id": line.agent_id,
        "customer_id": cards.get(number), "number": number, "number_rev": reversed_digits(number),
        "dialled": dialled, "dialled_rev": reversed_digits(dialled), "disposition": disposition,
        "survey_score": score, "channels": channels, "node": ctx.settings.recordings_node,
        "path": path[:400], "indexed_at": utcnow(), "hold_seconds": _held(lines, started, line.at),
    }  # fmt: skip


async def index_new(ctx: Context, *, batch: int = 200) -> int:
    """Index the recordings logged since the cursor; how many were new."""
    made = 0
    while True:
        after = await _position(ctx, "recordings")
        items = await records.recorded_parts(ctx, after=after, limit=batch)
        if not items:
            break
        made += await _store(ctx, items)
        await _advance(ctx, "recordings", items[-1].line.id)
        if len(items) < batch:
            break
    await _refresh_facts(ctx)
    return made


async def _store(ctx: Context, items: list[RecordedPart]) -> int:
    numbers: set[str] = set()
    for item in items:
        arrived = next((x for x in item.lines if x.kind == "arrived"), None)
        if arrived is not None:
            numbers.add(arrived.detail.partition("→")[0].strip())
    async with ctx.read() as session:
        found = await customers.cards_by_phone(session, [n for n in numbers if n])
        done = set(
            await session.scalars(
                select(Recording.source_line).where(Recording.source_line.in_([x.line.id for x in items]))
            )
        )
    cards = {number: card.id for number, card in found.items()}
    rows = [await _recording(ctx, item, cards) for item in items if item.line.id not in done]
    people = await directory.staff(ctx, {r["agent_id"] for r in rows if r["agent_id"] is not None})
    for row in rows:
        person = people.get(row["agent_id"]) if row["agent_id"] is not None else None
        row["agent_name"] = person.name if person else ""
        row["agent_number"] = person.work_number if person else ""
    made = 0
    for row in rows:  # one at a time: a node that indexed the same line meanwhile costs one row
        try:
            async with ctx.write() as tx:
                tx.session.add(Recording(**row))
            made += 1
        except IntegrityError:
            continue
    return made


async def _refresh_facts(ctx: Context) -> None:
    """Wrap-ups and survey scores logged after their recording was indexed."""
    after = await _position(ctx, "facts")
    lines = await records.call_facts(ctx, after=after)
    if not lines:
        return
    async with ctx.write() as tx:
        for line in lines:
            if line.kind == "wrapped":
                code = DISPOSITION_OF.get(line.detail.split(":", 1)[0].strip(), "other")
                where = [Recording.call_id == line.call_id, Recording.agent_id == line.agent_id]
                await tx.session.execute(update(Recording).where(*where).values(disposition=code))
            elif line.detail.isdigit():
                await tx.session.execute(
                    update(Recording)
                    .where(Recording.call_id == line.call_id, Recording.kind == "call")
                    .values(survey_score=int(line.detail))
                )
    await _advance(ctx, "facts", lines[-1].id)


class Watcher:
    """On a voice node: index a call's recording a second after it is logged, instead of at the
    next minute's job. Owns its loop: `start()` subscribes, `stop()` cancels and awaits."""

    DELAY = 1.0
    """The event log is written a fifth of a second at a time; one second finds the line there."""

    def __init__(self, ctx: Context, bus: EventBus) -> None:
        self.ctx, self.bus = ctx, bus
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.bus.subscribe(CallRecorded, self._recorded)
        self._task = asyncio.create_task(self._run(), name="recordings-indexer")

    async def _recorded(self, event: Any) -> None:
        self._wake.set()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            await asyncio.sleep(self.DELAY)
            self._wake.clear()
            try:
                made = await index_new(self.ctx)
                if made:
                    log.info("recordings indexed", recordings=made)
                checked = await checking.check_new(self.ctx)
                if checked:
                    log.info("recordings checked", recordings=checked)
            except Exception as exc:  # the next call or the minute's job tries again
                log.error("recordings indexing failed", error=repr(exc))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
