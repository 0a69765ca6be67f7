"""Who a web chat visitor is, in browsers (issue 24, item 1): a visitor on the hosted chat page
types 张伟's number in the pre-chat form — agent1's thread shows it 未验证 and links nobody's file;
the visitor asks for a code, which Kannel's fake SMSC receives, types it, and their window says
they are verified; agent1's thread then shows 已验证（短信） and 张伟's file. A member of the
hotels' site, whose token the site signed, is 已验证（会员） with their member id as soon as the
chat starts — on the hosted page (the token in its fragment, gone from the address at once) and in
the widget on the site's own page (`data-member-token`, passed to the frame by postMessage)."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from hotline.notify.demo import WEB_MEMBER_SECRET, WEB_SITE
from hotline.notify.member_token import sign
from tests.e2e.conftest import field
from tests.notify.conftest import Kannel, kannel  # noqa: F401 - the fixture: Kannel and its fake SMSC

pytestmark = pytest.mark.e2e

ZHANG = "13800138000"


@pytest.fixture
def sms_through_kannel(server: str, kannel: Kannel) -> Iterator[Kannel]:  # noqa: F811 - the fixture above
    """The demo server's SMS leave through this Kannel while the test runs, then through the log again."""
    with httpx.Client(base_url=server) as admin:
        admin.post("/api/auth/login", json={"username": "admin", "password": "hotline-demo"})
        sms = {
            "kind": "kannel",
            "secret": "kannel-secret",
            "config": {"url": kannel.sendsms_url, "username": "hotline"},
        }
        assert admin.put("/api/notify/gateways/sms", json=sms).status_code == 200
        try:
            yield kannel
        finally:
            assert admin.put("/api/notify/gateways/sms", json={"kind": "log"}).status_code == 200


def texted_code(gateway: Kannel, number: str) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for to, text in gateway.received():
            found = re.search(r"验证码为(\d{6})", text)
            if to.endswith(number) and found:
                return found.group(1)
        time.sleep(0.2)
    raise AssertionError(f"no code reached {number}: {gateway.received()}")


def open_chat(browser: Browser, server: str, address: str) -> Page:
    context = browser.new_context(base_url=server, viewport={"width": 480, "height": 860}, locale="zh-CN")
    visitor = context.new_page()
    visitor.set_default_timeout(15_000)
    visitor.goto(address)
    expect(visitor.get_by_test_id("chat-form")).to_be_visible()
    return visitor


def ask(visitor: Page, name: str, phone: str, question: str) -> None:
    form = visitor.get_by_test_id("chat-form")
    field(form, "chat-name").fill(name)
    field(form, "chat-phone").fill(phone)
    visitor.locator("textarea[data-testid=chat-question]").fill(question)
    visitor.get_by_test_id("chat-start").click()
    expect(visitor.get_by_test_id("chat-mine").first).to_contain_text(question)


def thread_of(agent: Page, shown: str) -> None:
    """The thread whose row shows `shown` (the visitor's name, the customer's once linked, the question)."""
    agent.get_by_test_id("nav-conversations").click()
    agent.get_by_test_id("conversations-table").locator("tr", has_text=shown).click()
    expect(agent.get_by_test_id("conversation-visitor")).to_be_visible()


def test_a_visitor_proves_zhangs_phone_with_a_texted_code_and_agent1_sees_his_file(
    browser: Browser, server: str, session: Callable[[str], Page], sms_through_kannel: Kannel
) -> None:
    visitor = open_chat(browser, server, f"/chat?site={WEB_SITE}")
    ask(visitor, "张先生（官网）", ZHANG, "我下周的预订能改到周六入住吗？")

    agent = session("agent1")
    thread_of(agent, "张先生（官网）")
    expect(agent.get_by_test_id("conversation-visitor-unverified")).to_have_text("未验证")
    expect(agent.get_by_test_id("conversation-visitor-identity")).to_contain_text("138****8000")
    expect(agent.get_by_test_id("conversation-customer")).not_to_contain_text("张伟")

    visitor.get_by_test_id("chat-verify-open").click()
    expect(field(visitor, "chat-verify-phone")).to_have_value(ZHANG)
    visitor.get_by_test_id("chat-verify-send").click()
    expect(visitor.get_by_test_id("chat-verify-send")).to_contain_text("秒后可重发")
    code = texted_code(sms_through_kannel, ZHANG)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    field(visitor, "chat-verify-code").fill(wrong)
    visitor.get_by_test_id("chat-verify-submit").click()  # a wrong code: said at the field
    expect(visitor.get_by_test_id("chat-verify-form").locator(".el-form-item__error")).to_have_text(
        "验证码错误，还可再试 4 次"
    )
    field(visitor, "chat-verify-code").fill(code)
    visitor.get_by_test_id("chat-verify-submit").click()
    expect(visitor.get_by_test_id("chat-verified")).to_have_text("已验证手机号")

    expect(agent.get_by_test_id("conversation-visitor-verified")).to_have_text("已验证（短信）")
    expect(agent.get_by_test_id("conversation-customer")).to_contain_text("张伟")
    visitor.context.close()


def test_a_member_of_the_hotels_site_is_identified_by_the_token_the_site_signed(
    browser: Browser, server: str, session: Callable[[str], Page]
) -> None:
    now = int(time.time())
    claims = {
        "sub": "YG-000123",
        "name": "张伟",
        "phone": ZHANG,
        "aud": WEB_SITE,
        "iat": now,
        "exp": now + 600,
    }
    token = sign(claims, WEB_MEMBER_SECRET)
    visitor = open_chat(browser, server, f"/chat?site={WEB_SITE}#member_token={token}")
    assert token not in visitor.url  # gone from the address (history, bookmarks, a shared link)
    ask(visitor, "张先生（会员）", "", "会员积分可以抵房费吗？")
    expect(visitor.get_by_test_id("chat-verified")).to_have_text("已验证会员身份")

    agent = session("agent1")
    thread_of(agent, "会员积分可以抵房费吗？")  # listed under 张伟: the chat is his already
    expect(agent.get_by_test_id("conversation-visitor-verified")).to_have_text("已验证（会员）")
    expect(agent.get_by_test_id("conversation-visitor-identity")).to_contain_text("YG-000123")
    expect(agent.get_by_test_id("conversation-customer")).to_contain_text("张伟")
    visitor.context.close()


def member_token(member_id: str) -> str:
    now = int(time.time())
    claims = {"sub": member_id, "name": "张伟", "phone": ZHANG, "aud": WEB_SITE, "iat": now, "exp": now + 600}
    return sign(claims, WEB_MEMBER_SECRET)


@pytest.fixture
def members_page(tmp_path: Path, server: str) -> Iterator[str]:
    """The hotels' own site, on another origin, for a logged-in member: the widget's tag carries
    the token the site's server signed for them."""
    (tmp_path / "index.html").write_text(
        '<!doctype html><meta charset="utf-8"><title>英冠酒店会员中心</title><h1>欢迎回来，张先生</h1>'
        f'<script src="{server}/chat-widget.js" data-site="{WEB_SITE}" '
        f'data-member-token="{member_token("YG-000456")}" async></script>',
        encoding="utf-8",
    )
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(tmp_path)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/index.html"
    httpd.shutdown()


def test_the_widget_on_the_members_page_passes_the_sites_token_to_the_chat(
    browser: Browser, server: str, members_page: str, session: Callable[[str], Page]
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(members_page)
    page.locator("[data-hotline-chat=button]").click()
    chat = page.frame_locator("iframe[data-hotline-chat=frame]")
    form = chat.get_by_test_id("chat-form")
    field(form, "chat-name").fill("张先生（会员中心）")
    chat.locator("textarea[data-testid=chat-question]").fill("我的会员等级什么时候升级？")
    chat.get_by_test_id("chat-start").click()
    expect(chat.get_by_test_id("chat-verified")).to_have_text("已验证会员身份")

    agent = session("agent1")
    thread_of(agent, "我的会员等级什么时候升级？")
    expect(agent.get_by_test_id("conversation-visitor-identity")).to_contain_text("YG-000456")
    expect(agent.get_by_test_id("conversation-customer")).to_contain_text("张伟")
    context.close()


def test_an_administrator_sets_a_sites_member_token_secret_which_is_never_shown_again_then_removes_it(
    session: Callable[[str], Page], server: str
) -> None:
    admin = session("admin")
    admin.goto("/messages")
    admin.get_by_role("tab", name="消息网关").click()
    card = admin.get_by_test_id("chat-sites")
    expect(card.locator("tr", has_text=WEB_SITE)).to_contain_text("已设置")
    secret = "travel-partner-secret-0123456789-abcdef"
    field(card, "chat-site-key").fill("partner-travel")
    field(card, "chat-site-secret").fill("too-short")
    card.get_by_role("button", name="保存").click()  # refused at its field, before anything is sent
    expect(card.locator(".el-form-item__error")).to_have_count(1)
    field(card, "chat-site-secret").fill(secret)
    card.get_by_role("button", name="保存").click()
    expect(card.locator("tr", has_text="partner-travel")).to_contain_text("已设置")
    expect(field(card, "chat-site-secret")).to_have_value("")
    assert secret not in admin.content()

    # the partner's members are identified by its tokens until the secret is removed
    now = int(time.time())
    claims = {"sub": "PT-1", "phone": ZHANG, "aud": "partner-travel", "iat": now, "exp": now + 600}
    token = sign(claims, secret)
    row = card.locator("tr", has_text="partner-travel")
    row.get_by_role("button", name="删除密钥").click()
    dialog = admin.get_by_role("dialog")
    expect(dialog).to_contain_text("删除后此网站签发的会员身份令牌将一律被拒绝")
    dialog.get_by_role("button", name="取消").click()  # thought better of it: still set
    expect(row).to_contain_text("已设置")
    assert _identify(server, token).status_code == 200
    row.get_by_role("button", name="删除密钥").click()
    admin.get_by_role("dialog").get_by_role("button", name="删除密钥").click()
    expect(admin.get_by_text("密钥已删除，此网站不再接受会员身份令牌")).to_be_visible()
    expect(row).to_contain_text("未设置")
    expect(row.get_by_role("button", name="删除密钥")).to_have_count(0)
    expect(card.locator("tr", has_text=WEB_SITE)).to_contain_text("已设置")  # the other sites keep theirs
    refused = _identify(server, token)
    assert refused.status_code == 403 and refused.json()["errors"][0]["field"] == "body.member_token"


def _identify(server: str, token: str) -> httpx.Response:
    """A visitor of the partner's site starts a chat and brings the member token."""
    with httpx.Client(base_url=server) as visitor:
        form = {"name": "合作社会员", "text": "你好", "site": "partner-travel", "topic": "travel"}
        started = visitor.post("/api/chat/start", json=form)
        assert started.status_code == 201, started.text
        headers = {"X-Chat-Token": started.json()["token"]}
        return visitor.post("/api/chat/identify", json={"member_token": token}, headers=headers)
