"""The home page of work (docs/home.md): each demo role gets the sections of its own work, from
the domains' services, with personal data masked and counts exact."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest

from hotline import demo
from hotline.contact.stats.rollup import roll
from hotline.core.clock import utcnow
from hotline.core.context import Context
from hotline.quality.reviews.models import Evaluation
from hotline.travel.models import Order
from tests.conftest import Users


@pytest.fixture(autouse=True)
async def agent_day(seeded: Context) -> None:
    """What `hotline demo-data` adds for the home pages: agent1's callbacks, ticket and calls today."""
    await demo.load_agent_day(seeded)


async def home_of(users: Users, username: str) -> dict[str, Any]:
    http = await users(username)
    response = await http.get("/api/home")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_an_agent_starts_on_the_desktop_with_named_callbacks_a_ticket_and_todays_figures(
    users: Users,
) -> None:
    home = await home_of(users, "agent1")
    assert home["landing"] == {"agent": True, "page": "desktop"}
    desk = home["desk"]
    zhang = next(c for c in desk["callbacks"] if c["customer_name"] == "张伟")
    assert zhang["phone"] == "138****8000" and zhang["misses"] == 2 and zhang["queue"] == "hotel"
    unknown = next(c for c in desk["callbacks"] if c["customer_name"] == "")
    assert unknown["phone"] == "139****5678"
    assert desk["callbacks_count"] == len(desk["callbacks"]) == 2
    # three calls answered today: 240, 180 and 300 s of talk, each with 20 s of wrap-up
    assert desk["figures"]["answered"] == 3
    assert desk["figures"]["average_handle_time"] == 260
    assert desk["figures"]["callbacks_done"] == 0
    assert [t["title"] for t in desk["tickets"]["tickets"]] == ["咨询外滩店行政酒廊开放时间"]
    assert desk["tickets"]["count"] == 1
    assert {q["queue"] for q in desk["queues"]} == {"hotel", "travel"}  # agent1's skills
    assert home["floor"] is None and home["work_orders"] is None and home["qa"] is None
    # the return visits are on the desk, not again among the order steps
    assert all(step["action"] != "close" for step in home["orders"])


async def test_a_finished_callback_leaves_the_list_and_counts_in_the_agents_figures(users: Users) -> None:
    agent1 = await users("agent1")
    desk = (await agent1.get("/api/home/desk")).json()
    first = desk["callbacks"][0]
    done = await agent1.post(f"/api/routing/callbacks/{first['id']}/done", json={"note": "已回电"})
    assert done.status_code == 200, done.text
    after = (await agent1.get("/api/home/desk")).json()
    assert [c["id"] for c in after["callbacks"]] == [c["id"] for c in desk["callbacks"][1:]]
    assert after["figures"]["callbacks_done"] == 1


async def test_the_supervisor_sees_the_floor_and_its_alerts_with_numbers_masked_as_for_agents(
    users: Users, seeded: Context
) -> None:
    await roll(seeded)  # today's figures are the rollup's, which the router's node runs every 2 s
    home = await home_of(users, "supervisor")
    assert home["landing"] == {"agent": True, "page": "home"}  # a desk phone (1009), but a floor to watch
    assert home["desk"] is None  # their own calls wait on their desktop; the home page is the floor's
    floor = home["floor"]
    assert {q["queue"] for q in floor["queues"]} == {"hotel", "travel", "emergency"}
    hotel = next(q for q in floor["queues"] if q["queue"] == "hotel")
    assert (hotel["answered"], hotel["abandoned"]) == (2, 1)
    alerts = {(a["kind"], a["queue"]): a for a in floor["alerts"]}
    assert alerts[("callbacks_open", "")]["count"] == 2
    service = alerts[("service_level", "hotel")]
    assert service["value"] <= service["mark"] == 0.8 and service["level"] in ("amber", "red")

    # the marks are the queue's own: lowered below today's figure, the alert goes
    marks = {"service_amber_percent": 20, "service_red_percent": 10}
    admin = await users("admin")
    changed = await admin.put("/api/routing/queues/hotel/thresholds", json=marks)
    assert changed.status_code == 200, changed.text
    after = (await home_of(users, "supervisor"))["floor"]["alerts"]
    assert ("service_level", "hotel") not in {(a["kind"], a["queue"]) for a in after}
    assert not re.search(r"(?<![0-9])(\+86)?13800138000(?![0-9])", json.dumps(home))


async def test_callback_numbers_are_masked_for_agent_and_supervisor_and_only_the_supervisor_reveals(
    users: Users,
) -> None:
    agent1, supervisor = await users("agent1"), await users("supervisor")
    desk = (await agent1.get("/api/home/desk")).json()
    assert not re.search(r"(?<![0-9])(\+86)?13800138000(?![0-9])", json.dumps(desk))
    zhang = next(c for c in desk["callbacks"] if c["customer_name"] == "张伟")
    reveal = {"entity": "callback", "id": zhang["id"], "field": "phone"}
    assert (await agent1.post("/api/reveal", json=reveal)).status_code == 403
    revealed = await supervisor.post("/api/reveal", json=reveal)
    assert revealed.status_code == 200, revealed.text
    assert revealed.json()["value"].endswith("13800138000")


async def test_roles_without_an_agent_record_get_no_agent_state(users: Users) -> None:
    for username in ("admin", "teamlead", "planner", "qa", "dept1"):
        http = await users(username)
        landing = (await http.get("/api/home/landing")).json()
        assert landing == {"agent": False, "page": "home"}, username
        assert (await http.get("/api/home")).json()["desk"] is None, username


async def test_planner_front_desk_and_finance_each_see_their_own_order_steps(users: Users) -> None:
    steps = {
        u: {s["action"] for s in (await home_of(users, u))["orders"]}
        for u in ("planner", "frontdesk", "finance")
    }
    assert steps["planner"] == {"assign_planner", "hand_to_front_desk"}
    assert steps["frontdesk"] == {"sign"}
    assert steps["finance"] == {"review"}
    front = await home_of(users, "frontdesk")
    assert front["arrivals"] and all(a["arrivals"] >= 0 for a in front["arrivals"])
    assert (await home_of(users, "planner"))["arrivals"] is None


async def test_order_counts_are_exact_beyond_a_hundred(users: Users, seeded: Context) -> None:
    before = next(s for s in (await home_of(users, "planner"))["orders"] if s["action"] == "assign_planner")
    async with seeded.write() as tx:
        tx.session.add_all(
            Order(
                number=f"T9{n:05d}",
                kind="domestic",
                state="enquiry",
                contact_name="测试",
                contact_phone="13700000000",
            )
            for n in range(130)
        )
    after = next(s for s in (await home_of(users, "planner"))["orders"] if s["action"] == "assign_planner")
    assert after["count"] == before["count"] + 130 > 100
    assert len(after["orders"]) == 5
    assert all(
        o["contact_phone"] in ("", "137****0000") or "****" in o["contact_phone"] for o in after["orders"]
    )


async def test_department_staff_see_their_work_orders(users: Users) -> None:
    dept1 = await home_of(users, "dept1")
    work = dept1["work_orders"]
    assert work["mine"]["count"] == 1 and work["mine"]["tickets"][0]["title"] == "客房空调不制冷"
    assert work["team_count"] >= 1
    assert dept1["orders"] is None and dept1["floor"] is None
    assert dept1["qa"] is None and dept1["my_evaluations"] is None


async def test_qa_sees_the_evaluations_it_is_to_score_by_deadline_and_the_agent_those_to_acknowledge(
    users: Users, seeded: Context
) -> None:
    qa = await home_of(users, "qa")
    section = qa["qa"]
    # the demo gives 冯质检 agent1's call to score (assigned) and one started (in progress)
    assert section["to_score"]["count"] == 2 and section["calls_answered_today"] == 3
    due = [row["due_at"] for row in section["to_score"]["next"]]
    assert due == sorted(due) and {r["status"] for r in section["to_score"]["next"]} == {
        "assigned",
        "in_progress",
    }
    assert section["appeals_to_review"] == 0  # the one appeal is of qa's own scoring: someone else reviews it
    assert qa["work_orders"] is None and qa["my_evaluations"] is None  # qa takes no calls
    supervisor = (await home_of(users, "supervisor"))["qa"]
    assert supervisor["to_score"]["count"] == 0 and supervisor["appeals_to_review"] == 1

    agent1 = (await home_of(users, "agent1"))["my_evaluations"]
    assert agent1["count"] == 1 and agent1["next"][0]["status"] == "scored" and agent1["next"][0]["due_at"]
    async with seeded.write() as tx:  # its acknowledgement deadline passes
        row = await tx.session.get(Evaluation, agent1["next"][0]["id"])
        assert row is not None
        row.due_at = utcnow() - timedelta(hours=1)
    late = (await home_of(users, "agent1"))["my_evaluations"]
    assert late["overdue"] == 1 and late["next"][0]["overdue"] is True
    assert (await home_of(users, "agent2"))["my_evaluations"] == {"count": 0, "overdue": 0, "next": []}


async def test_the_agents_desk_needs_calls_handle(users: Users) -> None:
    planner = await users("planner")
    response = await planner.get("/api/home/desk")
    assert response.status_code == 403
