"""Campaigns and their lists through the API, as a supervisor and agents use them: a campaign whose
rules break China's calling rules is refused with every field named; a list is checked (a dry run
naming each bad row, the CRM's customers and the do-not-call list) and written without its bad
rows; numbers are shared among agents evenly or by skill, taken back, and each agent sees only
their own, masked."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import httpx
from openpyxl import Workbook
from sqlalchemy import func, select

from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.hotels.demo import load_reservations
from hotline.hotels.models import Reservation
from hotline.outbound.feeds import feeds, today
from hotline.tickets.models import Ticket
from tests.conftest import Users, assert_problem

SERVICE = {"code": "trip-return", "name": "自驾游回访", "kind": "service", "purpose": "return_visit"}


def upload(text: str, name: str = "list.csv") -> dict[str, Any]:
    return {"file": (name, text.encode("utf-8"), "text/csv")}


async def user_ids(admin: httpx.AsyncClient) -> dict[str, int]:
    return {
        u["username"]: u["id"] for u in (await admin.get("/api/users", params={"limit": 100})).json()["items"]
    }


async def test_a_campaign_outside_china_s_rules_is_refused_with_every_field_named(users: Users) -> None:
    supervisor = await users("supervisor")
    wrong = {
        **SERVICE,
        "kind": "marketing",
        "window_start": "08:00",
        "window_end": "21:30",
        "daily_cap": 6,
        "weekly_cap": 3,
        "refusal_months": 3,
    }
    refused = await supervisor.post("/api/outbound/campaigns", json=wrong)
    assert refused.status_code == 422, refused.text
    fields = {e["field"] for e in refused.json()["errors"]}
    assert {"body.refusal_months", "body.daily_cap"} <= fields  # bounds refused before the rules run
    wrong |= {"daily_cap": 2, "weekly_cap": 1, "refusal_months": 6}
    refused = await supervisor.post(
        "/api/outbound/campaigns", json=wrong, headers={"Accept-Language": "zh-CN"}
    )
    body = assert_problem(refused, 422, "invalid-input")
    assert {e["field"] for e in body["errors"]} == {"body.window_start", "body.window_end", "body.weekly_cap"}
    assert all("\u4e00" <= e["message"][0] <= "\u9fff" for e in body["errors"]), body  # Chinese words
    codes = [c["code"] for c in (await supervisor.get("/api/outbound/campaigns")).json()]
    assert codes == ["spring-routes", "stay-return"]  # the demo's; nothing written

    made = await supervisor.post("/api/outbound/campaigns", json={**SERVICE, "window_start": "08:00"})
    assert made.status_code == 201, made.text
    campaign = made.json()
    assert campaign["status"] == "draft" and campaign["dispositions"][0]["code"] == "satisfied"
    twice = await supervisor.post("/api/outbound/campaigns", json=SERVICE)
    assert_problem(twice, 409, "conflict", "body.code")
    agent = await users("agent1")
    assert (await agent.post("/api/outbound/campaigns", json={**SERVICE, "code": "x1"})).status_code == 403
    started = await supervisor.post(
        f"/api/outbound/campaigns/{campaign['id']}/status", json={"status": "running"}
    )
    assert started.json()["status"] == "running"
    closed = await supervisor.post(
        f"/api/outbound/campaigns/{campaign['id']}/status", json={"status": "closed"}
    )
    assert closed.json()["status"] == "closed"
    again = await supervisor.post(
        f"/api/outbound/campaigns/{campaign['id']}/status", json={"status": "running"}
    )
    assert_problem(again, 409, "invalid-transition", "body.status")


LIST = (
    "电话,姓名,同意来源,同意时间,线路\n"
    "13800138000,张伟,官网注册,2026-03-01,云南6日\n"  # the demo customer
    "139 1234 5678,李娜,门店登记,2026/3/2 10:30,桂林4日\n"
    "+86 139-1234-5678,李娜（重复）,门店登记,2026-03-02,\n"  # the same number written otherwise
    "12345,王五,官网注册,2026-03-01,\n"  # not a number
    "13700137000,赵六,,,\n"  # no consent: a marketing list cannot call it
    "13600136000,钱七,官网注册,2099-01-01,\n"  # consent in the future
    "13500135000,孙八,官网注册,2026-03-05,九寨沟5日\n"  # on the do-not-call list
)


async def test_a_marketing_list_is_checked_row_by_row_then_written_without_its_bad_rows(users: Users) -> None:
    supervisor = await users("supervisor")
    campaign = (
        await supervisor.post(
            "/api/outbound/campaigns",
            json={**SERVICE, "code": "spring", "kind": "marketing", "name": "春季线路推广"},
        )
    ).json()
    put_on = await supervisor.post("/api/outbound/dnc", json={"number": "135 0013 5000", "source": "opt-out"})
    assert put_on.status_code == 201 and put_on.json()["phone"] == "135****5000"
    url = f"/api/outbound/campaigns/{campaign['id']}/import"
    checked = await supervisor.post(url, files=upload(LIST), headers={"Accept-Language": "zh-CN"})
    report = checked.json()
    assert checked.status_code == 200, report
    assert (report["rows"], report["valid"], report["repeated"]) == (7, 4, 1)
    assert [(p["row"], p["field"], p["reason"]) for p in report["problems"]] == [
        (5, "phone", "number-invalid"),
        (6, "consent_source", "consent-missing"),
        (7, "consent_at", "consent-time-future"),
    ]
    assert report["problems"][0]["message"] == "不是有效的电话号码（请检查位数和区号）"
    assert (report["customers"], report["do_not_call"], report["added"]) == (1, 1, 0)
    listed = await supervisor.get(f"/api/outbound/campaigns/{campaign['id']}/targets")
    assert listed.json()["total"] == 0  # the dry run wrote nothing

    written = (await supervisor.post(url, params={"dry_run": "false"}, files=upload(LIST))).json()
    assert written["added"] == 3 and written["import_id"]
    page = (await supervisor.get(f"/api/outbound/campaigns/{campaign['id']}/targets")).json()
    rows = {t["name"]: t for t in page["items"]}
    assert set(rows) == {"张伟", "李娜", "孙八"} and page["total"] == 3
    assert rows["张伟"]["phone"] == "138****8000" and rows["张伟"]["customer_id"] is not None
    assert rows["李娜"]["fields"] == {"线路": "桂林4日"} and rows["李娜"]["consent_source"] == "门店登记"
    assert rows["李娜"]["consent_at"].startswith("2026-03-02T02:30")  # 10:30 in Shanghai
    again = (await supervisor.post(url, params={"dry_run": "false"}, files=upload(LIST))).json()
    assert (again["listed"], again["added"]) == (3, 0)  # a second import adds nothing twice

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in (
        ["手机", "姓名", "同意来源", "同意时间"],
        ["13900139000", "周九", "官网注册", "2026-03-01 09:00"],
    ):
        sheet.append(row)
    data = io.BytesIO()
    book.save(data)
    xlsx = {"file": ("list.xlsx", data.getvalue(), "application/octet-stream")}
    assert (await supervisor.post(url, params={"dry_run": "false"}, files=xlsx)).json()["added"] == 1

    no_phone = await supervisor.post(url, files=upload("姓名\n张三\n"), headers={"Accept-Language": "zh-CN"})
    body = assert_problem(no_phone, 422, "invalid-input", "file")
    assert body["detail"] == "文件需要有「电话」列"


async def test_numbers_are_shared_evenly_or_by_skill_taken_back_and_each_agent_sees_their_own(
    users: Users,
) -> None:
    supervisor = await users("supervisor")
    ids = await user_ids(await users("admin"))
    campaign = (
        await supervisor.post(
            "/api/outbound/campaigns", json={**SERVICE, "agent_ids": [ids["agent1"], ids["agent2"]]}
        )
    ).json()
    numbers = "\n".join(f"1391000{n:04d},客人{n}" for n in range(10))
    url = f"/api/outbound/campaigns/{campaign['id']}"
    assert (
        await supervisor.post(
            f"{url}/import", params={"dry_run": "false"}, files=upload("电话,姓名\n" + numbers)
        )
    ).json()["added"] == 10
    first = (await supervisor.post(f"{url}/assign", json={"how": "evenly", "limit": 4})).json()
    assert first["assigned"] == {str(ids["agent1"]): 2, str(ids["agent2"]): 2}
    unassigned = (await supervisor.get(f"{url}/targets", params={"unassigned": "true"})).json()
    hand = [t["id"] for t in unassigned["items"][:2]]
    given = await supervisor.post(
        f"{url}/assign", json={"how": "hand", "target_ids": hand, "agent_ids": [ids["agent1"]]}
    )
    assert given.json()["total"] == 2
    # agent1 holds 4, agent2 2: sharing the remaining 4 evenly gives agent2 three, agent1 one
    rest = (await supervisor.post(f"{url}/assign", json={"how": "evenly"})).json()
    assert rest["assigned"] == {str(ids["agent1"]): 1, str(ids["agent2"]): 3}

    agent1 = await users("agent1")
    mine = (await agent1.get(f"{url}/targets")).json()
    assert mine["total"] == 5 and all(t["assignee_id"] == ids["agent1"] for t in mine["items"])
    assert all("****" in t["phone"] for t in mine["items"])
    progress = (await agent1.get(f"{url}/progress")).json()
    assert [a["agent_id"] for a in progress["agents"]] == [ids["agent1"]] and progress["agents"][0][
        "open"
    ] == 5
    agent3 = await users("agent3")
    assert_problem(await agent3.get(f"{url}/targets"), 404, "not-found")  # not on this campaign
    assert [c["code"] for c in (await agent1.get("/api/outbound/campaigns")).json()] == [
        "trip-return",
        "stay-return",
    ]
    assert [c["code"] for c in (await agent3.get("/api/outbound/campaigns")).json()] == ["spring-routes"]

    back = (await supervisor.post(f"{url}/take-back", json={"agent_id": ids["agent1"]})).json()
    assert back == {"assigned": {str(ids["agent1"]): 5}, "total": 5}
    assert (await agent1.get(f"{url}/targets")).json()["total"] == 0
    whole = (await supervisor.get(f"{url}/progress")).json()
    assert (whole["campaign"]["total"], whole["campaign"]["unassigned"]) == (10, 5)
    assert [(a["agent_id"], a["open"]) for a in whole["agents"]] == [(ids["agent2"], 5)]

    nobody = await supervisor.post(f"{url}/assign", json={"how": "skill", "skill": "marketing-cn"})
    assert_problem(nobody, 422, "invalid-input", "body.skill")
    await supervisor.put(f"/api/routing/agents/{ids['agent1']}/profile", json={"skills": {"travel": 4}})
    await supervisor.put(f"/api/routing/agents/{ids['agent2']}/profile", json={"skills": {"travel": 1}})
    by_skill = (await supervisor.post(f"{url}/assign", json={"how": "skill", "skill": "travel"})).json()
    # agent2 already holds 5 at level 1; agent1 at level 4 takes all 5 free numbers
    assert by_skill["assigned"] == {str(ids["agent1"]): 5}


async def test_the_demo_return_visits_are_shared_between_agent1_and_agent2(users: Users) -> None:
    agent1 = await users("agent1")
    running = next(
        c for c in (await agent1.get("/api/outbound/campaigns")).json() if c["code"] == "stay-return"
    )
    assert running["status"] == "running" and running["progress"]["total"] == 10
    mine = (await agent1.get(f"/api/outbound/campaigns/{running['id']}/targets")).json()
    assert mine["total"] == 5
    zhang = next(t for t in mine["items"] if t["name"] == "张伟")  # the demo customer, linked to his file
    assert zhang["phone"] == "138****8000" and zhang["customer_id"] is not None
    assert zhang["fields"]["酒店"] == "杭州西湖店"


async def test_yesterday_s_departures_become_a_return_visit_list_by_hand_and_by_the_morning_feed(
    users: Users, seeded: Context
) -> None:
    await load_reservations(seeded, 400)  # the past stays `make run` loads
    supervisor = await users("supervisor")
    sources = {s["name"]: s["label"] for s in (await supervisor.get("/api/outbound/sources")).json()}
    assert sources["hotels.departure"] == "离店日" and "travel.return" in sources
    async with seeded.read() as session:
        day, guests = (
            await session.execute(
                select(Reservation.departure, func.count(func.distinct(Reservation.guest_phone)))
                .where(
                    Reservation.status == "checked_out", Reservation.departure >= today() - timedelta(days=30)
                )
                .group_by(Reservation.departure)
                .order_by(func.count().desc(), Reservation.departure.desc())
                .limit(1)
            )
        ).one()
    assert guests >= 2
    wrong = {**SERVICE, "code": "stay-thanks", "feed_source": "hotels.nowhere"}
    assert_problem(
        await supervisor.post("/api/outbound/campaigns", json=wrong), 422, "invalid-input", "body.feed_source"
    )
    campaign = (
        await supervisor.post(
            "/api/outbound/campaigns",
            json={**SERVICE, "code": "stay-thanks", "feed_source": "hotels.departure", "feed_days_after": 1},
        )
    ).json()
    url = f"/api/outbound/campaigns/{campaign['id']}/from-source"
    checked = (await supervisor.post(url, json={"source": "hotels.departure", "day": str(day)})).json()
    assert checked["valid"] - checked["repeated"] == guests and checked["added"] == 0
    added = (
        await supervisor.post(url, json={"source": "hotels.departure", "day": str(day), "dry_run": False})
    ).json()
    assert added["added"] == guests
    page = (
        await supervisor.get(f"/api/outbound/campaigns/{campaign['id']}/targets", params={"limit": 500})
    ).json()
    assert page["total"] == guests
    row = page["items"][0]
    assert {"酒店名称", "离店日期", "房型"} <= set(row["fields"]) and row["name"] and "****" in row["phone"]
    bad = await supervisor.post(url, json={"source": "nowhere", "day": str(day)})
    assert_problem(bad, 422, "invalid-input", "body.source")

    # the morning feed: a running campaign takes its source's people of `feed_days_after` days ago
    fed = (
        await supervisor.post(
            "/api/outbound/campaigns",
            json={
                **SERVICE,
                "code": "stay-fed",
                "feed_source": "hotels.departure",
                "feed_days_after": (today() - day).days,
            },
        )
    ).json()
    await feeds(seeded, {})
    targets = f"/api/outbound/campaigns/{fed['id']}/targets"
    assert (await supervisor.get(targets)).json()["total"] == 0  # a draft is not fed
    await supervisor.post(f"/api/outbound/campaigns/{fed['id']}/status", json={"status": "running"})
    await feeds(seeded, {})
    await feeds(seeded, {})  # a second run adds nobody twice
    assert (await supervisor.get(targets)).json()["total"] == guests


async def test_customers_whose_complaint_closed_today_are_called_back_about_its_outcome(
    users: Users, seeded: Context
) -> None:
    agent = await users("agent2")
    complaint = {
        "type_code": "complaint", "title": "房间空调不制冷", "member_number": "88000001", "source": "call",
        "fields": {"category": "卫生", "incident_date": "2026-11-20"}, "content": "客人来电投诉",
    }  # fmt: skip
    made_ticket = await agent.post("/api/tickets", json=complaint)
    assert made_ticket.status_code == 201, made_ticket.text
    async with seeded.write() as tx:  # closed today (the ticket's own flow is tests/tickets')
        ticket = await tx.session.get(Ticket, made_ticket.json()["id"])
        assert ticket is not None
        ticket.status, ticket.closed_at, ticket.result = "closed", utcnow(), "已为客人更换房间并致歉"
    supervisor = await users("supervisor")
    made = {**SERVICE, "code": "complaint-outcome", "purpose": "complaint"}
    campaign = (await supervisor.post("/api/outbound/campaigns", json=made)).json()
    added = await supervisor.post(
        f"/api/outbound/campaigns/{campaign['id']}/from-source",
        json={"source": "tickets.complaint_closed", "day": str(today()), "dry_run": False},
    )
    assert added.json()["added"] == 1, added.text
    row = (await supervisor.get(f"/api/outbound/campaigns/{campaign['id']}/targets")).json()["items"][0]
    assert row["fields"]["工单号"] == ticket.number and row["fields"]["处理结果"] == "已为客人更换房间并致歉"
    assert row["customer_id"] == ticket.customer_id or row["customer_id"] is None
