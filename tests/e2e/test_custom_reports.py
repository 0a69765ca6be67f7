"""自定义报表 as the supervisor: bookings by source built and previewed (chart and table), saved,
shared with team leads and scheduled weekly by e-mail; the list shows the schedule."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import field

pytestmark = pytest.mark.e2e


def test_a_supervisor_builds_saves_and_schedules_a_custom_report(session: Callable[[str], Page]) -> None:
    page = session("supervisor")
    page.goto("/reports/custom")
    page.get_by_test_id("custom-subject-bookings").click()
    page.get_by_test_id("custom-dimensions").click()
    page.get_by_test_id("custom-dimension-source").click()
    page.keyboard.press("Escape")
    page.get_by_test_id("custom-measures").click()
    page.get_by_test_id("custom-measure-revenue").click()
    page.keyboard.press("Escape")
    page.get_by_test_id("custom-preview").click()
    result = page.get_by_test_id("custom-result")
    expect(result.get_by_test_id("custom-table")).to_contain_text("营收")
    expect(result.get_by_test_id("custom-table")).to_contain_text("合计")
    expect(result.locator(".hl-chart canvas").first).to_be_attached()

    page.get_by_test_id("custom-save").click()
    field(page, "custom-name").fill("预订来源周报")
    page.get_by_test_id("custom-schedule-weekly").click()
    recipients = page.get_by_test_id("custom-recipients").locator("input")
    recipients.press_sequentially("gm@hotel.example")
    page.locator(".el-select-dropdown__item:visible", has_text="gm@hotel.example").first.click()
    field(page, "custom-name").click()  # the recipients' list folds away
    page.get_by_test_id("custom-save-confirm").click()
    saved = page.get_by_test_id("custom-saved-预订来源周报")
    expect(saved).to_contain_text("每周")
    expect(saved).to_contain_text("下次发送")
