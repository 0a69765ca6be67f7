"""The web chat in browsers (issue 24): a partner site on another origin carries the widget's one
script tag; a visitor opens it, the pre-chat form marks every missing field at once, their question
(with markup in it) reaches agent1 in 客户会话 as text; agent1's answer reaches the visitor's window
with 已读 under the question; the visitor's typing shows on the agent's side; the visitor ends with
five stars, which the agent's thread shows. No markup a visitor sends runs on either side. With no
agent logged in, the page offers to leave a message instead; it becomes a ticket the supervisor
finds in the tickets list."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
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


@pytest.fixture
def nobody_there(server: str) -> Iterator[None]:
    """Every agent logged out while the test runs (the demo's are ready), logged in again after."""
    with httpx.Client(base_url=server) as supervisor:
        assert supervisor.post(
            "/api/auth/login", json={"username": "supervisor", "password": "hotline-demo"}
        ).is_success
        present = [
            a["user_id"] for a in supervisor.get("/api/routing/agents").json() if a["state"] != "logged_out"
        ]
        for user_id in present:
            out = {"state": "logged_out", "reason": "测试：无人在线"}
            assert supervisor.put(f"/api/routing/agents/{user_id}/state", json=out).is_success
        for _ in range(50):  # the agents' states reach the event log a moment after the change
            if supervisor.get("/api/chat/availability").json() == {"available": False}:
                break
            time.sleep(0.2)
        else:
            pytest.fail("an agent is still logged in")
        try:
            yield
        finally:
            for user_id in present:
                supervisor.put(
                    f"/api/routing/agents/{user_id}/state", json={"state": "ready", "reason": "测试结束"}
                )


def test_with_no_agent_logged_in_a_visitor_leaves_a_message_the_supervisor_finds_as_a_ticket(
    browser: Browser, server: str, nobody_there: None, session: Callable[[str], Page]
) -> None:
    context = browser.new_context(base_url=server, viewport={"width": 420, "height": 860}, locale="zh-CN")
    visitor = context.new_page()
    visitor.set_default_timeout(15_000)
    visitor.goto("/chat?site=yingguan-hotels")
    form = visitor.get_by_test_id("chat-leave")
    expect(form).to_be_visible()
    expect(visitor.get_by_test_id("chat-form")).to_have_count(0)

    visitor.get_by_test_id("leave-send").click()  # nothing filled: the name and the message marked
    expect(form.locator(".el-form-item__error")).to_have_count(2)
    field(form, "leave-name").fill("赵女士")
    form.locator("textarea[data-testid=leave-text]").fill("想预订春节外滩店的家庭房，请回电。")
    visitor.get_by_test_id("leave-send").click()  # no phone nor e-mail: marked at the e-mail
    expect(form.locator(".el-form-item__error")).to_have_count(1)
    expect(form.locator(".el-form-item__error")).to_contain_text("手机号或邮箱")
    field(form, "leave-phone").fill("13700001111")
    visitor.get_by_test_id("leave-send").click()
    expect(visitor.get_by_test_id("chat-left")).to_contain_text("留言已收到")
    number = visitor.get_by_test_id("chat-left-number").inner_text()
    assert number.isdigit()
    context.close()

    supervisor = session("supervisor")
    supervisor.get_by_test_id("nav-tickets").click()
    supervisor.get_by_test_id("ticket-tab-dispatch").click()
    row = supervisor.get_by_test_id("tickets-table").locator("tr", has_text=number)
    expect(row).to_contain_text("网站留言 赵女士")
    row.click()
    expect(supervisor.get_by_test_id("ticket-number")).to_have_text(number)
    expect(supervisor.locator("body")).to_contain_text("想预订春节外滩店的家庭房，请回电。")
    expect(supervisor.locator("body")).not_to_contain_text("13700001111")
