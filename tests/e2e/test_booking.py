"""The booking desk in a browser: seed 000's call — the caller is 张伟, he wants a room in
Shanghai tomorrow, the agent picks the Bund hotel's member rate, takes the guest's phone and the
arrival time, confirms, and sees what 张伟 will be sent."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ROOT, sign_in

pytestmark = pytest.mark.e2e


def test_an_agent_books_a_room_for_the_caller(page: Page) -> None:
    sign_in(page, "agent3")
    page.get_by_test_id("nav-booking").click()
    page.get_by_test_id("booking-customer").fill("13800138000")
    page.get_by_test_id("booking-customer").press("Enter")
    expect(page.get_by_test_id("booking-customer-found")).to_contain_text("张伟 先生 · 88000001 · 金卡")
    page.get_by_test_id("booking-search").click()
    offers = page.get_by_test_id("booking-offers")
    row = (
        offers.locator("tr", has_text="英冠酒店上海外滩店")
        .filter(has_text="高级大床房")
        .filter(has_text="会员价")
        .first
    )
    row.get_by_test_id("booking-choose").click()
    expect(page.get_by_test_id("booking-guest-name")).to_have_value("张伟")
    page.get_by_test_id("booking-guest-phone").fill("13800138000")
    page.get_by_test_id("booking-confirm").click()
    done = page.get_by_test_id("booking-done")
    expect(done).to_contain_text("预订成功 · 预订号 600000")
    expect(done).to_contain_text("英冠酒店上海外滩店高级大床房1间")
    expect(done).to_contain_text("上海市黄浦区中山东一路 18 号")
    page.screenshot(path=str(Path(ROOT, "test-results/booking.png")))
    number = done.inner_text().split("预订号 ")[1][:8]

    # the caller rings back to cancel: the policy's fee is shown before it is done
    page.get_by_test_id("nav-reservations").click()
    page.get_by_test_id("reservation-number").fill(number)
    page.get_by_test_id("reservation-number").press("Enter")
    page.get_by_test_id("reservations-table").locator("tr", has_text=number).click()
    page.get_by_test_id("reservation-cancel").click()
    # tomorrow 14:00 is more or less than 24 hours away depending on the time of day: 100 % or 0 %
    expect(page.locator(".el-message-box")).to_contain_text(re.compile(r"按政策退还 (100|0)%：取消费 ¥0\.00"))
    page.locator(".el-message-box").get_by_role("button", name="确定").click()
    expect(page.get_by_test_id("reservations-table")).to_contain_text("已取消")
    # cancelled: the server lists no more steps, and the drawer offers none
    expect(page.get_by_test_id("reservation-modify")).to_have_count(0)
    expect(page.get_by_test_id("reservation-cancel")).to_have_count(0)
    expect(page.get_by_test_id("reservation-confirmation").last).to_contain_text("已取消")
