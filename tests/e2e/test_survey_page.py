"""The customer's survey page in a real phone-sized browser: the supervisor texts the demo's 离店回访
questionnaire to its list, and 张伟 opens the link from his SMS without signing in — no staff menus —
sends nothing while a required question is unanswered (both marked at once), answers with stars,
是, two ticks and a few words, and is thanked; the link then says it was answered already. A link
nobody sent says the survey is not found."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Page, Request, expect

pytestmark = pytest.mark.e2e

ZHANG = "138****8000"  # +8613800138000 as staff see a message's recipient
ADVICE = "希望早餐的品种再多一些"


@pytest.fixture
def customer(browser: Browser, server: str) -> Iterator[Page]:
    """A phone's browser nobody signed in on."""
    context = browser.new_context(
        base_url=server,
        viewport={"width": 390, "height": 844},
        locale="zh-CN",
        is_mobile=True,
        has_touch=True,
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def _open_link(supervisor: Page, customer: Page, campaign: dict[str, object]) -> str:
    """The token of a link still open, from the SMS texts of the campaign: 张伟's when his is (another
    test may have sent the links, or answered his)."""
    messages = supervisor.request.get(f"/api/notify/messages?ref=survey:{campaign['code']}")
    assert messages.ok, messages.text()
    texts = sorted(messages.json(), key=lambda m: m["recipient"] != ZHANG or "张伟" not in m["body"])
    for message in texts:
        found = re.search(r"/s/([A-Za-z0-9_-]+)", message["body"])
        assert found is not None, message["body"]
        if customer.request.get(f"/api/outbound/surveys/{found.group(1)}").status == 200:
            return found.group(1)
    pytest.fail(f"no open survey link among {len(texts)} messages")


def test_a_customer_answers_the_survey_texted_to_him(session: Callable[[str], Page], customer: Page) -> None:
    supervisor = session("supervisor")
    campaign = next(
        c for c in supervisor.request.get("/api/outbound/campaigns").json() if c["code"] == "stay-return"
    )
    sent = supervisor.request.post(f"/api/outbound/campaigns/{campaign['id']}/survey-links", data={})
    assert sent.status == 200, sent.text()
    assert {"sent", "skipped"} <= set(sent.json())  # 0 sent when another test's links are still open
    token = _open_link(supervisor, customer, campaign)

    posted: list[Request] = []
    customer.on("request", lambda r: posted.append(r) if r.method == "POST" and "/answers" in r.url else None)
    customer.goto(f"/s/{token}")
    expect(customer.get_by_test_id("survey-title")).to_have_text("离店回访")
    expect(customer).to_have_url(re.compile(rf"/s/{token}$"))  # not sent to sign in
    expect(customer.get_by_test_id("nav-menu")).to_have_count(0)  # a page of its own
    expect(customer.get_by_test_id("survey-expires")).to_contain_text("有效期至")
    assert customer.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # fits the phone

    customer.get_by_test_id("survey-submit").click()  # nothing answered yet
    for key in ("overall", "again"):
        expect(customer.get_by_test_id(f"survey-question-{key}")).to_contain_text("请回答此问题")
    for key in ("liked", "advice"):  # optional
        expect(customer.get_by_test_id(f"survey-question-{key}")).not_to_contain_text("请回答此问题")
    assert posted == []

    overall = customer.get_by_test_id("survey-question-overall")
    overall.locator(".el-rate__item").nth(3).click()
    expect(overall.locator(".hl-survey-score-word")).to_have_text("满意")
    expect(overall).not_to_contain_text("请回答此问题")  # answering clears the mark
    again = customer.get_by_test_id("survey-question-again")
    again.get_by_text("是", exact=True).click()
    expect(again).not_to_contain_text("请回答此问题")
    liked = customer.get_by_test_id("survey-question-liked")
    liked.get_by_text("位置交通", exact=True).click()
    liked.get_by_text("早餐", exact=True).click()
    expect(liked.get_by_role("checkbox", name="早餐")).to_be_checked()
    expect(liked.get_by_role("checkbox", name="房间")).not_to_be_checked()
    expect(customer.get_by_text("还有问题没有回答")).to_have_count(0)  # every mark is gone
    customer.get_by_test_id("survey-question-advice").get_by_role("textbox").fill(ADVICE)

    with customer.expect_response(lambda r: r.url.endswith(f"/surveys/{token}/answers")) as answered:
        customer.get_by_test_id("survey-submit").click()
    assert answered.value.status == 204
    assert answered.value.request.post_data_json == {
        "answers": {"overall": 4, "again": True, "liked": ["早餐", "位置交通"], "advice": ADVICE}
    }
    expect(customer.get_by_test_id("survey-thanks")).to_contain_text("感谢您的评价！")
    expect(customer.get_by_test_id("survey-submit")).to_have_count(0)

    customer.reload()
    expect(customer.get_by_test_id("survey-closed")).to_contain_text("已经提交过")
    expect(customer.get_by_test_id("survey-submit")).to_have_count(0)

    results = supervisor.request.get(f"/api/outbound/campaigns/{campaign['id']}/survey-results").json()
    advice = next(q for q in results["questions"] if q["key"] == "advice")
    assert ADVICE in advice["texts"]


def test_a_link_nobody_sent_says_the_survey_is_not_found(customer: Page) -> None:
    customer.goto("/s/NoSuchSurveyLinkAtAll0123")
    expect(customer.get_by_test_id("survey-closed")).to_contain_text("找不到这份问卷")
    expect(customer.get_by_test_id("survey-submit")).to_have_count(0)
