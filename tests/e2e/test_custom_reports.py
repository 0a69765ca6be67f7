"""自定义报表 as the supervisor: bookings by source built and previewed (chart and table), saved,
shared with team leads and scheduled weekly by e-mail; the list shows the schedule. A saved report's
workbook comes in the UI's language."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import field, sign_in

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


def test_a_saved_report_downloads_in_the_uis_language(browser: Browser, server: str, tmp_path: Path) -> None:
    """English UI, Chinese browser, Chinese saved preference: the workbook is in English."""
    context = browser.new_context(base_url=server, locale="zh-CN")
    context.add_init_script("try { localStorage.setItem('hotline.locale', 'en') } catch {}")
    page = context.new_page()
    try:
        sign_in(page, "supervisor")
        page.goto("/reports/custom")
        with page.expect_download() as started:
            page.get_by_test_id("custom-xlsx-近30天各队列接通情况").click()
        saved = tmp_path / "report.xlsx"
        started.value.save_as(saved)
    finally:
        context.close()
    assert started.value.suggested_filename == "近30天各队列接通情况.xlsx"
    book = openpyxl.load_workbook(saved, read_only=True)
    rows = [[v for v in row if v is not None] for row in book.worksheets[0].iter_rows(values_only=True)]
    book.close()
    assert rows[3] == ["Queue", "Calls", "Answered", "Abandoned", "Answer rate"], rows[3]
    assert ["Total"] in [row[:1] for row in rows[4:]]
