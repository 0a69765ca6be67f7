"""Customers in the browser: an agent finds the demo customer by name among people of the same
name, sees his file masked; a supervisor reveals the ID number (audited); a wrong ID number is
shown at its field."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ROOT, sign_in

pytestmark = pytest.mark.e2e


def test_an_agent_finds_zhang_wei_and_sees_his_file_masked(page: Page) -> None:
    sign_in(page, "agent1")
    page.get_by_test_id("nav-customers").click()
    page.get_by_test_id("customer-search").fill("张伟")
    page.get_by_test_id("customer-search-go").click()
    hits = page.get_by_test_id("customer-hits")
    expect(hits).to_contain_text("88000001")
    expect(hits).to_contain_text("1985年生 · 上海 · 尾号8000")
    hits.locator("tr", has_text="88000001").click()
    expect(page.get_by_test_id("customer-title")).to_contain_text("张伟 先生")
    expect(page.get_by_test_id("customer-id-value")).to_have_text("**************1235")
    expect(page.get_by_test_id("customer-phone").first).to_contain_text("138****8000")
    expect(page.get_by_test_id("reveal-id_number")).to_have_count(0)  # an agent cannot reveal
    expect(page.get_by_test_id("customer-loyalty")).to_contain_text("12,800")
    # his file's history, newest first, 20 at a time: the earlier suite's tests add to it (his SMS,
    # WeChat answers, bookings), so it is narrowed to what the test looks for — his calls, his visits
    timeline = page.get_by_test_id("customer-timeline")
    groups = page.get_by_test_id("timeline-groups")
    groups.get_by_text("通话", exact=True).click()
    expect(timeline).to_contain_text("003号 赵磊接听")
    expect(timeline).not_to_contain_text("短信")
    groups.get_by_text("到访", exact=True).click()
    expect(timeline).to_contain_text("到访 上海外滩店：咨询会议室")
    groups.get_by_text("全部", exact=True).click()
    # `HOTLINE_UPDATE_SCREENSHOT=1 make test-e2e` refreshes the README's picture.
    target = (
        "docs/screenshot.png" if os.environ.get("HOTLINE_UPDATE_SCREENSHOT") else "test-results/customer.png"
    )
    page.screenshot(path=str(Path(ROOT, target)))


def test_a_supervisor_reveals_the_id_number_and_the_audit_log_shows_it(page: Page) -> None:
    sign_in(page, "supervisor")
    page.goto("/customers?q=88000001")
    page.get_by_test_id("customer-hits").locator("tr", has_text="88000001").click()
    page.get_by_test_id("reveal-id_number").click()
    expect(page.get_by_test_id("customer-id-value")).to_have_text("310104198503121235")
    page.get_by_test_id("user-menu").click()
    page.get_by_test_id("logout").click()
    sign_in(page, "admin")
    page.get_by_test_id("nav-audit").click()
    expect(page.get_by_test_id("audit-table")).to_contain_text("customer.revealed")


def test_a_wrong_id_number_is_shown_at_its_field(page: Page) -> None:
    sign_in(page, "agent2")
    page.get_by_test_id("nav-customers").click()
    page.get_by_test_id("customer-create").click()
    page.get_by_test_id("customer-name").fill("测试客户")
    page.get_by_test_id("customer-phone-0").fill("13912345678")
    page.get_by_role("dialog").locator(".el-select").first.click()
    page.get_by_role("option", name="身份证").click()
    page.get_by_test_id("customer-id-number").fill("110101199003074478")
    page.get_by_test_id("customer-save").click()
    expect(page.locator(".el-form-item__error")).to_contain_text("校验码")


def test_the_file_shows_the_timeline_beside_the_profile_with_what_to_do_next(page: Page) -> None:
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, "agent1")
    page.goto("/customers?q=88000001")
    page.get_by_test_id("customer-hits").locator("tr", has_text="88000001").click()
    timeline = page.get_by_test_id("customer-timeline")
    expect(timeline).to_contain_text("短信")  # newest first: his messages, more with each test before
    page.get_by_test_id("timeline-groups").get_by_text("积分", exact=True).click()
    expect(timeline).to_contain_text("积分 +1,650")  # the ledger's line, as the ledger says
    expect(timeline.locator(".el-timeline-item")).to_have_count(2)  # only the ledger's two lines
    box = timeline.bounding_box()
    assert box is not None and box["y"] < 900, box  # in the first screen, no scrolling
    for action in ("customer-new-ticket", "customer-new-order", "customer-call-back"):
        expect(page.get_by_test_id(action)).to_be_visible()
    page.get_by_test_id("customer-new-ticket").click()
    expect(
        page.locator("[data-testid='ticket-member'] input, input[data-testid='ticket-member']").first
    ).to_have_value("88000001")
    expect(
        page.locator(
            "[data-testid='ticket-contact-name'] input, input[data-testid='ticket-contact-name']"
        ).first
    ).to_have_value("张伟先生")
