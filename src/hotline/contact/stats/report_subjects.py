"""Custom reports' subjects owned by the contact layer (core/report_catalogue.py): calls and
surveys from the call records, agent states from the daily state rows (docs/metrics.md)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.admin import directory
from hotline.contact.models import QueueDef as Queue
from hotline.contact.stats.models import AgentStateDay, CallRecord
from hotline.core.permissions import Permission
from hotline.core.report_catalogue import CHOICES, Dimension, Measure, Subject, register

C = CallRecord
OUTCOMES = {
    "answered": ("已接通", "Answered"),
    "abandoned": ("放弃", "Abandoned"),
    "short_abandoned": ("短时放弃", "Short abandon"),
    "callback": ("预约回电", "Callback"),
    "timed_out": ("等待超时", "Timed out"),
    "refused": ("无人值守", "Nobody in"),
    "voicemail": ("留言", "Voicemail"),
    "ivr_only": ("自助语音结束", "Ended in the IVR"),
    "failed": ("未接通", "Not connected"),
    "in_progress": ("进行中", "In progress"),
}
DIRECTIONS = {"in": ("呼入", "Inbound"), "out": ("呼出", "Outbound")}
STATES = {
    "logged_out": ("已签出", "Logged out"),
    "not_ready": ("示忙", "Not ready"),
    "ready": ("就绪", "Ready"),
    "ringing": ("振铃", "Ringing"),
    "on_call": ("通话中", "On a call"),
    "wrap_up": ("话后整理", "Wrap-up"),
}
DISPOSITIONS = {
    "booked": ("预订成功", "Booked"),
    "enquiry": ("咨询", "Enquiry"),
    "complaint": ("投诉", "Complaint"),
    "callback": ("需回电", "Call back"),
    "other": ("其他", "Other"),
    "": ("未填写", "None"),
}


async def queue_titles(session: AsyncSession, keys: set[Any] | None) -> dict[Any, str]:
    query = select(Queue.name, Queue.title).order_by(Queue.name).limit(CHOICES)
    if keys is not None:
        query = query.where(Queue.name.in_({str(k) for k in keys}))
    return {str(name): str(title) for name, title in (await session.execute(query)).all()}


def _agent(column: Any) -> Dimension:
    return Dimension("agent", ("坐席", "Agent"), column, lookup=directory.people_words)


HOURS = 1 / 3_600_000  # milliseconds → hours


def _hours_in(key: str, label: tuple[str, str], state: str) -> Measure:
    """Hours the agents spent in one state."""
    return Measure(key, label, "hours", case((S.state == state, S.ms), else_=0), scale=HOURS)


ANSWERED = case((C.outcome == "answered", 1), else_=0)
ABANDONED = case((C.outcome.in_(("abandoned", "short_abandoned")), 1), else_=0)
OFFERED = case((C.first_queue != "", 1), else_=0)
SURVEYED = case((C.survey_score.is_not(None), 1), else_=0)

CALLS = register(
    Subject(
        key="calls",
        label=("通话", "Calls"),
        permission=Permission.CALLS_READ,
        source=C.__table__,
        time=C.arrived_at,
        time_kind="instant",
        order=1,
        dimensions=(
            Dimension("queue", ("队列", "Queue"), C.first_queue, lookup=queue_titles),
            _agent(C.agent_id),
            Dimension("direction", ("方向", "Direction"), C.direction, words=DIRECTIONS),
            Dimension("outcome", ("结果", "Outcome"), C.outcome, words=OUTCOMES),
            Dimension("line", ("来电号码", "Number dialled"), C.dnis),
            Dimension("disposition", ("话后小结", "Disposition"), C.disposition, words=DISPOSITIONS),
        ),
        measures=(
            Measure("calls", ("通话数", "Calls"), "count", None),
            Measure("answered", ("接通数", "Answered"), "count", ANSWERED),
            Measure("abandoned", ("放弃数", "Abandoned"), "count", ABANDONED),
            Measure("answer_rate", ("接通率", "Answer rate"), "rate", ANSWERED, OFFERED),
            Measure(
                "service_level",
                ("服务水平", "Service level"),
                "rate",
                case((C.in_time.is_(True), 1), else_=0),
                OFFERED,
            ),
            Measure(
                "talk_hours",
                ("通话时长(小时)", "Talk (hours)"),
                "hours",
                func.coalesce(C.talk_ms, 0),
                scale=1 / 3_600_000,
            ),
            Measure(
                "average_talk",
                ("平均通话(秒)", "Average talk (s)"),
                "seconds",
                func.coalesce(C.talk_ms, 0),
                ANSWERED,
                scale=0.001,
            ),
            Measure(
                "average_wait",
                ("平均等待(秒)", "Average wait (s)"),
                "seconds",
                func.coalesce(C.wait_ms, 0),
                OFFERED,
                scale=0.001,
            ),
            Measure("transfers", ("转接数", "Transfers"), "count", C.transfers),
            Measure(
                "recorded", ("录音数", "Recorded"), "count", case((C.has_recording.is_(True), 1), else_=0)
            ),
        ),
    )
)

SURVEYS = register(
    Subject(
        key="surveys",
        label=("满意度", "Surveys"),
        permission=Permission.AGENTS_READ,
        source=C.__table__,
        time=C.arrived_at,
        time_kind="instant",
        where=(C.survey_score.is_not(None),),
        order=7,
        dimensions=(
            _agent(C.agent_id),
            Dimension("queue", ("队列", "Queue"), C.last_queue, lookup=queue_titles),
            Dimension("line", ("产品线(来电号码)", "Product (number dialled)"), C.dnis),
            Dimension("score", ("评分", "Score"), C.survey_score),
        ),
        measures=(
            Measure("surveys", ("评价数", "Surveys"), "count", None),
            Measure("average_score", ("平均分", "Average score"), "score", C.survey_score, SURVEYED),
            Measure(
                "satisfied_rate",
                ("满意率(4分及以上)", "Satisfied (4+)"),
                "rate",
                case((C.survey_score >= 4, 1), else_=0),
                SURVEYED,
            ),
        ),
    )
)

S = AgentStateDay
AGENT_STATES = register(
    Subject(
        key="agent_states",
        label=("坐席状态", "Agent states"),
        permission=Permission.AGENTS_READ,
        source=S.__table__,
        time=S.day,
        time_kind="day",
        order=2,
        dimensions=(
            _agent(S.agent_id),
            Dimension("state", ("状态", "State"), S.state, words=STATES),
            Dimension("reason", ("示忙原因", "Reason"), S.reason),
        ),
        measures=(
            Measure("hours", ("时长(小时)", "Hours"), "hours", S.ms, scale=HOURS),
            _hours_in("ready_hours", ("就绪时长(小时)", "Ready (hours)"), "ready"),
            _hours_in("not_ready_hours", ("示忙时长(小时)", "Not ready (hours)"), "not_ready"),
            Measure(
                "occupancy",
                ("占用率", "Occupancy"),
                "rate",
                case((S.state.in_(("on_call", "wrap_up", "ringing")), S.ms), else_=0),
                case((S.state != "logged_out", S.ms), else_=0),
            ),
        ),
    )
)
