"""统计分析 as the supervisor: a team made on 团队管理, then the tickets report of the demo's days
compared with the period before, its chart drawn, and the new team in its team filter; 坐席状态
narrowed to a team by the same picker."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import choose, field

pytestmark = pytest.mark.e2e


def test_a_supervisor_creates_a_team_and_opens_the_tickets_report_with_a_comparison(
    session: Callable[[str], Page],
) -> None:
    page = session("supervisor")
    page.goto("/admin/teams")
    teams = page.get_by_test_id("teams")
    expect(teams).to_contain_text("预订一组")
    expect(teams.get_by_test_id("team-member-001")).to_be_visible()

    page.get_by_test_id("team-new").click()
    field(page, "team-name").fill("夜班组")
    choose(page, "team-leader", "李组长")
    page.get_by_test_id("team-save").click()
    expect(teams.locator("tr", has_text="夜班组")).to_contain_text("李组长")

    # a second team of the same name is refused, the field named
    page.get_by_test_id("team-new").click()
    field(page, "team-name").fill("夜班组")
    page.get_by_test_id("team-save").click()
    expect(page.locator(".el-form-item__error")).to_contain_text("夜班组")
    page.keyboard.press("Escape")

    expect(page.get_by_test_id("nav-report-tickets")).to_be_attached()
    page.goto("/reports/tickets")
    report = page.get_by_test_id("report-tickets")
    expect(report.get_by_test_id("total-opened")).to_be_visible()
    choose(page, "report-compare", "对比上一周期")
    expect(report.get_by_test_id("compare-opened")).to_contain_text("对比")
    expect(report).to_contain_text(re.compile(r"对比周期：\d{4}-\d{2}-\d{2} 至 \d{4}-\d{2}-\d{2}"))
    opened = report.get_by_test_id("total-opened").locator(".report-total-value")
    expect(opened).to_have_text(
        re.compile(r"^[1-9]\d*$")
    )  # the demo's tickets were opened in the last 30 days
    chart = report.locator(".hl-chart")
    expect(chart.locator("canvas").first).to_be_attached()
    expect(chart).not_to_have_attribute("data-points", "0")

    page.get_by_test_id("report-granularity").get_by_text("周").click()
    expect(report.get_by_test_id("report-rows")).to_be_visible()
    choose(page, "report-team", "夜班组")
    expect(opened).to_have_text("0")  # nobody is in the new team yet

    # the same team picker narrows 坐席状态 to the team's members
    page.goto("/agents")
    agents = page.get_by_test_id("agents-table")
    expect(agents.get_by_test_id("agent-state-agent1")).to_be_visible()
    choose(page, "agents-team", "旅游一组")
    expect(agents.get_by_test_id("agent-state-agent4")).to_be_visible()
    expect(agents.get_by_test_id("agent-state-agent1")).to_have_count(0)


def test_a_supervisor_opens_the_agent_report_and_sees_the_demos_agents_with_figures(
    session: Callable[[str], Page],
) -> None:
    page = session("supervisor")
    expect(page.get_by_test_id("nav-report-agents")).to_be_attached()
    page.goto("/reports/agents")
    report = page.get_by_test_id("report-agents")
    rows = report.get_by_test_id("report-rows")
    # the demo's day of calls, rolled up by the server: 陈晓 (agent1) answered some of them
    agent1 = rows.locator("tr", has_text="陈晓")
    expect(agent1).to_be_visible(timeout=30_000)
    expect(agent1.locator("td").nth(5)).to_have_text(re.compile(r"^[1-9]\d*$"))  # calls in
    expect(agent1).to_contain_text(re.compile(r"\d+:\d{2}"))  # durations as 分:秒 or 时:分:秒
    calls_in = report.get_by_test_id("total-calls_in").locator(".report-total-value")
    expect(calls_in).to_have_text(re.compile(r"^[1-9]\d*$"))
    expect(report.get_by_test_id("total-qa_score")).to_be_visible()
    expect(report.get_by_role("button", name="导出")).to_be_visible()


def test_a_supervisor_sees_which_routes_and_hotels_callers_asked_the_ivr_about(
    session: Callable[[str], Page],
) -> None:
    """IVR报表 over the demo's IVR calls of today: the nodes by their flow's title, then 咨询的线路
    and 咨询的酒店 with each route and hotel by name and the calls that asked."""
    page = session("supervisor")
    page.goto("/reports/ivr")
    report = page.get_by_test_id("report-ivr")
    rows = report.get_by_test_id("report-rows")
    expect(rows.locator("tr", has_text="旅游服务热线 · 查询线路")).to_be_visible(timeout=30_000)
    expect(page.get_by_test_id("report-team")).to_have_count(0)  # an IVR's calls are no team's
    report.locator("label", has_text="咨询的线路").click()
    sanya = rows.locator("tr", has_text="三亚双飞五日游")
    expect(sanya).to_be_visible()
    expect(sanya.locator("td").nth(1)).to_have_text(re.compile(r"^[1-9]\d*$"))  # calls that asked
    expect(rows).not_to_contain_text("route:")
    report.locator("label", has_text="咨询的酒店").click()
    expect(rows.locator("tr", has_text="英冠酒店杭州西湖店")).to_be_visible()
