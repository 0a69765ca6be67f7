"""The booking desk in a browser: seed 000's call — the caller is 张伟, he wants a room in
Shanghai tomorrow; the offers come grouped by hotel and room type with the member rate marked; he
stays himself, so his phone comes from his file (masked); the agent confirms, sees what 张伟 will
be sent, sends the confirmation SMS again and goes back to his file."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import ROOT, sign_in

pytestmark = pytest.mark.e2e


def bund_member_rate(page: Page, room: str = "高级大床房") -> Locator:
    """The Bund hotel's 会员价 row of a room type among the grouped offers."""
    bund = page.get_by_test_id("booking-hotel").filter(has_text="英冠酒店上海外滩店")
    return (
        bund.get_by_test_id("booking-room-type").filter(has_text=room).locator("tr", has_text="会员价").first
    )


def test_an_agent_books_a_room_for_the_caller(page: Page) -> None:
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, "agent1")
    page.get_by_test_id("nav-booking").click()
    # past days cannot be picked (the server refuses them too)
    page.get_by_test_id("booking-arrival").locator("input").click()
    expect(page.locator(".el-date-table:visible td.today")).not_to_have_class(re.compile("disabled"))
    today = datetime.now().astimezone().date()  # the browser's day: it runs on this machine
    if today.day > 1:
        yesterday = page.locator(
            ".el-date-table:visible td.available, .el-date-table:visible td.disabled"
        ).filter(has_text=re.compile(rf"^\s*{(today - timedelta(days=1)).day}\s*$"))
        expect(yesterday.first).to_have_class(re.compile("disabled"))
    page.keyboard.press("Escape")
    page.get_by_test_id("booking-customer").fill("13800138000")
    page.get_by_test_id("booking-customer").press("Enter")
    expect(page.get_by_test_id("booking-customer-found")).to_contain_text("张伟 先生 · 88000001 · 金卡")
    page.get_by_test_id("booking-search").click()
    # grouped: each Shanghai hotel once with its stars, address and policies, the member rate marked
    hotels = page.get_by_test_id("booking-hotel")
    expect(hotels).to_have_count(4)
    bund = hotels.filter(has_text="英冠酒店上海外滩店")
    expect(bund).to_contain_text("★★★★★")
    expect(bund).to_contain_text("上海市黄浦区中山东一路 18 号")
    expect(bund.get_by_text("入住前24小时以上取消退还100%")).to_have_count(1)  # the policy once
    row = bund_member_rate(page)
    expect(row.get_by_test_id("booking-member-tag")).to_be_visible()
    expect(row.get_by_test_id("booking-price")).to_have_class(re.compile("hl-member-price"))
    row.get_by_test_id("booking-choose").click()
    # 本人入住: his name, and his phone from the file, masked
    expect(page.get_by_test_id("booking-guest-name")).to_have_value("张伟")
    expect(page.get_by_test_id("booking-guest-phone")).to_have_value("138****8000")
    expect(page.get_by_test_id("booking-guest-phone")).to_be_disabled()
    page.get_by_test_id("booking-confirm").click()
    done = page.get_by_test_id("booking-done")
    expect(done).to_contain_text("预订成功 · 预订号 600000")
    expect(done).to_contain_text("英冠酒店上海外滩店高级大床房1间")
    expect(done).to_contain_text("上海市黄浦区中山东一路 18 号")
    expect(done).not_to_contain_text("上线后")
    # the next steps: open it, send the confirmation now, back to his file
    expect(page.get_by_test_id("booking-open")).to_be_visible()
    expect(page.get_by_test_id("booking-send-email")).to_be_visible()
    page.get_by_test_id("booking-send-sms").click()
    expect(page.get_by_test_id("booking-sent")).to_contain_text("确认短信已发往 138****8000")
    number = done.inner_text().split("预订号 ")[1][:8]
    sms: list[dict[str, object]] = []
    for _ in range(50):  # the e2e server's log gateway delivers it
        sent = page.request.get("/api/notify/messages", params={"ref": f"reservation:{number}"}).json()
        sms = [m for m in sent if m["channel"] == "sms" and m["rule_id"] is None]
        if sms and sms[0]["status"] == "delivered":
            break
        page.wait_for_timeout(200)
    assert sms and sms[0]["status"] == "delivered" and sms[0]["recipient"] == "138****8000", sms
    assert number in str(sms[0]["body"]) and "中山东一路 18 号" in str(sms[0]["body"])
    page.get_by_test_id("booking-open").click()
    expect(page.get_by_test_id("reservation-confirmation").first).to_contain_text(number)
    page.keyboard.press("Escape")
    page.screenshot(path=str(Path(ROOT, "test-results/booking.png")))
    page.get_by_test_id("booking-back-to-file").click()
    expect(page.get_by_test_id("customer-title")).to_contain_text("张伟 先生")

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
