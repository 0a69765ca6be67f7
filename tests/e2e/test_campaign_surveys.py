"""A campaign's questionnaire in a real browser: the supervisor writes one in the campaign dialog (a
multiple-choice question with its choices; a question without words is marked on its own input),
and on 活动详情 of the demo's 离店回访 reads the answers per question — charted — and texts the
questionnaire to the list."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import choose, field

pytestmark = pytest.mark.e2e


def test_a_supervisor_writes_a_questionnaire_and_reads_and_sends_a_campaign_s_survey(
    session: Callable[[str], Page],
) -> None:
    boss = session("supervisor")
    boss.get_by_test_id("nav-outbound-campaigns").click()
    boss.get_by_test_id("campaign-new").click()
    field(boss, "campaign-code").fill("trip-survey")
    field(boss, "campaign-name").fill("自驾游满意度")
    boss.get_by_test_id("question-add").click()
    field(boss, "question-text-0").fill("这次行程您最满意哪些方面？")
    choose(boss, "question-type-0", "多选")
    choices = field(boss, "question-choices-0")
    for choice in ("酒店", "景点门票", "导游"):
        choices.fill(choice)
        choices.press("Enter")
    boss.get_by_test_id("question-add").click()  # a second question left without words
    boss.get_by_test_id("campaign-save").click()
    form = boss.get_by_test_id("campaign-form")
    expect(form.locator(".el-form-item__error").first).to_be_visible()
    field(boss, "question-text-1").fill("您会推荐给朋友吗？")
    choose(boss, "question-type-1", "是/否")
    boss.get_by_test_id("campaign-save").click()
    expect(boss.get_by_test_id("campaigns-table")).to_contain_text("自驾游满意度")
    saved = next(c for c in boss.request.get("/api/outbound/campaigns").json() if c["code"] == "trip-survey")
    assert [(q["type"], q["text"]) for q in saved["questionnaire"]] == [
        ("choices", "这次行程您最满意哪些方面？"),
        ("yes_no", "您会推荐给朋友吗？"),
    ]
    assert saved["questionnaire"][0]["choices"] == ["酒店", "景点门票", "导游"]
    assert len({q["key"] for q in saved["questionnaire"]}) == 2  # keys made for them, never typed

    boss.get_by_test_id("campaign-open-stay-return").click()
    results = boss.get_by_test_id("survey-results")
    expect(results).to_contain_text("份答卷")
    overall = boss.get_by_test_id("survey-result-overall")
    expect(overall).to_contain_text("平均")
    expect(overall.locator(".hl-chart")).not_to_have_attribute("data-points", "0")
    expect(boss.get_by_test_id("survey-result-liked")).to_contain_text("多选")
    expect(boss.get_by_test_id("survey-result-advice")).to_contain_text("隔音一般")  # the demo's words
    boss.get_by_test_id("survey-send").click()
    boss.locator(".el-message-box").get_by_role("button", name="确定").click()
    expect(boss.locator(".el-message--success", has_text="问卷短信")).to_be_visible()
    expect(boss.get_by_test_id("survey-links")).not_to_contain_text("已发 0 ")
