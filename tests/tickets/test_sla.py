"""SLA timers on China's calendar (S4), with a clock: across a weekend, the Spring Festival and its
make-up workday; paused while pending; a warning before the breach and one escalation on it.
Property tests: business time is additive, never more than wall time, skips holidays, and paused
time never counts."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from hotline.core.context import Context
from hotline.notify.models import StaffNotice
from hotline.tickets import commands, deadlines, queries, sla
from hotline.tickets.models import TicketStep
from hotline.tickets.schemas import TicketIn, TicketMoveIn
from tests.conftest import Users
from tests.tickets.conftest import unit_ids, user_ids

SH = sla.SHANGHAI
CHINA = sla.Calendar.of((date.fromisoformat(d), k) for d, k, _ in sla.CHINA_2026)


def at(day: str, hhmm: str) -> datetime:
    hour, minute = (int(x) for x in hhmm.split(":"))
    return datetime.combine(date.fromisoformat(day), time(hour, minute), tzinfo=SH)


def test_business_time_skips_the_weekend_and_the_spring_festival_but_counts_its_make_up_saturday() -> None:
    # Friday 13 Feb 17:00 → Saturday 14 Feb is a make-up workday; 15–23 Feb are the holiday
    assert CHINA.between(at("2026-02-13", "17:00"), at("2026-02-14", "18:00")) == timedelta(hours=10)
    assert CHINA.between(at("2026-02-14", "18:00"), at("2026-02-24", "09:00")) == timedelta(0)
    assert CHINA.add(at("2026-02-13", "17:00"), timedelta(hours=9)) == at("2026-02-14", "17:00")
    assert CHINA.add(at("2026-02-13", "17:00"), timedelta(hours=11)) == at("2026-02-24", "10:00")
    # an ordinary weekend: Friday 16:00 + 4 working hours = Monday 11:00
    assert CHINA.add(at("2026-03-06", "16:00"), timedelta(hours=4)) == at("2026-03-09", "11:00")
    assert CHINA.is_workday(date(2026, 10, 10)) and not CHINA.is_workday(date(2026, 10, 5))


async def test_the_clock_pauses_while_pending_warns_once_and_escalates_once(
    seeded: Context, users: Users
) -> None:
    units, people = await unit_ids(seeded), await user_ids(seeded)
    system = seeded
    created = at("2026-02-13", "17:00")  # a high work order: 540 working minutes to resolve
    ticket = await commands.create(system, TicketIn(
        type_code="work_order", title="门锁无法打开", severity="high",
        fields={"device_type": "门锁", "requirement_type": "维修", "appointment": "2026-02-14T10:00:00+08:00"},  # noqa: E501
    ), now=created)  # fmt: skip
    await commands.transition(system, ticket.id, TicketMoveIn(action="dispatch", unit_id=units["workarea-a"],
                                                             assignee_id=people["dept1"]), now=created)  # fmt: skip  # noqa: E501
    agent = await users("agent1")
    timer = (await agent.get(f"/api/tickets/{ticket.id}")).json()["sla"]
    assert timer["resolve_target_minutes"] == 540 and timer["business_hours"] is True

    detail = await queries.get(system, ticket.id, now=at("2026-02-14", "12:00"))
    assert detail.sla is not None and detail.sla.resolve_used_minutes == 60 + 180 and detail.sla.state == "ok"
    assert detail.sla.due_at == at("2026-02-14", "17:00")  # 60 min Friday + 480 on the make-up Saturday

    # pending over the holiday: the clock stops; paused time never counts
    await commands.transition(
        system, ticket.id, TicketMoveIn(action="process"), now=at("2026-02-14", "12:00")
    )
    await commands.transition(system, ticket.id, TicketMoveIn(action="pend", note="等客人回酒店"),
                             now=at("2026-02-14", "12:30"))  # fmt: skip
    paused = await queries.get(system, ticket.id, now=at("2026-02-25", "12:00"))
    assert paused.sla is not None and paused.sla.paused and paused.sla.resolve_used_minutes == 270
    assert (await deadlines.sla_sweep(system, now=at("2026-02-25", "12:00"))) == {"warned": 0, "breached": 0,
                                                                                 "response": 0}  # fmt: skip
    await commands.transition(system, ticket.id, TicketMoveIn(action="resume"), now=at("2026-02-25", "12:00"))

    # 80 % (432 min) used at 14:42 on the 25th: one warning; 540 used at 16:30: one escalation
    assert (await deadlines.sla_sweep(system, now=at("2026-02-25", "14:00")))["warned"] == 0
    assert (await deadlines.sla_sweep(system, now=at("2026-02-25", "14:45")))["warned"] == 1
    assert (await deadlines.sla_sweep(system, now=at("2026-02-25", "15:00")))["warned"] == 0
    assert (await deadlines.sla_sweep(system, now=at("2026-02-25", "16:31")))["breached"] == 1
    assert (await deadlines.sla_sweep(system, now=at("2026-02-26", "10:00")))["breached"] == 0
    async with seeded.read() as session:
        escalations = await session.scalar(select(func.count(TicketStep.id)).where(
            TicketStep.ticket_id == ticket.id, TicketStep.action == "escalate"))  # fmt: skip
        notices = (
            await session.scalars(select(StaffNotice.title).where(StaffNotice.user_id == people["teamlead"]))
        ).all()
    assert escalations == 1
    assert sum("工单升级" in n for n in notices) == 1  # work area A's lead, once
    breached = (await agent.get("/api/tickets", params={"sla": "breached"})).json()["items"]
    assert ticket.number in [t["number"] for t in breached]
    report = (await agent.get("/api/tickets/sla/report", params={"days": 366})).json()
    assert any(row["key"] == "work_order" and row["total"] >= 1 for row in report["by_type"])


moments = st.datetimes(
    min_value=datetime(2026, 1, 1),
    max_value=datetime(2026, 12, 31),
    timezones=st.just(SH),
)


@settings(max_examples=200, deadline=None)
@given(a=moments, b=moments, c=moments)
def test_business_time_is_additive_and_never_more_than_wall_time(
    a: datetime, b: datetime, c: datetime
) -> None:
    a, b, c = sorted((a, b, c))
    assert CHINA.between(a, c) == CHINA.between(a, b) + CHINA.between(b, c)
    assert timedelta(0) <= CHINA.between(a, c) <= c - a


@settings(max_examples=200, deadline=None)
@given(start=moments, minutes=st.integers(min_value=0, max_value=60 * 24 * 20))
def test_adding_business_time_is_the_inverse_of_measuring_it(start: datetime, minutes: int) -> None:
    end = CHINA.add(start, timedelta(minutes=minutes))
    assert CHINA.between(start, end) == timedelta(minutes=minutes)


@settings(max_examples=100, deadline=None)
@given(day=st.sampled_from(sorted(CHINA.holidays)), hour=st.integers(0, 23))
def test_holidays_count_nothing(day: date, hour: int) -> None:
    start = datetime.combine(day, time(hour), tzinfo=SH)
    assert CHINA.between(start, datetime.combine(day, time(23, 59), tzinfo=SH)) == timedelta(0)


@settings(max_examples=200, deadline=None)
@given(
    times=st.lists(moments, min_size=4, max_size=4, unique=True),
    after=st.sampled_from(["completed", "in_process"]),
)
def test_paused_time_never_counts(times: list[datetime], after: str) -> None:
    created, paused, resumed, now = sorted(times)
    steps = [(created, "new"), (paused, "pending"), (resumed, "in_process")]
    with_pause = sla.elapsed(CHINA, steps, now)
    assert with_pause == CHINA.between(created, now) - CHINA.between(paused, resumed)
    never_paused = sla.elapsed(CHINA, [(created, "new")], now)
    assert with_pause <= never_paused
