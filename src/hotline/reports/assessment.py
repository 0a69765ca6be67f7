"""The monthly assessment sheet (月度考核): per agent, the month's calls and conversations handled,
AHT, QA score, survey score and chat rating, and signed-in hours, each scored against the scheme's
target, weighted into a total and ranked (docs/reports.md, "Monthly assessment").

Every figure is asked of the domain that owns it — the agent report of the call statistics
(contact/stats: calls, AHT, surveys, signed-in time), the chat report's figures per agent
(notify/chat_figures.py: conversations handled, ratings) and the QA averages
(quality/reviews/figures.py) — so the sheet shows what those reports show for the same month. The
arithmetic is `reports/scoring.py` (pure); the schemes are stored per site and optionally per team.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select

from hotline.admin import directory, teams
from hotline.contact.stats import service as stats
from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.core.errors import InvalidInput
from hotline.core.jobs import is_china_workday
from hotline.core.periods import Period, period_of
from hotline.core.permissions import Permission
from hotline.notify.chat_figures import chat_figures
from hotline.quality.reviews.figures import average_scores
from hotline.reports import scoring
from hotline.reports.models import AssessmentScheme
from hotline.reports.schemas import (
    AssessmentComponentOut,
    AssessmentOut,
    AssessmentRowOut,
    AssessmentSchemeIn,
    AssessmentSchemeOut,
    AssessmentTargets,
    AssessmentWeights,
    TeamRefOut,
)

P = Permission
DEFAULT_WEIGHTS = AssessmentWeights(volume=30, handle_time=15, quality=25, satisfaction=20, attendance=10)
DEFAULT_TARGETS = AssessmentTargets(
    calls=800,
    aht_seconds=300,
    quality=Decimal("90.00"),
    satisfaction=Decimal("4.50"),
    hours_per_workday=Decimal("7.50"),
)


# ---------------------------------------------------------------- the schemes


def _out(row: AssessmentScheme | None, team_id: int | None = None) -> AssessmentSchemeOut:
    if row is None:
        return AssessmentSchemeOut(
            team_id=team_id, weights=DEFAULT_WEIGHTS, targets=DEFAULT_TARGETS, updated_at=None
        )
    return AssessmentSchemeOut(
        team_id=row.team_id,
        weights=AssessmentWeights(
            volume=row.weight_volume,
            handle_time=row.weight_handle_time,
            quality=row.weight_quality,
            satisfaction=row.weight_satisfaction,
            attendance=row.weight_attendance,
        ),
        targets=AssessmentTargets(
            calls=row.target_calls,
            aht_seconds=row.target_aht_seconds,
            quality=row.target_quality,
            satisfaction=row.target_satisfaction,
            hours_per_workday=row.target_hours_per_workday,
            conversation_weight=row.conversation_weight,
        ),
        updated_at=row.updated_at,
    )


async def scheme_for(ctx: Context, team_id: int | None) -> AssessmentSchemeOut:
    """The scheme a sheet uses: the team's own, else the site's, else the built-in default."""
    ctx.require(P.REPORTS_READ)
    async with ctx.read() as session:
        rows = {
            r.team_id: r
            for r in await session.scalars(
                select(AssessmentScheme).where(
                    AssessmentScheme.team_id.is_(None)
                    if team_id is None
                    else (AssessmentScheme.team_id == team_id) | AssessmentScheme.team_id.is_(None)
                )
            )
        }
    return _out(rows.get(team_id) or rows.get(None))


async def set_scheme(ctx: Context, data: AssessmentSchemeIn) -> AssessmentSchemeOut:
    """Check the weights sum to 100 (and the team exists), then store the site's or the team's
    scheme; the row's change is audited (assessment_schemes is `Audited`)."""
    ctx.require(P.TEAMS_WRITE)
    w = data.weights
    weight_sum = w.volume + w.handle_time + w.quality + w.satisfaction + w.attendance
    if weight_sum != 100:
        raise InvalidInput(
            f"The weights sum to {weight_sum}, not 100",
            field="weights",
            reason="assessment-weights-sum",
            params={"sum": weight_sum},
        )
    if data.team_id is not None:
        await teams.member_ids(ctx, data.team_id, field="team_id")
    async with ctx.write() as tx:
        row = await tx.session.scalar(
            select(AssessmentScheme).where(
                AssessmentScheme.team_id.is_(None)
                if data.team_id is None
                else AssessmentScheme.team_id == data.team_id
            )
        )
        if row is None:
            row = AssessmentScheme(team_id=data.team_id)
            tx.session.add(row)
        t = data.targets
        row.weight_volume, row.weight_handle_time, row.weight_quality = w.volume, w.handle_time, w.quality
        row.weight_satisfaction, row.weight_attendance = w.satisfaction, w.attendance
        row.target_calls, row.target_aht_seconds, row.target_quality = t.calls, t.aht_seconds, t.quality
        row.target_satisfaction, row.target_hours_per_workday = t.satisfaction, t.hours_per_workday
        row.conversation_weight = t.conversation_weight
        row.updated_at = utcnow()
        await tx.session.flush()
        return _out(row)


async def reset_scheme(ctx: Context, team_id: int | None) -> AssessmentSchemeOut:
    """Drop the team's own scheme (the team goes back to the site's), or the site's (back to the
    built-in weights and targets); the deletion is audited. Returns the scheme now in effect;
    nothing to drop is no error (the same answer twice)."""
    ctx.require(P.TEAMS_WRITE)
    if team_id is not None:
        await teams.member_ids(ctx, team_id, field="team_id")
    async with ctx.write() as tx:
        row = await tx.session.scalar(
            select(AssessmentScheme).where(
                AssessmentScheme.team_id.is_(None) if team_id is None else AssessmentScheme.team_id == team_id
            )
        )
        if row is not None:
            await tx.session.delete(row)
    return await scheme_for(ctx, team_id)


# ---------------------------------------------------------------- the sheet


def month_of(text: str, *, field: str = "month") -> date:
    """The first day of `YYYY-MM` (2000-01 … 2100-12)."""
    try:
        year, month = (int(part) for part in text.split("-"))
        first = date(year, month, 1)
    except ValueError:
        first = None
    if first is None or not date(2000, 1, 1) <= first <= date(2100, 12, 1) or len(text) != 7:
        raise InvalidInput(
            f"{text!r} is not a month (YYYY-MM)",
            field=field,
            reason="assessment-month-invalid",
            params={"value": text},
        )
    return first


def workdays(first: date, last: date, today: date) -> tuple[int, int]:
    """The month's working days, and those of them up to and including today."""
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    working = [d for d in days if is_china_workday(d)]
    return len(working), sum(1 for d in working if d <= today)


def _hours(seconds: float) -> float:
    return round(seconds / 3600, 2)


@dataclass(frozen=True)
class ChatWork:
    """An agent's conversations in the month, as the chat report (会话报表) counts them."""

    handled: int
    """Closed, less those the customer left before any agent wrote (`closed` − `abandoned`)"""
    rating: float | None
    """The web chat's average end rating (1–5), `rating_avg`"""
    rated: int


async def chat_work(ctx: Context, period: Period, members: set[int] | None) -> dict[int, ChatWork]:
    """Per agent, the chat report's 按坐席 rows for the period (notify/chat_figures.py): the same
    figures, not counted a second way."""
    figures = await chat_figures(ctx, period, agent_ids=members)
    return {
        int(r["key"]): ChatWork(r["closed"] - r["abandoned"], r["rating_avg"], r["rated"])
        for r in figures.rows
        if r["dimension"] == "agent"
    }


async def sheet(ctx: Context, month: str, team_id: int | None) -> AssessmentOut:
    ctx.require(P.REPORTS_READ)
    ctx.require(P.AGENTS_READ)
    first = month_of(month)
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    zone = ZoneInfo(ctx.settings.default_timezone)
    team, members = await teams.scope(ctx, team_id, field="team_id")
    scheme = await scheme_for(ctx, None if team is None else team.id)
    period = period_of(first, last, "month", zone)
    report = await stats.agent_report(ctx, period, agent_ids=members)
    chats = await chat_work(ctx, period, members)
    since = datetime.combine(first, time(0), tzinfo=zone)
    until = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone)
    qa = await average_scores(ctx, since, until, members)
    by_agent = {int(r["key"]): r for r in report.rows}
    agents = sorted(set(by_agent) | set(chats) | set(qa) | (members or set()))
    people = await directory.staff(ctx, agents)
    team_names = {a: t.name for a, t in (await teams.teams_of(ctx, agents)).items()}
    total_days, passed = workdays(first, last, utcnow().astimezone(zone).date())
    weights = scheme.weights.model_dump()
    t = scheme.targets
    targets = scoring.Targets(
        t.calls, t.aht_seconds, float(t.quality), float(t.satisfaction), float(t.hours_per_workday)
    )
    per_chat = float(t.conversation_weight)
    nothing = ChatWork(0, None, 0)
    lines: list[tuple[int, scoring.Raw, dict[str, float | None], float | None, int, int, int, ChatWork]] = []
    for agent in agents:
        row = by_agent.get(agent)
        evaluated = qa.get(agent)
        chat = chats.get(agent, nothing)
        calls = 0 if row is None else row["calls_in"] + row["connected_out"]
        surveys = 0 if row is None else row["surveys"]
        raw = scoring.Raw(
            calls=scoring.volume(calls, chat.handled, per_chat),
            aht=None if row is None else row["aht"],
            quality=None if evaluated is None else float(evaluated[1]),
            satisfaction=scoring.blended(
                None if row is None else row["survey_score"], surveys, chat.rating, chat.rated
            ),
            hours=0.0 if row is None else _hours(row["signed_in"]),
        )
        component = scoring.scores(raw, targets, workdays=total_days, passed=passed)
        evaluations = 0 if evaluated is None else evaluated[0]
        lines.append(
            (agent, raw, component, scoring.total(component, weights), evaluations, surveys, calls, chat)
        )
    places = scoring.ranks([line[3] for line in lines])
    rows = [
        AssessmentRowOut(
            agent_id=agent,
            name=people[agent].label if agent in people else str(agent),
            team=team_names.get(agent),
            volume=AssessmentComponentOut(raw=raw.calls, score=component["volume"]),
            handle_time=AssessmentComponentOut(raw=raw.aht, score=component["handle_time"]),
            quality=AssessmentComponentOut(raw=raw.quality, score=component["quality"]),
            satisfaction=AssessmentComponentOut(raw=raw.satisfaction, score=component["satisfaction"]),
            attendance=AssessmentComponentOut(raw=raw.hours, score=component["attendance"]),
            evaluations=evaluations,
            surveys=surveys,
            calls=calls,
            conversations=chat.handled,
            chat_rating=chat.rating,
            chat_ratings=chat.rated,
            total=total,
            rank=place,
            rescaled=scoring.rescaled(component, weights),
        )
        for (agent, raw, component, total, evaluations, surveys, calls, chat), place in zip(
            lines, places, strict=True
        )
    ]
    rows.sort(key=lambda r: (r.rank is None, r.rank or 0, r.name))
    return AssessmentOut(
        month=first.strftime("%Y-%m"),
        start=first,
        end=last,
        timezone=ctx.settings.default_timezone,
        team=None if team is None else TeamRefOut(id=team.id, name=team.name),
        scheme=scheme,
        workdays=total_days,
        workdays_passed=passed,
        rows=rows,
    )
