"""通话记录 as the supervisor: the demo's calls of today searched by agent (only that agent's calls,
the search kept in the link), then exported, the file in 我的导出."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import choose

pytestmark = pytest.mark.e2e


def rolled_up(page: Page) -> None:
    """The demo's calls are on the event log; the voice node rolls them into call records seconds
    after the server starts."""
    deadline = time.monotonic() + 30
    while not page.request.get("/api/calls/records").json()["items"]:
        assert time.monotonic() < deadline, "the demo's calls never reached the call records"
        time.sleep(0.5)


def test_a_supervisor_filters_the_calls_by_agent_and_exports_them(session: Callable[[str], Page]) -> None:
    page = session("supervisor")
    rolled_up(page)
    page.goto("/calls")
    table = page.get_by_test_id("calls-table")
    agents = table.get_by_test_id("call-agent")
    expect(agents.first).to_be_attached()

    choose(page, "calls-agent", "001 陈晓")
    with page.expect_response(lambda r: "/api/calls/records" in r.url and "agent_id=" in r.url) as got:
        page.get_by_test_id("calls-search").click()
    items = got.value.json()["items"]
    assert len(items) >= 3  # agent1's three calls of the demo day
    expect(agents).to_have_count(len(items))
    assert set(agents.all_inner_texts()) == {"001 陈晓"}  # only that agent's calls
    expect(table).to_contain_text("分机 1001")
    expect(page).to_have_url(re.compile(r"agent_id=\d+"))

    # the link is the search: opened again, it asks the same
    with page.expect_response(lambda r: "/api/calls/records" in r.url and "agent_id=" in r.url):
        page.reload()
    expect(agents).to_have_count(len(items))

    page.get_by_test_id("export-button").get_by_role("button").click()
    page.locator(".el-dropdown-menu__item:visible", has_text="Excel").click()
    expect(page.get_by_test_id("export-download")).to_contain_text(str(len(items)), timeout=30_000)
    page.get_by_test_id("export-state").get_by_role("link", name="我的导出").click()
    expect(page.get_by_test_id("my-exports")).to_contain_text("通话记录")
