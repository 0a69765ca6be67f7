"""What the call log says of each answered call in a time range, summed up for other domains
(quality samples calls for evaluation from these): who took it, in which queue, which way, how
long, the survey score, whether it was wrapped up as a complaint."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from hotline.contact.calls.wrapup import DISPOSITIONS
from hotline.contact.models import ContactEvent
from hotline.core.context import Context

COMPLAINT = DISPOSITIONS["complaint"]
OUTBOUND_ENDS = ("finished",)


@dataclass(frozen=True)
class AnsweredCall:
    call_id: str
    agent_id: int
    queue: str
    direction: str
    """inbound | outbound (a call out has no arrival or queue line)"""
    started_at: datetime
    """When the agent answered."""
    seconds: int
    """Talk time: answered to ended (0 while it lasts)."""
    survey: int | None
    complaint: bool


async def answered_calls(
    ctx: Context, start: datetime, end: datetime, *, limit: int = 50_000
) -> list[AnsweredCall]:
    """Calls answered by an agent in [start, end), oldest first. The caller checked its own
    permission (a sampling job runs as the system)."""
    async with ctx.read() as session:
        answered = list(
            (
                await session.scalars(
                    select(ContactEvent)
                    .where(
                        ContactEvent.kind == "answered",
                        ContactEvent.at >= start,
                        ContactEvent.at < end,
                        ContactEvent.agent_id.is_not(None),
                    )
                    .order_by(ContactEvent.at, ContactEvent.id)
                    .limit(limit)
                )
            ).all()
        )
        ids = {row.call_id for row in answered if row.call_id}
        lines: dict[str, list[ContactEvent]] = defaultdict(list)
        for chunk in _chunks(sorted(ids), 500):
            for line in await session.scalars(
                select(ContactEvent)
                .where(
                    ContactEvent.call_id.in_(chunk),
                    ContactEvent.kind.in_(("arrived", "queued", "ended", "finished", "survey", "wrapped")),
                )
                .order_by(ContactEvent.id)
            ):
                lines[line.call_id or ""].append(line)
    out, seen = [], set()
    for row in answered:
        if not row.call_id or row.call_id in seen or row.agent_id is None:
            continue  # a transferred call counts for the first agent who took it
        seen.add(row.call_id)
        call = lines[row.call_id]
        kinds = {line.kind for line in call}
        inbound = bool(kinds & {"arrived", "queued"})
        end_line = next(
            (line for line in call if line.kind == "ended" and line.agent_id == row.agent_id), None
        )
        if end_line is None:
            end_line = next((line for line in call if line.kind in ("ended", *OUTBOUND_ENDS)), None)
        survey = next((line.detail for line in call if line.kind == "survey"), "")
        out.append(
            AnsweredCall(
                call_id=row.call_id,
                agent_id=row.agent_id,
                queue=row.queue,
                direction="inbound" if inbound else "outbound",
                started_at=row.at,
                seconds=max(0, round((end_line.at - row.at).total_seconds())) if end_line else 0,
                survey=int(survey) if survey.isdigit() else None,
                complaint=any(line.kind == "wrapped" and line.detail.startswith(COMPLAINT) for line in call),
            )
        )
    return out


@dataclass(frozen=True)
class CallOutOutcome:
    """How a call out went, from its log: `ringing` while it has not connected nor failed,
    `answered` once the number answered (`ended` once it is over), `not_connected` with why
    (`busy`, `no-answer`, `rejected`, `unreachable`, or `your phone: …` when the agent's own phone
    did not answer, `the agent hung up` when they gave up while it rang)."""

    state: str
    detail: str = ""
    ended: bool = False
    talk_seconds: int = 0


async def call_out_outcomes(ctx: Context, call_ids: list[str]) -> dict[str, CallOutOutcome]:
    """Each call out's outcome by its id (ids with no line yet are `ringing`)."""
    lines: dict[str, list[ContactEvent]] = defaultdict(list)
    async with ctx.read() as session:
        for chunk in _chunks(sorted(set(call_ids)), 500):
            for line in await session.scalars(
                select(ContactEvent)
                .where(
                    ContactEvent.call_id.in_(chunk),
                    ContactEvent.kind.in_(("answered", "dial_failed", "ended", "finished")),
                )
                .order_by(ContactEvent.id)
            ):
                lines[line.call_id or ""].append(line)
    out: dict[str, CallOutOutcome] = {}
    for call_id in call_ids:
        call = lines.get(call_id, [])
        failed = next((line for line in call if line.kind == "dial_failed"), None)
        answered = next((line for line in call if line.kind == "answered"), None)
        finished = next((line for line in call if line.kind == "finished"), None)
        if failed is not None:
            out[call_id] = CallOutOutcome("not_connected", failed.detail, ended=True)
        elif answered is not None:
            end = next((line for line in call if line.kind in ("ended", "finished")), None)
            talk = max(0, round((end.at - answered.at).total_seconds())) if end else 0
            out[call_id] = CallOutOutcome("answered", ended=finished is not None, talk_seconds=talk)
        else:
            out[call_id] = CallOutOutcome("ringing", ended=finished is not None)
    return out


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
