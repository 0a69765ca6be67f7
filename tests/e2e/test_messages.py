"""Messages in a browser: a supervisor writes a new version of a template and watches its SMS
length, an administrator approves it, and an agent sends it to 张伟 from his page."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e


def test_a_template_is_edited_approved_and_sent_from_the_customer_page(page: Page, server: str) -> None:
    sign_in(page, "supervisor")
    page.get_by_test_id("nav-messages").click()
    page.get_by_role("tab", name="模板").click()
    row = page.get_by_test_id("templates-table").locator("tr", has_text="customer.care.sms")
    row.get_by_role("button", name="编辑").click()
    body = page.get_by_test_id("template-body")
    body.fill("【英冠酒店】{{customer_name}}{{title}}您好，您的{{tier_name}}积分为{{points}}，感谢支持！")
    expect(page.get_by_test_id("template-preview")).to_contain_text("张伟先生您好，您的金卡积分为12800")
    expect(page.get_by_test_id("template-segments")).to_contain_text("1 条短信（UCS-2）")
    page.get_by_test_id("template-save").click()
    expect(row).to_contain_text("待审批")

    page.context.clear_cookies()
    sign_in(page, "admin")
    expect(page.get_by_test_id("bell-count")).not_to_have_text("")  # the approver's bell has rung
    page.get_by_test_id("bell").click()
    page.get_by_test_id("bell-notice").filter(has_text="模板待审批：客户关怀（手工发送） v2").click()
    expect(page).to_have_url(re.compile(r"/messages$"))
    page.get_by_role("tab", name="模板").click()
    row = page.get_by_test_id("templates-table").locator("tr", has_text="customer.care.sms")
    row.locator(".el-table__expand-icon").click()
    page.get_by_test_id("approve-customer.care.sms-2").click()
    expect(row).to_contain_text("v2 使用中")
    before = page.get_by_test_id("bell-count").inner_text()
    with httpx.Client(base_url=server) as supervisor:  # meanwhile, in another office
        supervisor.post("/api/auth/login", json={"username": "supervisor", "password": "hotline-demo"})
        third = {
            "code": "customer.care.sms", "channel": "sms", "topic": "crm.customer",
            "name": "客户关怀（手工发送）", "body": "【英冠酒店】{{customer_name}}{{title}}您好！",
        }  # fmt: skip
        assert supervisor.post("/api/notify/templates", json=third).status_code == 201
    expect(page.get_by_test_id("bell-count")).not_to_have_text(before)  # rung live, no reload

    page.context.clear_cookies()
    sign_in(page, "agent1")
    page.goto("/customers?q=88000001")
    page.get_by_test_id("customer-hits").locator("tr", has_text="88000001").click()
    card = page.get_by_test_id("customer-messages")
    card.get_by_test_id("customer-message-template").click()
    page.locator(".el-select-dropdown__item", has_text="客户关怀").click()
    card.get_by_test_id("customer-send-message").click()
    expect(card).to_contain_text("您的金卡积分为12800")


def test_a_supervisor_counts_a_mailing_before_sending_it(page: Page) -> None:
    sign_in(page, "supervisor")
    page.get_by_test_id("nav-messages").click()
    page.get_by_role("tab", name="群发").click()
    page.get_by_test_id("mailing-template").click()
    page.locator(".el-select-dropdown__item", has_text="生日祝福").click()
    page.locator(".el-checkbox", has_text="金卡").filter(has_not_text="白金卡").click()
    page.get_by_test_id("mailing-count").click()
    counts = page.get_by_test_id("mailing-counts")
    expect(counts).to_contain_text("符合条件")
    matched = int(counts.locator("td").nth(1).inner_text())
    assert matched > 100  # the demo's gold members
    page.get_by_test_id("mailing-send").click()
    expect(page.locator(".el-message")).to_contain_text("已加入发送队列")
    page.get_by_role("tab", name="统计").click()
    expect(page.get_by_test_id("report-table")).to_contain_text("customer.birthday.sms")
