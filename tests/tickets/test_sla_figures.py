"""The SLA board's honest numbers (issue 19): the met rate and the bar's segments come from one
classification of each ticket (sla.outcome), so the rate is always the green share of the bar's
settled part, and an emergency resolved within its two hours counts as met."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from hotline.admin.auth import actor_of
from hotline.admin.models import User
from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.tickets import commands, reports, sla
from hotline.tickets.schemas import TicketIn, TicketMoveIn
from tests.conftest import Users

CHINA = sla.Calendar.of((date.fromisoformat(d), k) for d, k, _ in sla.CHINA_2026)
AROUND = sla.Calendar(around_the_clock=True)
START = datetime(2026, 3, 2, 8, 0, tzinfo=sla.SHANGHAI)

# a ticket: whether it counts around the clock, its target, and its moves as (minutes later, state)
tickets = st.lists(
    st.tuples(
        st.booleans(),
        st.integers(min_value=10, max_value=3000),
        st.lists(
            st.tuples(
                st.integers(min_value=1, max_value=3000),
                st.sampled_from(["dispatched", "in_process", "pending", "rejected", "completed", "closed"]),
            ),
            max_size=6,
        ),
    ),
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(batch=tickets, looked=st.integers(min_value=0, max_value=20_000))
def test_given_random_tickets_the_rate_is_the_green_share_of_the_settled_part_of_the_bar(
    batch: list[tuple[bool, int, list[tuple[int, str]]]], looked: int
) -> None:
    tally = sla.Tally()
    expected = dict.fromkeys(sla.OUTCOMES, 0)
    now = START + timedelta(minutes=looked)
    for around, target, moves in batch:
        steps, at = [(START, "new")], START
        for later, status in moves:
            at += timedelta(minutes=later)
            if at < now:
                steps.append((at, status))
        calendar = AROUND if around else CHINA
        targets = sla.Targets(timedelta(minutes=5), timedelta(minutes=target))
        clock = sla.clock(calendar, targets, steps, now, None)
        kind = sla.outcome(clock)
        tally.add(kind)
        # the same facts, read the long way: where the ticket is and how much time its clock used
        done = steps[-1][1] in ("completed", "closed")
        late = sla.elapsed(calendar, steps, now) >= timedelta(minutes=target)
        if done:
            expected["breached" if late else "met"] += 1
        else:
            expected["open_overdue" if late else "open_in_time"] += 1
    assert tally.counts == expected
    assert tally.total == len(batch) == sum(tally.counts.values())  # the bar's segments fill it exactly
    red = tally.counts["breached"] + tally.counts["open_overdue"]
    if tally.counts["met"] + red == 0:
        assert tally.rate is None  # nothing settled: no rate, not 0 % and not 100 %
    else:
        assert tally.rate == tally.counts["met"] / (tally.counts["met"] + red)
        assert (tally.rate == 1.0) == (red == 0)  # 100 % only over a bar with no red in it


async def _emergency(ctx: Context, at: datetime, moves: list[tuple[int, str]]) -> None:
    async with ctx.read() as session:
        rescuer = await session.scalar(select(User).where(User.username == "rescue1"))
    assert rescuer is not None
    rescue = ctx.as_actor(actor_of(rescuer, "session"))
    sos = TicketIn(type_code="emergency", title="游客在景区走失", contact_name="王领队", phone="13700001111",
                   fields={"location": "黄山西海大峡谷", "people": 1, "injured": False})  # fmt: skip
    ticket = await commands.create(ctx, sos, now=at)
    for minutes, action in moves:
        move = TicketMoveIn(action=action, result="游客已找到" if action == "complete" else "")  # type: ignore[arg-type]
        await commands.transition(rescue, ticket.id, move, now=at + timedelta(minutes=minutes))


async def test_given_emergencies_closed_in_time_when_reading_the_board_then_they_count_as_met(
    seeded: Context, users: Users
) -> None:
    now = utcnow()
    t0 = now - timedelta(hours=5)
    await _emergency(seeded, t0, [(10, "process"), (90, "complete")])
    await _emergency(seeded, t0, [(10, "process"), (60, "complete")])
    await _emergency(seeded, t0, [(10, "process"), (200, "complete")])  # resolved after 3 h 20: late
    await _emergency(seeded, t0, [(10, "process")])  # open for 5 h: overdue
    await _emergency(seeded, now - timedelta(minutes=30), [])  # open for 30 min: still in time
    report = await reports.sla_report(seeded, days=1, now=now)
    row = next(r for r in report["by_severity"] if r["key"] == "critical")
    assert row["outcomes"] == {"met": 2, "breached": 1, "open_overdue": 1, "open_in_time": 1}
    assert row["total"] == 5 and row["decided"] == 4 and row["met_rate"] == 0.5
    assert row["breached"] == 2 and row["met"] == 2
    supervisor = await users("supervisor")
    answer = (await supervisor.get("/api/tickets/sla/report", params={"days": 1})).json()
    kind = next(r for r in answer["by_type"] if r["key"] == "emergency")
    assert sum(kind["outcomes"].values()) == kind["total"]
    assert kind["met_rate"] == round(kind["outcomes"]["met"] / kind["decided"], 4)
