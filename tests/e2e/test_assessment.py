"""月度考核 as the supervisor: the demo's scheme shown, a sum other than 100 refused in the 考核权重
dialog, and the sheet ranked by whatever the weights now say."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ROOT, field

pytestmark = pytest.mark.e2e
PARTS = ("volume", "handle_time", "quality", "satisfaction", "attendance")


def _weights(page: Page, **chosen: int) -> None:
    page.get_by_test_id("assessment-weights-open").click()
    dialog = page.get_by_test_id("assessment-weights")
    expect(dialog).to_be_visible()
    for part in PARTS:
        box = field(dialog, f"weight-{part}")
        box.fill(str(chosen.get(part, 0)))
        box.press("Tab")
    expect(dialog.get_by_test_id("weights-sum")).to_have_text("合计 100%")
    dialog.get_by_test_id("weights-save").click()
    expect(dialog).to_be_hidden()


def _scores(page: Page, part: str) -> list[float]:
    cells = page.get_by_test_id("assessment-table").get_by_test_id(f"cell-{part}")
    texts = [cells.nth(i).locator("strong").inner_text() for i in range(cells.count())]
    return [-1.0 if t == "—" else float(t) for t in texts]


def test_a_supervisor_sets_the_weights_and_the_sheet_ranks_by_them(session: Callable[[str], Page]) -> None:
    page = session("supervisor")
    page.goto("/reports/assessment")
    scheme = page.get_by_test_id("assessment-scheme")
    expect(scheme).to_contain_text("量 30% · 时长 15% · 质量 25% · 满意度 20% · 出勤 10%")
    table = page.get_by_test_id("assessment-table")
    expect(table.get_by_test_id("assessment-total").first).to_be_visible()

    # a sum other than 100 is shown live and cannot be saved
    page.get_by_test_id("assessment-weights-open").click()
    dialog = page.get_by_test_id("assessment-weights")
    box = field(dialog, "weight-volume")
    box.fill("40")
    box.press("Tab")
    expect(dialog.get_by_test_id("weights-sum")).to_have_text("合计 110%")
    expect(dialog).to_contain_text("权重合计须为 100%")
    expect(dialog.get_by_test_id("weights-save")).to_be_disabled()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    # everything on volume: the first line is the one with the best volume score
    _weights(page, volume=100)
    expect(scheme).to_contain_text("量 100% · 时长 0%")
    volume = _scores(page, "volume")
    assert volume and volume[0] == max(volume), volume

    # everything on attendance: now the best attendance comes first
    _weights(page, attendance=100)
    expect(scheme).to_contain_text("出勤 100%")
    attendance = _scores(page, "attendance")
    assert attendance[0] == max(attendance), attendance

    # the site's own scheme dropped: back to the built-in weights
    page.get_by_test_id("assessment-weights-open").click()
    dialog = page.get_by_test_id("assessment-weights")
    dialog.get_by_test_id("weights-reset").click()
    page.get_by_role("button", name="恢复", exact=True).click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_text("已恢复默认方案")).to_be_visible()
    expect(scheme).to_contain_text("量 30% · 时长 15% · 质量 25% · 满意度 20% · 出勤 10%")


def test_the_chats_show_in_their_own_columns_for_the_demo_month(session: Callable[[str], Page]) -> None:
    page = session("supervisor")
    with page.expect_response(lambda r: "/api/reports/assessment?" in r.url) as answered:
        page.goto("/reports/assessment")
    rows = answered.value.json()["rows"]  # this month's sheet, as the page asked for it
    table = page.get_by_test_id("assessment-table")
    expect(table.get_by_test_id("assessment-total").first).to_be_visible()
    expect(table.locator("th").filter(has_text="会话数")).to_be_visible()
    expect(table.locator("th").filter(has_text="会话满意度")).to_be_visible()
    expect(page.get_by_test_id("assessment-scheme")).to_contain_text("一个会话折合 1 通通话")
    # the demo's three weeks of conversations: each agent's figures as the server counts them
    chatting = [r for r in rows if r["conversations"] > 0]
    assert chatting, rows
    for row in chatting:
        line = table.locator("tbody tr").filter(has_text=row["name"])
        expect(line.get_by_test_id("cell-conversations")).to_have_text(str(row["conversations"]))
        shown = "—" if row["chat_rating"] is None else f"{row['chat_rating']:g} / 5"  # as JS prints 4.0
        expect(line.get_by_test_id("cell-chat-rating")).to_contain_text(shown)
    assert any(r["chat_rating"] is not None for r in chatting), chatting
    page.screenshot(path=str(Path(ROOT, "test-results/assessment-chats.png")), full_page=True)
