"""Honest numbers and charts (issue 19), as the supervisor at 1366×768: the wallboard draws its
trend from the server (canvases with points), a queue's thresholds colour its tile, full screen
toggles the TV layout; the SLA board's rates are its bars' green share; the order board's last
column can be reached at 1366 and 1440 px with its head in view."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e


@pytest.fixture
def supervisor(browser: Browser, server: str) -> Page:
    context = browser.new_context(base_url=server, viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    sign_in(page, "supervisor")
    return page


def test_the_wallboard_charts_its_day_colours_tiles_by_thresholds_and_goes_full_screen(
    supervisor: Page,
) -> None:
    page = supervisor
    trend = page.request.get("/api/routing/wallboard/trend")
    assert trend.ok, trend.text()
    page.goto("/wallboard")
    for chart in ("wall-chart-service", "wall-chart-waiting"):
        box = page.get_by_test_id(chart).locator(".hl-chart")
        expect(box.locator("canvas").first).to_be_attached(timeout=20_000)  # a cold compute pool
        expect(box).not_to_have_attribute("data-points", "0")
    service_points = int(
        page.get_by_test_id("wall-chart-service").locator(".hl-chart").get_attribute("data-points") or 0
    )
    assert service_points > 0  # today's demo calls: the service level per quarter-hour

    hotel = page.get_by_test_id("wall-hotel")
    expect(hotel).to_have_attribute("data-level", re.compile("green|amber|red"))
    expect(hotel.get_by_test_id("wall-service")).to_have_text(re.compile(r"\d+%"))
    page.get_by_test_id("wall-thresholds").click()
    dialog = page.get_by_test_id("thresholds-dialog")
    dialog.get_by_test_id("thresholds-queue").click()
    page.get_by_role("option", name="酒店预订").click()
    for field in ("service_amber_percent", "service_red_percent"):
        box = dialog.get_by_test_id(f"th-{field}").locator("input")
        box.fill("100")
        box.press("Tab")
    dialog.get_by_test_id("thresholds-save").click()
    expect(hotel).to_have_attribute("data-level", "red")  # any service level is at or below 100 %
    expect(hotel.get_by_test_id("wall-service")).to_have_class(re.compile("hl-fig-red"))

    wall = page.get_by_test_id("wallboard")
    page.get_by_test_id("wall-fullscreen").click()
    expect(wall).to_have_class(re.compile("hl-wall-tv"))
    expect(page.get_by_test_id("wall-agents")).to_be_hidden()  # the TV shows the tiles and the trend
    page.get_by_test_id("wall-fullscreen").click()
    expect(wall).not_to_have_class(re.compile("hl-wall-tv"))


def test_the_sla_boards_rates_are_the_green_share_of_their_bars(supervisor: Page) -> None:
    page = supervisor
    page.goto("/tickets/sla")
    expect(page.get_by_test_id("sla-chart").locator("canvas").first).to_be_attached()
    rows = page.get_by_test_id("sla-row")
    expect(rows.first).to_be_visible()
    checked = 0
    for n in range(rows.count()):
        row = rows.nth(n)
        counts = {
            s: int(row.locator(f"[data-segment={s}]").get_attribute("data-count") or 0)
            for s in ("met", "breached", "open_overdue", "open_in_time")
        }
        widths = {s: row.locator(f"[data-segment={s}]").bounding_box()["width"] for s in counts}  # type: ignore[index]
        bar = row.get_by_test_id("sla-bar").bounding_box()
        assert bar is not None and abs(sum(widths.values()) - bar["width"]) < 1.5  # the segments fill the bar
        rate = row.get_by_test_id("sla-rate").inner_text()
        settled = counts["met"] + counts["breached"] + counts["open_overdue"]
        if settled == 0:
            assert rate == "—"
            continue
        assert (
            rate.endswith("%") and abs(int(rate[:-1]) - counts["met"] * 100 / settled) <= 0.5 + 1e-9
        )  # rounded
        red = widths["breached"] + widths["open_overdue"]
        assert abs(widths["met"] / (widths["met"] + red) * 100 - counts["met"] / settled * 100) < 2
        checked += 1
    assert checked > 0
    emergencies = page.locator("[data-testid=sla-row][data-key=emergency] [data-testid=sla-rate]")
    assert emergencies.inner_text() != "0%"  # rescues closed in time count as met


@pytest.mark.parametrize("width", [1366, 1440])
def test_the_order_boards_last_column_is_reachable_with_its_head_in_view(
    browser: Browser, server: str, width: int
) -> None:
    context = browser.new_context(base_url=server, viewport={"width": width, "height": 768}, locale="zh-CN")
    page = context.new_page()
    sign_in(page, "supervisor")
    page.goto("/travel/orders")
    page.get_by_test_id("orders-scope").get_by_text("全部订单").click()
    board = page.get_by_test_id("orders-board")
    expect(board).to_be_visible()
    # the page itself never gets wider than the window: the board scrolls in its own box
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    last = page.get_by_test_id("orders-col-void")
    board.evaluate("b => { b.scrollLeft = b.scrollWidth }")
    box, frame = last.bounding_box(), board.bounding_box()
    assert box is not None and frame is not None
    assert frame["x"] - 1 <= box["x"] and box["x"] + box["width"] <= frame["x"] + frame["width"] + 1
    assert box["x"] + box["width"] <= width
    head = last.locator(".hl-kanban-head")
    expect(head).to_contain_text("已作废")
    assert head.evaluate("h => getComputedStyle(h).position") == "sticky"
    closed = page.get_by_test_id("orders-col-closed")
    closed.evaluate("c => { c.scrollTop = c.scrollHeight }")
    head_box, col_box = closed.locator(".hl-kanban-head").bounding_box(), closed.bounding_box()
    assert head_box is not None and col_box is not None and abs(head_box["y"] - col_box["y"]) < 2
    context.close()
