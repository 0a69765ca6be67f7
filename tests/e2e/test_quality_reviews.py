"""The evaluation flow in a browser, as seed 003's 质检部 works it: qa opens an assigned evaluation of
a demo call, plays the call from a moment and pins a comment there, finds every item still
unanswered marked at once by the service, scores it (the service's score shows as the answers are given) and
submits; agent1 sees it under 我的质检, hears the call from a comment's moment (but not another agent's
recording), cannot appeal without a reason, appeals with one; the
supervisor finds the appeal among the evaluations to review and upholds it."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import field, sign_in

pytestmark = pytest.mark.e2e

PLAYING_PAST = "([audio, at]) => audio.currentTime > at"
ANSWERS = (
    "greeting-1",
    "verify-na",
    "needs-3",
    "solution-5",
    "record-1",
    "closing-1",
    "language-4",
    "no_forbidden-1",
)
REASON = "客户来电前已在 APP 核实过会员身份，开场我也报了工号，请复听第 3 秒。"


def area(page: Page, testid: str) -> Locator:
    return page.locator(f"textarea[data-testid='{testid}'], [data-testid='{testid}'] textarea").first


def test_qa_scores_agent1_appeals_and_the_supervisor_reviews(session: Callable[[str], Page]) -> None:
    qa = session("qa")
    qa.get_by_test_id("nav-evaluations").click()
    qa.get_by_test_id("evaluations-mine").click()  # other browser tests assign and reassign calls too
    table = qa.get_by_test_id("evaluations-table")
    table.locator("tbody tr", has_text="待评分").first.click()
    expect(qa).to_have_url(re.compile(r"/quality/evaluations/\d+$"))
    player = qa.get_by_test_id("player")
    expect(player).to_have_attribute("data-state", "ready")
    qa.get_by_test_id("move-start").click()
    expect(qa.get_by_test_id("evaluation-status")).to_have_text("评分中")

    # play the call from a moment, and pin a comment there
    field(qa, "player-jump").fill("0:30")
    qa.get_by_test_id("player-jump-go").click()
    qa.get_by_test_id("player-play").click()
    audio = qa.get_by_test_id("player-audio").element_handle()
    qa.wait_for_function(PLAYING_PAST, arg=[audio, 31.0], timeout=10_000)
    qa.get_by_test_id("player-play").click()  # pause
    qa.get_by_test_id("comment-text").fill("这里客户追问退房时间，坐席先致歉再查询，处理得当。")
    qa.get_by_test_id("comment-add").click()
    pinned = qa.get_by_test_id("comment").filter(has_text="先致歉再查询")
    expect(pinned).to_contain_text(re.compile(r"0:3\d"))
    # a comment plays from its moment: back to the start first, then the click jumps
    field(qa, "player-jump").fill("0:00")
    qa.get_by_test_id("player-jump-go").click()
    pinned.get_by_role("button").first.click()
    expect(qa.get_by_test_id("player-time")).to_contain_text(re.compile(r"^0:3\d /"))

    # submitting with nothing answered: the service names every item at once, each marked on its item
    qa.get_by_test_id("move-submit").click()
    expect(qa.get_by_test_id("scorecard-form").get_by_text("请回答评分项")).to_have_count(8)
    expect(qa.get_by_test_id("evaluation-status")).to_have_text("评分中")

    for answer in ANSWERS[:3]:
        qa.get_by_test_id(f"item-{answer}").click()
    expect(qa.get_by_test_id("scorecard-form").get_by_text("请回答评分项")).to_have_count(5)
    # the service's score of the answers so far: (10 + 12) of 30
    expect(qa.get_by_test_id("evaluation-score")).to_contain_text("当前得分 73.33")
    for answer in ANSWERS[3:]:
        qa.get_by_test_id(f"item-{answer}").click()
    area(qa, "evaluation-coaching").fill("核实身份做得好，注意语速。")
    qa.get_by_test_id("move-submit").click()
    expect(qa.get_by_test_id("evaluation-status")).to_have_text("待坐席确认")
    expect(qa.get_by_test_id("evaluation-score")).to_have_text("89.01 分")  # 81 of 91: the identity check n/a
    expect(qa.get_by_test_id("move-submit")).to_have_count(0)

    agent = session("agent1")
    expect(agent.get_by_test_id("nav-recordings")).to_have_count(0)
    agent.get_by_test_id("nav-my-quality").click()
    agent.get_by_test_id("my-evaluations").locator("tbody tr", has_text="89.01").click()
    mine = agent.get_by_test_id("my-evaluation")
    expect(mine.get_by_test_id("my-coaching")).to_have_text("核实身份做得好，注意语速。")
    expect(mine).to_contain_text("先致歉再查询")
    # agent1 has no recordings library, yet hears the call they were evaluated on: from the comment's
    # moment (0:3x), and it plays
    mine.get_by_test_id("my-comment").filter(has_text="先致歉再查询").get_by_role("button").click()
    expect(mine.get_by_test_id("player-time")).to_contain_text(re.compile(r"^0:3\d /"))
    mine.get_by_test_id("player-play").click()
    heard = mine.get_by_test_id("player-audio").element_handle()
    agent.wait_for_function(PLAYING_PAST, arg=[heard, 31.0], timeout=10_000)
    mine.get_by_test_id("player-play").click()  # pause
    # someone else's recording: a 403 problem, not a link
    me = agent.request.get("/api/auth/me").json()["id"]
    library = qa.request.get("/api/quality/recordings", params={"kind": "call", "limit": 50}).json()["items"]
    someone_elses = next(r["id"] for r in library if r["agent_id"] not in (me, None))
    others = agent.request.post(f"/api/quality/recordings/{someone_elses}/play")
    assert others.status == 403 and others.json()["errors"][0]["type"] == "recording-not-yours"
    agent.get_by_test_id("my-move-appeal").click()  # no reason: the field says so
    expect(mine.locator(".el-form-item__error")).to_be_visible()
    area(agent, "appeal-reason").fill(REASON)
    agent.get_by_test_id("my-move-appeal").click()
    expect(mine).to_contain_text("申诉中")
    expect(agent.get_by_test_id("my-move-appeal")).to_have_count(0)

    supervisor = session("supervisor")
    supervisor.get_by_test_id("nav-evaluations").click()
    supervisor.get_by_test_id("evaluations-status").click()
    supervisor.locator(".el-select-dropdown__item", has_text="申诉中").click()
    rows = supervisor.get_by_test_id("evaluations-table").locator("tbody tr")
    expect(rows.filter(has_text="89.01")).to_have_count(1)
    rows.filter(has_text="89.01").click()
    expect(supervisor.get_by_test_id("evaluation-appeal")).to_have_text(REASON)
    area(supervisor, "review-reason").fill("复听第 3 秒：未报工号，维持原评分。")
    supervisor.get_by_test_id("move-uphold").click()
    expect(supervisor.get_by_test_id("evaluation-status")).to_have_text("已完成")
    expect(supervisor.get_by_test_id("evaluation-facts")).to_contain_text("申诉驳回，维持原评分")


def test_the_qa_lead_writes_a_scorecard_every_wrong_field_marked_at_once_and_publishes_it(page: Page) -> None:
    sign_in(page, "qa")
    page.get_by_test_id("nav-scorecards").click()
    expect(page.get_by_test_id("scorecards-table")).to_contain_text("服务质检评分表")
    page.get_by_test_id("card-new").click()
    editor = page.get_by_test_id("scorecard-editor")
    field(page, "card-item-key").fill("Apology!")  # not a key: lower-case letters, digits, _
    page.get_by_test_id("card-save").click()
    # the name, the section's title, the item's key and text: all at once
    expect(editor.locator(".el-form-item__error")).to_have_count(4)
    field(page, "card-name").fill("投诉处理评分表")
    field(page, "card-section-title").fill("安抚")
    field(page, "card-item-key").fill("apology")
    field(page, "card-item-text").fill("先致歉再处理")
    page.get_by_test_id("card-save").click()
    expect(page.locator(".el-message", has_text="已保存为第 1 版草稿")).to_be_visible()
    page.get_by_test_id("card-publish").click()
    expect(page.locator(".el-message", has_text="第 1 版已发布")).to_be_visible()
    row = page.get_by_test_id("scorecards-table").locator("tbody tr", has_text="投诉处理评分表")
    expect(row).to_contain_text("已发布")


def test_qa_reads_a_closed_calibration_as_a_chart_and_plays_a_library_example(page: Page) -> None:
    sign_in(page, "qa")
    page.get_by_test_id("nav-calibrations").click()
    page.get_by_test_id("calibrations-table").locator("tbody tr", has_text="11月校准").click()
    result = page.get_by_test_id("calibration-result")
    expect(result).to_contain_text("有差异超过目标 10.00 分")  # the identity check: one yes, one no
    chart = result.locator(".hl-chart")
    expect(chart).to_have_attribute("data-points", re.compile(r"^[1-9]\d*$"))
    page.keyboard.press("Escape")

    page.get_by_test_id("nav-call-library").click()
    examples = page.get_by_test_id("library-table")
    examples.locator("tbody tr", has_text="标准开场与预订复述").get_by_test_id("library-play").click()
    expect(page.get_by_test_id("player")).to_have_attribute("data-state", "ready")
    expect(page.get_by_test_id("playlists")).to_contain_text("新员工入职：电话礼仪")
