"""Surveys (SPEC B4; docs/outbound.md, "Surveys"): one store of answers, however given.

- **phone**: the agent asks a campaign's questionnaire on a return visit; its answers are kept with
  the attempt and here (`from_attempt`, in the result's transaction);
- **ivr**: the post-call survey node's key (1–5), collected from the call's log every minute
  (`collect_ivr`) with the agent who served the call, the queue, and the hotel or route asked
  about in the IVR;
- **sms**: a one-time link to a mobile page, no sign-in, until it expires (`send_links`,
  `open_link`, `answer_link`); only the token's hash is stored.

Each response names the agent, queue, hotel and route it is about, goes on the customer's
timeline, and is what the surveys report reads (`survey_figures`) — so a return-visit score and an
IVR key count the same way.
"""

from __future__ import annotations

import hashlib
import secrets
from collections import Counter
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, func, select, update
from sqlalchemy.exc import IntegrityError

from hotline.admin import directory
from hotline.contact.callbacks import queue_titles
from hotline.contact.calls import records
from hotline.core import topics
from hotline.core.clock import as_utc, utcnow
from hotline.core.context import Actor, Context
from hotline.core.errors import Conflict, FieldProblems, Gone, InvalidInput, InvalidTransition, NotFound
from hotline.core.jobs import job_handler
from hotline.core.periods import Figures, Period, Series
from hotline.core.permissions import Permission
from hotline.crm import timeline
from hotline.crm.directory import cards_by_phone
from hotline.notify.outbox import enqueue, valid_recipient
from hotline.notify.templates import live
from hotline.outbound.events import SurveyInvite
from hotline.outbound.models import Attempt, Campaign, SurveyLink, SurveyResponse, Target
from hotline.outbound.report_subjects import CHANNELS
from hotline.outbound.schemas import (
    MAX_LINKS,
    PublicSurvey,
    QuestionResult,
    SurveyAnswerIn,
    SurveyResults,
    SurveySendIn,
    SurveySendOut,
)

TEMPLATE = "survey.invite.sms"
IVR_DAYS = 2
"""How far back the minute's collection looks for IVR scores not yet stored (after a pause)."""
IVR_OVERLAP = timedelta(minutes=10)
"""Read again before the newest key stored: log lines a node commits a little late are not missed."""
TALLIED = 10_000
"""A campaign's results per question read its latest answers up to this many (the counts of
responses per channel are exact): a request never decodes an unbounded list on the event loop."""
SURVEY_NAMES = ("surveys", "score_sum", "scored")
SURVEY_RATES = {"average_score": ("score_sum", "scored")}


def score_of(questions: list[dict[str, Any]], answers: dict[str, Any]) -> int | None:
    """The first score question's answer (1–5): what reports average."""
    for question in questions:
        value = answers.get(question["key"])
        if question["type"] == "score" and isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def about(fields: dict[str, Any]) -> tuple[str, str]:
    """The hotel and the route a list's row is about, from the columns a source gives it."""
    hotel = fields.get("酒店名称") or fields.get("酒店") or ""
    route = fields.get("线路名称") or fields.get("线路") or ""
    return str(hotel)[:80], str(route)[:80]


def check_answers(
    questions: list[dict[str, Any]], answers: dict[str, Any], problems: FieldProblems, *, complete: bool
) -> None:
    """Each answer fits its question; the required ones are answered when any is (an agent's call
    that skipped the questionnaire) or always (`complete`: the mobile page)."""
    asked = {q["key"]: q for q in questions}
    for key, value in answers.items():
        question = asked.get(key)
        choices = question.get("choices", []) if question else []
        fits = {
            "score": isinstance(value, int) and not isinstance(value, bool),
            "yes_no": isinstance(value, bool),
            "text": isinstance(value, str),
            "choice": isinstance(value, str) and value in choices,
            "choices": isinstance(value, list)
            and len(set(value)) == len(value)
            and all(v in choices for v in value),
        }.get(question["type"] if question else "", False)
        if not fits:
            problems.add(
                InvalidInput(
                    f"Not an answer to question {key}",
                    field=f"body.answers.{key}",
                    reason="answer-does-not-fit",
                )
            )
    if answers or complete:
        for key, question in asked.items():
            if question.get("required", True) and answers.get(key) in (None, ""):
                problems.add(
                    InvalidInput(
                        f"Question {key} needs an answer",
                        field=f"body.answers.{key}",
                        reason="answer-required",
                    )
                )


def from_attempt(campaign: Campaign, target: Target, attempt: Attempt) -> SurveyResponse | None:
    """The response an agent's return visit gave (None when nothing was asked)."""
    if not attempt.answers:
        return None
    hotel, route = about(target.fields or {})
    return SurveyResponse(
        source=f"attempt:{attempt.id}", channel="phone", campaign_id=campaign.id,
        customer_id=target.customer_id, agent_id=attempt.agent_id, call_id=attempt.call_id,
        hotel=hotel, route=route, score=score_of(campaign.questionnaire, attempt.answers),
        answers=dict(attempt.answers),
    )  # fmt: skip


async def on_timeline(ctx: Context, response: SurveyResponse, survey: str) -> None:
    """The response on the customer's file: the channel, the survey, the score."""
    if response.customer_id is None:
        return
    scored = f"，评分 {response.score}/5" if response.score is not None else ""
    await timeline.add(
        ctx.as_actor(Actor.system("outbound")), response.customer_id, "survey",
        f"{CHANNELS[response.channel][0]}：{survey}{scored}", ref=f"survey:{response.id}",
        detail=_words(response.answers), at=response.at, by=response.agent_id,
    )  # fmt: skip


def _words(answers: dict[str, Any]) -> str:
    def word(value: Any) -> str:
        if isinstance(value, bool):
            return "是" if value else "否"
        if isinstance(value, list):
            return "、".join(map(str, value))
        return str(value)

    return "；".join(word(v) for v in answers.values() if v not in (None, ""))[:1000]


# ------------------------------------------------------------------ by SMS link


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link_url(ctx: Context, token: str) -> str:
    base = ctx.settings.public_url or f"http://{ctx.settings.host}:{ctx.settings.port}"
    return f"{base.rstrip('/')}/s/{token}"


async def send_links(ctx: Context, campaign_id: int, data: SurveySendIn) -> SurveySendOut:
    """Text the campaign's questionnaire to its numbers (or those chosen): one link each, one SMS
    each; a number with a link still open or answered is skipped, so sending again never sends twice."""
    ctx.require(Permission.CAMPAIGNS_WRITE)
    async with ctx.write() as tx:
        # the campaign's row locked: two supervisors sending at once never text a number twice
        campaign = await tx.session.get(Campaign, campaign_id, with_for_update=True)
        if campaign is None:
            raise NotFound(
                f"No campaign {campaign_id}", field="campaign_id", reason="no-campaign",
                params={"campaign_id": campaign_id},
            )  # fmt: skip
        query = select(Target).where(Target.campaign_id == campaign_id, Target.state.in_(("open", "done")))
        if data.target_ids is not None:
            query = query.where(Target.id.in_(data.target_ids))
        targets = (await tx.session.scalars(query.order_by(Target.id).limit(MAX_LINKS + 1))).all()
        if len(targets) > MAX_LINKS:
            raise InvalidInput(
                f"At most {MAX_LINKS} numbers at once", field="body.target_ids", reason="too-many-links",
                params={"most": MAX_LINKS},
            )  # fmt: skip
        return await text_links(ctx, tx, campaign, list(targets))


async def text_links(ctx: Context, tx: Any, campaign: Campaign, targets: list[Target]) -> SurveySendOut:
    """In the caller's transaction (the campaign's row locked by it): a link and an SMS for each of
    the numbers that has no link open or answered."""
    now = utcnow()
    days = ctx.settings.survey_link_days
    if campaign.status == "closed":
        raise InvalidTransition("The campaign is closed", field="campaign_id", reason="campaign-closed")
    if not campaign.questionnaire:
        raise InvalidInput(
            "The campaign has no questionnaire", field="campaign_id", reason="campaign-no-questionnaire"
        )
    template = await live(tx.session, TEMPLATE)
    if template is None:
        raise InvalidInput(
            f"No live template {TEMPLATE}", field="campaign_id", reason="no-live-template",
            params={"template_code": TEMPLATE},
        )  # fmt: skip
    taken = set(
        await tx.session.scalars(
            select(SurveyLink.target_id).where(
                SurveyLink.campaign_id == campaign.id,
                SurveyLink.target_id.in_([t.id for t in targets]),
                (SurveyLink.answered_at.is_not(None)) | (SurveyLink.expires_at > now),
            )
        )
    )
    sent = skipped = 0
    for target in targets:
        if target.id in taken or not valid_recipient("sms", target.phone):
            skipped += 1
            continue
        token = secrets.token_urlsafe(18)
        hotel, route = about(target.fields or {})
        link = SurveyLink(
            token_hash=_hash(token), campaign_id=campaign.id, target_id=target.id, phone=target.phone,
            customer_id=target.customer_id, agent_id=target.assignee_id or ctx.actor.user_id, hotel=hotel,
            route=route, created_at=now, created_by=ctx.actor.user_id, expires_at=now + timedelta(days=days),
        )  # fmt: skip
        tx.session.add(link)
        await tx.session.flush()
        invite = SurveyInvite(
            ref=f"survey:{campaign.code}", customer_id=target.customer_id, phone=target.phone,
            customer_name=target.name, survey=campaign.name, company=ctx.settings.company_name,
            link=link_url(ctx, token), days=days,
        )  # fmt: skip
        await enqueue(
            tx.session, key=f"survey-link:{link.id}", template=template, values=invite.model_dump(),
            recipient=target.phone, customer_id=target.customer_id, ref=invite.ref,
            created_by=ctx.actor.user_id, now=now,
        )  # fmt: skip
        sent += 1
    tx.audit("outbound.survey_links_sent", "campaign", campaign.id, after={"sent": sent, "skipped": skipped})
    return SurveySendOut(sent=sent, skipped=skipped, expires_at=now + timedelta(days=days))


async def _link(ctx: Context, token: str) -> tuple[SurveyLink, Campaign]:
    async with ctx.read() as session:
        found = (
            await session.execute(
                select(SurveyLink, Campaign)
                .join(Campaign, Campaign.id == SurveyLink.campaign_id)
                .where(SurveyLink.token_hash == _hash(token))
            )
        ).first()
    if found is None:
        raise NotFound("No such survey", field="token", reason="survey-link-unknown")
    link, campaign = found
    if link.answered_at is not None:
        raise Conflict("This survey was answered already", field="token", reason="survey-link-answered")
    if as_utc(link.expires_at) <= utcnow():
        raise Gone("This survey has expired", field="token", reason="survey-link-expired")
    return link, campaign


async def open_link(ctx: Context, token: str) -> PublicSurvey:
    """The mobile page's survey: who asks, its questions, until when (no personal data)."""
    link, campaign = await _link(ctx, token)
    return PublicSurvey(
        company=ctx.settings.company_name, title=campaign.name, questions=campaign.questionnaire,
        expires_at=as_utc(link.expires_at),
    )  # fmt: skip


async def answer_link(ctx: Context, token: str, data: SurveyAnswerIn) -> None:
    """The mobile page's answers: checked all at once, stored once (a second submit is refused)."""
    link, campaign = await _link(ctx, token)
    problems = FieldProblems()
    check_answers(campaign.questionnaire, data.answers, problems, complete=True)
    problems.raise_any()
    now = utcnow()
    async with ctx.write() as tx:
        claimed = await tx.session.execute(
            update(SurveyLink)
            .where(SurveyLink.id == link.id, SurveyLink.answered_at.is_(None), SurveyLink.expires_at > now)
            .values(answered_at=now)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]  # answered in another tab meanwhile
            raise Conflict("This survey was answered already", field="token", reason="survey-link-answered")
        response = SurveyResponse(
            source=f"link:{link.id}", at=now, channel="sms", campaign_id=campaign.id,
            customer_id=link.customer_id, agent_id=link.agent_id, hotel=link.hotel, route=link.route,
            score=score_of(campaign.questionnaire, data.answers), answers=dict(data.answers),
        )  # fmt: skip
        tx.session.add(response)
        await tx.session.flush()
        tx.audit("outbound.survey_answered", "survey_link", link.id, after={"response": response.id})
    await on_timeline(ctx, response, campaign.name)


# ------------------------------------------------------------------ the IVR's post-call survey


async def collect_ivr(ctx: Context) -> int:
    """IVR survey keys of the last days not stored yet, as responses: the agent who served the
    call, its queue, the caller's file, and the hotel or route the caller asked about."""
    since = utcnow() - timedelta(days=IVR_DAYS)
    async with ctx.read() as session:
        newest = await session.scalar(
            select(func.max(SurveyResponse.at)).where(SurveyResponse.channel == "ivr")
        )
    if newest is not None:  # each minute reads minutes of the log, not days
        since = max(since, as_utc(newest) - IVR_OVERLAP)
    keys = await records.survey_keys(ctx, since=since)
    async with ctx.read() as session:
        have = set(
            await session.scalars(
                select(SurveyResponse.source).where(
                    SurveyResponse.channel == "ivr", SurveyResponse.at >= since
                )
            )
        )
        new = [k for k in keys if f"ivr:{k.line_id}" not in have]
        cards = await cards_by_phone(session, {k.caller for k in new if k.caller})
    names = await topics.subject_names(ctx, {a for k in new for a in k.asked})
    made = 0
    for key in new:
        card = cards.get(key.caller)
        hotel = next((names.get(a, a[6:]) for a in key.asked if a.startswith("hotel:")), "")
        route = next((names.get(a, a[6:]) for a in key.asked if a.startswith("route:")), "")
        response = SurveyResponse(
            source=f"ivr:{key.line_id}", at=as_utc(key.at), channel="ivr",
            customer_id=card.id if card else None,
            agent_id=key.agent_id, call_id=key.call_id, queue=key.queue, hotel=hotel[:80], route=route[:80],
            score=key.score, answers={"score": key.score},
        )  # fmt: skip
        try:
            async with ctx.write() as tx:
                tx.session.add(response)
            made += 1
        except IntegrityError:  # another node stored it meanwhile
            continue
        await on_timeline(ctx, response, "通话后满意度评价")
    return made


@job_handler("outbound.surveys")
async def collect(ctx: Context, payload: dict[str, Any]) -> None:
    await collect_ivr(ctx)


# ------------------------------------------------------------------ results and reports


async def results(ctx: Context, campaign_id: int) -> SurveyResults:
    """A campaign's answers per question — the count, the average score, each choice's count, the
    latest words — and its links sent, answered and expired."""
    ctx.require(Permission.CAMPAIGNS_READ)
    async with ctx.read() as session:
        campaign = await session.get(Campaign, campaign_id)
        if campaign is None:
            raise NotFound(
                f"No campaign {campaign_id}", field="campaign_id", reason="no-campaign",
                params={"campaign_id": campaign_id},
            )  # fmt: skip
        by_channel = {
            str(channel): int(n)
            for channel, n in await session.execute(
                select(SurveyResponse.channel, func.count())
                .where(SurveyResponse.campaign_id == campaign_id)
                .group_by(SurveyResponse.channel)
            )
        }
        rows = (
            await session.scalars(
                select(SurveyResponse.answers)
                .where(SurveyResponse.campaign_id == campaign_id)
                .order_by(SurveyResponse.at.desc())
                .limit(TALLIED)
            )
        ).all()
        links = (
            await session.execute(
                select(
                    func.count(),
                    func.count(SurveyLink.answered_at),
                    func.sum(
                        case(
                            (SurveyLink.answered_at.is_(None) & (SurveyLink.expires_at <= utcnow()), 1),
                            else_=0,
                        )
                    ),
                ).where(SurveyLink.campaign_id == campaign_id)
            )
        ).one()
    questions = []
    for question in campaign.questionnaire:
        given = [a[question["key"]] for a in rows if a.get(question["key"]) not in (None, "")]
        counts: Counter[str] = Counter()
        for value in given:
            for one in value if isinstance(value, list) else [value]:
                counts["是" if one is True else "否" if one is False else str(one)] += 1
        scores = [v for v in given if isinstance(v, int) and not isinstance(v, bool)]
        questions.append(
            QuestionResult(
                key=question["key"], text=question["text"], type=question["type"], answered=len(given),
                average=round(sum(scores) / len(scores), 2) if scores else None,
                counts=dict(counts) if question["type"] != "text" else {},
                texts=[str(v) for v in given[:20]] if question["type"] == "text" else [],
            )
        )  # fmt: skip
    return SurveyResults(
        responses=sum(by_channel.values()), by_channel=by_channel, links_sent=links[0] or 0,
        links_answered=links[1] or 0, links_expired=int(links[2] or 0), questions=questions,
    )  # fmt: skip


async def survey_figures(ctx: Context, period: Period, *, agent_ids: set[int] | None = None) -> Figures:
    """Responses per bucket, and per agent, queue, hotel, route and channel (the surveys report)."""
    ctx.require(Permission.REPORTS_READ)
    mine: list[ColumnElement[bool]] = [] if agent_ids is None else [SurveyResponse.agent_id.in_(agent_ids)]
    async with ctx.read() as session:
        rows = (
            await session.execute(
                select(
                    SurveyResponse.at, SurveyResponse.score, SurveyResponse.agent_id, SurveyResponse.queue,
                    SurveyResponse.hotel, SurveyResponse.route, SurveyResponse.channel,
                ).where(SurveyResponse.at >= period.since, SurveyResponse.at < period.until, *mine)
            )
        ).all()  # fmt: skip
        titles = await queue_titles(session)
    names = {
        p.id: p.label for p in (await directory.staff(ctx, {r.agent_id for r in rows if r.agent_id})).values()
    }
    series = Series(period, SURVEY_NAMES)
    table: dict[tuple[str, str], dict[str, int]] = {}
    for row in rows:
        measures = {"surveys": 1, "scored": int(row.score is not None), "score_sum": row.score or 0}
        for name, value in measures.items():
            series.add(as_utc(row.at), name, value)
        keys = (
            ("agent", str(row.agent_id or "")), ("queue", row.queue), ("stay_hotel", row.hotel),
            ("trip_route", row.route), ("channel", row.channel),
        )  # fmt: skip
        for dimension, key in keys:
            if not key and dimension in ("stay_hotel", "trip_route"):
                continue
            line = table.setdefault((dimension, key), dict.fromkeys(SURVEY_NAMES, 0))
            for name, value in measures.items():
                line[name] += value

    def label(dimension: str, key: str) -> str:
        if dimension == "agent":
            return names.get(int(key), key) if key else "—"
        if dimension == "queue":
            return titles.get(key, key) or "—"
        if dimension == "channel":
            return CHANNELS[key][0] if key in CHANNELS else key
        return key

    figures = Figures(series, rates=SURVEY_RATES)
    figures.rows = [
        figures.with_rates({"key": f"{d}:{k}", "dimension": d, "label": label(d, k), **line})
        for (d, k), line in sorted(table.items(), key=lambda kv: (kv[0][0], -kv[1]["surveys"]))
    ]
    return figures
