"""Call records as an export (exports/subjects.py): the filters of GET /api/calls/records, the
columns of the 通话记录 page; the number masked as the page shows it unless the export is with
personal data."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from hotline.admin import directory
from hotline.contact import callbacks
from hotline.contact.stats import search, service
from hotline.contact.stats.models import CallRecord
from hotline.contact.stats.schemas import Outcome
from hotline.core.context import Context
from hotline.core.permissions import Permission
from hotline.core.privacy import Kind
from hotline.exports.subjects import Column, Keyset, Row, Source, subject
from hotline.telephony import service as telephony

Id = Annotated[int | None, Field(ge=1, le=2_147_483_647)]
Seconds = Annotated[int | None, Field(ge=0, le=86_400)]
Score = Annotated[int | None, Field(ge=1, le=5)]


class CallFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: date | None = None
    end: date | None = None
    agent_id: Id = None
    team_id: Id = None
    queue: Annotated[str | None, Field(min_length=1, max_length=64)] = None
    number: Annotated[str | None, Field(min_length=1, max_length=20)] = None
    direction: Literal["in", "out"] | None = None
    outcome: Outcome | None = None
    min_seconds: Seconds = None
    max_seconds: Seconds = None
    disposition: Annotated[str | None, Field(min_length=1, max_length=16)] = None
    has_recording: bool | None = None
    survey_min: Score = None
    survey_max: Score = None


COLUMNS = (
    Column("arrived_at", "来电时间", "Arrived", "datetime", width=20),
    Column("direction", "方向", "Direction", width=8),
    Column("caller", "号码", "Number", personal=Kind.PHONE, width=16),
    Column("queue", "队列", "Queue", width=14),
    Column("agent", "坐席", "Agent", width=14),
    Column("extension", "分机", "Extension", width=8),
    Column("wait", "等待(秒)", "Wait (s)", "number", width=10),
    Column("talk", "通话(秒)", "Talk (s)", "number", width=10),
    Column("duration", "时长(秒)", "Duration (s)", "number", width=10),
    Column("outcome", "结果", "Outcome", width=12),
    Column("disposition", "小结", "Disposition", width=10),
    Column("survey", "满意度", "Survey", "int", width=8),
    Column("recorded", "录音", "Recorded", "bool", width=8),
    Column("transfers", "转接次数", "Transfers", "int", width=8),
    Column("call_id", "通话编号", "Call id", width=28),
)

DIRECTIONS = {"in": "呼入", "out": "呼出"}
OUTCOMES = {
    "answered": "已接通", "abandoned": "放弃", "short_abandoned": "短时放弃", "callback": "预约回电",
    "timed_out": "等待超时", "refused": "无人值守", "voicemail": "留言", "ivr_only": "自助语音结束",
    "failed": "未接通", "in_progress": "进行中",
}  # fmt: skip
DISPOSITIONS = {
    "booked": "预订成功",
    "enquiry": "咨询",
    "complaint": "投诉",
    "callback": "需回电",
    "other": "其他",
}


@subject("calls", Permission.CALLS_READ, CallFilters, ("通话记录", "Calls"), COLUMNS)
async def calls(ctx: Context, filters: CallFilters) -> Source:
    wanted = filters.model_dump(exclude={"agent_id", "team_id"})
    agents = await service.agents_wanted(ctx, filters.agent_id, filters.team_id)
    query = search.matching(
        ctx,
        select(
            CallRecord.id, CallRecord.arrived_at, CallRecord.direction, CallRecord.caller,
            CallRecord.first_queue, CallRecord.agent_id, CallRecord.agent_id, CallRecord.wait_ms,
            CallRecord.talk_ms, CallRecord.duration_ms, CallRecord.outcome, CallRecord.disposition,
            CallRecord.survey_score, CallRecord.has_recording, CallRecord.transfers, CallRecord.call_id,
        ),
        search.CallSearch(agent_ids=agents, **wanted),
    )  # fmt: skip
    english = ctx.locale.startswith("en")

    def word(words: dict[str, str], code: str) -> str:
        return code if english else words.get(code, code)

    async def shaped(ctx: Context, rows: list[Row]) -> list[Row]:
        async with ctx.read() as session:
            titles = await callbacks.queue_titles(session)
        people = await directory.staff(ctx, {r[4] for r in rows if r[4] is not None})
        lines = {e.user_id: e.number for e in await telephony.user_extensions(ctx)}
        out: list[Row] = []
        for at, direction, caller, queue, agent, _, wait, talk, duration, outcome, disp, *rest in rows:
            person = people.get(agent) if agent is not None else None
            out.append(
                (
                    at, word(DIRECTIONS, direction), caller, titles.get(queue, queue),
                    person.label if person else "", lines.get(agent, "") if agent is not None else "",
                    _s(wait), _s(talk), _s(duration), word(OUTCOMES, outcome), word(DISPOSITIONS, disp),
                    *rest,
                )
            )  # fmt: skip
        return out

    return Keyset(query, CallRecord.id, shaped)


def _s(ms: int | None) -> float | None:
    return None if ms is None else round(ms / 1000, 1)
