"""The QA actions beside scoring, in a browser: qa keeps a call heard in the recordings library as a
good example with a tag (a wrong title and tag marked at once first), makes a training playlist of
it and the demo's example in an order, and agent1 finds that playlist under 我的质检; qa assigns a
recording for evaluation by hand and reassigns it to another evaluator; qa starts a calibration
session; the supervisor puts a recording on legal hold and the table shows it; qa reads the
per-agent figures as a table and a chart."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import choose, field

pytestmark = pytest.mark.e2e


def type_in(page: Page, testid: str, text: str) -> None:
    """Type a new value into a select that takes new ones (tags, topics), and keep it."""
    page.get_by_test_id(testid).click()
    field(page, testid).fill(text)
    page.keyboard.press("Enter")


def open_recording(page: Page, has_text: str) -> None:
    page.get_by_test_id("nav-recordings").click()
    page.get_by_test_id("recordings-table").locator("tbody tr", has_text=has_text).first.click()
    expect(page.get_by_test_id("recording-actions")).to_be_visible()


def test_qa_keeps_a_call_as_an_example_orders_it_in_a_playlist_and_agent1_sees_it(
    session: Callable[[str], Page],
) -> None:
    mark = secrets.token_hex(2)
    title, playlist = f"致歉后再查询 {mark}", f"投诉安抚入门 {mark}"
    qa = session("qa")
    open_recording(qa, "陈晓")
    qa.get_by_test_id("recording-to-library").click()
    form = qa.get_by_test_id("library-form")
    field(form, "library-form-title").fill("")
    type_in(qa, "library-form-tags", "这个标签写得实在太长了超过了二十个字的上限")
    qa.get_by_test_id("library-form-save").click()
    expect(form.locator(".el-form-item__error")).to_have_count(2)  # the title and the tag, at once

    form.locator(".el-tag__close").first.click()
    type_in(qa, "library-form-tags", "致歉")
    field(form, "library-form-title").fill(title)
    form.locator("textarea").fill("客户投诉等待过久，坐席先致歉再查询，语气平稳。")
    qa.get_by_test_id("library-form-save").click()
    expect(qa.locator(".el-message", has_text=f"已加入案例库：{title}")).to_be_visible()

    qa.keyboard.press("Escape")
    qa.get_by_test_id("nav-call-library").click()
    kept = qa.get_by_test_id("library-table").locator("tbody tr", has_text=title)
    expect(kept).to_contain_text("优秀范例")
    expect(kept).to_contain_text("致歉")

    qa.get_by_test_id("playlist-new").click()
    dialog = qa.get_by_test_id("playlist-form")
    field(dialog, "playlist-form-title").fill(playlist)
    type_in(qa, "playlist-form-topic", "投诉处理")
    choose(qa, "playlist-form-add", title)
    choose(qa, "playlist-form-add", "标准开场与预订复述")
    entries = dialog.get_by_test_id("playlist-form-entries").locator("li")
    expect(entries).to_have_count(2)
    entries.nth(1).get_by_role("button", name="上移").click()  # the opening first, then the complaint
    expect(entries.first).to_contain_text("标准开场与预订复述")
    qa.get_by_test_id("playlist-form-save").click()
    expect(qa.locator(".el-message", has_text=f"已保存播放列表：{playlist}")).to_be_visible()

    agent = session("agent1")
    agent.get_by_test_id("nav-my-quality").click()
    lists = agent.get_by_test_id("playlists")
    lists.locator(".el-collapse-item", has_text=playlist).click()
    heard = lists.locator(".el-collapse-item", has_text=playlist).locator("li")
    expect(heard).to_have_count(2)
    expect(heard.first).to_contain_text("标准开场与预订复述")
    expect(heard.nth(1)).to_contain_text(title)
    expect(agent.get_by_test_id("playlist-edit")).to_have_count(0)  # agents listen, never edit


def test_qa_assigns_a_recorded_call_by_hand_and_reassigns_it_to_another_evaluator(
    session: Callable[[str], Page],
) -> None:
    qa = session("qa")
    open_recording(qa, "陈晓")
    qa.get_by_test_id("recording-assign").click()
    qa.get_by_test_id("assign-save").click()
    expect(qa.get_by_test_id("assign-form").locator(".el-form-item__error")).to_contain_text("请选择")
    choose(qa, "assign-evaluator", "冯质检")
    qa.get_by_test_id("assign-save").click()
    expect(qa).to_have_url(re.compile(r"/quality/evaluations/\d+$"))
    facts = qa.get_by_test_id("evaluation-facts")
    expect(facts).to_contain_text("冯质检")
    expect(qa.get_by_test_id("move-start")).to_be_visible()

    qa.get_by_test_id("move-reassign").click()
    choose(qa, "reassign-evaluator", "系统管理员")
    qa.locator("[data-testid='reassign-note'] textarea, textarea[data-testid='reassign-note']").fill(
        "冯质检本周休假"
    )
    qa.get_by_test_id("reassign-save").click()
    expect(qa.locator(".el-message", has_text="已改派给 系统管理员")).to_be_visible()
    expect(facts).to_contain_text("系统管理员")
    expect(qa.get_by_test_id("evaluation-status")).to_have_text("待评分")
    expect(qa.get_by_test_id("move-start")).to_have_count(0)  # only the evaluator named scores


def test_qa_starts_a_calibration_session_on_a_recorded_call(session: Callable[[str], Page]) -> None:
    qa = session("qa")
    qa.get_by_test_id("nav-calibrations").click()
    qa.get_by_test_id("calibration-new").click()
    qa.get_by_test_id("calibration-form-save").click()
    form = qa.get_by_test_id("calibration-form")
    # no title, no call, fewer than two evaluators: all marked at once, nothing sent
    expect(form.locator(".el-form-item__error")).to_have_count(3)
    title = f"12月校准 {secrets.token_hex(2)}"
    field(form, "calibration-form-title").fill(title)
    qa.get_by_test_id("calibration-form-recording").click()
    qa.locator(".el-select-dropdown__item:visible", has_text="陈晓").first.click()
    choose(qa, "calibration-form-evaluators", "冯质检")  # a multiple choice stays open for the next
    qa.locator(".el-select-dropdown__item:visible", has_text="系统管理员").first.click()
    field(form, "calibration-form-title").click()
    qa.get_by_test_id("calibration-form-save").click()
    expect(qa.locator(".el-message", has_text=f"已发起校准：{title}")).to_be_visible()
    row = qa.get_by_test_id("calibrations-table").locator("tbody tr", has_text=title)
    expect(row).to_contain_text("进行中")
    expect(row).to_contain_text("0/2 已评")


def test_the_supervisor_puts_a_recording_on_legal_hold_and_the_table_shows_it(
    session: Callable[[str], Page],
) -> None:
    supervisor = session("supervisor")
    supervisor.get_by_test_id("nav-recordings").click()
    row = (
        supervisor.get_by_test_id("recordings-table")
        .locator("tbody tr")
        .filter(has_not=supervisor.get_by_test_id("recording-hold"))
    )
    row.first.click()
    supervisor.get_by_test_id("recording-hold-switch").click()
    supervisor.get_by_test_id("recording-hold-save").click()
    expect(supervisor.locator(".el-form-item__error")).to_be_visible()  # a hold needs its reason
    field(supervisor, "recording-hold-reason").fill("投诉单 T-20261205 复核")
    supervisor.get_by_test_id("recording-hold-save").click()
    expect(supervisor.locator(".el-message", has_text="已设置法律保全")).to_be_visible()
    expect(supervisor.get_by_test_id("recording-facts")).to_contain_text("法律保全")
    supervisor.keyboard.press("Escape")
    held = (
        supervisor.get_by_test_id("recordings-table")
        .locator("tbody tr")
        .filter(has=supervisor.get_by_test_id("recording-hold"))
    )
    expect(held.first).to_be_visible()

    qa = session("qa")  # qa listens but may not hold
    open_recording(qa, "陈晓")
    expect(qa.get_by_test_id("recording-hold-switch")).to_have_count(0)


def test_qa_reads_the_per_agent_quality_figures_as_a_table_and_a_chart(
    session: Callable[[str], Page],
) -> None:
    qa = session("qa")
    qa.get_by_test_id("nav-evaluations").click()
    qa.get_by_role("tab", name="坐席质检数据").click()
    expect(qa).to_have_url(re.compile(r"tab=figures"))
    line = qa.get_by_test_id("figures-table").locator("tbody tr", has_text="陈晓")
    expect(line).to_contain_text("成立 1")  # the demo's appeal won
    chart = qa.get_by_test_id("figures-chart")
    expect(chart).to_have_attribute("data-points", re.compile(r"^[1-9]\d*$"))
