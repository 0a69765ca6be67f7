"""我的外呼's work panel in a real browser: agent1 asks for the next number of the demo return-visit
campaign (离店回访) and sees it previewed — the number masked, the list's columns, the script and what
China's calling rules say now — or, outside the campaign's hours, when the next number comes due; a
click on 张伟's number opens his preview at any hour. Nothing is dialled (no SIP phone here)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

REASONS = {
    "outside-window": "不在允许呼叫时段",
    "holiday": "法定节假日不外呼",
    "daily-cap": "已达当日呼叫次数上限",
    "weekly-cap": "已达本周呼叫次数上限",
    "do-not-call": "在免打扰名单中",
}


def _sees_the_preview(agent: Page, item: dict[str, Any]) -> None:
    target, check = item["target"], item["check"]
    assert "*" in target["phone"]
    expect(agent.get_by_test_id("work-phone")).to_have_text(target["phone"])
    expect(agent.get_by_test_id("work-name")).to_have_text(target["name"])
    expect(agent.get_by_test_id("work-panel")).to_contain_text("酒店: ")
    script = agent.get_by_test_id("work-script")  # the number's own values in the script's placeholders
    expect(script).to_contain_text(
        f"{target['name']}您好，我是英冠酒店的客服，感谢您入住我们{target['fields']['酒店']}"
    )
    expect(script).not_to_contain_text("{")
    answer = agent.get_by_test_id("work-check")
    if check["allowed"]:
        expect(answer).to_contain_text("现在可以拨打")
        expect(agent.get_by_test_id("work-dial")).to_be_enabled()
    else:
        expect(answer).to_contain_text(REASONS.get(check["reason"], check["reason"]))
        if check["next_allowed_at"]:
            expect(answer).to_contain_text("最早可于")
        expect(agent.get_by_test_id("work-dial")).to_be_disabled()


def test_an_agent_previews_the_next_number_and_a_number_of_his_list(session: Callable[[str], Page]) -> None:
    agent = session("agent1")
    agent.get_by_test_id("nav-my-outbound").click()
    card = agent.get_by_test_id("my-campaign-stay-return")
    expect(card).to_contain_text("离店回访")
    rows = card.get_by_test_id("targets-table").locator("tbody tr")
    expect(rows).to_have_count(5)
    expect(card.get_by_test_id("targets-table")).to_contain_text("张伟")

    with agent.expect_response(lambda r: r.url.endswith("/next") and r.request.method == "POST") as answered:
        card.get_by_test_id("my-next-stay-return").click()
    body = answered.value.json()
    expect(agent.get_by_test_id("work-panel")).to_be_visible()
    if body["item"] is None:  # outside 09:00–20:30 Shanghai time every number is held back
        expect(agent.get_by_test_id("work-empty")).to_contain_text("现在没有可以拨打的号码")
        if body["next_at"]:
            expect(agent.get_by_test_id("work-next-at")).to_contain_text("下一个号码将于")
    else:
        _sees_the_preview(agent, body["item"])
    agent.keyboard.press("Escape")
    expect(agent.get_by_test_id("work-panel")).to_be_hidden()

    row = rows.filter(has_text="张伟")
    with agent.expect_response(
        lambda r: "/api/outbound/targets/" in r.url and r.request.method == "GET"
    ) as shown:
        row.locator("[data-testid^='target-open-']").click()
    item = shown.value.json()
    assert item["target"]["name"] == "张伟"
    _sees_the_preview(agent, item)
    expect(agent.get_by_test_id("work-customer")).to_be_visible()
    expect(agent.get_by_test_id("work-attempts")).to_contain_text("还没有拨打过")
    # no time to answer now: the questionnaire texted to his phone (once: a link open is not resent)
    agent.get_by_test_id("work-survey-sms").click()
    expect(agent.locator(".el-message").filter(has_text="问卷").first).to_be_visible()
    agent.get_by_test_id("work-survey-sms").click()
    expect(agent.locator(".el-message", has_text="不再重复发送").first).to_be_visible()


def test_an_agent_joins_and_leaves_a_predictive_campaign(session: Callable[[str], Page]) -> None:
    supervisor = session("supervisor")
    agents = supervisor.request.get("/api/routing/agents").json()
    agent1_id = next(a["user_id"] for a in agents if a["username"] == "agent1")
    created = supervisor.request.post(
        "/api/outbound/campaigns",
        data={
            "code": "e2e-auto",
            "name": "自动外呼回访",
            "kind": "service",
            "purpose": "return_visit",
            "mode": "predictive",
            "detect_machines": True,
            "agent_ids": [agent1_id],
        },
    )
    assert created.status == 201, created.text()
    campaign_id = created.json()["id"]
    assert supervisor.request.post(
        f"/api/outbound/campaigns/{campaign_id}/status", data={"status": "running"}
    ).ok

    agent = session("agent1")
    agent.get_by_test_id("nav-my-outbound").click()
    card = agent.get_by_test_id("my-campaign-e2e-auto")
    expect(card).to_contain_text("自动外呼回访")
    expect(card.get_by_test_id("my-next-e2e-auto")).to_have_count(0)  # the dialer dials, not the agent
    expect(card.get_by_test_id("my-dialer-e2e-auto")).to_contain_text("0 位坐席在线")
    card.get_by_test_id("my-join-e2e-auto").click()
    expect(card.get_by_test_id("my-join-e2e-auto")).to_have_text("退出自动外呼")
    expect(card.get_by_test_id("my-dialer-e2e-auto")).to_contain_text("1 位坐席在线")
    state = supervisor.request.get(f"/api/outbound/campaigns/{campaign_id}/dialer").json()
    assert state["agents"] == 1 and state["joined"] is False  # the supervisor did not join
    supervisor.goto(f"/outbound/campaigns/{campaign_id}")  # 活动详情 shows the dialer now
    expect(supervisor.get_by_test_id("campaign-dialer")).to_contain_text("1 位坐席在线")
    card.get_by_test_id("my-join-e2e-auto").click()
    expect(card.get_by_test_id("my-join-e2e-auto")).to_have_text("加入自动外呼")
    assert supervisor.request.post(
        f"/api/outbound/campaigns/{campaign_id}/status", data={"status": "closed"}
    ).ok
