"""外呼 in a real browser: a supervisor sets up a campaign (a window the rules refuse is marked on its
field), imports a list (a bad row reported before anything is written), shares the numbers evenly,
and the agent sees his own numbers masked under 我的外呼."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import choose, field

pytestmark = pytest.mark.e2e

LIST = (
    "电话,姓名,同意来源,同意时间,会员等级\n"
    "13800138001,张三,官网勾选,2026-01-05 10:00,金卡\n"
    "13800138002,李四,官网勾选,2026-01-05 10:00,银卡\n"
    "12345,王五,官网勾选,2026-01-05 10:00,银卡\n"
)


def test_a_supervisor_runs_a_campaign_and_the_agent_sees_his_numbers_masked(
    session: Callable[[str], Page], tmp_path: Path
) -> None:
    boss = session("supervisor")
    boss.get_by_test_id("nav-outbound-campaigns").click()
    boss.get_by_test_id("campaign-new").click()
    field(boss, "campaign-code").fill("spring-offer")
    field(boss, "campaign-name").fill("春季酒店优惠")
    boss.get_by_test_id("campaign-kind").get_by_text("营销").click()
    choose(boss, "campaign-window-start", "08:00")
    choose(boss, "campaign-agents", "001 陈晓")
    field(boss, "campaign-name").click()  # the multi-select's list closes
    boss.get_by_test_id("campaign-save").click()
    form = boss.get_by_test_id("campaign-form")
    expect(form.locator(".el-form-item__error")).to_contain_text("该类外呼只能在 09:00 至 21:00 之间呼叫")

    choose(boss, "campaign-window-start", "09:00")
    boss.get_by_test_id("campaign-save").click()
    expect(boss.get_by_test_id("campaigns-table")).to_contain_text("春季酒店优惠")
    # edited: the feed of yesterday's departures, a new name
    boss.get_by_test_id("campaign-edit-spring-offer").click()
    field(boss, "campaign-name").fill("春季酒店优惠（老客）")
    choose(boss, "campaign-feed", "离店日")
    boss.get_by_test_id("campaign-save").click()
    expect(boss.get_by_test_id("campaigns-table")).to_contain_text("春季酒店优惠（老客）")

    boss.get_by_test_id("campaign-open-spring-offer").click()
    boss.get_by_test_id("outbound-import").click()
    csv = tmp_path / "list.csv"
    csv.write_text(LIST, encoding="utf-8")
    boss.get_by_test_id("outbound-import-file").set_input_files(str(csv))
    boss.get_by_test_id("outbound-import-check").click()
    report = boss.get_by_test_id("outbound-import-report")
    expect(report).to_contain_text("共 3 行，可拨打 2 行")
    expect(report.locator("tbody tr")).to_have_count(1)
    expect(report.locator("tbody tr").first).to_contain_text("4")
    boss.get_by_test_id("outbound-import-confirm").click()
    expect(boss.get_by_test_id("outbound-import-added")).to_contain_text("已添加 2 个号码")
    boss.keyboard.press("Escape")

    numbers = boss.get_by_test_id("targets-table")
    expect(numbers.locator("tbody tr")).to_have_count(2)
    expect(numbers).to_contain_text("会员等级: 金卡")
    boss.get_by_test_id("targets-evenly").click()
    expect(boss.get_by_test_id("agent-progress")).to_contain_text("2")

    agent = session("agent1")
    agent.get_by_test_id("nav-my-outbound").click()
    mine = agent.get_by_test_id("my-campaign-spring-offer")
    expect(mine).to_contain_text("春季酒店优惠")
    rows = mine.get_by_test_id("targets-table").locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).not_to_contain_text("13800138001")
    expect(rows.first).to_contain_text("*")
