"""An agent working their list (preview dialing): the next number they may call, its file and
script, the dial itself (through the contact layer, never showing the number), and the result —
how the call went, the disposition, the questionnaire's answers, and what becomes of the number.

Every dial asks `rules.decide` first with the number's attempts (every campaign's for marketing)
and do-not-call entries. A number the rules hold back gets `next_at` (when it may be called) or,
when no time will do (an opt-out, no consent), the state `blocked` with the reason."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.contact.calls import controls
from hotline.contact.calls.facts import CallOutOutcome, call_out_outcomes
from hotline.contact.local import LocalNode
from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.core.errors import Conflict, FieldProblems, InvalidInput, InvalidTransition, NotFound
from hotline.core.permissions import Permission
from hotline.outbound import campaigns, dnc, lists, surveys
from hotline.outbound.models import Attempt, Campaign, SurveyResponse, Target
from hotline.outbound.rules import (
    Attempt as PastAttempt,
)
from hotline.outbound.rules import (
    CampaignKind,
    Consent,
    Decision,
    History,
    add_months,
    decide,
)
from hotline.outbound.rules import (
    Target as Callee,
)
from hotline.outbound.schemas import (
    AttemptOut,
    AttemptResult,
    CampaignBrief,
    Check,
    Dialled,
    NextOut,
    ResultIn,
    Retry,
    SurveySendOut,
    WorkItem,
)

LOOK_BACK = timedelta(days=8)
"""Attempts older than this change no rule (a week's cap, 72 hours after an abandoned call)."""
ABANDON_BLOCK = timedelta(hours=72)
"""No redial of a number whose answered call was abandoned for this long (issue 22, China's rules)."""
CANDIDATES = 50
"""Numbers looked at per request for the next one to call (the rest wait for the next request)."""
FAILED = {
    "busy": "busy",
    "no-answer": "no_answer",
    "the agent hung up": "no_answer",
    "machine": "machine",
    "abandoned": "abandoned",  # settled by the minute job when the dialer could not write it
}
"""A call out's failure (contact's words) as an attempt's outcome; anything else is `failed`."""


# ---------------------------------------------------------------- the rules, with the number's history


async def _history(session: AsyncSession, numbers: list[str], now: datetime) -> History:
    rows = await session.execute(
        select(Attempt.phone, Attempt.started_at, Campaign.code, Attempt.kind, Attempt.outcome)
        .join(Campaign, Campaign.id == Attempt.campaign_id)
        .where(
            Attempt.phone.in_(numbers),
            Attempt.started_at > now - LOOK_BACK,
            Attempt.outcome != "agent_missed",
        )
    )
    attempts = [
        PastAttempt(phone, at, code, CampaignKind(kind), abandoned=outcome == "abandoned")
        for phone, at, code, kind, outcome in rows
    ]
    return History(attempts, await dnc.entries_for(session, numbers))


def _decide(target: Target, campaign: Campaign, history: History, now: datetime) -> Decision:
    consent = Consent(target.consent_source, target.consent_at) if target.consent_at else None
    mine = History(
        [a for a in history.attempts if a.number == target.phone],
        [d for d in history.dnc if d.number == target.phone],
    )
    return decide(Callee(target.phone, consent), campaigns.rules_of(campaign), mine, now)


PLACEHOLDER = re.compile(r"\{([^{}\s]{1,20})\}")


def fill_script(script: str, name: str, fields: dict[str, Any]) -> str:
    """The campaign's script for one number: {姓名} (or {name}) and {<a column of the list>} —
    {酒店}, {离店日期}, {意向线路} … — replaced by the number's values; a placeholder the list has no
    column for is left as written, so the agent sees what the script meant."""
    values = {"姓名": name, "name": name, **{str(k): str(v) for k, v in fields.items()}}
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)) or m.group(0), script)


def _check(decision: Decision) -> Check:
    return Check(
        allowed=decision.allowed,
        reason=decision.reason.value if decision.reason else None,
        next_allowed_at=decision.next_allowed_at,
    )


def _hold_back(target: Target, decision: Decision) -> None:
    """A number the rules hold back: due again when they allow, or blocked when never."""
    if decision.next_allowed_at is None:
        target.state, target.blocked_reason = "blocked", decision.reason.value if decision.reason else ""
    else:
        target.next_at = decision.next_allowed_at


async def numbers_to_dial(
    session: AsyncSession, campaign: Campaign, count: int, now: datetime
) -> list[Target]:
    """Up to `count` numbers of the campaign a dialer may call now (progressive and predictive
    modes: anyone's, the campaign's agents work them as a pool), oldest due first, none with a
    call still unsettled; numbers the rules hold back are moved on to when they may be called."""
    pending = select(Attempt.target_id).where(
        Attempt.campaign_id == campaign.id, Attempt.outcome == "dialing"
    )
    due = list(
        await session.scalars(
            select(Target)
            .where(
                Target.campaign_id == campaign.id,
                Target.state == "open",
                or_(Target.next_at.is_(None), Target.next_at <= now),
                Target.id.not_in(pending),
            )
            .order_by(Target.next_at.is_not(None), Target.next_at, Target.id)
            .limit(max(count, 1) * 2 + 10)
        )
    )
    history = await _history(session, [t.phone for t in due], now)
    chosen: list[Target] = []
    for target in due:
        if len(chosen) == count:
            break
        decision = _decide(target, campaign, history, now)
        if decision.allowed:
            chosen.append(target)
        else:
            _hold_back(target, decision)
    return chosen


# ---------------------------------------------------------------- what the agent sees


async def next_item(ctx: Context, campaign_id: int) -> NextOut:
    """The agent's next number: due (no `next_at` or past it), allowed by the rules now, oldest
    due first. Numbers the rules hold back are moved on to when they may be called."""
    ctx.require(Permission.CAMPAIGNS_READ)
    now, me = utcnow(), ctx.actor.user_id
    async with ctx.write() as tx:
        campaign = await campaigns.campaign_for_work(tx.session, campaign_id)
        await campaigns.check_access(ctx, tx.session, campaign_id)
        if campaign.status != "running":
            raise InvalidTransition(
                "The campaign is not running", field="campaign_id", reason="campaign-not-running"
            )
        due = list(
            await tx.session.scalars(
                select(Target)
                .where(
                    Target.campaign_id == campaign_id,
                    Target.assignee_id == me,
                    Target.state == "open",
                    or_(Target.next_at.is_(None), Target.next_at <= now),
                )
                .order_by(Target.next_at.is_not(None), Target.next_at, Target.id)
                .limit(CANDIDATES)
            )
        )
        history = await _history(tx.session, [t.phone for t in due], now)
        chosen: tuple[Target, Decision] | None = None
        for target in due:
            decision = _decide(target, campaign, history, now)
            if decision.allowed:
                chosen = (target, decision)
                break
            _hold_back(target, decision)
        if chosen is None:
            later = await tx.session.scalar(
                select(Target.next_at)
                .where(Target.campaign_id == campaign_id, Target.assignee_id == me, Target.state == "open")
                .order_by(Target.next_at.is_(None), Target.next_at)
                .limit(1)
            )
            return NextOut(item=None, next_at=later)
        target, decision = chosen
        return NextOut(item=await _item(ctx, tx.session, target, campaign, decision))


async def preview(ctx: Context, target_id: int) -> WorkItem:
    """One number as its agent (or a supervisor) sees it before dialling."""
    ctx.require(Permission.CAMPAIGNS_READ)
    async with ctx.read() as session:
        target, campaign = await _mine(ctx, session, target_id)
        history = await _history(session, [target.phone], utcnow())
        return await _item(ctx, session, target, campaign, _decide(target, campaign, history, utcnow()))


async def _item(
    ctx: Context, session: AsyncSession, target: Target, campaign: Campaign, decision: Decision
) -> WorkItem:
    attempts = await session.scalars(
        select(Attempt).where(Attempt.target_id == target.id).order_by(Attempt.started_at.desc()).limit(20)
    )
    return WorkItem(
        target=(await lists.outs(ctx, [target]))[0],
        script=fill_script(campaign.script, target.name, target.fields),
        campaign=CampaignBrief.model_validate(campaign),
        check=_check(decision),
        attempts=[AttemptOut.model_validate(a) for a in attempts],
    )


async def _mine(ctx: Context, session: AsyncSession, target_id: int) -> tuple[Target, Campaign]:
    """The number and its campaign, if the actor may work it: its agent, or anyone who runs
    campaigns; an agent of the campaign may take an unassigned one."""
    target = await session.get(Target, target_id)
    if target is not None:
        campaign = await campaigns.campaign_for_work(session, target.campaign_id)
        if ctx.actor.can(Permission.CAMPAIGNS_WRITE) or target.assignee_id == ctx.actor.user_id:
            return target, campaign
        if target.assignee_id is None:
            await campaigns.check_access(ctx, session, target.campaign_id)
            return target, campaign
    raise NotFound(
        f"No number {target_id} of yours",
        field="target_id",
        reason="no-target",
        params={"target_id": target_id},
    )


# ---------------------------------------------------------------- dialling and its result


async def dial(ctx: Context, node: LocalNode | None, target_id: int) -> Dialled:
    """Dial a number of the agent's list: the rules are asked again, the agent's phone rings,
    then the number (showing the campaign's caller ID); the attempt is recorded with the call."""
    ctx.require(Permission.CALLS_HANDLE)
    now = utcnow()
    async with ctx.write() as tx:
        target, campaign = await _mine(ctx, tx.session, target_id)
        if campaign.status != "running":
            raise InvalidTransition(
                "The campaign is not running", field="campaign_id", reason="campaign-not-running"
            )
        if target.state != "open":
            raise InvalidTransition(
                f"Number {target_id} is no longer open",
                field="target_id",
                reason="target-not-open",
                params={"target_id": target_id},
            )
        pending = await tx.session.scalar(
            select(Attempt.id).where(Attempt.target_id == target.id, Attempt.outcome == "dialing")
        )
        if pending is not None:
            raise Conflict(
                "The number's last call has no result yet", field="target_id", reason="attempt-pending"
            )
        decision = _decide(target, campaign, await _history(tx.session, [target.phone], now), now)
        if not decision.allowed:
            _hold_back(target, decision)
    if not decision.allowed:  # the number moved on is written; the dial is refused
        raise InvalidTransition(
            "China's calling rules do not allow this number now",
            field="target_id",
            reason=f"dial-{decision.reason.value if decision.reason else 'refused'}",
            next_allowed_at=decision.next_allowed_at.isoformat() if decision.next_allowed_at else None,
        )
    placed = await controls.place_call(
        ctx, node, target.phone, target.customer_id, campaign=campaign.code, caller_id=campaign.caller_id
    )
    async with ctx.write() as tx:
        attempt = Attempt(
            campaign_id=campaign.id,
            target_id=target.id,
            phone=target.phone,
            kind=campaign.kind,
            agent_id=ctx.actor.user_id,
            call_id=placed.call_id,
            started_at=now,
        )
        tx.session.add(attempt)
        row = await tx.session.get(Target, target.id)
        if row is not None and row.assignee_id is None:
            row.assignee_id, row.assigned_at = ctx.actor.user_id, now  # an unassigned number taken
        await tx.session.flush()
        return Dialled(attempt_id=attempt.id, call_id=placed.call_id)


async def send_survey(ctx: Context, target_id: int) -> SurveySendOut:
    """The agent texts the campaign's questionnaire to the number they work (the customer would
    rather answer on their phone later): one link, never a second while one is open or answered."""
    ctx.require(Permission.CALLS_HANDLE)
    async with ctx.write() as tx:
        target, campaign = await _mine(ctx, tx.session, target_id)
        await tx.session.get(Campaign, campaign.id, with_for_update=True)  # as the supervisor's send
        return await surveys.text_links(ctx, tx, campaign, [target])


async def record_result(ctx: Context, attempt_id: int, data: ResultIn) -> AttemptResult:
    """The agent's result of a call: for an answered call the disposition (and answers); for one
    that did not connect nothing is asked (the log says why). The number is closed, retried or
    put on the do-not-call list as the disposition and the retry rules say."""
    ctx.require(Permission.CALLS_HANDLE)
    async with ctx.read() as session:
        attempt = await session.get(Attempt, attempt_id)
        if attempt is None or attempt.agent_id != ctx.actor.user_id:
            raise NotFound(
                f"No call {attempt_id} of yours",
                field="attempt_id",
                reason="no-attempt",
                params={"attempt_id": attempt_id},
            )
        call_id = attempt.call_id
    outcome = (await call_out_outcomes(ctx, [call_id]))[call_id]
    if outcome.state == "ringing":
        raise Conflict("The call has not been answered yet", field="attempt_id", reason="call-still-ringing")
    async with ctx.write() as tx:
        attempt = await tx.session.get(Attempt, attempt_id)
        if attempt is None or attempt.outcome != "dialing":
            raise Conflict(
                "This call's result is written already", field="attempt_id", reason="attempt-settled"
            )
        target = await tx.session.get(Target, attempt.target_id)
        campaign = await campaigns.campaign_for_work(tx.session, attempt.campaign_id)
        if target is None:
            raise NotFound(
                "The number is gone", field="attempt_id", reason="no-target", params={"target_id": 0}
            )
        response = None
        if outcome.state == "answered":
            response = _answered(tx, campaign, target, attempt, data, ctx.actor.user_id)
        else:
            close_unanswered(campaign, target, attempt, outcome)
        attempt.note = data.note
        await tx.session.flush()
        result = AttemptResult(
            attempt=AttemptOut.model_validate(attempt), target=(await lists.outs(ctx, [target]))[0]
        )
    if response is not None:
        await surveys.on_timeline(ctx, response, campaign.name)
    return result


def _answered(
    tx: Any, campaign: Campaign, target: Target, attempt: Attempt, data: ResultIn, user_id: int | None
) -> SurveyResponse | None:
    """The agent's disposition and answers; the survey response they make, if any."""
    problems = FieldProblems()
    chosen = next((d for d in campaign.dispositions if d["code"] == data.disposition), None)
    if chosen is None:
        problems.add(
            InvalidInput("Choose how the call ended", field="body.disposition", reason="disposition-unknown")
        )
    surveys.check_answers(campaign.questionnaire, data.answers, problems, complete=False)
    if data.call_back_at is not None and chosen is not None and chosen["final"]:
        problems.add(
            InvalidInput(
                "A closed number is not called back", field="body.call_back_at", reason="call-back-closed"
            )
        )
    now = utcnow()
    if data.call_back_at is not None and not now < data.call_back_at <= now + timedelta(days=90):
        problems.add(
            InvalidInput(
                "Call back within the next 90 days", field="body.call_back_at", reason="call-back-when"
            )
        )
    problems.raise_any()
    assert chosen is not None  # noqa: S101 - raised above otherwise
    _counted(target, attempt, "answered", now)
    attempt.disposition, attempt.answers = chosen["code"], dict(data.answers)
    response = surveys.from_attempt(campaign, target, attempt)
    if response is not None:
        tx.session.add(response)
    target.disposition = chosen["code"]
    if chosen["final"]:
        target.state, target.next_at = "done", None
    else:
        target.next_at = data.call_back_at or now + timedelta(minutes=retry_of(campaign).no_answer_minutes)
    if chosen.get("refusal"):
        until = add_months(now, campaign.refusal_months)
        tx.session.add(dnc.refusal(target.phone, now, until, campaign.id, user_id))
    return response


def close_unanswered(campaign: Campaign, target: Target, attempt: Attempt, outcome: CallOutOutcome) -> None:
    """A call that did not connect: retried after the campaign's minutes, exhausted after its
    most attempts; the agent's own phone not answering is no attempt on the number."""
    now = utcnow()
    if outcome.detail.startswith("your phone"):
        attempt.outcome, attempt.ended_at = "agent_missed", now
        return
    _counted(target, attempt, FAILED.get(outcome.detail, "failed"), now)
    retry = retry_of(campaign)
    if target.attempts >= retry.max_attempts:
        target.state, target.next_at = "exhausted", None
        return
    minutes = retry.busy_minutes if attempt.outcome == "busy" else retry.no_answer_minutes
    target.next_at = now + timedelta(minutes=minutes)


def close_abandoned(campaign: Campaign, target: Target, attempt: Attempt, now: datetime) -> None:
    """A person answered a dialer's call and no agent was free within the grace time (they heard
    the message): an attempt, and the number is not dialled again for 72 hours."""
    _counted(target, attempt, "abandoned", now)
    if target.attempts >= retry_of(campaign).max_attempts:
        target.state, target.next_at = "exhausted", None
    else:
        target.next_at = now + ABANDON_BLOCK


def close_unwritten(campaign: Campaign, target: Target, attempt: Attempt, now: datetime) -> None:
    """An answered call its agent wrote no result for: kept as answered, and the number comes back
    after the campaign's minutes (the talk was not closed)."""
    _counted(target, attempt, "answered", now)
    target.next_at = now + timedelta(minutes=retry_of(campaign).no_answer_minutes)


def _counted(target: Target, attempt: Attempt, outcome: str, now: datetime) -> None:
    """One more attempt on the number, ended with `outcome`."""
    attempt.outcome, attempt.ended_at = outcome, now
    target.attempts += 1
    target.last_attempt_at, target.last_outcome = attempt.started_at, outcome


def retry_of(campaign: Campaign) -> Retry:
    """The campaign's retry rules (the schema's defaults for any it leaves out)."""
    return Retry.model_validate(campaign.retry or {})
