"""Conversations routed by the ACD, in browsers (issue 24, item 2): a visitor's web chat about a hotel
enters the 酒店预订 queue and is given to a ready agent; the supervisor sees it in 客户会话 with who
has it and on the queues page, and passes it on to 周婷 (004) by name; 周婷 finds it under 我的会话."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e


def test_a_web_chat_is_routed_seen_by_the_supervisor_and_passed_on_to_a_colleague(
    server: str, session: Callable[[str], Page]
) -> None:
    with httpx.Client(base_url=server) as supervisor:
        supervisor.post("/api/auth/login", json={"username": "supervisor", "password": "hotline-demo"})
        agents = {a["username"]: a for a in supervisor.get("/api/routing/agents").json()}
        zhou = agents["agent4"]  # travel and emergency only: the ACD never gives them a hotel chat
        profile = {"skills": zhou["skills"], "chat_capacity": 10, "calls_while_chatting": True}
        assert (
            supervisor.put(f"/api/routing/agents/{zhou['user_id']}/profile", json=profile).status_code == 204
        )
        if zhou["state"] != "ready":
            ready = supervisor.put(f"/api/routing/agents/{zhou['user_id']}/state", json={"state": "ready"})
            assert ready.status_code == 200, ready.text
    form = {"name": "赵先生", "topic": "hotel", "text": "外滩店周六还有江景房吗？", "site": "yingguan-hotels"}
    assert httpx.post(f"{server}/api/chat/start", json=form).status_code == 201

    boss = session("supervisor")
    boss.get_by_test_id("nav-conversations").click()
    row = boss.get_by_test_id("conversations-table").locator("tr", has_text="赵先生")
    expect(row.get_by_test_id("conversation-row-assignee")).to_be_visible()  # given, or waiting in line
    row.click()
    expect(boss.get_by_test_id("conversation-assignee")).to_be_visible()

    boss.get_by_test_id("conversation-pass").click()
    boss.locator(".el-popover:visible .el-radio-button", has_text="转给同事").click()
    boss.get_by_test_id("conversation-pass-agent").click()
    boss.locator(".el-select-dropdown__item:visible", has_text="周婷").first.click()
    boss.get_by_test_id("conversation-pass-save").click()
    expect(boss.get_by_test_id("conversation-assignee")).to_have_text("接待：周婷")

    boss.goto("/admin/queues")
    expect(boss.get_by_test_id("queue-chats-hotel")).to_contain_text("会话：排队")

    zhou_page = session("agent4")
    zhou_page.get_by_test_id("nav-conversations").click()
    zhou_page.get_by_test_id("conversation-filter-mine").click()
    mine = zhou_page.get_by_test_id("conversations-table")
    expect(mine.locator("tr", has_text="赵先生")).to_be_visible()
    mine.locator("tr", has_text="赵先生").click()
    expect(zhou_page.get_by_test_id("conversation-messages")).to_contain_text("外滩店周六还有江景房吗？")

    # and on her desktop, beside the call: a tab for each conversation she has, the thread in it
    zhou_page.get_by_test_id("nav-desktop").click()
    chats = zhou_page.get_by_test_id("desk-chats")
    expect(chats).to_contain_text("我的会话")
    chats.locator(".el-tabs__item", has_text="赵先生").click()
    expect(chats.get_by_test_id("conversation-messages")).to_contain_text("外滩店周六还有江景房吗？")
    chats.locator("textarea[data-testid=conversation-reply]").fill("赵先生您好，外滩店周六还有江景房。")
    chats.get_by_test_id("conversation-send").click()
    expect(chats.get_by_test_id("bubble-out").last).to_contain_text("还有江景房")
