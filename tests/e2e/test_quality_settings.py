"""质检设置 in a browser, as the QA manager and the admin set it: qa creates a sampling plan (a form
with its wrong fields marked at once first), reads it in words, runs it for last week and finds the
picked calls among the evaluations; sets a deadline; adds a forbidden phrase to a queue's rules. The
admin (who may change retention, unlike qa) tries to keep a queue's recordings 10 days, is refused
at the field with nothing saved, then keeps them 90."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import choose, field

pytestmark = pytest.mark.e2e

PICKED = re.compile("随机抽检|投诉来电|超长通话|满意度低|命中禁用语")


def save(page: Page, testid: str) -> None:
    """Click a save button once the toasts of earlier saves are gone, so the next one is its own."""
    expect(page.locator(".el-message")).to_have_count(0, timeout=10_000)
    page.get_by_test_id(testid).click()


def saw_success(page: Page, text: str | re.Pattern[str]) -> None:
    expect(page.locator(".el-message--success", has_text=text)).to_be_visible()


def errors_of(scope: Locator) -> Locator:
    return scope.locator(".el-form-item__error")


def test_qa_creates_a_plan_runs_it_and_sets_deadlines_and_phrase_rules(
    session: Callable[[str], Page],
) -> None:
    qa = session("qa")
    qa.get_by_test_id("nav-quality-settings").click()
    expect(qa).to_have_url(re.compile(r"/quality/settings$"))
    plans = qa.get_by_test_id("qa-plans")
    demo = plans.locator("[data-testid^=plan-]", has_text="每周服务抽检").first
    expect(demo.get_by_test_id("plan-words")).to_contain_text("每位坐席每周抽检 5 通已接通话")
    expect(demo.get_by_test_id("plan-words")).to_contain_text("另外必抽：每通超过 15 分钟的通话")

    # nothing filled in: the name and the evaluators are marked together, nothing is created
    qa.get_by_test_id("plan-new").click()
    form = qa.get_by_test_id("plan-form")
    expect(field(qa, "plan-name")).to_be_editable()  # the form is there once its choices loaded
    save(qa, "plan-save")
    expect(errors_of(form)).to_have_count(2)
    field(qa, "plan-name").fill("投诉与满意度抽检")
    expect(errors_of(form)).to_have_count(1)  # editing a field clears its own mark only
    field(qa, "plan-per-agent").fill("3")
    qa.keyboard.press("Tab")
    choose(qa, "plan-evaluators", "冯质检")
    qa.keyboard.press("Escape")
    save(qa, "plan-save")
    saw_success(qa, "已保存")
    made = plans.locator("[data-testid^=plan-]", has_text="投诉与满意度抽检").first
    expect(made.get_by_test_id("plan-words")).to_contain_text("每位坐席每周抽检 3 通已接通话")
    expect(made.get_by_test_id("plan-last-run")).to_have_text("尚未运行")

    # run it for last week (the default): the picks become evaluations, and the plan says what it picked
    made.get_by_test_id("plan-run").click()
    save(qa, "plan-run-confirm")
    saw_success(qa, re.compile(r"已分派 [1-9]\d* 通"))
    expect(made.get_by_test_id("plan-last-run")).to_contain_text("最近一次运行")
    expect(made.get_by_test_id("plan-last-picked")).to_contain_text(PICKED)
    qa.get_by_test_id("nav-evaluations").click()
    expect(qa.get_by_test_id("evaluations-table").locator("tbody tr", has_text=PICKED).first).to_be_visible()

    # a deadline: scoring now allows 4 days, kept after a reload
    qa.get_by_test_id("nav-quality-settings").click()
    qa.get_by_role("tab", name="时限").click()
    field(qa, "deadline-score_days").fill("4")
    qa.keyboard.press("Tab")
    save(qa, "deadlines-save")
    saw_success(qa, "已保存")
    qa.reload()
    qa.get_by_role("tab", name="时限").click()
    expect(field(qa, "deadline-score_days")).to_have_value("4")

    # a forbidden phrase on the hotel line: blank, both its name and its phrases are marked at once
    qa.get_by_role("tab", name="话术规则").click()
    phrases = qa.get_by_test_id("qa-phrases")
    choose(qa, "phrase-queue", "酒店")
    before = phrases.get_by_test_id("phrase-rule").count()
    qa.get_by_test_id("phrase-add-forbidden").click()
    rule = phrases.get_by_test_id("phrase-rule").nth(before)
    save(qa, "phrase-save")
    expect(errors_of(rule)).to_have_count(3)  # name, code and phrases
    field(rule, "phrase-title").fill("推诿")
    field(rule, "phrase-key").fill("no_excuse")
    field(rule, "phrase-phrases").fill("你找别人去")
    qa.keyboard.press("Enter")
    save(qa, "phrase-save")
    saw_success(qa, "已保存")
    qa.reload()
    qa.get_by_role("tab", name="话术规则").click()
    choose(qa, "phrase-queue", "酒店")
    kept = qa.get_by_test_id("phrase-rule").nth(before)
    expect(kept).to_contain_text("你找别人去")
    expect(field(kept, "phrase-title")).to_have_value("推诿")


def test_retention_below_the_floor_is_refused_at_its_field_then_90_days_are_kept(
    session: Callable[[str], Page],
) -> None:
    qa = session("qa")
    qa.goto("/quality/settings")
    qa.get_by_role("tab", name="录音保留").click()
    expect(qa.get_by_test_id("retention-floor")).to_contain_text("不得少于 30 天")
    expect(qa.get_by_test_id("retention-save")).to_have_count(0)  # qa reads the rules, may not change them

    admin = session("admin")
    admin.goto("/quality/settings")
    admin.get_by_role("tab", name="录音保留").click()
    tab = admin.get_by_test_id("qa-retention")
    expect(tab).to_be_visible()  # the rules loaded
    before = tab.get_by_test_id("retention-rule").count()
    admin.get_by_test_id("retention-add").click()
    rule = tab.get_by_test_id("retention-rule").nth(before)
    queue = rule.get_by_test_id("retention-queue").inner_text()
    field(rule, "retention-days").fill("10")
    admin.keyboard.press("Tab")
    save(admin, "retention-save")
    expect(errors_of(rule)).to_contain_text("30")
    admin.reload()
    admin.get_by_role("tab", name="录音保留").click()
    expect(tab).to_be_visible()
    expect(tab.get_by_test_id("retention-rule")).to_have_count(before)  # nothing saved

    admin.get_by_test_id("retention-add").click()
    rule = tab.get_by_test_id("retention-rule").nth(before)
    expect(rule.get_by_test_id("retention-queue")).to_have_text(queue)
    field(rule, "retention-days").fill("90")
    admin.keyboard.press("Tab")
    save(admin, "retention-save")
    saw_success(admin, "已保存")
    admin.reload()
    admin.get_by_role("tab", name="录音保留").click()
    expect(field(tab.get_by_test_id("retention-rule").nth(before), "retention-days")).to_have_value("90")
