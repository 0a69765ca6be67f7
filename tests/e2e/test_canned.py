"""One list of canned phrases (常用语), in browsers: the supervisor writes a phrase in 消息中心 → 常用语
for conversations and tickets of the 工单 type; the administrator's 工单设置 → 常用语 shows it beside
the tickets' own phrases; 何师傅, on 张伟's work order, turns it back with
that phrase — a click fills the note with his name and the ticket's number — and the chat's reply
box offers it too; the supervisor deletes it."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import field

pytestmark = pytest.mark.e2e
TEXT = "{客户称呼}您好，工单{number}已安排专人回访，请保持电话畅通。"


def choose(page: Page, testid: str, option: str) -> None:
    page.get_by_test_id(testid).click()
    page.locator(".el-select-dropdown__item:visible", has_text=re.compile(f"^{option}$")).first.click()
    # gone before the next list opens (one fading out may hold the same words: 工单)
    expect(page.locator(".el-select-dropdown:visible")).to_have_count(0)


def text_box(page: Page, testid: str) -> Locator:
    return page.locator(f"textarea[data-testid='{testid}'], [data-testid='{testid}'] textarea").first


def _zhangs_work_order(server: str) -> int:
    with httpx.Client(base_url=server) as staff:
        assert (
            staff.post("/api/auth/login", json={"username": "dept1", "password": "hotline-demo"}).status_code
            == 200
        )
        found = staff.get("/api/tickets", params={"scope": "mine", "status": "in_process"}).json()["items"]
        return int(next(t["id"] for t in found if t["title"] == "客房空调不制冷"))


def test_a_phrase_for_chats_and_work_orders_is_written_once_and_offered_in_both(
    session: Callable[[str], Page], server: str
) -> None:
    supervisor = session("supervisor")
    supervisor.goto("/messages")
    supervisor.get_by_role("tab", name="常用语").click()
    supervisor.get_by_test_id("canned-phrase-new").click()
    choose(supervisor, "canned-phrase-category", "其他")
    field(supervisor, "canned-phrase-title").fill("已安排回访")
    text_box(supervisor, "canned-phrase-text").fill(TEXT)
    choose(supervisor, "canned-phrase-used-in", "会话和工单")
    choose(supervisor, "canned-phrase-ticket-type", "工单")
    supervisor.get_by_test_id("canned-phrase-save").click()
    table = supervisor.get_by_test_id("canned-phrases-table")
    mine = table.locator("tr", has_text="已安排回访")
    expect(mine).to_contain_text("会话和工单 · 工单")
    apology = table.locator("tr").filter(has=supervisor.get_by_text("投诉致歉", exact=True))
    expect(apology).to_contain_text("工单 · 投诉单")  # the tickets' own

    # 工单设置 → 常用语 is the same list, showing what tickets are offered
    admin = session("admin")
    admin.goto("/tickets/settings")
    admin.get_by_role("tab", name="常用语").click()
    rows = admin.get_by_test_id("canned-phrases-table")
    expect(rows.locator("tr", has_text="已安排回访")).to_contain_text("会话和工单 · 工单")
    expect(rows.locator("tr", has_text="已受理")).to_contain_text("工单")
    expect(rows.locator("tr", has_text="开场问候")).to_have_count(0)  # a chat's only

    # 何师傅 turns 张伟's work order back with it: his name and the ticket's number filled in
    staff = session("dept1")
    staff.goto(f"/tickets/{_zhangs_work_order(server)}")
    number = staff.get_by_test_id("ticket-number").inner_text()
    staff.get_by_test_id("ticket-action-reject").click()
    chips = staff.locator(".hl-canned .hl-chip")
    expect(chips.filter(has_text="误派说明")).to_have_count(1)
    expect(chips.filter(has_text="投诉致歉")).to_have_count(0)  # for complaints only
    chips.filter(has_text="已安排回访").click()
    expect(text_box(staff, "ticket-dialog-note")).to_have_value(
        f"张伟您好，工单{number}已安排专人回访，请保持电话畅通。"
    )
    staff.keyboard.press("Escape")  # not sent: the demo's ticket stays as it was

    # the chat's reply box offers it as well
    agent = session("agent1")
    agent.get_by_test_id("nav-conversations").click()
    agent.get_by_test_id("conversations-table").locator("tr").nth(1).click()
    agent.get_by_test_id("canned-open").click()
    agent.get_by_test_id("canned-filter").fill("回访")
    expect(agent.get_by_test_id("canned-phrase")).to_have_count(1)
    expect(agent.get_by_test_id("canned-phrase")).to_contain_text("已安排回访")

    supervisor.reload()
    supervisor.get_by_role("tab", name="常用语").click()
    supervisor.get_by_test_id("canned-phrases-table").locator("tr", has_text="已安排回访").get_by_role(
        "button", name="删除"
    ).click()
    supervisor.locator(".el-message-box").get_by_role("button", name="确定").click()
    expect(
        supervisor.get_by_test_id("canned-phrases-table").locator("tr", has_text="已安排回访")
    ).to_have_count(0)
