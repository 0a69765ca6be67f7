"""The knowledge base in a browser: an agent types the caller's question and reads the answer with
the words found highlighted; a supervisor adds an article that is found at once."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e


def test_an_agent_finds_the_answer_as_the_caller_asks_it(page: Page) -> None:
    sign_in(page, "agent2")
    page.get_by_test_id("nav-knowledge").click()
    page.get_by_test_id("kb-search").fill("保留到几点")
    first = page.get_by_test_id("kb-hit").first
    expect(first).to_contain_text("房间保留时间")
    expect(first.locator("mark").first).to_have_text("保留")
    first.click()
    expect(page.get_by_test_id("kb-article")).to_contain_text("担保预订（预付优惠）整晚保留")


def test_a_supervisor_adds_an_article_that_is_found_at_once(page: Page) -> None:
    sign_in(page, "supervisor")
    page.get_by_test_id("nav-knowledge").click()
    page.get_by_test_id("kb-new").click()
    page.get_by_test_id("kb-title").fill("婴儿床")
    page.get_by_test_id("kb-body").fill("各店均可免费提供婴儿床，请在预订时备注，数量有限先到先得。")
    page.get_by_test_id("kb-save").click()
    expect(page.get_by_test_id("kb-article")).to_contain_text("免费提供婴儿床")
    page.keyboard.press("Escape")
    page.get_by_test_id("kb-search").fill("婴儿")
    expect(page.get_by_test_id("kb-hit").first).to_contain_text("婴儿床")


def test_a_supervisor_edits_the_call_script_agents_follow(page: Page) -> None:
    sign_in(page, "supervisor")
    page.get_by_test_id("nav-knowledge").click()
    text = page.get_by_test_id("kb-script-text")
    expect(text).to_have_value(re.compile(r"^## 订房需求"))
    shipped = text.input_value()
    text.fill("## 问候\n{name}{title}您好，英冠酒店很高兴为您服务！\n\n" + shipped)
    page.get_by_test_id("kb-script-save").click()
    expect(page.locator(".el-message").last).to_contain_text("已保存")
    expect(page.get_by_test_id("kb-scripts")).not_to_contain_text("系统默认")
    page.reload()
    expect(text).to_have_value(re.compile(r"^## 问候\n\{name\}\{title\}您好"))
    text.fill(shipped)  # as it was, for the other tests on this server
    page.get_by_test_id("kb-script-save").click()
    expect(page.locator(".el-message").last).to_contain_text("已保存")
