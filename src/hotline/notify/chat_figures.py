"""Conversation figures for the chat report (会话报表, docs/reports.md): per bucket of a period and
per queue, channel and agent. A conversation counts in the bucket of the moment it came in
(`created_at`), with everything that became of it, as the messages report counts its messages:

- offered: conversations that came in; assigned: of those, the ones the ACD gave an agent
  (`first_assigned_at`); answered: the ones an agent wrote in; closed: the ones closed;
- abandoned: closed by the customer (the visitor ended the web chat: nobody on our side closed
  it) before any agent wrote in;
- wait: from entering the queue (`queued_at`, else coming in) to the first agent (median and p90
  of the assigned ones, seconds); first_response: from that to the first agent's message
  (average of the assigned ones answered); handle_time: from that to closing (average of the
  assigned ones closed);
- messages_in, messages_out: the customer's and our messages in them;
- rated, rating_avg, csat: the web chat's end ratings (1–5) given, their average, and the share of
  4 and 5 among them.
The agent of a conversation is the one who has it last (a transfer passes it on). The fold is pure
(`fold`), done off the event loop above `COMPUTE_ABOVE` conversations (core/compute.py).
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, func, select

from hotline.admin import directory
from hotline.core.clock import as_utc
from hotline.core.context import Context
from hotline.core.periods import Period, ratio
from hotline.core.permissions import Permission
from hotline.notify.models import ChatVisitor, Conversation, ConversationMessage

COUNTS = ("offered", "assigned", "answered", "closed", "abandoned", "messages_in", "messages_out", "rated")
COMPUTE_ABOVE = 400
"""More conversations than this are folded in a worker (a year of a busy site: hundreds of thousands)."""
COMPUTE_SECONDS = 60


@dataclass(frozen=True)
class Fact:
    """One conversation as the report needs it (plain values: it crosses to a worker)."""

    created_at: datetime
    channel: str
    queue: str
    agent_id: int | None
    wait: float | None
    first_response: float | None
    handle_time: float | None
    answered: bool
    closed: bool
    abandoned: bool
    messages_in: int
    messages_out: int
    rating: int | None


@dataclass
class Tally:
    """The sums and the samples of one bucket or row, made into figures by `figures`."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))
    waits: list[float] = field(default_factory=list)
    responses: list[float] = field(default_factory=list)
    handles: list[float] = field(default_factory=list)
    ratings: list[int] = field(default_factory=list)

    def add(self, fact: Fact) -> None:
        c = self.counts
        c["offered"] += 1
        c["assigned"] += fact.wait is not None
        c["answered"] += fact.answered
        c["closed"] += fact.closed
        c["abandoned"] += fact.abandoned
        c["messages_in"] += fact.messages_in
        c["messages_out"] += fact.messages_out
        if fact.wait is not None:
            self.waits.append(fact.wait)
        if fact.first_response is not None:
            self.responses.append(fact.first_response)
        if fact.handle_time is not None:
            self.handles.append(fact.handle_time)
        if fact.rating is not None:
            c["rated"] += 1
            self.ratings.append(fact.rating)

    def figures(self) -> dict[str, Any]:
        c = self.counts
        return {
            **c,
            "abandon_rate": ratio(c["abandoned"], c["offered"]),
            "wait_median": _rounded(statistics.median(self.waits)) if self.waits else None,
            "wait_p90": p90(self.waits),
            "first_response": _average(self.responses),
            "handle_time": _average(self.handles),
            "rating_avg": _average(self.ratings, 2),
            "csat": ratio(sum(1 for r in self.ratings if r >= 4), len(self.ratings)),
        }


def p90(values: list[float]) -> float | None:
    """The 90th percentile by nearest rank: the smallest value at least 90 % of them do not exceed."""
    if not values:
        return None
    ordered = sorted(values)
    return _rounded(ordered[math.ceil(0.9 * len(ordered)) - 1])


def _average(values: list[float] | list[int], places: int = 1) -> float | None:
    return round(sum(values) / len(values), places) if values else None


def _rounded(value: float) -> float:
    return round(value, 1)


@dataclass
class Folded:
    """The report's figures: a point per bucket (empty ones too), the totals, rows per dimension."""

    series: list[dict[str, Any]]
    total: dict[str, Any]
    rows: list[dict[str, Any]]

    def points(self) -> list[dict[str, Any]]:
        return self.series

    def totals(self) -> dict[str, Any]:
        return self.total


def fold(facts: list[Fact], period: Period, labels: dict[str, dict[str, str]]) -> Folded:
    """Tally the conversations per bucket, in total and per queue, channel and agent (each row
    named by `labels[dimension][key]`, else its key). Pure."""
    buckets = {start: Tally() for start in period.buckets()}
    total = Tally()
    by: dict[tuple[str, str], Tally] = defaultdict(Tally)
    for fact in facts:
        at = as_utc(fact.created_at)
        if not period.contains(at):
            continue
        buckets.setdefault(period.bucket(at), Tally()).add(fact)
        total.add(fact)
        by["queue", fact.queue].add(fact)
        by["channel", fact.channel].add(fact)
        if fact.agent_id is not None:
            by["agent", str(fact.agent_id)].add(fact)
    order = sorted(by.items(), key=lambda kv: (kv[0][0], -kv[1].counts["offered"]))
    rows = [
        {
            "dimension": dimension,
            "key": key,
            "label": labels.get(dimension, {}).get(key, key),
            **tally.figures(),
        }
        for (dimension, key), tally in order
    ]
    series = [{"start": start.isoformat(), **tally.figures()} for start, tally in sorted(buckets.items())]
    return Folded(series, total.figures(), rows)


async def chat_facts(
    ctx: Context, period: Period, *, agent_ids: set[int] | None = None, queues: set[str] | None = None,
    channels: set[str] | None = None,
) -> list[Fact]:  # fmt: skip
    """The conversations that came in during the period, each with its messages' figures."""
    ctx.require(Permission.REPORTS_READ)
    where: list[ColumnElement[bool]] = [
        Conversation.created_at >= period.since,
        Conversation.created_at < period.until,
    ]
    if agent_ids is not None:
        where.append(Conversation.assigned_to.in_(agent_ids))
    if queues:
        where.append(Conversation.queue.in_(queues))
    if channels:
        where.append(Conversation.channel.in_(channels))
    m = ConversationMessage
    by_agent = (m.direction == "out") & m.author_id.is_not(None)
    messages = (
        select(
            m.conversation_id.label("id"),
            func.sum(case((m.direction == "in", 1), else_=0)).label("ins"),
            func.sum(case((m.direction == "out", 1), else_=0)).label("outs"),
            func.min(case((by_agent, m.at), else_=None)).label("first_agent"),
        )
        .group_by(m.conversation_id)
        .subquery()
    )
    c = Conversation
    query = (
        select(c.created_at, c.channel, c.queue, c.assigned_to, c.queued_at, c.first_assigned_at, c.status,
               c.closed_at, c.closed_by, messages.c.ins, messages.c.outs, messages.c.first_agent,
               ChatVisitor.rating)
        .outerjoin(messages, messages.c.id == c.id)
        .outerjoin(ChatVisitor, ChatVisitor.conversation_id == c.id)
        .where(*where)
    )  # fmt: skip
    async with ctx.read() as session:
        rows = (await session.execute(query)).all()
    return [_fact(*row) for row in rows]


def _fact(
    created_at: datetime, channel: str, queue: str | None, agent_id: int | None, queued_at: datetime | None,
    assigned_at: datetime | None, status: str, closed_at: datetime | None, closed_by: int | None,
    ins: int | None, outs: int | None, first_agent: datetime | str | None, rating: int | None,
) -> Fact:  # fmt: skip
    if isinstance(first_agent, str):  # SQLite's MIN over a CASE gives the stored text back
        first_agent = datetime.fromisoformat(first_agent)
    start = as_utc(assigned_at) if assigned_at is not None else None
    answered = as_utc(first_agent) if first_agent is not None and start is not None else None
    closed = status == "closed"
    return Fact(
        created_at=created_at, channel=channel, queue=queue or "", agent_id=agent_id,
        wait=_seconds(as_utc(queued_at or created_at), start),
        first_response=_seconds(start, answered) if answered is not None and answered >= start else None,  # type: ignore[operator]
        handle_time=_seconds(start, as_utc(closed_at)) if closed and closed_at is not None else None,
        answered=first_agent is not None, closed=closed,
        abandoned=closed and closed_by is None and first_agent is None,
        messages_in=int(ins or 0), messages_out=int(outs or 0), rating=rating,
    )  # fmt: skip


def _seconds(since: datetime | None, until: datetime | None) -> float | None:
    if since is None or until is None:
        return None
    return max(0.0, (until - since).total_seconds())


async def chat_figures(
    ctx: Context, period: Period, *, agent_ids: set[int] | None = None, queues: set[str] | None = None,
    channels: set[str] | None = None,
) -> Folded:  # fmt: skip
    """The chat report's figures (docs/reports.md), folded off the event loop when there are many."""
    facts = await chat_facts(ctx, period, agent_ids=agent_ids, queues=queues, channels=channels)
    async with ctx.read() as session:
        names = await directory.names(session, {f.agent_id for f in facts if f.agent_id is not None})
    labels = {"agent": {str(k): v for k, v in names.items()}}
    if len(facts) > COMPUTE_ABOVE and ctx.pool is not None:
        return await ctx.compute(_fold, facts, period, labels, limit=COMPUTE_SECONDS)
    return fold(facts, period, labels)


def _fold(facts: list[Fact], period: Period, labels: dict[str, dict[str, str]]) -> Folded:
    """`fold` in a worker (a module-level function the pool can name)."""
    return fold(facts, period, labels)
