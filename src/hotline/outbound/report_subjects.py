"""Custom reports' subjects owned by outbound (core/report_catalogue.py): every dial of a campaign
by when it was made — per campaign, agent, outcome and disposition; answered and closed rates —
and every survey response (phone, IVR, SMS link) per channel, campaign, agent, queue, hotel,
route and score."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.admin import directory
from hotline.contact.stats.report_subjects import queue_titles
from hotline.core.permissions import Permission
from hotline.core.report_catalogue import Dimension, Measure, Subject, register
from hotline.outbound.models import Attempt, Campaign, SurveyResponse

A = Attempt
OUTCOMES = {
    "dialing": ("拨号中", "Dialling"),
    "answered": ("已接通", "Answered"),
    "no_answer": ("无人接听", "No answer"),
    "busy": ("占线", "Busy"),
    "failed": ("呼叫失败", "Failed"),
    "machine": ("答录机", "Answering machine"),
    "abandoned": ("接通后未转坐席", "Abandoned by the dialer"),
    "agent_missed": ("坐席话机未接", "Agent phone missed"),
}
ANSWERED = case((A.outcome == "answered", 1), else_=0)
COUNTED = case((A.outcome.not_in(("dialing", "agent_missed")), 1), else_=0)


async def campaign_words(session: AsyncSession, keys: set[Any] | None) -> dict[Any, str]:
    query = select(Campaign.id, Campaign.name)
    if keys is not None:
        query = query.where(Campaign.id.in_({int(k) for k in keys if k is not None}))
    return {int(i): str(n) for i, n in (await session.execute(query)).all()}


async def disposition_words(session: AsyncSession, keys: set[Any] | None) -> dict[Any, str]:
    """Each disposition code as the campaigns word it (the first campaign's words for a shared code)."""
    found: dict[Any, str] = {}
    for (dispositions,) in (await session.execute(select(Campaign.dispositions).order_by(Campaign.id))).all():
        for entry in dispositions or []:
            if keys is None or entry.get("code") in keys:
                found.setdefault(entry.get("code"), str(entry.get("label", "")))
    return found


ATTEMPTS = register(
    Subject(
        key="outbound_attempts",
        label=("外呼拨打", "Outbound dials"),
        permission=Permission.CAMPAIGNS_WRITE,
        source=A.__table__,
        time=A.started_at,
        time_kind="instant",
        order=8,
        dimensions=(
            Dimension("campaign", ("外呼活动", "Campaign"), A.campaign_id, lookup=campaign_words),
            Dimension("agent", ("坐席", "Agent"), A.agent_id, lookup=directory.people_words),
            Dimension("outcome", ("呼叫结果", "Outcome"), A.outcome, words=OUTCOMES),
            Dimension("disposition", ("通话结果", "Disposition"), A.disposition, lookup=disposition_words),
        ),
        measures=(
            Measure("dials", ("拨打次数", "Dials"), "count", COUNTED),
            Measure("answered", ("接通数", "Answered"), "count", ANSWERED),
            Measure("answer_rate", ("接通率", "Answer rate"), "rate", ANSWERED, COUNTED),
        ),
    )
)

R = SurveyResponse
SCORED = case((R.score.is_not(None), 1), else_=0)
CHANNELS = {
    "phone": ("电话回访", "Return-visit call"),
    "ivr": ("语音满意度", "IVR after a call"),
    "sms": ("短信问卷", "SMS link"),
}

SURVEY_RESPONSES = register(
    Subject(
        key="survey_responses",
        label=("问卷调查", "Survey responses"),
        permission=Permission.AGENTS_READ,
        source=R.__table__,
        time=R.at,
        time_kind="instant",
        order=9,
        dimensions=(
            Dimension("channel", ("渠道", "Channel"), R.channel, words=CHANNELS),
            Dimension("campaign", ("外呼活动", "Campaign"), R.campaign_id, lookup=campaign_words),
            Dimension("agent", ("坐席", "Agent"), R.agent_id, lookup=directory.people_words),
            Dimension("queue", ("队列", "Queue"), R.queue, lookup=queue_titles),
            Dimension("hotel", ("酒店", "Hotel"), R.hotel),
            Dimension("route", ("线路", "Route"), R.route),
            Dimension("score", ("评分", "Score"), R.score),
        ),
        measures=(
            Measure("responses", ("答卷数", "Responses"), "count", None),
            Measure("average_score", ("平均分", "Average score"), "score", R.score, SCORED),
            Measure(
                "satisfied_rate",
                ("满意率(4分及以上)", "Satisfied (4+)"),
                "rate",
                case((R.score >= 4, 1), else_=0),
                SCORED,
            ),
        ),
    )
)
