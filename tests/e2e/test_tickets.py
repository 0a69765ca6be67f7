"""Seed 003's work-order script in a browser, each step by the demo login whose role does it:
the agent 生成表单 for 张伟 (用户证号 88000001, 设备类型 数字, 需求类型 测试, 预约时间); the team lead
调度 to 工区A; 何师傅 处理 and 反单 with a 误派说明; the team lead 重复派单 to 工区B; 罗工 完成;
the supervisor 审核; the 业务查询 by 用户证号 shows each state."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import ROOT, sign_in

pytestmark = pytest.mark.e2e


def as_user(page: Page, username: str) -> None:
    page.context.clear_cookies()
    sign_in(page, username)


def field(page: Page, testid: str) -> Locator:
    """The input of an Element Plus input, textarea or picker (the test id may sit on it or around it)."""
    t = testid
    return page.locator(
        f"input[data-testid='{t}'], textarea[data-testid='{t}'], "
        f"[data-testid='{t}'] input, [data-testid='{t}'] textarea"
    ).first


def choose(page: Page, testid: str, option: str) -> None:
    page.get_by_test_id(testid).click()
    page.locator(".el-select-dropdown__item:visible", has_text=option).first.click()


def act(page: Page, action: str, *, unit: str | None = None, note: str = "", result: str = "") -> None:
    page.get_by_test_id(f"ticket-action-{action}").click()
    if unit:
        choose(page, "ticket-dialog-unit", unit)
    if result:
        field(page, "ticket-dialog-result").fill(result)
    if note:
        field(page, "ticket-dialog-note").fill(note)
    page.get_by_test_id("ticket-dialog-execute").click()
    expect(page.locator(".el-message--success").last).to_contain_text("业务操作成功")


def test_seed_003_work_order_dispatch_reject_redispatch_complete_audit(page: Page) -> None:
    as_user(page, "agent3")
    page.get_by_test_id("nav-tickets").click()
    page.get_by_test_id("ticket-new").click()
    page.get_by_test_id("ticket-type-work_order").click()
    field(page, "ticket-member").fill("88000001")
    field(page, "ticket-title").fill("测试")
    choose(page, "ticket-field-device_type", "数字")
    choose(page, "ticket-field-requirement_type", "测试")
    appointment = field(page, "ticket-field-appointment")
    appointment.click()
    appointment.fill("2026-12-01 10:00:00")
    appointment.press("Enter")
    page.get_by_test_id("ticket-title").click()  # closes the picker
    field(page, "ticket-content").fill("测试")
    page.get_by_test_id("ticket-submit").click()
    expect(page.locator(".el-message--success")).to_contain_text("业务操作成功")
    expect(page.get_by_test_id("ticket-status")).to_have_text("待调度")
    number = page.get_by_test_id("ticket-number").inner_text()
    url = page.url

    # 调度: the team lead finds it in the dispatch list and sends it to work area A
    as_user(page, "teamlead")
    page.get_by_test_id("nav-tickets").click()
    page.get_by_test_id("ticket-tab-dispatch").click()
    page.get_by_test_id("tickets-table").locator("tr", has_text=number).click()
    act(page, "dispatch", unit="工区A（客房维修）", note="请按预约时间上门")
    expect(page.get_by_test_id("ticket-status")).to_have_text("已派单")
    # what else the team lead may do now is what the server lists: assign within the unit, escalate
    expect(page.get_by_test_id("ticket-assign")).to_be_visible()
    expect(page.get_by_test_id("ticket-escalate")).to_be_visible()

    # 处理, then 反单 with the misdispatch note (refused without one)
    as_user(page, "dept1")
    page.goto(url)
    act(page, "process", note="已联系用户")
    expect(page.get_by_test_id("ticket-customer-status")).to_contain_text("在处理中 — 工区A（客房维修）")
    expect(page.get_by_test_id("ticket-escalate")).to_have_count(0)  # department staff do not escalate
    page.get_by_test_id("ticket-action-reject").click()
    page.get_by_test_id("ticket-dialog-execute").click()
    expect(page.locator(".el-message--error")).to_contain_text("误派说明")
    field(page, "ticket-dialog-note").fill("数字设备属网络工区，误派")
    page.get_by_test_id("ticket-dialog-execute").click()
    expect(page.get_by_test_id("ticket-status")).to_have_text("反单")

    # 重复派单 from the re-dispatch list to work area B
    as_user(page, "teamlead")
    page.get_by_test_id("nav-tickets").click()
    page.get_by_test_id("ticket-tab-redispatch").click()
    page.get_by_test_id("tickets-table").locator("tr", has_text=number).click()
    expect(page.get_by_test_id("ticket-timeline")).to_contain_text("数字设备属网络工区，误派")
    act(page, "redispatch", unit="工区B（网络与电视）", note="改派网络工区")
    expect(page.get_by_test_id("ticket-assignee")).to_contain_text("罗工")

    # 完成 by the work area B engineer
    as_user(page, "dept3")
    page.goto(url)
    act(page, "process")
    act(page, "complete", result="更换机顶盒，信号测试正常")
    expect(page.get_by_test_id("ticket-status")).to_have_text("已完成")

    # 审核 by the supervisor; the 业务查询 by 用户证号 shows every state
    as_user(page, "supervisor")
    page.goto(url)
    act(page, "audit", note="结果属实")
    expect(page.get_by_test_id("ticket-status")).to_have_text("已审核")
    # audited: the result may be told now; it is no longer escalated
    expect(page.get_by_test_id("ticket-tell-sms")).to_be_visible()
    expect(page.get_by_test_id("ticket-escalate")).to_have_count(0)
    expect(page.get_by_test_id("ticket-sla")).to_be_visible()
    page.get_by_test_id("nav-tickets").click()
    field(page, "ticket-query-member").fill("88000001")
    page.get_by_test_id("ticket-query").click()
    result = page.get_by_test_id("ticket-query-result").filter(has_text=number)
    expect(result).to_contain_text("已审核")
    expect(result).to_contain_text(
        "生成表单（赵磊） → 调度（李组长） → 处理（何师傅） → 反单（何师傅） → 重复派单（李组长）"
    )
    expect(result).to_contain_text("完成（罗工） → 审核（王主管）")
    page.screenshot(path=str(Path(ROOT, "test-results/tickets.png")))


def test_an_admin_adds_a_ticket_type_with_its_form_and_the_server_names_the_bad_row(page: Page) -> None:
    as_user(page, "admin")
    page.get_by_test_id("nav-ticketSettings").click()
    expect(page.get_by_test_id("types-table")).to_contain_text("工单")
    page.get_by_test_id("type-new").click()
    field(page, "type-code").fill("lost_item")
    field(page, "type-name").fill("遗失物品")
    page.get_by_test_id("field-add").click()
    field(page, "field-key-0").fill("room_no")
    field(page, "field-label-0").fill("房号")
    page.get_by_test_id("field-add").click()
    field(page, "field-key-1").fill("colour")
    field(page, "field-label-1").fill("颜色")
    choose(page, "field-type-1", "选项")
    page.get_by_test_id("type-save").click()
    # a 选项 field without choices: the server's 422 shows under that row, naming the column
    expect(page.get_by_test_id("field-error-1")).to_be_visible()
    expect(page.get_by_test_id("types-table")).not_to_contain_text("遗失物品")
    field(page, "field-choices-1").fill("黑色")
    page.keyboard.press("Enter")
    field(page, "field-choices-1").fill("白色")
    page.keyboard.press("Enter")
    page.get_by_test_id("type-save").click()
    expect(page.locator(".el-message--success").last).to_be_visible()
    expect(page.get_by_test_id("types-table")).to_contain_text("遗失物品")
    expect(page.get_by_test_id("field-error-1")).to_have_count(0)


def test_the_ticket_form_fills_name_and_phone_from_a_member_number(page: Page) -> None:
    page.set_viewport_size({"width": 1440, "height": 900})
    as_user(page, "agent1")
    page.goto("/tickets/new")
    field(page, "ticket-member").fill("88000001")
    field(page, "ticket-member").press("Enter")
    expect(field(page, "ticket-contact-name")).to_have_value("张伟先生")
    expect(field(page, "ticket-phone")).to_have_value("138****8000")  # masked: the server copies the real one
    # no label runs into its field: each fits its own width
    overflowing = page.locator("[data-testid='ticket-form'] .el-form-item__label").evaluate_all(
        "labels => labels.filter(l => l.scrollWidth > l.clientWidth + 1).map(l => l.textContent)"
    )
    assert overflowing == []
    # no title: the browser marks it on its field and sends nothing, as the other forms do
    posted: list[str] = []
    page.on(
        "request", lambda r: posted.append(r.url) if r.method == "POST" and "/api/tickets" in r.url else None
    )
    page.get_by_test_id("ticket-submit").click()
    title = page.locator(".el-form-item", has=page.get_by_test_id("ticket-title"))
    expect(title.locator(".el-form-item__error")).to_be_visible()
    assert posted == []
    field(page, "ticket-title").fill("发票抬头")
    expect(title.locator(".el-form-item__error")).to_have_count(0)  # editing the field clears its mark
    choose(page, "ticket-field-device_type", "数字")
    choose(page, "ticket-field-requirement_type", "测试")
    appointment = field(page, "ticket-field-appointment")
    appointment.click()
    appointment.fill("2026-12-01 10:00:00")
    appointment.press("Enter")
    page.get_by_test_id("ticket-title").click()  # closes the picker
    page.get_by_test_id("ticket-submit").click()
    expect(page.locator(".el-message--success").last).to_contain_text("已生成")
    expect(page.locator("body")).to_contain_text("138****8000")
