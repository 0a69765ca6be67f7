"""The chat report (会话报表) against a small hand-made set of conversations on 10 and 11 March 2025
(the demo's conversations live in the present, so none of them falls in there): every figure
worked out by hand below, as docs/reports.md defines it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from hotline.admin.models import User
from hotline.core.context import Context
from hotline.notify import chat_figures
from hotline.notify.models import ChatVisitor, Conversation, ConversationMessage
from hotline.tickets.models import Ticket
from tests.conftest import Users, assert_problem
from tests.exports.test_exports import finished
from tests.reports.test_call_reports import _book

SH = ZoneInfo("Asia/Shanghai")
PERIOD = {"start": "2025-03-10", "end": "2025-03-11"}


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A wall-clock time in Shanghai, March 2025, as the UTC instant the database keeps."""
    return datetime(2025, 3, day, hour, minute, second, tzinfo=SH).astimezone(UTC)


@pytest.fixture
async def chats(seeded: Context, users: Users) -> dict[str, int]:
    """Five conversations that came in on 10–11 March (Shanghai) and one the evening before:

    1. web, hotel, 10th 10:00: agent1 at 10:00:20 (wait 20 s), first answer 10:00:50 (30 s),
       agent1 closed it 10:05:20 (handle 300 s), rated 5;
    2. web, hotel, 10th 10:10: agent1 at 10:11 (60 s), answer 10:11:10 (10 s), the visitor ended it
       10:15 (240 s: answered, so not abandoned), rated 3;
    3. web, hotel, 10th 10:20: nobody yet when the visitor ended it at 10:22: abandoned;
    4. SMS, travel, 10th 11:00: agent4 at 11:02 (120 s), answer 11:03 (60 s), still open;
    5. WeChat, hotel, 11th 09:00: agent4 at 09:00:10 (10 s), Hotline's own message at 09:00:20 (no
       agent's), agent4's answer 09:00:40 (30 s), agent4 closed it 09:10:10 (600 s);
    and a message left on the 10th that became a ticket."""
    async with seeded.read() as session:
        ids = {str(u): int(i) for u, i in await session.execute(select(User.username, User.id))}
    a1, a4 = ids["agent1"], ids["agent4"]
    async with seeded.write() as tx:
        s = tx.session

        def conversation(
            n: int, channel: str, queue: str, came: datetime, *, agent: int | None = None,
            assigned: datetime | None = None, closed: datetime | None = None, closed_by: int | None = None,
            messages: tuple[tuple[str, datetime, int | None], ...] = (), rating: int | None = None,
        ) -> None:  # fmt: skip
            c = Conversation(
                channel=channel, address=f"report-{n}", status="closed" if closed else "open",
                created_at=came, last_message_at=came, queue=queue, queued_at=came, assigned_to=agent,
                assigned_at=assigned, first_assigned_at=assigned, closed_at=closed, closed_by=closed_by,
            )  # fmt: skip
            s.add(c)
            pending.append((c, messages, rating))

        pending: list[tuple[Conversation, tuple[tuple[str, datetime, int | None], ...], int | None]] = []
        conversation(0, "web", "hotel", at(9, 23, 59), closed=at(10, 0, 5))  # the evening before: not counted
        conversation(
            1, "web", "hotel", at(10, 10), agent=a1, assigned=at(10, 10, 0, 20), closed=at(10, 10, 5, 20),
            closed_by=a1, rating=5,
            messages=(("in", at(10, 10, 0, 5), None), ("out", at(10, 10, 0, 50), a1),
                      ("in", at(10, 10, 1), None), ("out", at(10, 10, 2), a1)),
        )  # fmt: skip
        conversation(
            2, "web", "hotel", at(10, 10, 10), agent=a1, assigned=at(10, 10, 11), closed=at(10, 10, 15),
            rating=3, messages=(("in", at(10, 10, 10, 5), None), ("out", at(10, 10, 11, 10), a1)),
        )  # fmt: skip
        conversation(3, "web", "hotel", at(10, 10, 20), closed=at(10, 10, 22),
                     messages=(("in", at(10, 10, 20, 5), None),))  # fmt: skip
        conversation(
            4, "sms", "travel", at(10, 11), agent=a4, assigned=at(10, 11, 2),
            messages=(("in", at(10, 11), None), ("out", at(10, 11, 3), a4)),
        )  # fmt: skip
        conversation(
            5, "wechat", "hotel", at(11, 9), agent=a4, assigned=at(11, 9, 0, 10), closed=at(11, 9, 10, 10),
            closed_by=a4,
            messages=(("in", at(11, 9), None), ("out", at(11, 9, 0, 20), None),
                      ("out", at(11, 9, 0, 40), a4)),
        )  # fmt: skip
        await s.flush()
        for c, messages, rating in pending:
            for direction, when, author in messages:
                s.add(ConversationMessage(conversation_id=c.id, direction=direction, body="…", at=when,
                                          author_id=author))  # fmt: skip
            if c.channel == "web":
                s.add(ChatVisitor(conversation_id=c.id, token_hash=f"{c.id:064d}", name="访客", rating=rating,
                                  created_at=c.created_at))  # fmt: skip
    left = await users("agent1")  # any client will do for the public form
    answer = await left.post(
        "/api/chat/leave-message",
        json={"key": "reportKey0000000000001", "name": "王女士", "phone": "13900000001", "text": "请回电"},
    )
    assert answer.status_code == 201, answer.text
    async with seeded.write() as tx:
        await tx.session.execute(
            update(Ticket).where(Ticket.number == answer.json()["number"]).values(created_at=at(10, 12))
        )
    return ids


async def test_the_chat_report_gives_the_hand_computed_figures(users: Users, chats: dict[str, int]) -> None:
    supervisor = await users("supervisor")
    report = (await supervisor.get("/api/reports/chats", params=PERIOD)).json()
    t = report["totals"]
    assert (t["offered"], t["assigned"], t["answered"], t["closed"], t["abandoned"]) == (5, 4, 4, 4, 1)
    assert t["abandon_rate"] == 0.2 and t["messages_left"] == 1
    assert (t["wait_median"], t["wait_p90"]) == (40.0, 120.0)  # waits 10, 20, 60, 120
    assert t["first_response"] == 32.5  # (30 + 10 + 60 + 30) / 4
    assert t["handle_time"] == 380.0  # (300 + 240 + 600) / 3: the open one has none yet
    assert (t["messages_in"], t["messages_out"]) == (6, 6)
    assert (t["rated"], t["rating_avg"], t["csat"]) == (2, 4.0, 0.5)

    days = {p["start"][:10]: p for p in report["series"]}
    assert (days["2025-03-10"]["offered"], days["2025-03-11"]["offered"]) == (4, 1)
    assert days["2025-03-10"]["messages_left"] == 1 and days["2025-03-11"]["messages_left"] == 0
    assert (days["2025-03-11"]["wait_median"], days["2025-03-11"]["handle_time"]) == (10.0, 600.0)

    rows = {(r["dimension"], r["label"]): r for r in report["rows"]}
    assert rows["channel", "web"]["offered"] == 3 and rows["channel", "web"]["abandoned"] == 1
    assert rows["queue", "酒店预订"]["offered"] == 4 and rows["queue", "旅游咨询"]["offered"] == 1
    agent1 = next(r for r in report["rows"] if r["dimension"] == "agent" and r["key"] == str(chats["agent1"]))
    assert (agent1["offered"], agent1["first_response"], agent1["csat"]) == (2, 20.0, 0.5)
    assert agent1["label"].endswith("陈晓")


async def test_the_chat_report_narrows_to_a_channel_a_queue_or_an_agent(
    users: Users, chats: dict[str, int]
) -> None:
    supervisor = await users("supervisor")

    async def totals(**narrowed: Any) -> dict[str, Any]:
        answer = await supervisor.get("/api/reports/chats", params={**PERIOD, **narrowed})
        assert answer.status_code == 200, answer.text
        return answer.json()["totals"]  # type: ignore[no-any-return]

    sms = await totals(channel="sms")
    assert (sms["offered"], sms["wait_p90"], sms["messages_left"], sms["rated"]) == (1, 120.0, 0, 0)
    assert sms["csat"] is None and sms["handle_time"] is None  # no rating, not closed: nothing, not 0
    web = await totals(channel=["web", "sms"])
    assert (web["offered"], web["messages_left"]) == (4, 1)
    assert (await totals(queue="travel"))["offered"] == 1
    mine = await totals(agent_id=chats["agent4"])
    assert (mine["offered"], mine["handle_time"], mine["messages_left"]) == (2, 600.0, 0)
    assert_problem(
        await supervisor.get("/api/reports/chats", params={**PERIOD, "channel": "fax"}),
        422, "validation-failed", "query.channel.0",
    )  # fmt: skip


async def test_only_those_who_see_agents_read_the_chat_report(users: Users, chats: dict[str, int]) -> None:
    agent = await users("agent1")
    assert (await agent.get("/api/reports/chats", params=PERIOD)).status_code == 403


async def test_the_chat_report_exports_with_its_figures_named(users: Users, chats: dict[str, int]) -> None:
    supervisor = await users("supervisor")
    filters = {**PERIOD, "subject": "chats", "channel": ["web"], "granularity": "day", "compare": "none"}
    asked = await supervisor.post(
        "/api/exports", json={"subject": "report", "format": "xlsx", "filters": filters}
    )
    assert asked.status_code == 202, asked.text
    done = await finished(supervisor, asked.json())
    assert done["status"] == "done", done
    _names, rows = await asyncio.to_thread(_book, (await supervisor.get(done["download"])).content)
    cells = {(part, figure): value for part, _key, _label, figure, value in rows[1:]}
    assert (cells["合计", "进线会话"], cells["合计", "放弃"], cells["合计", "满意率（4–5 星）"]) == (
        3,
        1,
        0.5,
    )
    assert cells["合计", "等待分配 P90（秒）"] == 60.0 and cells["合计", "留言转工单"] == 1


async def test_the_demo_has_three_weeks_of_conversations_for_the_report(
    seeded: Context, users: Users
) -> None:
    supervisor = await users("supervisor")
    today = datetime.now(SH).date()
    shown = await supervisor.get(
        "/api/reports/chats", params={"start": str(today - timedelta(days=29)), "end": str(today)}
    )
    t = shown.json()["totals"]
    assert t["offered"] > 100 and t["closed"] > 100 and t["abandoned"] > 0 and t["messages_left"] >= 3
    assert t["wait_median"] > 0 and t["first_response"] > 0 and 0 < t["csat"] < 1
    assert {r["key"] for r in shown.json()["rows"] if r["dimension"] == "channel"} == {
        "web",
        "sms",
        "wechat",
        "wecom",
    }


async def test_many_conversations_are_folded_in_a_worker_to_the_same_figures(
    users: Users, chats: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    supervisor = await users("supervisor")
    inline = (await supervisor.get("/api/reports/chats", params=PERIOD)).json()
    folded: list[int] = []
    real = chat_figures.fold

    def counted(facts: list[chat_figures.Fact], *rest: Any) -> chat_figures.Folded:
        folded.append(len(facts))
        return real(facts, *rest)

    monkeypatch.setattr(chat_figures, "fold", counted)  # seen only when folded here, on the loop
    monkeypatch.setattr(chat_figures, "COMPUTE_ABOVE", 0)
    pooled = (await supervisor.get("/api/reports/chats", params=PERIOD)).json()
    assert pooled == inline and folded == []  # the worker folded it (its own `fold`)
