"""The rest of the booking desk in a browser: a supervisor changes a week's rack rate on the room
calendar, an agent holds a block for a tour group and names its first guest, and the front desk
checks in a guest arriving today."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import sign_in
from tests.hotels.test_reservations import hotel_today

pytestmark = pytest.mark.e2e


def test_a_supervisor_changes_a_weeks_rate_on_the_room_calendar(page: Page) -> None:
    sign_in(page, "supervisor")
    page.get_by_test_id("nav-hotels").click()
    page.get_by_test_id("hotels-table").locator("tr", has_text="英冠酒店上海外滩店").click()
    expect(page.get_by_test_id("hotel-name")).to_have_value("英冠酒店上海外滩店")
    page.get_by_role("tab", name="价格计划").click()
    expect(page.get_by_test_id("rate-plans-table")).to_contain_text("提前24小时以上退100%；此后退0%")
    page.get_by_role("tab", name="房态与房价").click()
    calendar = page.get_by_test_id("calendar-table")
    expect(calendar.locator("tbody tr")).to_have_count(31)
    page.get_by_test_id("change-price").locator("input").fill("1288")
    page.get_by_test_id("change-apply").click()
    expect(calendar.locator("tbody tr").first).to_contain_text("¥1288.00")
    expect(calendar.locator("tbody tr").nth(10)).not_to_contain_text("¥1288.00")  # only the chosen week


def test_an_agent_holds_rooms_for_a_tour_group_and_names_a_guest(page: Page) -> None:
    sign_in(page, "agent2")
    page.get_by_test_id("nav-groups").click()
    page.get_by_test_id("group-new").click()
    page.get_by_test_id("group-hotel").click()
    page.locator(".el-select-dropdown__item", has_text="英冠酒店杭州西湖店").click()
    page.get_by_test_id("group-name").fill("华东五日游 12月团")
    page.get_by_test_id("group-contact").fill("王导")
    page.get_by_test_id("group-phone").fill("13700001234")
    page.get_by_test_id("group-line-count-0").locator("input").fill("6")
    page.get_by_test_id("group-create").click()
    drawer = page.locator(".el-drawer")
    expect(drawer).to_contain_text("华东五日游 12月团")
    expect(drawer).to_contain_text("已排 0/6 间")
    expect(drawer.get_by_test_id("group-cancel")).to_be_visible()  # a held block may be cancelled
    drawer.get_by_test_id("group-room-name").first.fill("李娜")
    drawer.get_by_test_id("group-save-names").click()
    expect(drawer).to_contain_text("已排 1/6 间")
    expect(page.get_by_test_id("groups-table")).to_contain_text("已排 1/6 间")


def test_the_front_desk_checks_in_a_guest_arriving_today(page: Page) -> None:
    sign_in(page, "frontdesk")
    hotels = page.request.get("/api/hotels").json()
    hotel = next(h for h in hotels if h["code"] == "SY-HT")
    offer = next(
        o for o in page.request.get("/api/hotels/availability", params={
            "hotel_id": hotel["id"], "arrival": hotel_today().isoformat(),
            "departure": (hotel_today() + timedelta(days=1)).isoformat(),
        }).json()["offers"] if o["rooms_left"] > 0
    )  # fmt: skip
    booked = page.request.post("/api/reservations", data={
        "hotel_id": hotel["id"], "room_type_id": offer["room_type_id"], "rate_plan_id": offer["rate_plan_id"],
        "arrival": hotel_today().isoformat(), "departure": (hotel_today() + timedelta(days=1)).isoformat(),
        "guest_name": "海棠", "guest_phone": "13900009999", "rooms": 1, "guests": 1, "source": "walk-in",
    })  # fmt: skip
    assert booked.status == 201, booked.text()
    number = booked.json()["number"]
    page.get_by_test_id("nav-frontdesk").click()
    page.get_by_test_id("front-desk-hotel").click()
    page.locator(".el-select-dropdown__item", has_text="英冠酒店三亚海棠湾店").click()
    arrival = page.get_by_test_id("front-desk-arrival").filter(has_text=number)
    expect(arrival).to_contain_text("海棠")
    page.get_by_test_id(f"check-in-{number}").click()
    expect(page.get_by_test_id("front-desk-in-house").filter(has_text=number)).to_contain_text("海棠")
    expect(page.get_by_test_id("front-desk-arrival").filter(has_text=number)).to_have_count(0)
