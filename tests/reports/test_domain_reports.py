"""The domain reports (tickets, bookings, orders, messages, surveys) against a small hand-made
dataset in March 2025 (the demo data lives in the present, so nothing of it falls in there)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select

from hotline.admin.models import User
from hotline.contact.models import ContactEvent
from hotline.core.context import Context
from hotline.hotels.models import RatePlan, Reservation, RoomType
from hotline.notify.models import Message
from hotline.outbound.models import SurveyResponse
from hotline.tickets.models import Ticket, TicketStep, TicketType
from hotline.travel.models import Order
from tests.conftest import Users, assert_problem

SH = ZoneInfo("Asia/Shanghai")


def at(day: int, hour: int, month: int = 3, year: int = 2025) -> datetime:
    """A wall-clock time in Shanghai, as the UTC instant the database keeps."""
    return datetime(year, month, day, hour, tzinfo=SH).astimezone(UTC)


async def _ids(ctx: Context) -> dict[str, int]:
    async with ctx.read() as session:
        return {str(u): int(i) for u, i in await session.execute(select(User.username, User.id))}


@pytest.fixture
async def dataset(seeded: Context) -> dict[str, int]:
    ids = await _ids(seeded)
    a1, a4 = ids["agent1"], ids["agent4"]
    async with seeded.write() as tx:
        s = tx.session
        plan = await s.scalar(select(RatePlan).limit(1))
        assert plan is not None
        room = await s.scalar(select(RoomType).where(RoomType.hotel_id == plan.hotel_id).limit(1))
        assert room is not None
        kind = await s.scalar(select(TicketType).limit(1))
        assert kind is not None

        def booking(
            n: int, when: datetime, by: int, total: str, *, status: str = "confirmed", **kw: object
        ) -> None:
            s.add(
                Reservation(
                    number=f"R9{n:05d}",
                    hotel_id=plan.hotel_id,
                    room_type_id=room.id,
                    rate_plan_id=plan.id,
                    guest_name="测试",
                    guest_phone="13900000000",
                    rooms=1,
                    guests=1,
                    arrival=when.date() + timedelta(days=10),
                    departure=when.date() + timedelta(days=11),
                    hold_until=when + timedelta(days=10),
                    status=status,
                    nights=[],
                    total=Decimal(total),
                    created_at=when,
                    created_by=by,
                    **kw,
                )
            )

        # March 2025: three bookings by agent1 (one on a call, one cancelled), one web booking by agent4
        booking(1, at(3, 10), a1, "500.00", call_id="c1", source="phone")
        booking(2, at(3, 11), a1, "300.00", status="cancelled", source="phone")
        booking(3, at(10, 9), a1, "250.50", source="phone", call_id="c2")
        booking(4, at(12, 20), a4, "1000.00", source="web")
        # March 2024 (the year before): one
        booking(5, at(5, 10, year=2024), a1, "100.00")

        for n, (call, who, when) in enumerate(
            [("c1", a1, at(3, 9)), ("c2", a1, at(10, 8)), ("c3", a4, at(12, 9))]
        ):
            s.add(ContactEvent(at=when - timedelta(minutes=1), kind="arrived", call_id=call, queue="hotel"))
            s.add(ContactEvent(at=when, kind="answered", call_id=call, agent_id=who, queue="hotel"))
            # a transfer: the same call answered again counts once
            if n == 0:
                s.add(
                    ContactEvent(at=when + timedelta(minutes=2), kind="answered", call_id=call, agent_id=a4)
                )
        # post-call survey keys as the minute's collection stores them (one store with the return
        # visits' and SMS links' answers), and a phone return visit about a hotel without a score
        for n, (call, who, when, score) in enumerate(
            [("c1", a1, at(3, 9), 5), ("c2", a1, at(10, 8), 3), ("c3", a4, at(12, 9), 4)]
        ):
            s.add(
                SurveyResponse(
                    source=f"ivr:{n}", at=when + timedelta(minutes=5), channel="ivr", call_id=call,
                    agent_id=who, queue="hotel", score=score, answers={"score": score},
                )
            )  # fmt: skip
        s.add(SurveyResponse(source="attempt:1", at=at(12, 11), channel="phone", agent_id=a4,
                             hotel="杭州西湖店", answers={"again": True}))  # fmt: skip

        def order(
            n: int,
            when: datetime,
            by: int,
            *,
            state: str = "enquiry",
            signed: datetime | None = None,
            receivable: str = "0",
            received: str = "0",
            **kw: object,
        ) -> None:
            s.add(
                Order(
                    number=f"T9{n:05d}",
                    kind="domestic",
                    state=state,
                    contact_name="测试",
                    contact_phone="13900000000",
                    creator_id=by,
                    created_at=when,
                    signed_at=signed,
                    receivable=Decimal(receivable),
                    received=Decimal(received),
                    **kw,
                )
            )

        order(
            1,
            at(4, 10),
            a1,
            state="signed",
            signed=at(6, 10),
            receivable="8000",
            received="2000",
            call_id="c1",
        )
        order(2, at(5, 10), a4, state="void", source="web")
        order(
            3, at(20, 10, month=2), a1, state="signed", signed=at(2, 10), receivable="1200", received="1200"
        )

        def ticket(
            n: int,
            when: datetime,
            by: int,
            *,
            completed: datetime | None = None,
            closed: datetime | None = None,
            status: str = "new",
        ) -> Ticket:
            t = Ticket(
                number=f"K9{n:05d}",
                type_id=kind.id,
                title="测试",
                status=status,
                created_at=when,
                created_by=by,
                completed_at=completed,
                closed_at=closed,
            )
            s.add(t)
            return t

        t1 = ticket(1, at(3, 10), a1, completed=at(3, 12), status="completed")  # an hour's work: met
        t2 = ticket(2, at(3, 11), a4, completed=at(25, 12), status="completed")  # three weeks: breached
        t3 = ticket(
            3, at(20, 10, month=2), a1, closed=at(5, 9), status="dispatched"
        )  # reopened after closing
        await s.flush()
        for t, steps in (
            (t1, [("create", "", "new", at(3, 10)), ("complete", "new", "completed", at(3, 12))]),
            (t2, [("create", "", "new", at(3, 11)), ("complete", "new", "completed", at(25, 12))]),
            (t3, [("close", "audited", "closed", at(5, 9)), ("reopen", "closed", "dispatched", at(6, 9))]),
        ):
            for action, before, after, when in steps:
                s.add(TicketStep(ticket_id=t.id, action=action, before=before, after=after, at=when, by=a1))

        def message(
            n: int, when: datetime, code: str, status: str, *, reason: str = "", by: int | None = None
        ) -> None:
            s.add(
                Message(
                    key=f"test-{n}",
                    channel="sms",
                    recipient="13900000000",
                    template_code=code,
                    template_version=1,
                    purpose="service",
                    body="…",
                    status=status,
                    reason=reason,
                    created_at=when,
                    created_by=by,
                    sent_at=when if status in ("sent", "delivered") else None,
                    delivered_at=when if status == "delivered" else None,
                )
            )

        message(1, at(3, 10), "booking_confirmed", "delivered", by=a1)
        message(2, at(3, 11), "booking_confirmed", "sent", by=a4)
        message(3, at(4, 10), "booking_confirmed", "failed")
        message(4, at(4, 11), "promo", "suppressed", reason="opt-out")
        message(5, at(4, 12), "promo", "delivered")
    return ids


async def test_the_bookings_report_counts_volume_cancellations_revenue_and_calls_to_bookings(
    users: Users, dataset: dict[str, int]
) -> None:
    supervisor = await users("supervisor")
    response = await supervisor.get(
        "/api/reports/bookings",
        params={"start": "2025-03-01", "end": "2025-03-31", "granularity": "week", "compare": "year"},
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["timezone"] == "Asia/Shanghai" and report["team"] is None
    totals = report["totals"]
    assert (totals["bookings"], totals["cancelled"], totals["from_calls"], totals["calls_answered"]) == (
        4,
        1,
        2,
        3,
    )
    assert Decimal(totals["revenue"]) == Decimal("1750.50")
    assert totals["cancellation_rate"] == 0.25 and totals["conversion"] == round(2 / 3, 4)
    # weeks start on Monday: 24 Feb (holds 1–2 March) … 31 March
    assert [p["start"][:10] for p in report["series"]] == [
        "2025-02-24",
        "2025-03-03",
        "2025-03-10",
        "2025-03-17",
        "2025-03-24",
        "2025-03-31",
    ]
    week = {p["start"][:10]: p for p in report["series"]}
    assert week["2025-03-03"]["bookings"] == 2 and week["2025-03-10"]["bookings"] == 2
    assert Decimal(week["2025-03-10"]["revenue"]) == Decimal("1250.50")
    assert report["compare"]["start"] == "2024-03-01" and report["compare"]["totals"]["bookings"] == 1
    sources = {r["key"]: r for r in report["rows"]}
    assert sources["phone"]["bookings"] == 3 and sources["web"]["bookings"] == 1


async def test_a_team_lead_sees_their_own_team_by_default_and_finance_gets_money_not_tickets(
    users: Users, dataset: dict[str, int]
) -> None:
    lead = await users("teamlead")
    params = {"start": "2025-03-01", "end": "2025-03-31"}
    report = (await lead.get("/api/reports/bookings", params=params)).json()
    assert report["team"]["name"] == "预订一组"
    assert (report["totals"]["bookings"], report["totals"]["calls_answered"]) == (3, 2)
    finance = await users("finance")
    assert (await finance.get("/api/reports/orders", params=params)).status_code == 200
    assert_problem(await finance.get("/api/reports/tickets", params=params), 403, "permission-denied")
    assert_problem(
        await (await users("agent1")).get("/api/reports/bookings", params=params), 403, "permission-denied"
    )


async def test_the_orders_report_takes_revenue_as_the_money_report_does(
    users: Users, dataset: dict[str, int]
) -> None:
    finance = await users("finance")
    params = {"start": "2025-03-01", "end": "2025-03-31", "granularity": "month", "compare": "previous"}
    report = (await finance.get("/api/reports/orders", params=params)).json()
    totals = report["totals"]
    assert (totals["orders"], totals["void"], totals["signed"], totals["from_calls"]) == (2, 1, 2, 1)
    assert Decimal(totals["revenue"]) == Decimal("9200.00") and Decimal(totals["received"]) == Decimal(
        "3200.00"
    )
    money = await finance.get(
        "/api/travel/reports/money", params={"first": "2025-03-01", "last": "2025-03-31"}
    )
    if money.status_code == 200:
        assert Decimal(money.json()["total"]["receivable"]) == Decimal(totals["revenue"])
    assert report["compare"]["start"] == "2025-01-29" and report["compare"]["totals"]["orders"] == 1


async def test_the_tickets_report_counts_sla_outcomes_and_reopens(
    users: Users, dataset: dict[str, int]
) -> None:
    supervisor = await users("supervisor")
    report = (
        await supervisor.get("/api/reports/tickets", params={"start": "2025-03-01", "end": "2025-03-31"})
    ).json()
    totals = report["totals"]
    assert (
        totals["opened"],
        totals["resolved"],
        totals["within_sla"],
        totals["closed"],
        totals["reopened"],
    ) == (
        2,
        2,
        1,
        1,
        1,
    )
    assert totals["sla_rate"] == 0.5
    day = {p["start"][:10]: p for p in report["series"]}
    assert len(day) == 31 and day["2025-03-03"]["opened"] == 2 and day["2025-03-06"]["reopened"] == 1


async def test_the_messages_and_surveys_reports(users: Users, dataset: dict[str, int]) -> None:
    supervisor = await users("supervisor")
    params = {"start": "2025-03-01", "end": "2025-03-31"}
    messages = (await supervisor.get("/api/reports/messages", params=params)).json()
    t = messages["totals"]
    assert (t["queued"], t["sent"], t["delivered"], t["failed"], t["opted_out"]) == (5, 3, 2, 1, 1)
    promo = next(r for r in messages["rows"] if r["key"] == "promo")
    assert (promo["queued"], promo["opted_out"], promo["delivered"]) == (2, 1, 1)

    surveys = (await supervisor.get("/api/reports/surveys", params=params)).json()
    assert surveys["totals"]["surveys"] == 4 and surveys["totals"]["average_score"] == 4.0  # of the 3 scored
    agents = {r["label"]: r for r in surveys["rows"] if r["dimension"] == "agent"}
    assert agents["001 陈晓"]["average_score"] == 4.0 and agents["004 周婷"]["surveys"] == 2
    assert agents["004 周婷"]["average_score"] == 4.0  # the unscored return visit does not lower it
    rows = {(r["dimension"], r["label"]): r["surveys"] for r in surveys["rows"]}
    assert rows["queue", "酒店预订"] == 3 and rows["stay_hotel", "杭州西湖店"] == 1
    assert (rows["channel", "语音满意度"], rows["channel", "电话回访"]) == (3, 1)


async def test_bad_periods_are_refused_naming_the_field(users: Users) -> None:
    supervisor = await users("supervisor")

    async def get(**params: str) -> httpx.Response:
        return await supervisor.get("/api/reports/tickets", params=params)

    assert_problem(await get(start="2025-03-10", end="2025-03-01"), 422, "invalid-input", "query.end")
    assert_problem(await get(start="2024-01-01", end="2025-03-01"), 422, "invalid-input", "query.end")
    assert_problem(
        await get(start="2025-01-01", end="2025-03-01", granularity="interval"),
        422,
        "invalid-input",
        "query.granularity",
    )
    assert_problem(
        await get(start="2025-01-01", end="2025-03-01", granularity="year"),
        422,
        "validation-failed",
        "query.granularity",
    )
    assert_problem(await get(start="1066-10-14", end="2025-03-01"), 422, "validation-failed", "query.start")
    assert_problem(
        await get(start="2025-01-01", end="2025-03-01", team_id="4242"),
        404,
        "team-not-found",
        "query.team_id",
    )
