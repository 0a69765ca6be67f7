"""Chats wrapped up and counted (issue 24, item 3), in browsers: agent1 closes a web chat choosing
咨询 as its wrap-up (会话小结) and sees it on the closed thread; the supervisor opens 会话报表,
looks at today by the hour and finds the day's figures as the API gives them, in Chinese, with
the channels named in words."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e


def _chat_opened_by_agent1(server: str, session: Callable[[str], Page], name: str, text: str) -> Page:
    """A visitor named `name` starts a hotel web chat saying `text`; agent1 opens it."""
    form = {"name": name, "topic": "hotel", "text": text, "site": "yingguan-hotels"}
    assert httpx.post(f"{server}/api/chat/start", json=form).status_code == 201
    page = session("agent1")
    page.get_by_test_id("nav-conversations").click()
    page.get_by_test_id("conversations-table").locator("tr", has_text=name).filter(has_text=text).click()
    expect(page.get_by_test_id("conversation-messages")).to_contain_text(text)
    return page


def test_agent1_closes_a_web_chat_with_a_wrap_up_code(server: str, session: Callable[[str], Page]) -> None:
    page = _chat_opened_by_agent1(server, session, "钱先生", "请问机场接送怎么预约？")
    page.get_by_test_id("conversation-close").click()
    dialog = page.get_by_test_id("conversation-close-dialog")
    expect(dialog).to_contain_text("会话小结")
    expect(dialog).to_contain_text("需回电")  # the calls' codes, in words
    dialog.locator(".el-radio-button", has_text="咨询").click()
    page.locator("textarea[data-testid=conversation-close-note]").fill("已告知接机电话")
    page.get_by_test_id("conversation-close-save").click()
    expect(page.get_by_test_id("conversation-wrap-up")).to_contain_text("会话小结：咨询 · 已告知接机电话")
    expect(page.get_by_test_id("conversation-thread")).to_contain_text("会话已关闭")
    expect(page.get_by_test_id("conversation-close")).to_have_count(0)


def test_the_supervisor_sees_the_days_chat_figures(server: str, session: Callable[[str], Page]) -> None:
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    with httpx.Client(base_url=server) as api:
        api.post("/api/auth/login", json={"username": "supervisor", "password": "hotline-demo"})
        shown = api.get("/api/reports/chats", params={"start": today, "end": today, "granularity": "hour"})
        totals = shown.json()["totals"]
    assert totals["offered"] >= 4  # the demo's SMS, TD reply, WeChat and web chat came in today

    page = session("supervisor")
    page.get_by_test_id("nav-report-chats").click()
    report = page.get_by_test_id("report-chats")
    expect(report).to_contain_text("会话报表")
    page.get_by_test_id("report-granularity").get_by_text("小时").click()  # today, by the hour
    expect(report.get_by_test_id("total-offered")).to_contain_text("进线会话")
    offered = report.get_by_test_id("total-offered").locator(".report-total-value")
    expect(offered).to_have_text(str(totals["offered"]))
    expect(report.get_by_test_id("total-messages_in").locator(".report-total-value")).to_have_text(
        f"{totals['messages_in']:,}"
    )
    expect(report.get_by_test_id("total-wait_p90")).to_contain_text("等待分配（P90）")
    expect(report.locator(".hl-chart canvas").first).to_be_attached()

    page.get_by_test_id("report-granularity").get_by_text("日").click()  # the last 30 days
    report.locator(".el-radio-button", has_text="按渠道").click()
    rows = report.get_by_test_id("report-rows")
    expect(rows).to_contain_text("在线客服")
    expect(rows).to_contain_text("微信")
    expect(report.get_by_test_id("total-csat").locator(".report-total-value")).to_have_text(
        re.compile(r"^\d+\.\d%$")
    )
    assert not re.search(r"\b(web|wechat|sms|offered|csat)\b", rows.inner_text())  # words, not codes


def test_a_chat_closed_with_callback_puts_the_customer_on_the_callback_list(
    server: str, session: Callable[[str], Page]
) -> None:
    page = _chat_opened_by_agent1(server, session, "孙女士", "房型的事请回个电话给我")
    # an unidentified visitor gives no number to ring: refused on the code, the chat stays open
    page.get_by_test_id("conversation-close").click()
    dialog = page.get_by_test_id("conversation-close-dialog")
    dialog.locator(".el-radio-button", has_text="需回电").click()
    page.get_by_test_id("conversation-close-save").click()
    expect(dialog).to_contain_text("没有可回电的号码：请先关联客户")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page.get_by_test_id("conversation-close")).to_be_visible()

    # linked to 张伟's file, the same close opens a call-back task on his preferred number
    page.get_by_test_id("conversation-link").click()
    page.get_by_test_id("conversation-link-customer").locator("input").fill("张伟")
    page.locator(".el-select-dropdown__item", has_text="张伟").first.click()
    page.get_by_test_id("conversation-link-save").click()
    expect(page.get_by_test_id("conversation-thread").get_by_role("link", name="张伟")).to_be_visible()
    page.get_by_test_id("conversation-close").click()
    dialog.locator(".el-radio-button", has_text="需回电").click()
    page.get_by_test_id("conversation-close-save").click()
    expect(page.get_by_test_id("conversation-wrap-up")).to_contain_text("会话小结：需回电")

    page.goto("/calls")
    page.locator(".el-tabs__item", has_text="待回电").click()
    task = page.get_by_test_id("callbacks-table").locator("tr", has_text="会话约回电")
    expect(task).to_contain_text("138****8000")
    expect(task).to_contain_text("酒店预订")
    task.get_by_test_id("callback-conversation").click()  # back to what the customer asked
    expect(page.get_by_test_id("conversation-messages")).to_contain_text("房型的事请回个电话给我")
    expect(page.get_by_test_id("conversation-wrap-up")).to_contain_text("会话小结：需回电")
