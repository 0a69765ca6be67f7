"""The web chat in browsers (issue 24): a partner site on another origin carries the widget's one
script tag; a visitor opens it, the pre-chat form marks every missing field at once, their question
(with markup in it) reaches agent1 in 客户会话 as text; agent1's answer reaches the visitor's window
with 已读 under the question; the visitor's typing shows on the agent's side; the visitor ends with
five stars, which the agent's thread shows. No markup a visitor sends runs on either side."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import field

pytestmark = pytest.mark.e2e

XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture
def partner_site(tmp_path: Path, server: str) -> Iterator[str]:
    """A hotel's own site, on another origin, with the widget's tag."""
    (tmp_path / "index.html").write_text(
        '<!doctype html><meta charset="utf-8"><title>英冠酒店官网</title><h1>英冠酒店 · 上海外滩店</h1>'
        f'<script src="{server}/chat-widget.js" data-site="yingguan-hotels" async></script>',
        encoding="utf-8",
    )
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(tmp_path)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/index.html"
    httpd.shutdown()


def test_a_visitor_on_a_partner_site_chats_with_agent1_and_rates_the_chat(
    browser: Browser, server: str, partner_site: str, session: Callable[[str], Page]
) -> None:
    alerts: list[str] = []
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="zh-CN")
    visitor = context.new_page()
    visitor.set_default_timeout(15_000)
    visitor.on("dialog", lambda dialog: (alerts.append(dialog.message), dialog.dismiss()))
    visitor.goto(partner_site)
    visitor.locator("[data-hotline-chat=button]").click()
    chat = visitor.frame_locator("iframe[data-hotline-chat=frame]")
    expect(chat.get_by_test_id("chat-form")).to_be_visible()

    chat.get_by_test_id("chat-start").click()  # nothing filled: the name and the question marked at once
    expect(chat.locator(".el-form-item__error")).to_have_count(2)
    field(chat.get_by_test_id("chat-form"), "chat-name").fill("王女士")
    field(chat.get_by_test_id("chat-form"), "chat-phone").fill("13912345678")
    chat.locator("textarea[data-testid=chat-question]").fill(f"外滩店有亲子房吗？{XSS}")
    chat.get_by_test_id("chat-start").click()
    expect(chat.get_by_test_id("chat-mine").first.locator(".text")).to_have_text(f"外滩店有亲子房吗？{XSS}")

    agent = session("agent1")
    agent.on("dialog", lambda dialog: (alerts.append(dialog.message), dialog.dismiss()))
    agent.get_by_test_id("nav-conversations").click()
    agent.get_by_test_id("conversations-table").locator("tr", has_text="王女士").click()
    thread = agent.get_by_test_id("conversation-messages")
    expect(thread.get_by_test_id("bubble-in").last.locator(".text")).to_have_text(f"外滩店有亲子房吗？{XSS}")
    expect(agent.get_by_test_id("conversation-visitor")).to_contain_text("139****5678")
    assert thread.locator("img").count() == 0

    # the visitor's window: 已读 under the question once the agent's thread showed it
    expect(chat.get_by_test_id("chat-read")).to_be_visible()
    chat.locator("textarea[data-testid=chat-draft]").fill("大概")
    expect(agent.get_by_test_id("conversation-visitor-typing")).to_be_visible()

    agent.locator("textarea[data-testid=conversation-reply]").fill(
        "您好，外滩店有亲子主题房，周末 ¥1,280 起。"
    )
    agent.get_by_test_id("conversation-send").click()
    theirs = chat.get_by_test_id("chat-theirs").last
    expect(theirs).to_contain_text("您好，外滩店有亲子主题房，周末 ¥1,280 起。")
    expect(theirs).to_contain_text("陈晓")

    chat.get_by_test_id("chat-end").click()
    chat.get_by_test_id("chat-rating").locator(".el-rate__item").nth(4).click()
    chat.get_by_test_id("chat-finish").click()
    expect(chat.get_by_test_id("chat-done")).to_be_visible()
    expect(agent.get_by_test_id("conversation-rating")).to_be_visible()
    assert visitor.locator("img").count() == 0 and chat.locator("img").count() == 0
    assert alerts == []
    context.close()
