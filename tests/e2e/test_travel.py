"""A travel order in a browser, each step by its role (seed 001): agent1 takes a call and opens an
enquiry, the team lead assigns it from the queue, the planner follows up, adds a Sanya departure
and hands it to the front desk, the front desk signs (the items lock), finance reviews and takes
the money, the planner records the ground cost; an agent closes a demo order whose return visit
is due, with the visit's note."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ROOT, sign_in

pytestmark = pytest.mark.e2e
SHOTS = Path(ROOT, "test-results")


def sign_out(page: Page) -> None:
    page.context.clear_cookies()


def open_order(page: Page, number: str) -> None:
    page.get_by_test_id("nav-orders").click()
    page.get_by_test_id("orders-scope").get_by_text("全部订单").click()
    page.get_by_test_id("orders-search").fill(number)
    page.get_by_test_id("orders-search").press("Enter")
    page.get_by_test_id("order-card").filter(has_text=number).click()
    expect(page.get_by_test_id("order-head")).to_contain_text(number)


def answer_prompt(page: Page, text: str) -> None:
    box = page.locator(".el-message-box")
    box.locator("textarea").fill(text)
    box.get_by_role("button", name="确定").click()


def test_each_role_carries_a_travel_order_from_enquiry_to_close(page: Page) -> None:
    SHOTS.mkdir(exist_ok=True)
    sign_in(page, "agent1")
    page.get_by_test_id("nav-orders").click()
    page.get_by_test_id("orders-new").click()
    page.get_by_test_id("order-contact").fill("刘晓燕")
    page.get_by_test_id("order-phone").fill("13911112222")
    page.get_by_test_id("order-wish").fill("春节一家三口去三亚，想住海边")
    page.get_by_test_id("order-create").click()
    expect(page.get_by_test_id("order-state")).to_have_text("待分配")
    number = page.get_by_test_id("order-head").locator("strong").first.inner_text().split()[-1]
    expect(page.get_by_test_id("act-sign")).to_have_count(0)  # not an agent's step

    sign_out(page)
    sign_in(page, "teamlead")
    page.get_by_test_id("nav-order-assign").click()
    row = page.get_by_test_id("assign-queue").locator("tr", has_text=number)
    row.get_by_test_id("assign-go").click()
    expect(page.get_by_test_id("assign-queue")).not_to_contain_text(number)

    sign_out(page)
    sign_in(page, "planner")
    open_order(page, number)
    expect(page.get_by_test_id("order-state")).to_have_text("计调跟单")
    page.get_by_test_id("follow-up-note").fill("推荐三亚双飞五日游，客人同意")
    page.get_by_test_id("follow-up-save").click()
    expect(page.get_by_test_id("order-follow-ups")).to_contain_text("推荐三亚双飞五日游")
    page.get_by_test_id("item-add").click()
    page.get_by_test_id("item-route").click()
    page.locator(".el-select-dropdown__item", has_text="SY5 三亚双飞五日游").click()
    page.get_by_test_id("item-departure").click()
    page.locator(".el-select-dropdown__item", has_text="余位").nth(2).click()
    page.get_by_test_id("item-save").click()
    expect(page.get_by_test_id("order-items")).to_contain_text("三亚双飞五日游")
    page.get_by_test_id("act-hand_to_front_desk").click()
    page.get_by_test_id("pick-confirm").click()
    expect(page.get_by_test_id("order-state")).to_have_text("待签约")
    expect(page.get_by_test_id("order-head")).to_contain_text("郑前台")
    page.screenshot(path=str(SHOTS / "travel-order-planner.png"), full_page=True)

    sign_out(page)
    sign_in(page, "frontdesk")
    open_order(page, number)
    page.get_by_test_id("act-sign").click()
    page.locator(".el-message-box").get_by_role("button", name="确定").click()
    expect(page.get_by_test_id("order-state")).to_have_text("已签约待审核")
    expect(page.get_by_test_id("item-add")).to_have_count(0)  # items locked
    expect(page.get_by_test_id("order-contract")).to_be_visible()

    sign_out(page)
    sign_in(page, "finance")
    page.get_by_test_id("nav-order-finance").click()
    page.get_by_test_id("finance-to-review").locator("tr", has_text=number).get_by_role("button").click()
    expect(page.get_by_test_id("finance-to-review")).not_to_contain_text(number)
    open_order(page, number)
    receivable = page.get_by_test_id("money-receivable").inner_text()
    amount = receivable.replace("¥", "").replace(",", "")
    page.get_by_test_id("receipt-amount").locator("input").fill(str(float(amount) + 100))
    page.get_by_test_id("receipt-save").click()
    expect(page.locator(".el-message--error")).to_contain_text("允许超收")  # the rule, named
    page.get_by_test_id("receipt-amount").locator("input").fill(amount)
    page.get_by_test_id("receipt-save").click()
    expect(page.get_by_test_id("money-outstanding")).to_have_text("¥0.00")

    sign_out(page)
    sign_in(page, "planner")
    open_order(page, number)
    page.get_by_test_id("cost-supplier").fill("三亚椰风地接社")
    page.get_by_test_id("cost-amount").locator("input").fill("4200")
    page.get_by_test_id("cost-save").click()
    expect(page.get_by_test_id("money-cost")).to_have_text("¥4,200.00")
    expect(page.get_by_test_id("order-history")).to_contain_text("财务审核")
    page.screenshot(path=str(SHOTS / "travel-order.png"), full_page=True)

    # the trip is in the future; an agent closes a demo order whose return visit is due
    sign_out(page)
    sign_in(page, "agent2")
    page.get_by_test_id("nav-orders").click()
    page.get_by_test_id("orders-scope").get_by_text("全部订单").click()
    page.screenshot(path=str(SHOTS / "travel-board.png"))
    column = page.get_by_test_id("orders-col-return_visit")
    cards = column.get_by_test_id("order-card").filter(has_not_text="未收")
    cards.first.click()
    expect(page.get_by_test_id("order-state")).to_have_text("待回访")
    page.get_by_test_id("act-close").click()
    answer_prompt(page, "客人对行程非常满意，导游讲解细致")
    expect(page.get_by_test_id("order-state")).to_have_text("已关闭")
    expect(page.get_by_test_id("order-head")).to_contain_text("客人对行程非常满意")

    sign_out(page)
    sign_in(page, "supervisor")
    page.get_by_test_id("nav-travel-report").click()
    expect(page.get_by_test_id("report-money")).to_contain_text("合计")
    expect(page.get_by_test_id("report-people")).to_contain_text("孙计调")
    page.screenshot(path=str(SHOTS / "travel-report.png"), full_page=True)
