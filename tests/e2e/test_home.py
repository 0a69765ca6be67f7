"""The home page of work in a real browser (docs/home.md): each demo role sees its own work;
agents start on the desktop, whose idle view lists their callbacks by name with a dial button;
roles without an agent record neither show nor ask for an agent state."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, Request, expect

from tests.e2e.conftest import ROOT, sign_in

pytestmark = pytest.mark.e2e
AGENT_STATE = re.compile(r"/api/(routing|contact)(/.*)?/me($|[/?])")
"""The agent's own state and desk (what the state bar polls)."""


def test_an_agent_lands_on_the_desktop_and_rings_back_a_named_caller_from_it(page: Page) -> None:
    sign_in(page, "agent1")
    expect(page).to_have_url(re.compile(r"/desktop$"))
    idle = page.get_by_test_id("desk-idle")
    # the demo's call-back for him, and another when the chat report's test closed a chat of his with 需回电
    zhang = idle.get_by_test_id("callback-due").filter(has_text="张伟").first
    expect(zhang).to_contain_text("138****8000")
    # today's demo calls run from midnight (China time) to now, and other browser tests answer
    # calls too: the page must show what the server counts, whatever the hour
    answered = page.request.get("/api/home/desk").json()["figures"]["answered"]
    expect(idle.get_by_test_id("figure-answered")).to_contain_text(str(answered))
    expect(idle.get_by_test_id("my-ticket").first).to_be_visible()  # tickets in agent1's hands
    expect(idle.get_by_test_id("waiting-hotel")).to_be_visible()
    expect(page.get_by_test_id("agent-state")).to_be_visible()
    assert "13800138000" not in page.content()
    page.screenshot(path=str(Path(ROOT, "test-results/desk-idle.png")))
    with page.expect_response(lambda r: r.url.endswith("/api/routing/dial")) as dialled:
        zhang.get_by_test_id("callback-dial").click()
    response = dialled.value
    assert json.loads(response.request.post_data or "{}").keys() == {"callback_id"}
    # the demo trunk takes calls in but places none out: the dial service says so, by the field
    assert response.status == 422 and response.json()["errors"][0]["field"] == "body.number"


def test_the_supervisor_sees_the_queues_the_agents_and_the_alerts(page: Page) -> None:
    sign_in(page, "supervisor")
    expect(page).to_have_url(re.compile(r"/$"))
    floor = page.get_by_test_id("home-floor")
    expect(floor.get_by_test_id("home-queues")).to_contain_text("酒店预订")
    expect(floor.get_by_test_id("home-alert").filter(has_text="位客户待回电")).to_be_visible()
    expect(floor.get_by_test_id("home-agents")).to_contain_text("就绪")
    page.screenshot(path=str(Path(ROOT, "test-results/home-supervisor.png")))


def test_the_planner_sees_the_order_steps_waiting_for_them(page: Page) -> None:
    sign_in(page, "planner")
    orders = page.get_by_test_id("home-orders")
    expect(orders.get_by_test_id("order-step-assign_planner")).to_contain_text("待分配计调")
    expect(orders.get_by_test_id("order-step-hand_to_front_desk")).to_be_visible()
    expect(page.get_by_test_id("home-floor")).to_have_count(0)


def test_department_staff_see_their_work_orders(page: Page) -> None:
    sign_in(page, "dept1")
    work = page.get_by_test_id("home-work-orders")
    # the demo's 客房空调不制冷 is dept1's; other browser tests may hand dept1 newer ones first
    first = work.get_by_test_id("work-order").first
    expect(first).to_be_visible()
    number = first.get_by_role("link").inner_text()
    first.get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/tickets/\d+$"))
    expect(page.get_by_test_id("ticket-number")).to_have_text(number)


@pytest.mark.parametrize("username", ["admin", "teamlead"])
def test_roles_without_an_agent_record_show_no_agent_state_and_never_ask_for_one(
    page: Page, username: str
) -> None:
    asked: list[str] = []

    def seen(request: Request) -> None:
        if AGENT_STATE.search(request.url.split("?")[0]):
            asked.append(request.url)

    page.on("request", seen)
    sign_in(page, username)
    expect(page.get_by_test_id("home")).to_be_visible()
    time.sleep(7)  # the state bar polled every 3 s: two or three requests in this time
    page.get_by_test_id("nav-customers").click()
    page.get_by_test_id("nav-home").click()
    assert asked == []
    expect(page.get_by_test_id("agent-state")).to_have_count(0)


def test_qa_sees_the_evaluations_it_is_to_score_and_opens_one(page: Page) -> None:
    sign_in(page, "qa")
    card = page.get_by_test_id("home-qa")
    count = int(card.get_by_test_id("home-qa-count").inner_text())
    # the demo assigns 冯质检 two of agent1's calls; other browser tests may have scored them since
    rows = card.get_by_test_id("home-qa-evaluation")
    expect(rows).to_have_count(min(count, 5))
    if count:
        expect(rows.first.get_by_test_id("due")).to_be_visible()  # each with its deadline
        rows.first.get_by_role("link").click()
        expect(page).to_have_url(re.compile(r"/quality/evaluations/\d+$"))
        expect(page.get_by_test_id("evaluation")).to_be_visible()
